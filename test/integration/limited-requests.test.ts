// Every request a worker makes to Plex and to Stash goes through its limiter: a first sync of a few scenes
// (item searches, reads, edits, poster reads and uploads, scene reads) with both clients built as the
// worker role builds them; the simulators count what they were sent, the limiters what they let through,
// and the two agree. With a limit of 2, never more than 2 of them are out at once.
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LIMIT_DEFAULTS } from '../../src/resilience/concurrency-limit.js';
import { ConcurrencyLimiter, type RequestLimiter } from '../../src/resilience/limiter.js';
import { syncScene } from '../../src/sync/processor.js';
import { testRedis } from '../helpers/redis.js';
import { worldSyncDeps } from '../helpers/sync-deps.js';
import { startWorld, type World } from '../helpers/world.js';

let world: World;
let redis: Redis;

/** A limiter of 2 at once that counts what it lets through and the most it had out. */
function counting(): RequestLimiter & { runs: number; peak: number } {
  const inner = new ConcurrencyLimiter('plex', { ...LIMIT_DEFAULTS, ceiling: 2, adaptive: false });
  let out = 0;
  const c = {
    runs: 0,
    peak: 0,
    async run<T>(request: () => Promise<T>): Promise<T> {
      return inner.run(async () => {
        c.runs++;
        c.peak = Math.max(c.peak, ++out);
        try {
          return await request();
        } finally {
          out--;
        }
      });
    },
  };
  return c;
}

beforeAll(async () => {
  world = await startWorld({ scenes: 6, prefixName: 'limited' });
  redis = testRedis();
});
afterAll(async () => {
  await redis.quit();
  await world.stop();
});

describe('the limiters see every request', () => {
  it('a first sync: every Plex and Stash request the simulators saw went through the limiter, at most 2 at once', async () => {
    const plexLimiter = counting();
    const stashLimiter = counting();
    const deps = worldSyncDeps(world, redis, {}, { plex: plexLimiter, stash: stashLimiter });
    world.plex.setLatencyMs(5);
    world.stash.setLatencyMs(5);
    world.plex.resetCounters();
    world.stash.resetCounters();
    const results = await Promise.allSettled([...world.ratingKeyOf.keys()].map((id) => syncScene(id, deps)));
    expect(results.map((r) => r.status)).toEqual([...world.ratingKeyOf.keys()].map(() => 'fulfilled'));
    expect(world.plex.count({ method: 'POST' })).toBeGreaterThanOrEqual(6); // posters uploaded
    expect(world.stash.count({ operationName: 'screenshot' })).toBe(6);
    expect(plexLimiter.runs).toBe(world.plex.count());
    expect(stashLimiter.runs).toBe(world.stash.count());
    expect(plexLimiter.peak).toBe(2);
    expect(stashLimiter.peak).toBeLessThanOrEqual(2);
  });
});
