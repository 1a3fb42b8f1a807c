/**
 * The token bucket behind the rate limits (src/auth/rate-limit.ts): one bucket per key, refilled at
 * `rate` per second up to `burst`, in this process's memory. `SharedRateLimiter`
 * (src/auth/shared-rate-limit.ts) reconciles the buckets with the database.
 */

export interface Bucket {
  tokens: number;
  at: number;
  /** Tokens taken since the last report to the shared store (src/auth/shared-rate-limit.ts). */
  used: number;
  /** When a token was last asked for. */
  seen: number;
}

/** How many keys before idle buckets are swept. */
const SWEEP_AT = 10_000;

/** A token bucket per key. */
export class RateLimiter {
  protected readonly buckets = new Map<string, Bucket>();

  constructor(
    /** Tokens added per second. */
    readonly rate: number,
    /** Bucket size: requests that may arrive at once. */
    readonly burst: number,
    protected readonly now: () => number = Date.now,
  ) {}

  /** Takes one token for `key`: 0 when allowed, else the seconds to wait (at least 1). */
  take(key: string): number {
    const now = this.now();
    let b = this.buckets.get(key);
    if (!b) {
      if (this.buckets.size >= SWEEP_AT) {
        this.sweep(now);
      }
      b = { tokens: this.burst, at: now, used: 0, seen: now };
      this.buckets.set(key, b);
    } else {
      b.tokens = Math.min(this.burst, b.tokens + ((now - b.at) / 1000) * this.rate);
      b.at = now;
      b.seen = now;
    }
    if (b.tokens >= 1) {
      b.tokens -= 1;
      b.used += 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - b.tokens) / this.rate));
  }

  /** Number of keys held (tests). */
  get size(): number {
    return this.buckets.size;
  }

  /** A bucket the sweep must keep although it is full (the shared limiter's: tokens not reported yet). */
  protected pinned(_b: Bucket): boolean {
    return false;
  }

  private sweep(now: number): void {
    for (const [key, b] of this.buckets) {
      if (!this.pinned(b) && b.tokens + ((now - b.at) / 1000) * this.rate >= this.burst) {
        this.buckets.delete(key);
      }
    }
  }
}
