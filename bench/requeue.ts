// Requeue benchmark: 10 000 failed sync jobs (made through BullMQ's own API: added, fetched, failed),
// then a dry run and a real requeue of them at a high --rate. Reports jobs/s and the RSS before/after:
// the failed set is read page by page, so memory should stay flat whatever its size.
//
//   node dist/bench/requeue.js [--quick]
import { UnrecoverableError, Worker, type Queue } from 'bullmq';
import { randomUUID } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { parseConfig } from '../src/core/config.js';
import { requeue, type RequeueSummary } from '../src/dlq/requeue.js';
import type { ErrorStrategies } from '../src/core/errors.js';
import { createLogger } from '../src/core/log.js';
import { connectRedis, keys, SYNC_QUEUE, type RedisConnection } from '../src/core/redis.js';
import type { JobReason, SyncJobData } from '../src/model/inbox-item.js';
import { createSyncQueue, enqueueSyncBulk } from '../src/sync/queue.js';
import { isMain, privateRedis, round, table, type Row } from './lib.js';

export interface FailedJobSpec {
  sceneId: string;
  /** The failedReason, `Type: message`. */
  failedReason: string;
  reason?: JobReason;
}

/**
 * Creates failed jobs through BullMQ's real paths: `addBulk` (the queue's own job options: deduplication
 * per scene, priority, attempts), a worker's `getNextJob`, then `job.moveToFailed(UnrecoverableError)`.
 * The queue must hold no other waiting job, and a batch no two jobs of one scene (they would be
 * deduplicated). Finish times are the clock's (tests fake `Date` to place them). Returns the job ids.
 */
export async function makeFailedJobs(args: {
  connection: RedisConnection;
  prefix: string;
  queue: Queue<SyncJobData>;
  strategies: ErrorStrategies;
  jobs: readonly FailedJobSpec[];
  batch?: number;
  fetchers?: number;
}): Promise<string[]> {
  const batch = args.batch ?? 1_000;
  const worker = new Worker<SyncJobData>(SYNC_QUEUE, null, { connection: args.connection, prefix: args.prefix, autorun: false });
  const ids: string[] = [];
  try {
    for (let i = 0; i < args.jobs.length; i += batch) {
      const chunk = args.jobs.slice(i, i + batch);
      if (new Set(chunk.map((j) => j.sceneId)).size !== chunk.length) throw new Error('makeFailedJobs: two jobs of one scene in a batch');
      const added = await enqueueSyncBulk(
        args.queue,
        chunk.map((j) => ({ sceneId: j.sceneId, reason: j.reason ?? 'hook', enqueuedAt: Date.now() })),
        args.strategies,
      );
      const reasonOf = new Map(added.map((job, k) => [job.id!, chunk[k].failedReason]));
      let left = reasonOf.size;
      const loop = async () => {
        const token = randomUUID();
        while (left > 0) {
          const job = await worker.getNextJob(token, { block: false });
          if (!job) return;
          const reason = reasonOf.get(job.id!);
          if (reason === undefined) throw new Error(`makeFailedJobs: unexpected job ${job.id} in the queue`);
          left--;
          await job.moveToFailed(new UnrecoverableError(reason), token, false);
        }
      };
      await Promise.all(Array.from({ length: args.fetchers ?? 4 }, loop));
      if (left !== 0) throw new Error(`makeFailedJobs: ${left} jobs were not fetched`);
      ids.push(...added.map((j) => j.id!));
    }
  } finally {
    await worker.close();
  }
  return ids;
}

const mb = (bytes: number) => round(bytes / 1024 / 1024, 1);

/** A full GC, to measure what a run retains (not what it left for the collector). */
function collector(): () => void {
  const gc = global.gc;
  if (typeof gc === 'function') return () => void gc();
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

interface MeasureContext {
  conn: ReturnType<typeof connectRedis>;
  queue: ReturnType<typeof createSyncQueue>;
  k: ReturnType<typeof keys>;
  config: ReturnType<typeof parseConfig>;
  log: ReturnType<typeof createLogger>;
  gc: () => void;
  rows: Row[];
}

/** One requeue run, timed, with RSS and retained heap, as a row of the table. */
async function measureRun(
  { conn, queue, k, config, log, gc, rows }: MeasureContext,
  step: string,
  dryRun: boolean,
): Promise<RequeueSummary> {
  gc();
  const before = process.memoryUsage();
  let peak = before.rss;
  const t = performance.now();
  const s = await requeue({
    redis: conn,
    queue,
    keys: k,
    strategies: config.errorStrategies,
    options: { dryRun, rate: 1_000_000 },
    log,
    onProgress: () => (peak = Math.max(peak, process.memoryUsage().rss)),
  });
  const ms = performance.now() - t;
  peak = Math.max(peak, process.memoryUsage().rss);
  gc();
  const after = process.memoryUsage();
  const jobs = dryRun ? s.scanned : s.requeued;
  rows.push({
    step,
    jobs,
    ms: Math.round(ms),
    'jobs/s': jobs ? Math.round(jobs / (ms / 1000)) : 0,
    'RSS before MB': mb(before.rss),
    'RSS peak MB': mb(peak),
    'heap retained MB (Δ)': `${mb(after.heapUsed)} (${after.heapUsed >= before.heapUsed ? '+' : ''}${mb(after.heapUsed - before.heapUsed)})`,
  });
  return s;
}

export async function runRequeueBench({ quick = false } = {}): Promise<Row[]> {
  const redis = await privateRedis();
  const n = quick ? 2_000 : 10_000;
  const config = parseConfig(
    { REDIS_URL: redis.url, REDIS_PREFIX: `bench-requeue-${Date.now()}`, LOG_LEVEL: 'silent' },
    { plex: false, stash: false },
  );
  const k = keys(config.redis.prefix);
  const log = createLogger({ level: 'silent' });
  const conn = connectRedis(config);
  const queue = createSyncQueue(conn, config.redis.prefix);
  const rows: Row[] = [];
  try {
    const t0 = performance.now();
    const startedAt = Date.now();
    await makeFailedJobs({
      connection: conn,
      prefix: config.redis.prefix,
      queue,
      strategies: config.errorStrategies,
      jobs: Array.from({ length: n }, (_, i) => ({
        sceneId: String(i + 1),
        // One in ten is a permanent failure that must stay.
        failedReason:
          i % 10 === 9
            ? 'PlexAuthError: GET /library/sections → HTTP 401 (token rejected)'
            : `PlexServerDown: GET /library/metadata/${i + 1} → ECONNREFUSED`,
      })),
    });
    const endedAt = Date.now();
    const setupMs = performance.now() - t0;
    await conn.set(
      k.outages,
      JSON.stringify([
        {
          id: 'bench',
          startedAt,
          detectedAt: startedAt,
          endedAt,
          durationMs: endedAt - startedAt,
          trigger: 'failures',
          firstError: null,
          jobsAffected: n,
          rampEndedAt: null,
        },
      ]),
    );
    const gc = collector();
    const blank = { 'RSS before MB': '', 'RSS peak MB': '', 'heap retained MB (Δ)': '' };
    rows.push({
      step: `create ${n} failed jobs (addBulk + getNextJob + moveToFailed)`,
      jobs: n,
      ms: Math.round(setupMs),
      'jobs/s': Math.round(n / (setupMs / 1000)),
      ...blank,
    });

    const measure = (step: string, dryRun: boolean) => measureRun({ conn, queue, k, config, log, gc, rows }, step, dryRun);
    const dry = await measure('dry run: scan + select (pages of 500)', true);
    const real = await measure('requeue: scan + select + retry (--rate 1e6)', false);
    const again = await measure('second run (nothing left to requeue)', false);
    const counts = await queue.getJobCounts('prioritized', 'waiting', 'failed');
    rows.push({
      step: `check: dry ${dry.requeued} = real ${real.requeued}, second ${again.requeued}; queued ${counts.prioritized + counts.waiting}, failed ${counts.failed}`,
      jobs: '',
      ms: '',
      'jobs/s': '',
      ...blank,
    });
  } finally {
    await queue.close();
    conn.disconnect();
    redis.stop();
  }
  return rows;
}

/** Title of the table of runRequeueBench's rows. */
export const requeueBenchTitle = (quick = false) =>
  `Requeue (${quick ? '2 000' : '10 000'} failed jobs, 10 % permanent; pages of 500; node ${process.version})`;

if (isMain(import.meta.url)) {
  const quick = process.argv.includes('--quick');
  const rows = await runRequeueBench({ quick });
  process.stdout.write(table(requeueBenchTitle(quick), rows));
  process.exit(0);
}
