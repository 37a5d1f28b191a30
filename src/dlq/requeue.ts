// Dead-letter recovery: failed `sync` jobs of outage windows moved back to the queue with BullMQ's own
// atomic retry. Composed of:
//  - selection, pure (./select.ts): windows, error types, which job goes back;
//  - the page scanner (./scan.ts): the failed set read by score range, a page at a time, never whole;
//    jobs outside every window are counted by score, not loaded;
//  - the run (./run.ts): the summary, the breaker refusal (not CLOSED: nothing moves, unless `force`;
//    re-checked before every page), a scene taken once per run, a scene with a job waiting skipped;
//  - the mover (./mover.ts): BullMQ's atomic retry in a small pool, paced (`rate` jobs/s, burst 1) so a
//    huge requeue cannot outrun the recovery ramp; Lua in ./lua/; BullMQ's private names in
//    ./bullmq-internals.ts.
// `dryRun` goes through the same steps and moves nothing.
import type { Queue } from 'bullmq';
import type { Config } from '../core/config.js';
import type { ErrorStrategies } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { closeQuietly, connectRedis, keys as keysOf, type Keys, type RedisConnection } from '../core/redis.js';
import type { SyncJobData } from '../model/inbox-item.js';
import { readSnapshot } from '../resilience/store.js';
import { createSyncQueue } from '../sync/queue.js';
import { RequeueRun } from './run.js';
import { errorSetFrom, GRACE_MS, MAX_REQUEUES, RequeueInputError, windowsFrom } from './select.js';
import type { RequeueOptions, RequeueProgress, RequeueSummary } from './types.js';

export type { LeftJob, RequeueOptions, RequeueProgress, RequeueSummary } from './types.js';

export const DEFAULT_RATE = 50;
export const DEFAULT_PAGE_SIZE = 500;

export interface RequeueDeps {
  redis: RedisConnection;
  queue: Queue<SyncJobData>;
  keys: Keys;
  strategies: ErrorStrategies;
  options: RequeueOptions;
  log: Logger;
  /** The run's reference time (durations count back from it; an ongoing outage ends at it). */
  now?: number;
  onProgress?: (p: RequeueProgress) => void;
}

/** Throws RequeueInputError for options that are not usable (before anything is read or moved). */
export function validateOptions(requeueOptions: RequeueOptions, now = Date.now()): void {
  const positive = (name: string, v: number | null | undefined, integer: boolean, min: number) => {
    if (v === undefined || v === null) return;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || (integer && !Number.isInteger(v))) {
      throw new RequeueInputError(`${name} must be ${integer ? 'a whole number' : 'a number'} of at least ${min}, not ${String(v)}`);
    }
  };
  positive('--limit', requeueOptions.limit, true, 1);
  positive('--rate', requeueOptions.rate, false, 0.001);
  positive('graceMs', requeueOptions.graceMs, true, 0);
  positive('maxRequeues', requeueOptions.maxRequeues, true, 0);
  positive('pageSize', requeueOptions.pageSize, true, 1);
  if (requeueOptions.outage !== undefined && (requeueOptions.since !== undefined || requeueOptions.until !== undefined)) {
    throw new RequeueInputError('--outage and --since/--until exclude each other: --since/--until give the window instead of an outage');
  }
  // Malformed, reversed or empty explicit windows are caught here, before Redis is even asked.
  if (requeueOptions.since !== undefined || requeueOptions.until !== undefined)
    windowsFrom({ outages: [], since: requeueOptions.since, until: requeueOptions.until }, now);
}

/** Runs a requeue on given connections (the dashboard and tests share theirs). */
export async function requeue(deps: RequeueDeps): Promise<RequeueSummary> {
  const started = performance.now();
  const { redis, keys: k, options: o, log } = deps;
  const now = deps.now ?? Date.now();
  validateOptions(o, now);
  const errorTypes = errorSetFrom({ errors: o.errors, includeOptional: o.includeOptional, strategies: deps.strategies });
  const snapshot = await readSnapshot(redis, k, now);
  for (const w of snapshot.warnings) log.warn(w);
  const windows = windowsFrom({ outages: snapshot.outages, outage: o.outage, since: o.since, until: o.until }, now);
  const s = await new RequeueRun({
    redis,
    queue: deps.queue,
    keys: k,
    log,
    options: o,
    windows,
    errorTypes,
    breaker: snapshot.breaker.state,
    graceMs: o.graceMs ?? GRACE_MS,
    maxRequeues: o.maxRequeues ?? MAX_REQUEUES,
    pageSize: o.pageSize ?? DEFAULT_PAGE_SIZE,
    rate: o.rate ?? DEFAULT_RATE,
    onProgress: deps.onProgress,
  }).run();
  s.durationMs = Math.round(performance.now() - started);
  log.info(
    {
      dryRun: s.dryRun,
      scanned: s.scanned,
      matched: s.matched,
      requeued: s.requeued,
      skipped: s.skipped,
      refused: s.refused,
      durationMs: s.durationMs,
    },
    'requeue finished',
  );
  return s;
}

export interface RunRequeueExtras {
  log: Logger;
  onProgress?: (p: RequeueProgress) => void;
  now?: number;
  /** How long to wait for Redis before giving up (default 5 s). */
  connectTimeoutMs?: number;
}

/** Redis could not be reached: not an input error (CLI exit 1). */
export class RedisUnreachableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RedisUnreachableError';
  }
}

/**
 * One requeue with connections of its own, for the CLI, the dashboard (`POST /api/requeue`, dry run
 * unless asked) and the Stash tasks. Throws RequeueInputError on bad input (nothing moved) and
 * RedisUnreachableError when Redis does not answer.
 */
export async function runRequeue(
  config: Pick<Config, 'redis' | 'errorStrategies'>,
  options: RequeueOptions,
  extras: RunRequeueExtras,
): Promise<RequeueSummary> {
  validateOptions(options, extras.now);
  errorSetFrom({ errors: options.errors, includeOptional: options.includeOptional, strategies: config.errorStrategies });
  const redis = connectRedis(config);
  redis.on('error', () => undefined); // an unreachable Redis is reported below, once
  const timeoutMs = extras.connectTimeoutMs ?? 5_000;
  let timer: NodeJS.Timeout | undefined;
  const reachable = await Promise.race([
    redis.ping().then(
      () => true,
      () => false,
    ),
    new Promise<false>((r) => (timer = setTimeout(() => r(false), timeoutMs))),
  ]);
  clearTimeout(timer);
  if (!reachable) {
    redis.disconnect();
    throw new RedisUnreachableError(`Redis did not answer within ${timeoutMs} ms (check REDIS_URL / REDIS_CLUSTER_NODES)`);
  }
  const queue = createSyncQueue(redis, config.redis.prefix);
  try {
    return await requeue({
      redis,
      queue,
      keys: keysOf(config.redis.prefix),
      strategies: config.errorStrategies,
      options,
      log: extras.log,
      now: extras.now,
      onProgress: extras.onProgress,
    });
  } finally {
    await queue.close().catch(() => undefined);
    await closeQuietly(redis);
  }
}
