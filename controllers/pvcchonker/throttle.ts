// A token bucket for calls to the host cluster (list, patch, node proxy): at most `qps` calls per
// second on average with bursts of `burst`, so one cycle over many PVCs and nodes cannot flood
// kube-apiserver. `take()` resolves when a token is available.
export class Throttle {
  private tokens: number;
  private last = Date.now();
  private chain: Promise<void> = Promise.resolve();

  constructor(
    readonly qps: number,
    readonly burst: number,
  ) {
    this.tokens = burst;
  }

  take(): Promise<void> {
    const next = this.chain.then(() => this.acquire());
    this.chain = next.catch(() => {});
    return next;
  }

  private async acquire(): Promise<void> {
    for (;;) {
      const now = Date.now();
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.qps);
      this.last = now;
      if (this.tokens >= 1) {
        this.tokens -= 1;
        return;
      }
      await new Promise((r) => setTimeout(r, Math.ceil(((1 - this.tokens) / this.qps) * 1000)));
    }
  }
}

/**
 * Stops patching after `threshold` consecutive failures, for `openMs`; then lets one attempt
 * through (half-open): a success closes it, a failure opens it again.
 */
export class CircuitBreaker {
  private failures = 0;
  private openedAt: number | undefined;

  constructor(
    readonly threshold: number,
    readonly openMs: number,
    private readonly now: () => number,
  ) {}

  /** Whether a call may go ahead now. */
  allows(): boolean {
    if (this.openedAt === undefined) return true;
    return this.now() - this.openedAt >= this.openMs;
  }

  get open(): boolean {
    return !this.allows();
  }

  succeeded(): void {
    this.failures = 0;
    this.openedAt = undefined;
  }

  failed(): void {
    this.failures++;
    if (this.failures >= this.threshold) this.openedAt = this.now();
  }
}

/** Runs `fn` over `items` with at most `limit` at once. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  });
  await Promise.all(workers);
  return out;
}
