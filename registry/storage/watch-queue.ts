import { StorageError, type Watch, type WatchEvent } from './backend.js';

/**
 * The consumer side of a `Watch`, shared by every driver: a driver pushes event batches in
 * revision order, the consumer iterates them. Pending events are bounded: a push beyond
 * `maxPendingEvents` ends the stream with `WatchOverflow` and drops what was queued, so a stuck
 * consumer costs at most that much memory.
 */
export class WatchQueue implements Watch {
  private batches: WatchEvent[][] = [];
  private pendingEvents = 0;
  private failure: StorageError | undefined;
  private closed = false;
  private wake: (() => void) | undefined;
  private readonly onClose: () => void;
  private readonly maxPendingEvents: number;

  constructor(options: { maxPendingEvents?: number; onClose: () => void }) {
    this.maxPendingEvents = options.maxPendingEvents ?? 10_000;
    this.onClose = options.onClose;
  }

  /** True once the stream has ended (closed by the consumer, or failed). Pushes are then ignored. */
  get done(): boolean {
    return this.closed || this.failure !== undefined;
  }

  push(batch: WatchEvent[]): void {
    if (this.done || batch.length === 0) return;
    if (this.pendingEvents + batch.length > this.maxPendingEvents) {
      this.fail(
        new StorageError(
          'WatchOverflow',
          `watcher fell more than ${this.maxPendingEvents} events behind and was cut off`,
        ),
      );
      return;
    }
    this.batches.push(batch);
    this.pendingEvents += batch.length;
    this.signal();
  }

  /** Ends the stream with an error; events still queued are dropped. */
  fail(error: StorageError): void {
    if (this.done) return;
    this.failure = error;
    this.batches = [];
    this.pendingEvents = 0;
    this.onClose();
    this.signal();
  }

  close(): void {
    if (this.done) return;
    this.closed = true;
    this.batches = [];
    this.pendingEvents = 0;
    this.onClose();
    this.signal();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<WatchEvent[]> {
    try {
      for (;;) {
        const batch = this.batches.shift();
        if (batch) {
          this.pendingEvents -= batch.length;
          yield batch;
          continue;
        }
        if (this.failure) throw this.failure;
        if (this.closed) return;
        await new Promise<void>((resolve) => (this.wake = resolve));
      }
    } finally {
      // A consumer that breaks out of its for-await loop closes the watch.
      this.close();
    }
  }

  private signal(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}
