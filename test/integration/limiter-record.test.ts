// The limiters record: each worker writes its own field, the status reads the live ones; a dead worker's
// entry reads as stale and the next write removes it; a damaged entry is left out with a warning.
import { afterAll, describe, expect, it } from 'vitest';
import { keys } from '../../src/core/keys.js';
import { forgetLimiters, LIMITER_STALE_MS, publishLimiters, readLimiters } from '../../src/resilience/limiter-record.js';
import type { LimiterSnapshot } from '../../src/resilience/limiter.js';
import { testRedis, uniquePrefix } from '../helpers/redis.js';

const redis = testRedis();
afterAll(() => redis.quit());
const plex: LimiterSnapshot = {
  target: 'plex',
  adaptive: true,
  limit: 5,
  ceiling: 32,
  inFlight: 4,
  waiting: 9,
  latencyMs: 27.5,
  baselineMs: 20.1,
};

describe('limiters record', () => {
  it('one field per worker; stale and damaged entries left out; a stopping worker removes its own', async () => {
    const k = keys(uniquePrefix('lim'));
    const now = Date.now();
    await publishLimiters(redis, k, 'w-old', [plex], now - LIMITER_STALE_MS - 1);
    await redis.hset(k.limiters, 'w-bad', '{"at":"yesterday"');
    const warnings: string[] = [];
    expect(await readLimiters(redis, k, now, warnings)).toEqual([]);
    expect(warnings.join()).toMatch(/w-bad/);
    await publishLimiters(redis, k, 'w-1', [plex], now);
    await publishLimiters(redis, k, 'w-2', [{ ...plex, limit: 7 }], now);
    // Each write removed the dead worker's field (and the damaged one).
    expect((await redis.hkeys(k.limiters)).sort()).toEqual(['w-1', 'w-2']);
    expect(await redis.pttl(k.limiters)).toBeGreaterThan(0);
    const read = await readLimiters(redis, k, now, []);
    expect(read.map((w) => [w.worker, w.limiters[0].limit])).toEqual([
      ['w-1', 5],
      ['w-2', 7],
    ]);
    await forgetLimiters(redis, k, 'w-1');
    expect((await readLimiters(redis, k, now, [])).map((w) => w.worker)).toEqual(['w-2']);
    // A key of another type (damaged) reads as none, with a warning.
    const k2 = keys(uniquePrefix('lim'));
    await redis.set(k2.limiters, 'x');
    const w2: string[] = [];
    expect(await readLimiters(redis, k2, now, w2)).toEqual([]);
    expect(w2.join()).toMatch(/wrong Redis type/);
  });
});
