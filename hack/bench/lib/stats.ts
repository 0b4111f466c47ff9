// Small numeric helpers shared by the parts.
import { performance } from 'node:perf_hooks';

/** The p-th percentile (0 < p ≤ 100) of `samples`, nearest rank. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** Runs `op` `times` times, one after another, and returns each duration in ms. */
export async function timeEach(times: number, op: (i: number) => unknown): Promise<number[]> {
  const durations: number[] = [];
  for (let i = 0; i < times; i++) {
    const start = performance.now();
    await op(i);
    durations.push(performance.now() - start);
  }
  return durations;
}

/** Runs `total` operations with `concurrency` in flight; returns the wall time in ms. */
export async function runPool(total: number, concurrency: number, op: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(concurrency, total) }, async () => {
      while (next < total) await op(next++);
    }),
  );
  return performance.now() - start;
}

/**
 * A size knob: `BENCH_<NAME>` from the environment, else the figure. Smaller values make
 * a quick local run (`BENCH_OBJECTS=10000 npm run bench:list`); results say which sizes ran.
 */
export function knob(name: string, standard: number): number {
  const raw = process.env[`BENCH_${name}`];
  if (raw === undefined || raw === '') return standard;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`BENCH_${name}=${raw}: expected a positive number`);
  return n;
}

/** Resident set size of a process in MB, from /proc (Linux). */
export async function rssMegabytes(pid: number): Promise<number> {
  const { readFile } = await import('node:fs/promises');
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+) kB/m.exec(status);
  if (!match) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(match[1]) / 1024;
}
