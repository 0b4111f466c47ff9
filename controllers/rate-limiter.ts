// Rate limiters of the work queue, as client-go's util/workqueue: `when(item)` is how long to wait
// before the item is processed again, `forget(item)` resets its history after a success.
// The default (client-go's DefaultControllerRateLimiter) is the max of a per-item exponential
// backoff, 5 ms → 1000 s, and an overall token bucket, 10 qps with a burst of 100.
import { realClock, type Clock } from './clock.js';

export interface RateLimiter {
  /** Milliseconds to wait before `item` is retried; counts as one more failure of `item`. */
  when(item: string): number;
  /** Forgets `item`'s failures (its next backoff starts from the base again). */
  forget(item: string): void;
  /** How many times `item` has been rate-limited since it was last forgotten. */
  numRequeues(item: string): number;
}

/** base · 2^failures, capped at max; per item. */
export class ItemExponentialRateLimiter implements RateLimiter {
  private readonly failures = new Map<string, number>();

  constructor(
    readonly baseDelayMs = 5,
    readonly maxDelayMs = 1_000_000,
  ) {}

  when(item: string): number {
    const exp = this.failures.get(item) ?? 0;
    this.failures.set(item, exp + 1);
    // 2^exp overflows to Infinity for large exp, which the cap handles.
    return Math.min(this.baseDelayMs * 2 ** exp, this.maxDelayMs);
  }

  forget(item: string): void {
    this.failures.delete(item);
  }

  numRequeues(item: string): number {
    return this.failures.get(item) ?? 0;
  }
}

/**
 * A token bucket shared by all items (golang.org/x/time/rate's Reserve semantics): each call takes
 * one token, the bucket refills at `qps` up to `burst`, and a call finding it empty is told how
 * long until its token will have been refilled. Items are not tracked.
 */
export class BucketRateLimiter implements RateLimiter {
  private tokens: number;
  private last: number;

  constructor(
    readonly qps = 10,
    readonly burst = 100,
    private readonly clock: Clock = realClock,
  ) {
    this.tokens = burst;
    this.last = clock.now();
  }

  when(): number {
    const now = this.clock.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.qps);
    this.last = now;
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens / this.qps) * 1000);
  }

  forget(): void {}

  numRequeues(): number {
    return 0;
  }
}

/** The longest wait any of `limiters` asks for. */
export class MaxOfRateLimiter implements RateLimiter {
  private readonly limiters: RateLimiter[];

  constructor(...limiters: RateLimiter[]) {
    this.limiters = limiters;
  }

  when(item: string): number {
    let max = 0;
    for (const l of this.limiters) max = Math.max(max, l.when(item));
    return max;
  }

  forget(item: string): void {
    for (const l of this.limiters) l.forget(item);
  }

  numRequeues(item: string): number {
    let max = 0;
    for (const l of this.limiters) max = Math.max(max, l.numRequeues(item));
    return max;
  }
}

/** client-go's DefaultControllerRateLimiter: exponential 5 ms → 1000 s, max with 10 qps / 100 burst. */
export function defaultControllerRateLimiter(clock: Clock = realClock): RateLimiter {
  return new MaxOfRateLimiter(new ItemExponentialRateLimiter(5, 1_000_000), new BucketRateLimiter(10, 100, clock));
}
