// A token bucket per client, pure: `takeToken(bucket, now, limit)` says whether one more request may pass
// and returns the bucket after it. `RateLimiter` keeps one bucket per key (the remote address) in a
// bounded map; buckets that have refilled completely are dropped (they equal a fresh bucket).

export interface RateLimit {
  /** Tokens added per second (the sustained rate). */
  ratePerSec: number;
  /** Bucket size (the largest burst). */
  burst: number;
}

export interface Bucket {
  /** Tokens left at `at` (fractional). */
  tokens: number;
  /** Epoch ms of the last update. */
  at: number;
}

export interface TakeResult {
  allowed: boolean;
  bucket: Bucket;
  /** When refused: ms until one token is there again (0 when allowed). */
  retryAfterMs: number;
}

/** Throws on a limit that cannot work (zero, negative or non-finite figures). */
export function assertRateLimit(limit: RateLimit): void {
  if (!(Number.isFinite(limit.ratePerSec) && limit.ratePerSec > 0))
    throw new RangeError(`ratePerSec must be a positive number, not ${limit.ratePerSec}`);
  if (!(Number.isFinite(limit.burst) && limit.burst >= 1)) throw new RangeError(`burst must be at least 1, not ${limit.burst}`);
}

/** The bucket's tokens at `now`: refilled at `ratePerSec`, capped at `burst`. A clock going back adds nothing. */
export function refill(bucket: Bucket | undefined, now: number, limit: RateLimit): Bucket {
  if (!bucket) return { tokens: limit.burst, at: now };
  const elapsed = Math.max(0, now - bucket.at);
  return { tokens: Math.min(limit.burst, bucket.tokens + (elapsed * limit.ratePerSec) / 1000), at: Math.max(now, bucket.at) };
}

/** One request: a token taken when there is one; else refused, with the wait until the next. */
export function takeToken(bucket: Bucket | undefined, now: number, limit: RateLimit): TakeResult {
  const b = refill(bucket, now, limit);
  if (b.tokens >= 1) return { allowed: true, bucket: { tokens: b.tokens - 1, at: b.at }, retryAfterMs: 0 };
  return { allowed: false, bucket: b, retryAfterMs: Math.ceil(((1 - b.tokens) * 1000) / limit.ratePerSec) };
}

/** Time until a bucket is full again (after which it equals a fresh one and may be forgotten). */
export function msUntilFull(bucket: Bucket, limit: RateLimit): number {
  return ((limit.burst - bucket.tokens) * 1000) / limit.ratePerSec;
}

export interface RateLimiterOptions extends RateLimit {
  /** Most keys remembered; past it, full buckets are swept and then the oldest key is dropped. Default 10 000. */
  maxKeys?: number;
  now?: () => number;
}

/** One bucket per key, in memory (per process: several dashboards each allow the rate). */
export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly limit: RateLimit;
  private readonly maxKeys: number;
  private readonly now: () => number;
  private lastSweep = 0;

  constructor(opts: RateLimiterOptions) {
    this.limit = { ratePerSec: opts.ratePerSec, burst: opts.burst };
    assertRateLimit(this.limit);
    this.maxKeys = opts.maxKeys ?? 10_000;
    this.now = opts.now ?? Date.now;
  }

  take(key: string): TakeResult {
    const now = this.now();
    const r = takeToken(this.buckets.get(key), now, this.limit);
    // Re-inserted so the map's order is least-recently-used first.
    this.buckets.delete(key);
    this.buckets.set(key, r.bucket);
    if (this.buckets.size > this.maxKeys || now - this.lastSweep > 60_000) this.sweep(now);
    return r;
  }

  /** Keys remembered (for tests). */
  get size(): number {
    return this.buckets.size;
  }

  private sweep(now: number): void {
    this.lastSweep = now;
    for (const [key, b] of this.buckets) if (now - b.at >= msUntilFull(b, this.limit)) this.buckets.delete(key);
    // Still too many live clients: forget the least recently seen (they start again with a full bucket).
    for (const key of this.buckets.keys()) {
      if (this.buckets.size <= this.maxKeys) break;
      this.buckets.delete(key);
    }
  }
}
