// The Stash plugin's report and recovery tasks, in process, on the run's real Redis: the state is the
// real supervisor's (a Plex outage in the simulator) or written with the supervisor's own serializers,
// the failed jobs are real BullMQ failed jobs (bench/requeue.ts makeFailedJobs), and Reconcile Outage
// Windows walks a Stash simulator.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker, type Queue } from 'bullmq';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makeFailedJobs } from '../../bench/requeue.js';
import { parseConfig, type Config } from '../../src/core/config.js';
import { createLogger } from '../../src/core/log.js';
import { connectRedis, keys, type RedisConnection } from '../../src/core/redis.js';
import { initialBreaker, serializeBreaker } from '../../src/resilience/breaker.js';
import type { Outage } from '../../src/resilience/outages.js';
import { serializeRamp, startRamp } from '../../src/resilience/ramp.js';
import { SIM_STASH_KEY } from '../../src/sim/world.js';
import { syncScene } from '../../src/sync/processor.js';
import { StashSimulator } from '../../src/sim/stash.js';
import type { PluginLogLevel } from '../../src/hook/log-lines.js';
import { runTask, type TaskContext } from '../../src/stash-plugin/tasks.js';
import { startSupervisorRole, type SupervisorRole } from '../../src/roles/supervisor.js';
import { decodeInboxEntry } from '../../src/model/job.js';
import type { SyncJobData } from '../../src/model/inbox-item.js';
import { createSyncQueue, enqueueSync, jobOptions } from '../../src/sync/queue.js';
import { SYNC_QUEUE } from '../../src/core/keys.js';
import { failAt, specs } from '../helpers/failed-jobs.js';
import { freePort } from '../helpers/ports.js';
import { testRedisUrl, uniquePrefix } from '../helpers/redis.js';
import { waitFor } from '../helpers/wait.js';
import { worldSyncDeps } from '../helpers/sync-deps.js';
import { startWorld, type World } from '../helpers/world.js';
import { M, outage, S } from '../helpers/outages.js';
import { parseOutages } from '../../src/resilience/store.js';

/** The text fields only: no image is read or uploaded (the images have tests of their own: images.test.ts). */
const TEXT_FIELDS = 'title,summary,studio,date,genres,actors,rating';

const quiet = createLogger({ level: 'silent' });
const H = 60 * M;

interface Run {
  summary: string;
  logs: { level: PluginLogLevel; msg: string }[];
  /** Log lines as Stash shows them: "W " before a warning, "E " before an error, "D " before debug. */
  lines: string[];
  progress: number[];
}

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function context(
  mode: string,
  prefix: string,
  opts: {
    args?: Record<string, unknown>;
    env?: Record<string, string>;
    now?: number;
    stashPort?: number;
    redisUrl?: string;
    failedScanCap?: number;
  } = {},
): { ctx: TaskContext; run: Run } {
  const dir = mkdtempSync(join(tmpdir(), 's2p-task-'));
  dirs.push(dir);
  const run: Run = { summary: '', logs: [], lines: [], progress: [] };
  const ctx: TaskContext = {
    input: {
      server_connection: { Scheme: 'http', Host: '127.0.0.1', Port: opts.stashPort ?? 1, PluginDir: dir },
      args: { mode, ...opts.args },
    },
    env: opts.env ?? {},
    dir,
    redis: { url: opts.redisUrl ?? testRedisUrl(), prefix },
    log: (level, msg) => {
      run.logs.push({ level, msg });
      const tag = { trace: 'T ', debug: 'D ', info: '', warning: 'W ', error: 'E ' }[level];
      run.lines.push(`${tag}${msg}`);
    },
    progress: (f) => run.progress.push(f),
    now: opts.now === undefined ? undefined : () => opts.now!,
    failedScanCap: opts.failedScanCap,
  };
  return { ctx, run };
}

async function task(mode: string, prefix: string, opts: Parameters<typeof context>[2] = {}): Promise<Run> {
  const { ctx, run } = context(mode, prefix, opts);
  run.summary = await runTask(mode as Parameters<typeof runTask>[0], ctx);
  return run;
}

/** A Redis-only config, connection and `sync` queue on a fresh prefix. */
interface Store {
  prefix: string;
  config: Config;
  redis: RedisConnection;
  queue: Queue<SyncJobData>;
}
const stores: Store[] = [];
function store(name: string): Store {
  const prefix = uniquePrefix(name);
  const config = parseConfig({ REDIS_URL: testRedisUrl(), REDIS_PREFIX: prefix }, { plex: false, stash: false });
  const redis = connectRedis(config);
  const s = { prefix, config, redis, queue: createSyncQueue(redis, prefix) };
  stores.push(s);
  return s;
}
afterEach(async () => {
  for (const s of stores.splice(0)) {
    await s.queue.close();
    s.redis.disconnect();
  }
});

async function writeState(
  s: Store,
  st: { breaker?: 'OPEN' | 'CLOSED' | 'HALF_OPEN'; since?: number; outages?: Outage[]; rampStartedAt?: number },
) {
  const k = keys(s.prefix);
  if (st.breaker) {
    const since = st.since ?? Date.now();
    await s.redis.del(k.breaker);
    await s.redis.hset(
      k.breaker,
      serializeBreaker({ ...initialBreaker(since), state: st.breaker, openedAt: st.breaker === 'CLOSED' ? null : since }),
    );
  }
  if (st.outages) await s.redis.set(k.outages, JSON.stringify(st.outages));
  if (st.rampStartedAt !== undefined) await s.redis.hset(k.ramp, serializeRamp(startRamp(st.rampStartedAt)));
}

async function inbox(s: Store): Promise<SyncJobData[]> {
  const entries = (await s.redis.xrange(keys(s.prefix).inbox, '-', '+')) as [string, string[]][];
  return entries.map(([, flat]) => {
    const d = decodeInboxEntry(flat);
    if (d.ok && d.job) return d.job;
    throw new Error(d.ok ? 'not a scene entry' : d.error);
  });
}

// ---- Health Check, Outage Summary and Queue Status through a real outage -----------------------------

describe('through a real outage of the Plex simulator, watched by the real supervisor', () => {
  const FAST = {
    SYNC_POSTER: 'false',
    SYNC_FIELDS: TEXT_FIELDS,
    RECONCILE_AFTER_OUTAGE: 'false',
    RECONCILE_INTERVAL_MS: '0',
    BREAKER_FAILURE_THRESHOLD: '3',
    BREAKER_RECOVERY_TIMEOUT_MS: '300',
    HEALTH_TIMEOUT_MS: '500',
    HEALTH_INTERVAL_MS: '100',
    HEALTH_MAX_INTERVAL_MS: '400',
    HEALTH_CLOSED_INTERVAL_MS: '150',
    RAMP_INITIAL_RATE: '2',
    RAMP_TARGET_RATE: '8',
    RAMP_DURATION_MS: '600000',
  };
  let world: World;
  let supervisor: SupervisorRole;
  beforeAll(async () => {
    world = await startWorld({ prefixName: 'task-sup', env: FAST });
    supervisor = await startSupervisorRole(parseConfig(world.env), quiet, { tickMs: 50 });
  });
  afterAll(async () => {
    await supervisor?.stop();
    await world?.stop();
  });

  it('Health Check, Outage Summary and Queue Status tell the story of the outage', async () => {
    const { prefix } = world;
    const k = keys(prefix);
    const reader = connectRedis(parseConfig(world.env));
    try {
      await waitFor(async () => (await reader.get(k.health)) !== null, 10_000, 'a recorded probe');

      // Up, no PLEX_URL in the task's environment: the supervisor's last probe and its age.
      const up = await task('health_check', prefix);
      expect(up.lines[0]).toMatch(/^Plex is HEALTHY \(last probe (\d+ms|\d+s) ago: responded in \d+ ms\)$/);
      expect(up.lines).toContainEqual(expect.stringMatching(/^Breaker: CLOSED for \d+(ms|s), since \d\d:\d\d:\d\d$/));
      expect(up.lines).toContain('Queue sync: 0 jobs to do (0 waiting, 0 active, 0 delayed), 0 failed');
      expect(up.lines).toContainEqual(expect.stringMatching(/^Supervisor: running \(leader .+\)$/));
      expect(up.summary).toBe('Health Check: Plex HEALTHY, breaker CLOSED, 0 jobs to do, 0 failed');
      expect(up.logs.every((l) => !l.msg.includes('\n'))).toBe(true);
      expect((await task('outage_summary', prefix)).summary).toBe('Outage Summary: no outage recorded');

      // Down: the supervisor opens the breaker; the task's own probe (PLEX_URL set) sees it too.
      await world.plex.setMode('down');
      await waitFor(async () => (await reader.hget(k.breaker, 'state')) === 'OPEN', 10_000, 'breaker OPEN');
      const plexEnv = { PLEX_URL: world.env.PLEX_URL, PLEX_TOKEN: world.env.PLEX_TOKEN };
      const down = await task('health_check', prefix, { env: plexEnv });
      expect(down.lines[0]).toMatch(/^W Plex is UNREACHABLE: PlexServerDown: GET \/identity → /);
      expect(down.lines[1]).toMatch(/^Supervisor's last probe .* ago: FAILED: PlexServerDown: /);
      expect(down.lines).toContainEqual(
        expect.stringMatching(/^W Breaker: OPEN for \d+(ms|s), since \d\d:\d\d:\d\d \(Plex outage: the queue is paused\)$/),
      );
      expect(down.lines).toContain(
        'Queue sync: 0 jobs to do (0 waiting, 0 active, 0 delayed), 0 failed; paused by the supervisor until Plex is back',
      );
      expect(down.summary).toBe('Health Check: Plex UNREACHABLE, breaker OPEN, 0 jobs to do, 0 failed');
      expect(down.lines.join('\n')).not.toContain(world.env.PLEX_TOKEN);

      const during = await task('outage_summary', prefix);
      expect(during.lines[0]).toMatch(/^W Plex is DOWN: an outage is ongoing for \d+(ms|s), since \d\d:\d\d:\d\d$/);
      expect(during.lines).toContain('No completed outage yet: the metrics start when one ends');
      expect(during.lines.at(-1)).toMatch(
        /^ {2}\d{4}-\d\d-\d\d \d\d:\d\d:\d\d, ONGOING for .*, trigger probe, first error PlexServerDown: /,
      );

      // Back: the breaker closes, the ramp starts, the outage is complete.
      await world.plex.setMode('up');
      await waitFor(async () => (await reader.hget(k.breaker, 'state')) === 'CLOSED', 10_000, 'breaker CLOSED');
      await waitFor(async () => parseOutages(await reader.get(k.outages), [])[0]?.endedAt != null, 5_000, 'outage closed');

      const after = await task('outage_summary', prefix);
      expect(after.lines[0]).toBe('Outages recorded: 1');
      expect(after.lines).toContainEqual(expect.stringMatching(/^Availability: \d{1,3}\.\d\d %$/));
      expect(after.lines).toContainEqual(expect.stringMatching(/^MTTR \(mean time to recover\): \d+(ms|s)/));
      expect(after.summary).toMatch(/^Outage Summary: 1 outage, \d+(ms|s)( \d+ms)? down in total, availability \d{1,3}\.\d\d %, MTTR /);

      // The task reads the ramp with the supervisor's settings (RAMP_* in its environment).
      const qs = await task('queue_status', prefix, { env: { RAMP_INITIAL_RATE: '2', RAMP_TARGET_RATE: '8', RAMP_DURATION_MS: '600000' } });
      expect(qs.lines).toContainEqual(
        expect.stringMatching(/^Recovery: ramp at 2(\.\d+)? jobs\/s of 8 jobs\/s, 0 % done \(9m 5\ds left\)$/),
      );
      expect(qs.lines).toContainEqual(expect.stringMatching(/^Rate limit: /));
      expect(qs.lines).toContain('Last outage:');
      expect(qs.summary).toBe('Queue Status: 0 jobs to do, 0 failed, breaker CLOSED, recovery ramp running');
    } finally {
      reader.disconnect();
    }
  }, 40_000);
});

// ---- Queue Status on real failed jobs --------------------------------------------------------------

describe('Queue Status', () => {
  it('counts the failed set by error type, most recent first, capped, with progress', async () => {
    const s = store('task-qs');
    const now = Date.now();
    await makeFailedJobs({
      connection: s.redis,
      prefix: s.prefix,
      queue: s.queue,
      strategies: s.config.errorStrategies,
      jobs: [
        ...Array.from({ length: 30 }, (_, i) => ({
          sceneId: String(i + 1),
          failedReason: `PlexServerDown: GET /library/metadata/${i} → ECONNREFUSED`,
        })),
        ...Array.from({ length: 5 }, (_, i) => ({ sceneId: String(100 + i), failedReason: 'PlexNotFound: no Plex item for /x.mp4' })),
        ...Array.from({ length: 2 }, (_, i) => ({ sceneId: String(200 + i), failedReason: 'worker crashed' })),
      ],
    });
    await writeState(s, {
      breaker: 'OPEN',
      since: now - 2 * M - 5 * S,
      outages: [outage({ startedAt: now - 2 * M - 6 * S, endedAt: null, trigger: 'failures' })],
    });

    const r = await task('queue_status', s.prefix, { now });
    expect(r.lines).toEqual([
      'Queue sync: 0 jobs to do (0 waiting, 0 active, 0 delayed), 37 failed, 0 completed',
      'Failed jobs by error type:',
      '  PlexServerDown: 30',
      '  PlexNotFound: 5',
      '  unclassified: 2',
      'Skipped as not ready (SYNC_REQUIRE): none',
      expect.stringMatching(/^W Breaker: OPEN for 2m 5s, since \d\d:\d\d:\d\d \(Plex outage: the queue is paused\)$/),
      'Recovery: no ramp running',
      'Last outage:',
      expect.stringMatching(/^ {2}\d{4}-\d\d-\d\d \d\d:\d\d:\d\d, ONGOING for 2m 6s, trigger failures$/),
    ]);
    expect(r.summary).toBe('Queue Status: 0 jobs to do, 37 failed (most: PlexServerDown 30), breaker OPEN');
    expect(r.progress[0]).toBe(0);
    expect(r.progress.at(-1)).toBe(1);

    // Capped: only the 10 most recent are read (the 2 crashes and the 5 PlexNotFound came last), and it says so.
    const capped = await task('queue_status', s.prefix, { now, failedScanCap: 10 });
    expect(capped.lines.slice(1, 5)).toEqual([
      'Failed jobs by error type (the 10 most recent of 37; older ones not counted):',
      '  PlexNotFound: 5',
      '  PlexServerDown: 3',
      '  unclassified: 2',
    ]);
  });
});

// ---- The failed set does not grow for ever; clearing the queue --------------------------------------

describe('failed-job retention (FAILED_KEEP_MAX, FAILED_KEEP_DAYS)', () => {
  it('FAILED_KEEP_MAX=100: after 150 failures, 100 failed jobs remain, the newest', async () => {
    const s = store('keep-max');
    const config = parseConfig(
      { REDIS_URL: testRedisUrl(), REDIS_PREFIX: s.prefix, FAILED_KEEP_MAX: '100' },
      { plex: false, stash: false },
    );
    const queue = createSyncQueue(s.redis, s.prefix, config.keepFailed);
    try {
      // One fetcher: the jobs fail in the order they were added.
      const ids = await makeFailedJobs({
        connection: s.redis,
        prefix: s.prefix,
        queue,
        strategies: config.errorStrategies,
        jobs: specs(1, 150),
        fetchers: 1,
      });
      expect(await queue.getFailedCount()).toBe(100);
      expect((await s.redis.zrange(queue.keys.failed, 0, -1)).sort()).toEqual(ids.slice(50).sort());
    } finally {
      await queue.close();
    }
  });
});

describe('Clear Failed Jobs, Purge Failed Jobs Older Than N Days, Clear Pending Queue', () => {
  /** A queue without an age limit, so jobs may fail "40 days ago". */
  const ageless = (s: Store) => createSyncQueue(s.redis, s.prefix, { days: 0, max: 10_000 });

  it('Purge Failed Jobs Older Than N Days: the dry run counts, the real one removes only the old ones', async () => {
    const s = store('purge');
    const queue = ageless(s);
    const env = { connection: s.redis, config: s.config, queue };
    try {
      await failAt(Date.now() - 40 * 24 * H, specs(1, 3), env);
      const recent = await failAt(Date.now() - 24 * H, specs(10, 2), env);
      const dry = await task('purge_failed_dry_run', s.prefix, { args: { days: '30' } });
      expect(dry.summary).toBe(
        'Purge Failed Jobs Older Than 30 Days (dry run): 3 jobs of 5 failed more than 30 days ago would be removed (dry run: nothing removed)',
      );
      expect(await queue.getFailedCount()).toBe(5);
      const real = await task('purge_failed', s.prefix, { args: { days: '30' } });
      expect(real.summary).toBe('Purge Failed Jobs Older Than 30 Days: 3 jobs of 5 failed more than 30 days ago removed');
      expect((await s.redis.zrange(queue.keys.failed, 0, -1)).sort()).toEqual(recent.sort());
      await expect(task('purge_failed', s.prefix, { args: { days: '-2' } })).rejects.toThrow(
        'Purge Failed Jobs Older Than N Days: args.days must be a whole number of days, 0 or more',
      );
    } finally {
      await queue.close();
    }
  });

  it('Clear Failed Jobs: the dry run counts, the real one empties the failed set', async () => {
    const s = store('clear-failed');
    await makeFailedJobs({
      connection: s.redis,
      prefix: s.prefix,
      queue: s.queue,
      strategies: s.config.errorStrategies,
      jobs: specs(1, 7),
    });
    const dry = await task('clear_failed_dry_run', s.prefix);
    expect(dry.summary).toBe('Clear Failed Jobs (dry run): 7 jobs of the failed set would be removed (dry run: nothing removed)');
    expect(await s.queue.getFailedCount()).toBe(7);
    const real = await task('clear_failed', s.prefix);
    expect(real.summary).toBe('Clear Failed Jobs: 7 jobs of the failed set removed');
    expect(await s.queue.getFailedCount()).toBe(0);
  });

  it('Clear Pending Queue: waiting and delayed jobs go (with their deduplication), the active one finishes', async () => {
    const s = store('clear-pending');
    const job = (sceneId: string) => ({ sceneId, reason: 'hook' as const, enqueuedAt: Date.now() });
    for (const id of ['1', '2', '3']) await enqueueSync(s.queue, job(id), s.config.errorStrategies);
    await s.queue.add('sync', job('4'), { ...jobOptions(job('4'), s.config.errorStrategies), delay: 60_000 });
    await enqueueSync(s.queue, job('5'), s.config.errorStrategies);
    // Scene 5's job is running (a worker took it).
    const worker = new Worker<SyncJobData>(SYNC_QUEUE, null, { connection: s.redis, prefix: s.prefix, autorun: false });
    try {
      const active = await worker.getNextJob('token-1', { block: false });
      expect(active?.data.sceneId).toBe('1');
      const dry = await task('clear_pending_dry_run', s.prefix);
      expect(dry.summary).toBe(
        'Clear Pending Queue (dry run): 4 jobs waiting or delayed would be removed (dry run: nothing removed); active ones finish',
      );
      expect(await s.queue.getJobCounts('prioritized', 'delayed', 'active')).toEqual({ prioritized: 3, delayed: 1, active: 1 });
      const real = await task('clear_pending', s.prefix);
      expect(real.summary).toBe('Clear Pending Queue: 4 jobs waiting or delayed removed; active ones finish');
      expect(await s.queue.getJobCounts('wait', 'prioritized', 'delayed', 'active')).toEqual({
        wait: 0,
        prioritized: 0,
        delayed: 0,
        active: 1,
      });
      // A removed scene's next edit is queued again (its deduplication key went with its job).
      const again = await enqueueSync(s.queue, job('2'), s.config.errorStrategies);
      expect(await again.getState()).toBe('prioritized');
    } finally {
      await worker.close();
    }
  });
});

// ---- Recover Outage Jobs ---------------------------------------------------------------------------

describe('Recover Outage Jobs', () => {
  it('dry run, refused while OPEN, then the real run moves exactly the outage window PlexServerDown jobs', async () => {
    const s = store('task-rq');
    const startedAt = Date.now() - 5 * S;
    await makeFailedJobs({
      connection: s.redis,
      prefix: s.prefix,
      queue: s.queue,
      strategies: s.config.errorStrategies,
      jobs: [
        ...Array.from({ length: 20 }, (_, i) => ({
          sceneId: String(i + 1),
          failedReason: 'PlexServerDown: GET /library/metadata/1 → ECONNREFUSED',
        })),
        ...Array.from({ length: 3 }, (_, i) => ({ sceneId: String(50 + i), failedReason: 'PlexAuthError: HTTP 401' })),
      ],
    });
    const endedAt = Date.now() + S;
    await writeState(s, { outages: [outage({ id: 'the-outage', startedAt, endedAt, jobsAffected: 20 })] });

    const dry = await task('recover_dry_run', s.prefix, { args: { outage: 'latest' } });
    expect(dry.lines[0]).toMatch(
      /^Recover Outage Jobs \(dry run\): failed jobs of the latest outage, \d{4}-\d\d-\d\d \d\d:\d\d:\d\d \(\d+s\); error types PlexServerDown$/,
    );
    expect(dry.lines).toContain('Requeue — DRY RUN: nothing was moved; figures are what a real run would do');
    expect(dry.lines).toContainEqual(expect.stringMatching(/^ {2}would requeue +20$/));
    expect(dry.lines).not.toContain('');
    expect(dry.summary).toBe('Recover Outage Jobs (dry run): 20 jobs would be requeued (20 matched of 23 failed); nothing was moved');
    expect(dry.progress.at(-1)).toBe(1);
    expect(await s.queue.getFailedCount()).toBe(23);

    await writeState(s, { breaker: 'OPEN' });
    const refused = await task('recover', s.prefix, { args: { outage: 'latest' } });
    expect(refused.summary).toBe(
      'Recover Outage Jobs: refused, the breaker is not CLOSED: nothing was moved (20 jobs wait for the recovery)',
    );
    expect(refused.lines).toContain(
      'W Refused: the breaker is OPEN, not CLOSED: Plex is not (fully) back; wait for the recovery, then run the task again.',
    );
    expect(refused.lines.filter((l) => l.startsWith('W '))).toHaveLength(1);
    expect(await s.queue.getFailedCount()).toBe(23);

    await writeState(s, { breaker: 'CLOSED' });
    const real = await task('recover', s.prefix, { args: { outage: 'latest' } });
    expect(real.summary).toBe('Recover Outage Jobs: requeued 20 jobs (20 matched of 23 failed)');
    expect(real.lines).toContainEqual(expect.stringMatching(/^Requeued jobs: /));
    expect(await s.queue.getFailedCount()).toBe(3);
    const back = await s.queue.getJobCounts('waiting', 'prioritized');
    expect(back.waiting + back.prioritized).toBe(20); // bulk priority: requeue is bulk work

    // Twice is safe: nothing left to move.
    const again = await task('recover', s.prefix, { args: { outage: 'latest' } });
    expect(again.summary).toBe('Recover Outage Jobs: requeued 0 jobs (0 matched of 3 failed)');
  }, 30_000);

  it('args: since replaces the default outage; errors are checked; no outage is an answer, not an error', async () => {
    const s = store('task-rq-args');
    await makeFailedJobs({
      connection: s.redis,
      prefix: s.prefix,
      queue: s.queue,
      strategies: s.config.errorStrategies,
      jobs: [
        { sceneId: '1', failedReason: 'PlexTemporaryError: HTTP 503' },
        { sceneId: '2', failedReason: 'PlexServerDown: ECONNREFUSED' },
      ],
    });
    const none = await task('recover_dry_run', s.prefix, { args: { outage: 'latest' } });
    expect(none.summary).toBe(
      'Recover Outage Jobs (dry run): no outage recorded, so no outage window to recover (npm run requeue -- --since 2h recovers a time window instead)',
    );

    const since = await task('recover_dry_run', s.prefix, {
      args: { outage: 'latest', since: '1h', errors: 'plextemporaryerror, PlexServerDown' },
    });
    expect(since.lines[0]).toBe(
      'Recover Outage Jobs (dry run): failed jobs of the window from 1h to now; error types PlexServerDown, PlexTemporaryError',
    );
    expect(since.summary).toBe('Recover Outage Jobs (dry run): 2 jobs would be requeued (2 matched of 2 failed); nothing was moved');

    await expect(task('recover_dry_run', s.prefix, { args: { since: '1h', errors: 'PlexDown' } })).rejects.toThrow(
      /^Recover Outage Jobs \(dry run\): unknown error type "PlexDown": valid types are PlexServerDown, /,
    );
    await expect(task('recover', s.prefix, { args: { since: 'yesterday' } })).rejects.toThrow(
      /^Recover Outage Jobs: "yesterday" is not a time/,
    );
    await expect(task('recover', s.prefix, { args: { outage: 'nope', since: '1h' } })).rejects.toThrow(
      /args\.outage and args\.since\/args\.until exclude each other/,
    );
    expect(await s.queue.getFailedCount()).toBe(2);
  });
});

// ---- Reconcile Outage Windows ------------------------------------------------------------------------

describe('Reconcile Outage Windows', () => {
  let stash: StashSimulator;
  beforeAll(async () => {
    // Stash writes updated_at in its local zone; the plugin runs beside it, in the same zone.
    stash = await StashSimulator.start({ apiKey: SIM_STASH_KEY, utcOffsetMinutes: -new Date().getTimezoneOffset() });
  });
  afterAll(async () => {
    await stash?.stop();
  });

  it('queues the scenes Stash changed in every outage window, once each, as reconcile inbox entries', async () => {
    const s = store('task-rec');
    const now = Date.now();
    // Each window is queried an hour wide (Stash compares text) and kept exact: hours apart, the windows
    // share only what lies in both.
    const A = outage({ id: 'a', startedAt: now - 10 * H, endedAt: now - 10 * H + 10 * M });
    const A2 = outage({ id: 'a2', startedAt: now - 10 * H + 8 * M, endedAt: now - 10 * H + 12 * M }); // overlaps A
    const B = outage({ id: 'b', startedAt: now - 5 * H, endedAt: now - 5 * H + 5 * M });
    const C = outage({ id: 'c', startedAt: now - 5 * M, endedAt: null }); // ongoing: to now
    await writeState(s, { outages: [C, B, A2, A] });
    const at = (t: number) => stash.addScene({ title: `at ${t}`, updated_at: t });
    const inA = [at(now - 10 * H + 2 * M), at(now - 10 * H + 5 * M)];
    const inBoth = at(now - 10 * H + 9 * M);
    const inB = at(now - 5 * H + 2 * M);
    const inC = at(now - 2 * M);
    at(now - 7.5 * H); // in no window, even widened
    at(now - 5 * H - 30 * M); // half an hour before B: the hour-wide query returns it, no window holds it
    at(now - 20 * M); // a quarter of an hour before C
    at(now - 13 * H); // in no window, even widened

    const port = Number(new URL(stash.url).port);
    const r = await task('reconcile_outages', s.prefix, { stashPort: port, env: { STASH_API_KEY: SIM_STASH_KEY }, now, args: {} });
    expect(r.summary).toBe(
      'Reconcile Outage Windows: queued 5 scenes for Plex from 4 outage windows, 1 repeated in overlapping windows skipped',
    );
    expect(r.lines[0]).toBe('Reconcile Outage Windows: 4 outage windows to reconcile, oldest first');
    expect(r.lines.filter((l) => / changed in Stash, \d+ queued$/.test(l))).toEqual([
      expect.stringMatching(/^Reconcile Outage Windows: 1\/4 outage of .* \(10m\): 3 scenes changed in Stash, 3 queued$/),
      expect.stringMatching(/^Reconcile Outage Windows: 2\/4 outage of .* \(4m\): 1 scene changed in Stash, 0 queued$/),
      expect.stringMatching(/^Reconcile Outage Windows: 3\/4 outage of .* \(5m\): 1 scene changed in Stash, 1 queued$/),
      expect.stringMatching(/^Reconcile Outage Windows: 4\/4 outage of .* \(ongoing\): 1 scene changed in Stash, 1 queued$/),
    ]);
    const jobs = await inbox(s);
    expect(jobs.map((j) => j.sceneId).sort()).toEqual([...inA, inBoth, inB, inC].sort());
    expect(new Set(jobs.map((j) => `${j.reason}/${j.event}`))).toEqual(new Set(['reconcile/reconcile_outages']));
    expect(r.progress[0]).toBe(0);
    expect(r.progress.at(-1)).toBe(1);
    expect(r.progress).toEqual([...r.progress].sort((a, b) => a - b));
  });

  it('with no outage recorded, says so and asks Stash nothing', async () => {
    const s = store('task-rec-none');
    const before = stash.count();
    const r = await task('reconcile_outages', s.prefix, { stashPort: 1 });
    expect(r.summary).toBe('Reconcile Outage Windows: no outage recorded, nothing to reconcile');
    expect(stash.count()).toBe(before);
  });
});

// ---- Restore Plex Metadata -------------------------------------------------------------------------

describe('Restore Plex Metadata (dry run) and Restore Plex Metadata', () => {
  it('every scene with kept originals: the dry run changes nothing, the real one puts the scanner titles back and excludes the scenes', async () => {
    const world = await startWorld({ scenes: 2, prefixName: 'task-restore', env: { SYNC_POSTER: 'false', SYNC_FIELDS: TEXT_FIELDS } });
    const redis = connectRedis(world.config);
    try {
      const deps = worldSyncDeps(world, redis);
      const ids = [...world.ratingKeyOf.keys()];
      for (const id of ids) await syncScene(id, deps);
      const titles = () => ids.map((id) => world.plex.item(world.ratingKeyOf.get(id)!)!.title);
      expect(titles()).toEqual(['Scene 1', 'Scene 2']);
      const env = { PLEX_URL: world.plex.url, PLEX_TOKEN: world.config.plex.token };

      const dry = await task('restore_dry_run', world.prefix, { env });
      expect(dry.summary).toBe('Dry run: 2 scenes would be restored (14 fields), 2 scenes would be excluded from sync; nothing changed');
      expect(dry.lines).toContain(
        `scene ${ids[0]} (item ${world.ratingKeyOf.get(ids[0])}): would restore title, summary, studio, date, genres, actors, rating`,
      );
      expect(titles()).toEqual(['Scene 1', 'Scene 2']);
      expect(dry.progress).toEqual([0, 1]);

      const real = await task('restore', world.prefix, { env });
      expect(real.summary).toBe(
        '2 scenes restored (14 fields), 2 scenes excluded from sync; npm run restore -- --resume, or "Sync again" on the status page, brings them back',
      );
      expect(titles()).toEqual(['scene-1', 'scene-2']);
      expect((await redis.hkeys(keys(world.prefix).syncExcluded)).sort()).toEqual([...ids].sort());
      const again = await task('restore', world.prefix, { env });
      expect(again.summary).toBe('0 scenes restored (0 fields), 0 scenes excluded from sync');
      expect(again.lines).toContain('No scene has kept originals: stash2plex has written to no Plex item since it began keeping them');
    } finally {
      redis.disconnect();
      await world.stop();
    }
  });

  it("without PLEX_URL in the plugin's environment, says so", async () => {
    const s = store('task-restore-noplex');
    await expect(task('restore_dry_run', s.prefix)).rejects.toThrow(
      "Restore Plex Metadata (dry run): Restore needs PLEX_URL and PLEX_TOKEN in the plugin folder's .env, or STASH2PLEX_URL and HOOK_TOKEN there so the task asks the stash2plex dashboard, which has them (STASH2PLEX_URL and HOOK_TOKEN are not set); or run it on the status page, or npm run restore -- --all",
    );
  });
});

// ---- Redis unreachable -------------------------------------------------------------------------------

describe('Redis unreachable', () => {
  it.each(['health_check', 'queue_status', 'outage_summary', 'reconcile_outages'])('%s fails with one clear message', async (mode) => {
    const url = `redis://127.0.0.1:${await freePort()}`;
    await expect(task(mode, 'nowhere', { redisUrl: url })).rejects.toThrow(
      /^[A-Z][A-Za-z ]+: Redis unreachable at 127\.0\.0\.1:\d+: .*ECONNREFUSED/,
    );
  });

  it('a Redis that refuses the credentials: its reply, never the password', async () => {
    const u = new URL(testRedisUrl());
    const err = await task('outage_summary', 'nowhere', { redisUrl: `redis://nobody:pw-secret-9@${u.host}` }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/^Outage Summary: Redis at [\d.]+:\d+ refused the connection: WRONGPASS/);
    expect((err as Error).message).not.toContain('pw-secret-9');
  });
});
