import type { Backend } from './backend.js';

export interface CompactorLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

/**
 * Periodic compaction, as kube-apiserver drives it (every 5 minutes by default): each tick
 * compacts up to the revision recorded at the previous tick, so history stays readable for at
 * least one interval (watch caches keep their own 75 s window). Returns a function that stops it.
 */
export function startCompactor(backend: Backend, options: { intervalMs: number; log?: CompactorLogger }): () => void {
  let previousRevision: number | undefined;
  let running = false;
  const tick = async () => {
    if (running) return;
    running = true;
    try {
      if (previousRevision !== undefined && previousRevision > (await backend.compactedRevision())) {
        await backend.compact(previousRevision);
        options.log?.info({ revision: previousRevision }, 'storage compacted');
      }
      previousRevision = await backend.currentRevision();
    } catch (err) {
      options.log?.warn({ err: (err as Error).message }, 'storage compaction failed; retrying next interval');
    } finally {
      running = false;
    }
  };
  void tick();
  const timer = setInterval(() => void tick(), options.intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
