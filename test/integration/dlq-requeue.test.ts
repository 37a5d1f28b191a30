// Dead-letter requeue on a real Redis with real failed jobs: added with the queue's own options, fetched
// by a BullMQ worker and failed through `job.moveToFailed` (bench/requeue.ts makeFailedJobs), with the
// clock faked (Date only) to place their failure times.
import { type Queue } from 'bullmq';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { FailedJobSpec } from '../../bench/requeue.js';
import { DOWN, failAt, specs } from '../helpers/failed-jobs.js';
import { parseConfig, type Config } from '../../src/core/config.js';
import { requeue, runRequeue, type RequeueOptions, type RequeueSummary } from '../../src/dlq/requeue.js';
import { RequeueInputError } from '../../src/dlq/select.js';
import { createLogger } from '../../src/core/log.js';
import { connectRedis, keys, type Keys, type RedisConnection } from '../../src/core/redis.js';
import { initialBreaker, serializeBreaker } from '../../src/resilience/breaker.js';
import type { Outage } from '../../src/resilience/outages.js';
import { PRIORITY } from '../../src/model/job.js';
import type { SyncJobData } from '../../src/model/inbox-item.js';
import { createSyncQueue, enqueueSync } from '../../src/sync/queue.js';
import { testRedisUrl, uniquePrefix } from '../helpers/redis.js';
import { waitFor } from '../helpers/wait.js';

const quiet = createLogger({ level: 'silent' });
const MIN = 60_000;
const AUTH = 'PlexAuthError: GET /library/sections → HTTP 401 (token rejected)';
const TEMP = 'PlexTemporaryError: PUT /library/metadata/7 → HTTP 503';

let config: Config;
let k: Keys;
let conn: RedisConnection;
let queue: Queue<SyncJobData>;
/** Reference time of each test: the outage is [T - 30 min, T - 20 min]. */
let T: number;

beforeAll(() => undefined);
beforeEach(async () => {
  config = parseConfig({ REDIS_URL: testRedisUrl(), REDIS_PREFIX: uniquePrefix('dlq') }, { plex: false, stash: false });
  k = keys(config.redis.prefix);
  conn = connectRedis(config);
  queue = createSyncQueue(conn, config.redis.prefix);
  T = Date.now();
  await setOutages([outage('o-1', T - 30 * MIN, T - 20 * MIN)]);
});
afterEach(async () => {
  vi.useRealTimers();
  await queue.obliterate({ force: true });
  await queue.close();
  conn.disconnect();
});
afterAll(() => undefined);

function outage(id: string, startedAt: number, endedAt: number | null): Outage {
  return {
    id,
    startedAt,
    detectedAt: startedAt,
    endedAt,
    durationMs: endedAt && endedAt - startedAt,
    trigger: 'failures',
    firstError: null,
    jobsAffected: 0,
    rampEndedAt: null,
  };
}
async function setOutages(list: Outage[]) {
  await conn.set(k.outages, JSON.stringify(list));
}
async function setBreaker(state: 'OPEN' | 'HALF_OPEN' | 'CLOSED') {
  const now = Date.now();
  await conn.hset(k.breaker, serializeBreaker({ ...initialBreaker(now), state, openedAt: state === 'CLOSED' ? null : now }));
}

const fail = (at: number, jobs: FailedJobSpec[]) => failAt(at, jobs, { connection: conn, config, queue });

function run(options: Partial<RequeueOptions> = {}, c = conn, q = queue): Promise<RequeueSummary> {
  return requeue({
    redis: c,
    queue: q,
    keys: k,
    strategies: config.errorStrategies,
    options: { dryRun: false, rate: 10_000, ...options },
    log: quiet,
  });
}
const failedIds = async () => (await conn.zrange(`${config.redis.prefix}:sync:failed`, 0, -1)).sort();
const sorted = (ids: string[]) => [...ids].sort((a, b) => Number(a) - Number(b));

describe('requeue', () => {
  it('a dry run reports exactly what the real run then does; a second run requeues nothing', async () => {
    const down = await fail(T - 25 * MIN, specs(1, 6));
    const [auth] = await fail(T - 24 * MIN, [{ sceneId: '50', failedReason: AUTH }]);
    const [temp] = await fail(T - 23 * MIN, [{ sceneId: '51', failedReason: TEMP }]);
    const [crash] = await fail(T - 23 * MIN, [{ sceneId: '52', failedReason: 'TypeError: x is undefined' }]);
    const [before] = await fail(T - 60 * MIN, [{ sceneId: '53', failedReason: DOWN(53) }]);
    const [graceEdge] = await fail(T - 20 * MIN + 1_900, [{ sceneId: '54', failedReason: DOWN(54) }]);

    const dry = await run({ dryRun: true });
    expect(await failedIds()).toHaveLength(11); // nothing moved
    const real = await run();
    const strip = (s: RequeueSummary) => ({ ...s, dryRun: undefined, durationMs: undefined, jobIds: sorted(s.jobIds) });
    expect(strip(dry)).toEqual(strip(real));
    expect(real).toMatchObject({
      scanned: 11,
      matched: 7,
      requeued: 7,
      skipped: { alreadyQueued: 0, errorType: 3, outsideWindow: 1, breakerNotClosed: 0, tooManyRequeues: 0 },
      breaker: 'CLOSED',
      refused: null,
      errorTypes: ['PlexServerDown'],
      windows: [{ from: T - 30 * MIN, to: T - 20 * MIN, outageId: 'o-1' }],
    });
    expect(sorted(real.jobIds)).toEqual(sorted([...down, graceEdge]));
    // Permanent, other types and failures outside the window stay in the failed set.
    expect(await failedIds()).toEqual([auth, temp, crash, before].sort());
    // Moved back: attempts reset, bulk priority, counted, the scene's deduplication key restored.
    for (const id of real.jobIds) {
      const job = (await queue.getJob(id))!;
      expect(await job.getState()).toBe('prioritized');
      expect(job.attemptsMade).toBe(0);
      expect(job.attemptsStarted).toBe(0);
      expect(job.priority).toBe(PRIORITY.bulk);
      expect(job.failedReason).toBeFalsy();
      expect(await conn.hget(k.requeueCounts, id)).toBe('1');
      expect(await queue.getDeduplicationJobId(job.data.sceneId)).toBe(id);
    }
    // A fresh edit of a requeued scene joins the waiting job (deduplicated) instead of adding one.
    const fresh = await enqueueSync(queue, { sceneId: '1', reason: 'hook', enqueuedAt: Date.now() }, config.errorStrategies);
    expect(fresh.id).toBe(down[0]);

    const again = await run();
    expect(again).toMatchObject({ scanned: 4, matched: 0, requeued: 0, jobIds: [] });
    expect(await failedIds()).toHaveLength(4);
  });

  it('--errors and --include-optional widen the types; a permanent type only when named', async () => {
    await fail(T - 25 * MIN, [
      { sceneId: '1', failedReason: DOWN(1) },
      { sceneId: '2', failedReason: TEMP },
      { sceneId: '3', failedReason: 'PlexNotFound: no Plex item for /x.mp4' },
      { sceneId: '4', failedReason: AUTH },
    ]);
    expect((await run({ dryRun: true, includeOptional: true })).requeued).toBe(3);
    expect((await run({ dryRun: true, errors: ['PlexAuthError'] })).requeued).toBe(1);
    const s = await run({ errors: ['PlexAuthError', 'PlexTemporaryError'] });
    expect(s).toMatchObject({ requeued: 2, errorTypes: ['PlexTemporaryError', 'PlexAuthError'], skipped: { errorType: 2 } });
  });

  it('skips a scene that already has a job waiting, and a second failed job of a scene in the same run', async () => {
    await fail(T - 26 * MIN, specs(1, 3));
    const [secondOf1] = await fail(T - 25 * MIN, [{ sceneId: '1', failedReason: DOWN(1) }]); // scene 1 failed twice
    // Scene 2 has a fresh job waiting (added after the failure: the dedup key is the fresh job's).
    const waiting = await enqueueSync(queue, { sceneId: '2', reason: 'hook', enqueuedAt: Date.now() }, config.errorStrategies);
    const s = await run();
    expect(s).toMatchObject({ matched: 4, requeued: 2, skipped: { alreadyQueued: 2 } });
    expect(await (await queue.getJob(waiting.id!))!.getState()).toBe('prioritized');
    const left = await failedIds();
    expect(left).toHaveLength(2);
    expect(left).toContain(secondOf1);
    // A second run: both scenes still have a job waiting.
    expect(await run()).toMatchObject({ matched: 2, requeued: 0, skipped: { alreadyQueued: 2 } });
  });

  it('two concurrent runs requeue each job exactly once in total', async () => {
    const ids = await fail(T - 25 * MIN, specs(1, 300));
    const conn2 = connectRedis(config);
    const queue2 = createSyncQueue(conn2, config.redis.prefix);
    try {
      const [a, b] = await Promise.all([run({ pageSize: 20 }), run({ pageSize: 20 }, conn2, queue2)]);
      expect(a.requeued + b.requeued).toBe(300);
      expect(sorted([...a.jobIds, ...b.jobIds])).toEqual(sorted(ids));
      expect(new Set([...a.jobIds, ...b.jobIds]).size).toBe(300);
      // Whatever one run found moved by the other counts as already queued, never as an error.
      expect(a.matched).toBe(a.requeued + a.skipped.alreadyQueued);
      const counts = await conn.hgetall(k.requeueCounts);
      expect(Object.keys(counts)).toHaveLength(300);
      expect(new Set(Object.values(counts))).toEqual(new Set(['1']));
      expect(await queue.getJobCounts('prioritized', 'failed')).toEqual({ prioritized: 300, failed: 0 });
    } finally {
      await queue2.close();
      conn2.disconnect();
    }
  });

  it('past 3 requeues a job stays in the failed set and is reported', async () => {
    const [id] = await fail(T - 25 * MIN, [{ sceneId: '9', failedReason: DOWN(9) }]);
    const worker = (await import('bullmq')).Worker;
    const fetcher = new worker<SyncJobData>('sync', null, { connection: conn, prefix: config.redis.prefix, autorun: false });
    try {
      for (let round = 1; round <= 3; round++) {
        expect(await run()).toMatchObject({ requeued: 1, jobIds: [id] });
        expect(await conn.hget(k.requeueCounts, id)).toBe(String(round));
        // It fails again, inside the window.
        vi.useFakeTimers({ toFake: ['Date'] });
        vi.setSystemTime(T - 25 * MIN + round * 1000);
        const job = await fetcher.getNextJob('tok', { block: false });
        expect(job.id).toBe(id);
        await job.moveToFailed(new (await import('bullmq')).UnrecoverableError(DOWN(9)), 'tok', false);
        vi.useRealTimers();
      }
      const s = await run();
      expect(s).toMatchObject({
        matched: 1,
        requeued: 0,
        skipped: { tooManyRequeues: 1 },
        tooManyRequeues: [{ id, sceneId: '9', requeues: 3 }],
      });
      expect(await failedIds()).toEqual([id]);
    } finally {
      vi.useRealTimers();
      await fetcher.close();
    }
  });

  it('a real run forgets the requeue counts of jobs that no longer exist; a dry run changes nothing', async () => {
    const [kept] = await fail(T - 25 * MIN, [{ sceneId: '70', failedReason: DOWN(70) }]);
    await conn.hset(k.requeueCounts, { [kept]: '1', '999991': '2', '999992': '3' });
    await run({ dryRun: true });
    expect(await conn.hlen(k.requeueCounts)).toBe(3);
    expect((await run()).requeued).toBe(1);
    expect(await conn.hgetall(k.requeueCounts)).toEqual({ [kept]: '2' });
  });

  it('refuses while the breaker is not CLOSED unless forced', async () => {
    const ids = await fail(T - 25 * MIN, specs(1, 4));
    await setBreaker('OPEN');
    const refused = await run();
    expect(refused).toMatchObject({ breaker: 'OPEN', matched: 4, requeued: 0, jobIds: [], skipped: { breakerNotClosed: 4 } });
    expect(refused.refused).toMatch(/breaker is OPEN/);
    expect(await failedIds()).toEqual([...ids].sort());
    // A dry run says the same.
    expect(await run({ dryRun: true })).toMatchObject({ requeued: 0, skipped: { breakerNotClosed: 4 } });
    await setBreaker('HALF_OPEN');
    expect(await run({ limit: 1 })).toMatchObject({ breaker: 'HALF_OPEN', skipped: { breakerNotClosed: 1 }, limitReached: true });
    const forced = await run({ force: true });
    expect(forced).toMatchObject({ requeued: 4, refused: null, skipped: { breakerNotClosed: 0 } });
  });

  it('stops moving when the breaker opens during the run', async () => {
    await fail(T - 25 * MIN, specs(1, 40));
    const running = run({ rate: 40, pageSize: 5 });
    await waitFor(async () => (await failedIds()).length < 40, 10_000, 'the run moving jobs', 5);
    await setBreaker('OPEN');
    const s = await running;
    expect(s.requeued).toBeGreaterThan(0);
    expect(s.requeued).toBeLessThan(40);
    expect(s.requeued + s.skipped.breakerNotClosed).toBe(40);
    expect(s.refused).toMatch(/OPEN/);
    expect(await failedIds()).toHaveLength(40 - s.requeued);
  });

  it('pages through many jobs failed in the same millisecond; --limit caps; --rate paces', async () => {
    const ids = await fail(T - 25 * MIN, specs(1, 57));
    const limited = await run({ limit: 10, pageSize: 7 });
    expect(limited).toMatchObject({ requeued: 10, limitReached: true });
    expect(limited.scanned).toBe(limited.matched);
    const t = performance.now();
    const rest = await run({ pageSize: 7, rate: 100 });
    const ms = performance.now() - t;
    expect(rest).toMatchObject({ requeued: 47, limitReached: false, skipped: { alreadyQueued: 0 } });
    expect(sorted([...limited.jobIds, ...rest.jobIds])).toEqual(sorted(ids));
    expect(ms).toBeGreaterThanOrEqual(440); // 47 jobs at 100/s, the first at once
  });

  it('--outage all, an id, --since/--until; jobs between outages are outside', async () => {
    await setOutages([outage('o-2', T - 10 * MIN, null), outage('o-1', T - 30 * MIN, T - 20 * MIN)]);
    const [inOld] = await fail(T - 25 * MIN, [{ sceneId: '1', failedReason: DOWN(1) }]);
    const [between] = await fail(T - 15 * MIN, [{ sceneId: '2', failedReason: DOWN(2) }]);
    const [inOngoing] = await fail(T - 5 * MIN, [{ sceneId: '3', failedReason: DOWN(3) }]);
    const now = T;
    const dry = (o: Partial<RequeueOptions>) =>
      requeue({ redis: conn, queue, keys: k, strategies: config.errorStrategies, options: { dryRun: true, ...o }, log: quiet, now });
    expect(await dry({})).toMatchObject({ jobIds: [inOngoing], skipped: { outsideWindow: 2 } }); // latest: the ongoing one
    expect(sorted((await dry({ outage: 'all' })).jobIds)).toEqual(sorted([inOld, inOngoing]));
    expect(await dry({ outage: 'o-1' })).toMatchObject({ jobIds: [inOld], scanned: 3, skipped: { outsideWindow: 2 } });
    expect(await dry({ since: '16m', until: '14m' })).toMatchObject({ jobIds: [between] });
    expect(await dry({ since: String(T - 26 * MIN) })).toMatchObject({ matched: 3 });
  });

  it('bad input is an error before anything moves', async () => {
    await fail(T - 25 * MIN, specs(1, 2));
    const bad: Partial<RequeueOptions>[] = [
      { outage: 'nope' },
      { errors: ['PlexDown'] },
      { since: '1h', until: '2h' },
      { since: 'yesterday' },
      { since: '1h', until: '60m' },
      { outage: 'latest', since: '1h' },
      { limit: 0 },
      { rate: -1 },
    ];
    for (const o of bad) await expect(run(o)).rejects.toBeInstanceOf(RequeueInputError);
    await setOutages([]);
    await expect(run()).rejects.toThrow(/no outage recorded.*--since/);
    expect(await failedIds()).toHaveLength(2);
  });

  it('runRequeue opens and closes its own connections', async () => {
    await fail(T - 25 * MIN, specs(1, 3));
    const s = await runRequeue(config, { dryRun: false, rate: 1000 }, { log: quiet });
    expect(s.requeued).toBe(3);
    await expect(runRequeue(config, { dryRun: true, errors: ['Nope'] }, { log: quiet })).rejects.toBeInstanceOf(RequeueInputError);
  });
});
