// The token bucket of the HTTP hook's per-client rate limit: pure, with a clock.
import { describe, expect, it } from 'vitest';
import {
  assertRateLimit,
  msUntilFull,
  RateLimiter,
  refill,
  takeToken,
  type Bucket,
  type RateLimit,
} from '../../src/dashboard/rate-limit.js';

const LIMIT: RateLimit = { ratePerSec: 50, burst: 100 };

/** `n` requests at time `at` on one bucket: how many passed, and the bucket after. */
function burst(n: number, at: number, start?: Bucket, limit = LIMIT) {
  let bucket = start;
  let allowed = 0;
  let last = { allowed: true, retryAfterMs: 0 };
  for (let i = 0; i < n; i++) {
    const r = takeToken(bucket, at, limit);
    bucket = r.bucket;
    if (r.allowed) allowed++;
    last = r;
  }
  return { allowed, bucket: bucket!, last };
}

describe('takeToken', () => {
  it('lets a fresh client burst exactly `burst` requests, then refuses with the wait for one token', () => {
    const r = burst(150, 1_000);
    expect(r.allowed).toBe(100);
    expect(r.last).toMatchObject({ allowed: false, retryAfterMs: 20 }); // 1 token / 50 per s
    expect(r.bucket.tokens).toBeCloseTo(0, 10);
  });

  it('refills at the rate: 50/s gives 5 more after 100 ms, 50 after 1 s, never more than the burst', () => {
    const empty = burst(100, 0).bucket;
    expect(burst(10, 100, empty).allowed).toBe(5);
    expect(burst(60, 1_000, empty).allowed).toBe(50);
    expect(burst(300, 60_000, empty).allowed).toBe(100); // capped at the burst however long idle
  });

  it('sustains the rate exactly: one request every 20 ms passes forever, every 19 ms eventually fails', () => {
    let bucket = burst(100, 0).bucket; // drained
    for (let t = 20; t <= 20_000; t += 20) {
      const r = takeToken(bucket, t, LIMIT);
      expect(r.allowed, `t=${t}`).toBe(true);
      bucket = r.bucket;
    }
    bucket = burst(100, 0).bucket;
    let refused = 0;
    for (let t = 19; t <= 2_000; t += 19) {
      const r = takeToken(bucket, t, LIMIT);
      bucket = r.bucket;
      if (!r.allowed) refused++;
    }
    expect(refused).toBeGreaterThan(0);
  });

  it('the wait it names is enough: retrying after retryAfterMs passes', () => {
    const drained = burst(100, 5_000).bucket;
    const partial = takeToken(drained, 5_007, LIMIT); // 0.35 token
    expect(partial.allowed).toBe(false);
    expect(partial.retryAfterMs).toBe(13);
    expect(takeToken(partial.bucket, 5_007 + partial.retryAfterMs - 1, LIMIT).allowed).toBe(false);
    expect(takeToken(partial.bucket, 5_007 + partial.retryAfterMs, LIMIT).allowed).toBe(true);
  });

  it('a refused request costs nothing (a client hammering past the limit is not locked out longer)', () => {
    const drained = burst(100, 0).bucket;
    const hammered = burst(1_000, 10, drained).bucket;
    expect(hammered.tokens).toBeCloseTo(0.5, 10);
    expect(takeToken(hammered, 20, LIMIT).allowed).toBe(true);
  });

  it('a clock that goes back adds no tokens and keeps the later time', () => {
    const drained = burst(100, 10_000).bucket;
    const r = takeToken(drained, 9_000, LIMIT);
    expect(r.allowed).toBe(false);
    expect(r.bucket.at).toBe(10_000);
    expect(refill(drained, 9_000, LIMIT).tokens).toBeCloseTo(0, 10);
  });

  it('a bucket is full again after (burst - tokens) / rate', () => {
    expect(msUntilFull({ tokens: 0, at: 0 }, LIMIT)).toBe(2_000);
    expect(msUntilFull({ tokens: 100, at: 0 }, LIMIT)).toBe(0);
  });

  it('refuses limits that cannot work', () => {
    expect(() => assertRateLimit({ ratePerSec: 0, burst: 10 })).toThrow(/ratePerSec/);
    expect(() => assertRateLimit({ ratePerSec: Number.NaN, burst: 10 })).toThrow(/ratePerSec/);
    expect(() => assertRateLimit({ ratePerSec: 1, burst: 0.5 })).toThrow(/burst/);
    expect(() => new RateLimiter({ ratePerSec: -1, burst: 1 })).toThrow();
  });
});

describe('RateLimiter', () => {
  it('keeps one bucket per key', () => {
    let now = 0;
    const rl = new RateLimiter({ ratePerSec: 1, burst: 2, now: () => now });
    expect([rl.take('a').allowed, rl.take('a').allowed, rl.take('a').allowed]).toEqual([true, true, false]);
    expect(rl.take('b').allowed).toBe(true); // another client is not affected
    now = 1_000;
    expect(rl.take('a').allowed).toBe(true);
    expect(rl.take('a')).toMatchObject({ allowed: false, retryAfterMs: 1_000 });
  });

  it('forgets buckets that are full again, and stays bounded under many clients', () => {
    let now = 0;
    const rl = new RateLimiter({ ratePerSec: 10, burst: 10, maxKeys: 100, now: () => now });
    for (let i = 0; i < 50; i++) rl.take(`10.0.0.${i}`);
    expect(rl.size).toBe(50);
    now = 120_000; // every bucket refilled long ago: the periodic sweep drops them
    rl.take('10.0.1.1');
    expect(rl.size).toBe(1);
    for (let i = 0; i < 1_000; i++) rl.take(`192.168.${i >> 8}.${i & 255}`); // all live at once
    expect(rl.size).toBeLessThanOrEqual(101);
  });
});
