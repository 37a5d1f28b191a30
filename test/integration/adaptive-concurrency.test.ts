// Issue 25's target on the simulators' server model (Plex 4 requests at a time, Stash 8, 20 ms each, the
// rest queued): during a first sync, a viewer browsing Plex waits about as long as on an idle Plex while
// Plex is kept busy, with one worker process and with two (each adapts on its own). Against fixed 32 (what
// WORKER_CONCURRENCY alone gave). The machine running the tests may be loaded (2 cores shared): a stopwatch
// there measures the machine as much as the queue, so the viewer is judged by the queue the workers build
// in front of it as the server model makes it (SimServer.viewerQueueing), and Plex's busy share by a bound
// that only a limiter stuck at one request misses; the stopwatch figures are recorded by `npm run bench`
// (bench/first-sync.ts, BENCHMARKS.md). S2P_SLOW_TESTS=1 runs the 1 200 scenes, else 400.
import { describe, expect, it } from 'vitest';
import { firstSyncRun, type FirstSyncResult } from '../../bench/first-sync.js';
import { readLimiters } from '../../src/resilience/limiter-record.js';
import { keys } from '../../src/core/keys.js';
import type { LimiterSnapshot } from '../../src/resilience/limiter.js';
import { testRedisUrl } from '../helpers/redis.js';

const scenes = process.env.S2P_SLOW_TESTS === '1' ? 1_200 : 400;
const ratio = (r: FirstSyncResult) => r.viewerModelRatio;
// One request at a time keeps at most one of Plex's four slots busy (25 %); a limiter that works does better.
const MORE_THAN_ONE_AT_A_TIME = 0.3;

describe(`first sync of ${scenes} scenes against a busy Plex (4 at a time, 20 ms)`, () => {
  it('adaptive concurrency keeps a viewer near its idle latency while Plex stays busy; fixed 32 does not', async () => {
    const seen: LimiterSnapshot[] = [];
    const adaptive = await firstSyncRun({
      scenes,
      workers: 1,
      redisUrl: testRedisUrl(),
      onTick: async ({ redis, prefix }) => {
        for (const w of await readLimiters(redis, keys(prefix), Date.now(), [])) seen.push(...w.limiters);
      },
    });
    const fixed = await firstSyncRun({ scenes, workers: 1, redisUrl: testRedisUrl(), env: { ADAPTIVE_CONCURRENCY: 'false' } });
    const report = `adaptive ${JSON.stringify(adaptive)}\nfixed 32 ${JSON.stringify(fixed)}`;
    for (const r of [adaptive, fixed]) {
      expect(r.failed, report).toBe(0);
      expect(r.posterUploads, report).toBe(scenes);
    }
    // Fixed 32 floods the model (the issue measured 12.8 × idle): the comparison means something.
    expect(ratio(fixed), report).toBeGreaterThan(3);
    // The target: ≤ 2 × idle with Plex busy (≥ 80 % on an idle machine: the bench; here more than one slot).
    expect(ratio(adaptive), report).toBeLessThan(ratio(fixed) / 2);
    expect(ratio(adaptive), report).toBeLessThanOrEqual(2);
    expect(adaptive.busy, report).toBeGreaterThanOrEqual(MORE_THAN_ONE_AT_A_TIME);
    // The workers published their limiters while they ran (what the status page and /metrics show).
    const plex = seen.filter((l) => l.target === 'plex' && l.latencyMs !== null);
    expect(plex.length, report).toBeGreaterThan(0);
    expect(Math.max(...plex.map((l) => l.limit))).toBeLessThan(32);
    // In flight may stand above a limit that has just shrunk (those requests had started), never above the ceiling.
    expect(plex.every((l) => l.limit >= 1 && l.inFlight <= 32 && l.baselineMs! > 0)).toBe(true);
  }, 600_000);

  it('two worker processes, each adapting alone, together still keep the viewer near its idle latency', async () => {
    const two = await firstSyncRun({ scenes, workers: 2, redisUrl: testRedisUrl() });
    const report = JSON.stringify(two);
    expect(two.failed, report).toBe(0);
    expect(two.posterUploads, report).toBe(scenes);
    expect(ratio(two), report).toBeLessThanOrEqual(2);
    expect(two.busy, report).toBeGreaterThanOrEqual(MORE_THAN_ONE_AT_A_TIME);
  }, 600_000);
});
