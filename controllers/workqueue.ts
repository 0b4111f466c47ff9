// The rate-limited work queue of one controller, with client-go's util/workqueue semantics:
// - a key is queued at most once: adding a key that is already waiting does nothing;
// - a key being processed is never handed to a second worker: adding it meanwhile marks it dirty,
//   and `done(key)` queues it again, so the change is processed after the current pass;
// - `addAfter(key, ms)` delays an add (the earliest pending time wins), `addRateLimited(key)`
//   delays it by the rate limiter's backoff for that key, `forget(key)` resets that backoff;
// - after `shutDown()` adds are ignored and `get()` still hands out what is queued, then resolves
//   `undefined`; `shutDownWithDrain()` also waits until every handed-out key is done.
import { realClock, type Clock, type Timer } from './clock.js';
import { defaultControllerRateLimiter, type RateLimiter } from './rate-limiter.js';

/** Where the queue reports what it does (the controller's metrics). */
export interface QueueMetricsSink {
  added(): void;
  retried(): void;
  depth(n: number): void;
}

export interface WorkQueueOptions {
  clock?: Clock;
  rateLimiter?: RateLimiter;
  metrics?: QueueMetricsSink;
}

export class WorkQueue {
  private readonly clock: Clock;
  private readonly rateLimiter: RateLimiter;
  private readonly metrics?: QueueMetricsSink;
  /** Keys waiting for a worker, in order; `head` is the index of the first. */
  private queue: string[] = [];
  private head = 0;
  /** Keys that need processing: queued, or added again while being processed. */
  private readonly dirty = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly delayed = new Map<string, { at: number; timer: Timer }>();
  private getters: Array<(key: string | undefined) => void> = [];
  private drainWaiters: Array<() => void> = [];
  private shuttingDown = false;

  constructor(options: WorkQueueOptions = {}) {
    this.clock = options.clock ?? realClock;
    this.rateLimiter = options.rateLimiter ?? defaultControllerRateLimiter(this.clock);
    this.metrics = options.metrics;
  }

  add(key: string): void {
    if (this.shuttingDown || this.dirty.has(key)) return;
    this.dirty.add(key);
    this.metrics?.added();
    if (this.processing.has(key)) return;
    this.enqueue(key);
  }

  /** Adds `key` once `ms` have passed; an earlier pending add of the same key is kept. */
  addAfter(key: string, ms: number): void {
    if (this.shuttingDown) return;
    if (ms <= 0) {
      this.add(key);
      return;
    }
    const at = this.clock.now() + ms;
    const pending = this.delayed.get(key);
    if (pending && pending.at <= at) return;
    pending?.timer.cancel();
    const timer = this.clock.setTimer(ms, () => {
      this.delayed.delete(key);
      this.add(key);
    });
    this.delayed.set(key, { at, timer });
  }

  /** Adds `key` after its backoff (one more failure of it). */
  addRateLimited(key: string): void {
    if (this.shuttingDown) return;
    this.metrics?.retried();
    this.addAfter(key, this.rateLimiter.when(key));
  }

  /** Resets `key`'s backoff; call it when the key was processed successfully. */
  forget(key: string): void {
    this.rateLimiter.forget(key);
  }

  numRequeues(key: string): number {
    return this.rateLimiter.numRequeues(key);
  }

  /** The next key to process, marked as processing; `undefined` once shut down and empty. */
  get(): Promise<string | undefined> {
    if (this.length > 0) return Promise.resolve(this.take());
    if (this.shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.getters.push(resolve));
  }

  /** Marks `key` as processed; if it was added meanwhile, it is queued again. */
  done(key: string): void {
    this.processing.delete(key);
    if (this.dirty.has(key)) this.enqueue(key);
    this.checkDrained();
  }

  /** Keys waiting for a worker (not counting delayed ones and those being processed). */
  get length(): number {
    return this.queue.length - this.head;
  }

  isProcessing(key: string): boolean {
    return this.processing.has(key);
  }

  get isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  shutDown(): void {
    if (this.shuttingDown) return;
    this.shuttingDown = true;
    for (const { timer } of this.delayed.values()) timer.cancel();
    this.delayed.clear();
    const getters = this.getters;
    this.getters = [];
    for (const resolve of getters) resolve(undefined);
    this.checkDrained();
  }

  /** Shuts down, then resolves when every queued and handed-out key has been processed. */
  shutDownWithDrain(): Promise<void> {
    this.shutDown();
    if (this.drained()) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  private enqueue(key: string): void {
    const getter = this.getters.shift();
    if (getter) {
      this.processing.add(key);
      this.dirty.delete(key);
      getter(key);
      return;
    }
    this.queue.push(key);
    this.metrics?.depth(this.length);
  }

  private take(): string {
    const key = this.queue[this.head++];
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    this.processing.add(key);
    this.dirty.delete(key);
    this.metrics?.depth(this.length);
    return key;
  }

  private drained(): boolean {
    return this.length === 0 && this.processing.size === 0;
  }

  private checkDrained(): void {
    if (!this.shuttingDown || !this.drained()) return;
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
