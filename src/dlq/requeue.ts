// Dead-letter recovery: failed `sync` jobs of outage windows moved back to the queue with BullMQ's own
// atomic retry. The selection rules are pure (./select.ts); this is the I/O around them:
//
//  - reads the failed set (a sorted set scored by failure time) by score range, one page at a time
//    (ZRANGEBYSCORE … LIMIT), never whole; jobs outside every window are counted by score, not loaded;
//  - per page, loads only the fields selection needs (pipelined HMGET) and the requeue counts;
//  - skips a scene that already has a job waiting (BullMQ's deduplication key of the scene points at a
//    waiting / prioritized / delayed job) and a second failed job of a scene already requeued in this run;
//  - moves each chosen job with `job.retry('failed', { resetAttemptsMade, resetAttemptsStarted })`, which
//    is atomic: when a concurrent run (or anyone) moved it first, the retry fails, the job is no longer in
//    the failed set, and it counts as already queued; so no job is requeued twice;
//  - then counts the move (`requeueCounts`), gives the job bulk priority (requeue is bulk work) and
//    restores the scene's deduplication key while the job still waits (BullMQ's retry doesn't), so a
//    second run, or a fresh edit of the scene, joins it instead of adding another sync;
//  - paces moves (`rate` jobs/s, burst 1) so a huge requeue cannot outrun the recovery ramp;
//  - refuses to move anything while the breaker is not CLOSED (checked at the start and before every
//    page) unless `force`; `dryRun` goes through the same steps and moves nothing.
import { Job, type Queue } from 'bullmq';
import type { Config } from '../core/config.js';
import type { ErrorStrategies, ErrorType } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { closeQuietly, connectRedis, keys as keysOf, type Keys, type RedisConnection } from '../core/redis.js';
import { parseBreaker, type BreakerStateName } from '../resilience/breaker.js';
import { readSnapshot } from '../supervisor/store.js';
import { PRIORITY, type SyncJobData } from '../model/job.js';
import { createSyncQueue } from '../sync/queue.js';
import {
  errorSetFrom,
  GRACE_MS,
  MAX_REQUEUES,
  RequeueInputError,
  scanRanges,
  selectJobs,
  windowsFrom,
  type FailedJobInfo,
  type Window,
} from './select.js';

export const DEFAULT_RATE = 50;
export const DEFAULT_PAGE_SIZE = 500;
/** Moves in flight at once (each is paced by the rate anyway). */
const MOVE_CONCURRENCY = 16;
/** Longest list of jobs left for too many requeues kept in a summary (the count is always exact). */
const MAX_LISTED = 1_000;
const WAITING_STATES = new Set(['waiting', 'prioritized', 'delayed']);

export interface RequeueOptions {
  /** Report what a real run would do; move nothing. Required, so a caller (dashboard) always decides. */
  dryRun: boolean;
  /** `latest` (default), `all` or an outage id. */
  outage?: string;
  /** ISO time, epoch ms or a duration back from now (`2h`); replaces `outage`. */
  since?: string | number;
  until?: string | number;
  /** Error type names; default: the types whose strategy has requeueByDefault (PlexServerDown). */
  errors?: readonly string[];
  /** Adds PlexTemporaryError and PlexNotFound. */
  includeOptional?: boolean;
  /** At most this many jobs requeued (or, dry run / refused, that would be). */
  limit?: number | null;
  /** Move jobs even while the breaker is not CLOSED. */
  force?: boolean;
  /** Jobs moved per second at most (default 50). */
  rate?: number;
  /** Grace margin around each window (default 2000 ms, the contract's). */
  graceMs?: number;
  /** A job requeued this often already stays (default 3). */
  maxRequeues?: number;
  /** Failed-set entries read per page (default 500). */
  pageSize?: number;
}

/** A job left in the failed set because it was requeued `maxRequeues` times already. */
export interface LeftJob {
  id: string;
  sceneId: string | null;
  requeues: number;
  failedReason: string | null;
}

/**
 * The contract's summary (`scanned`, `matched`, `requeued`, `skipped.{alreadyQueued, errorType,
 * outsideWindow, breakerNotClosed}`, `jobIds`) plus extra keys:
 * - `skipped.tooManyRequeues` and `tooManyRequeues` (the jobs, at most 1000 listed): matched jobs left
 *   because they were requeued `maxRequeues` (3) times already;
 * - `dryRun`, `breaker` (state at the start), `refused` (why nothing was moved, or null), `windows`,
 *   `errorTypes`, `limitReached`, `durationMs`.
 * Invariants: scanned = matched + skipped.errorType + skipped.outsideWindow;
 * matched = requeued + alreadyQueued + breakerNotClosed + tooManyRequeues. With `dryRun`, `requeued` and
 * `jobIds` are what a real run would move. `scanned` counts jobs outside every window by their score
 * without loading them.
 */
export interface RequeueSummary {
  scanned: number;
  matched: number;
  requeued: number;
  skipped: { alreadyQueued: number; errorType: number; outsideWindow: number; breakerNotClosed: number; tooManyRequeues: number };
  jobIds: string[];
  tooManyRequeues: LeftJob[];
  dryRun: boolean;
  breaker: BreakerStateName;
  refused: string | null;
  windows: Window[];
  errorTypes: ErrorType[];
  limitReached: boolean;
  durationMs: number;
}

export interface RequeueProgress {
  /** Failed jobs whose failure time lies in a window (an estimate taken at the start). */
  inWindow: number;
  /** Of those, examined so far. */
  examined: number;
  requeued: number;
}

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
export function validateOptions(o: RequeueOptions, now = Date.now()): void {
  const positive = (name: string, v: number | null | undefined, integer: boolean, min: number) => {
    if (v === undefined || v === null) return;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || (integer && !Number.isInteger(v))) {
      throw new RequeueInputError(`${name} must be ${integer ? 'a whole number' : 'a number'} of at least ${min}, not ${String(v)}`);
    }
  };
  positive('--limit', o.limit, true, 1);
  positive('--rate', o.rate, false, 0.001);
  positive('graceMs', o.graceMs, true, 0);
  positive('maxRequeues', o.maxRequeues, true, 0);
  positive('pageSize', o.pageSize, true, 1);
  if (o.outage !== undefined && (o.since !== undefined || o.until !== undefined)) {
    throw new RequeueInputError('--outage and --since/--until exclude each other: --since/--until give the window instead of an outage');
  }
  // Malformed, reversed or empty explicit windows are caught here, before Redis is even asked.
  if (o.since !== undefined || o.until !== undefined) windowsFrom({ outages: [], since: o.since, until: o.until }, now);
}

/** Spaces moves `1000 / rate` ms apart (burst of one), shared by concurrent moves. */
class Pacer {
  private next = 0;
  constructor(private readonly intervalMs: number) {}
  async take(): Promise<void> {
    const now = performance.now();
    const at = Math.max(now, this.next);
    this.next = at + this.intervalMs;
    if (at > now) await new Promise((r) => setTimeout(r, at - now));
  }
}

/**
 * Sets the scene's deduplication key to the requeued job only while the job has not started (no
 * processedOn / finishedOn: reprocessJob clears both) and the key is free or still held by the stale
 * job seen earlier: BullMQ's own finalization and the worker's start-of-job removal then clear it, and a
 * key never points at a job that already ran.
 */
const RESTORE_DEDUP = `
if redis.call('EXISTS', KEYS[2]) == 0 then return 0 end
if redis.call('HEXISTS', KEYS[2], 'processedOn') == 1 or redis.call('HEXISTS', KEYS[2], 'finishedOn') == 1 then return 0 end
local cur = redis.call('GET', KEYS[1])
if cur and cur ~= ARGV[2] then return 0 end
redis.call('SET', KEYS[1], ARGV[1])
return 1`;

interface PageJob extends FailedJobInfo {
  dedupId: string | null;
}

const toInt = (s: string | null | undefined) => {
  const n = s ? Number(s) : NaN;
  return Number.isFinite(n) ? n : null;
};

function sceneIdOf(data: string | null): string | null {
  if (!data) return null;
  try {
    const v = (JSON.parse(data) as { sceneId?: unknown }).sceneId;
    return typeof v === 'string' ? v : null;
  } catch {
    return null;
  }
}

/** Runs a requeue on given connections (the dashboard and tests share theirs). */
export async function requeue(deps: RequeueDeps): Promise<RequeueSummary> {
  const started = performance.now();
  const { redis, queue, keys: k, options: o, log } = deps;
  const now = deps.now ?? Date.now();
  validateOptions(o, now);
  const errorTypes = errorSetFrom({ errors: o.errors, includeOptional: o.includeOptional, strategies: deps.strategies });
  const snapshot = await readSnapshot(redis, k, now);
  for (const w of snapshot.warnings) log.warn(w);
  const windows = windowsFrom({ outages: snapshot.outages, outage: o.outage, since: o.since, until: o.until }, now);

  const graceMs = o.graceMs ?? GRACE_MS;
  const maxRequeues = o.maxRequeues ?? MAX_REQUEUES;
  const pageSize = o.pageSize ?? DEFAULT_PAGE_SIZE;
  const limit = o.limit ?? Infinity;
  const pacer = new Pacer(1000 / (o.rate ?? DEFAULT_RATE));
  const failedKey = queue.keys.failed!;
  const dedupKey = (id: string) => `${queue.keys.de}:${id}`;

  const s: RequeueSummary = {
    scanned: 0,
    matched: 0,
    requeued: 0,
    skipped: { alreadyQueued: 0, errorType: 0, outsideWindow: 0, breakerNotClosed: 0, tooManyRequeues: 0 },
    jobIds: [],
    tooManyRequeues: [],
    dryRun: o.dryRun,
    breaker: snapshot.breaker.state,
    refused: null,
    windows,
    errorTypes,
    limitReached: false,
    durationMs: 0,
  };
  const refuse = (state: BreakerStateName) => {
    if (s.refused || o.force) return;
    s.refused = `the breaker is ${state}, not CLOSED: Plex is not (fully) back; wait for the recovery or use --force`;
    if (!o.dryRun) log.warn({ breaker: state }, 'requeue: breaker not CLOSED, moving nothing');
  };
  if (snapshot.breaker.state !== 'CLOSED') {
    refuse(snapshot.breaker.state);
    if (o.force && !o.dryRun) log.warn({ breaker: snapshot.breaker.state }, 'requeue: --force while the breaker is not CLOSED');
  }

  // Jobs outside every window: counted by score, never loaded.
  const ranges = scanRanges(windows, graceMs);
  const total = await redis.zcard(failedKey);
  let inWindow = 0;
  for (const r of ranges) inWindow += await redis.zcount(failedKey, r.min, r.max);
  s.scanned = total - inWindow;
  s.skipped.outsideWindow = total - inWindow;
  let examined = 0;
  let lastProgress = 0;
  const progress = (force = false) => {
    if (!deps.onProgress) return;
    const t = performance.now();
    if (!force && t - lastProgress < 500) return;
    lastProgress = t;
    deps.onProgress({ inWindow, examined, requeued: s.requeued });
  };

  const seenJobs = new Set<string>(); // a job requeued in this run may fail again and re-enter the range
  const takenScenes = new Set<string>();
  // A sliding pool of moves; the first failure (a Redis error, not a lost race) ends the run.
  const inflight = new Set<Promise<void>>();
  let moveError: unknown = null;
  let pendingMoves = 0;
  const launch = async (p: Promise<void>) => {
    const tracked: Promise<void> = p.catch((err: unknown) => void (moveError ??= err)).finally(() => inflight.delete(tracked));
    inflight.add(tracked);
    if (inflight.size >= MOVE_CONCURRENCY) await Promise.race(inflight);
    if (moveError) throw moveError;
  };
  const flush = async () => {
    await Promise.all(inflight);
    if (moveError) throw moveError;
  };
  const taken = () => s.requeued + pendingMoves + s.skipped.breakerNotClosed;

  const move = async (j: PageJob, staleDedupTarget: string | null): Promise<void> => {
    try {
      const job = await Job.fromId<SyncJobData>(queue, j.id);
      if (!job) {
        s.skipped.alreadyQueued++; // removed meanwhile: nothing left to move
        return;
      }
      await pacer.take();
      try {
        await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
      } catch (err) {
        // Atomic: not in the failed set any more means another run (or someone) moved it first.
        const lostRace = /is not in the failed state|Missing key for job/.test((err as Error).message ?? '');
        if (lostRace || (await redis.zscore(failedKey, j.id)) === null) {
          s.skipped.alreadyQueued++;
          return;
        }
        throw err;
      }
      s.requeued++;
      s.jobIds.push(j.id);
      await redis.hincrby(k.requeueCounts, j.id, 1);
      if ((job.priority ?? 0) < PRIORITY.bulk) await job.changePriority({ priority: PRIORITY.bulk }).catch(() => undefined);
      if (j.dedupId) await redis.eval(RESTORE_DEDUP, 2, dedupKey(j.dedupId), queue.toKey(j.id), j.id, staleDedupTarget ?? '');
      progress();
    } finally {
      pendingMoves--;
    }
  };

  scan: for (const range of ranges) {
    let cursor = range.min;
    let seenAtCursor = new Set<string>();
    for (;;) {
      // Breaker re-checked before each page: an outage starting mid-run stops the moves.
      if (!o.force && !s.refused && examined > 0) {
        const b = parseBreaker(await redis.hgetall(k.breaker).catch(() => null), Date.now()).state.state;
        if (b !== 'CLOSED') {
          await flush();
          refuse(b);
        }
      }
      const want = pageSize + seenAtCursor.size;
      const flat = await redis.zrangebyscore(failedKey, cursor, range.max, 'WITHSCORES', 'LIMIT', 0, want);
      const entries: { id: string; score: number }[] = [];
      for (let i = 0; i + 1 < flat.length; i += 2) {
        const id = flat[i]!;
        if (!seenAtCursor.has(id) && !seenJobs.has(id)) entries.push({ id, score: Number(flat[i + 1]) });
      }
      const exhausted = flat.length < want * 2;
      if (flat.length > 0) {
        const lastScore = Number(flat[flat.length - 1]);
        if (lastScore !== cursor) seenAtCursor = new Set();
        for (let i = 0; i + 1 < flat.length; i += 2) if (Number(flat[i + 1]) === lastScore) seenAtCursor.add(flat[i]!);
        cursor = lastScore;
      }
      if (entries.length > 0) {
        const page = await loadPage(redis, queue, k, entries);
        const decisions = selectJobs(page, { windows, errorTypes, graceMs, maxRequeues });
        // Deduplication targets of the candidates' scenes, then the state of each (rare: only scenes with a key).
        const candidates = page.filter((_, i) => decisions[i]!.decision === 'requeue');
        const targets = new Map<string, string | null>();
        if (candidates.length) {
          const pipe = redis.pipeline();
          for (const c of candidates) if (c.dedupId) pipe.get(dedupKey(c.dedupId));
          const res = (await pipe.exec()) ?? [];
          let r = 0;
          for (const c of candidates) if (c.dedupId) targets.set(c.id, (res[r++]?.[1] as string | null) ?? null);
        }
        for (let i = 0; i < page.length; i++) {
          const j = page[i]!;
          const d = decisions[i]!;
          if (d.decision === 'requeue' && taken() >= limit) {
            await flush();
            if (taken() >= limit) {
              s.limitReached = true;
              break scan;
            }
          }
          seenJobs.add(j.id);
          examined++;
          s.scanned++;
          if (d.decision === 'outsideWindow') s.skipped.outsideWindow++;
          else if (d.decision === 'errorType') s.skipped.errorType++;
          else if (d.decision === 'tooManyRequeues') {
            s.matched++;
            s.skipped.tooManyRequeues++;
            if (s.tooManyRequeues.length < MAX_LISTED) {
              s.tooManyRequeues.push({ id: j.id, sceneId: j.sceneId, requeues: j.requeueCount, failedReason: j.failedReason ?? null });
            }
          } else {
            s.matched++;
            const scene = j.dedupId ?? j.sceneId;
            if (scene && takenScenes.has(scene)) {
              s.skipped.alreadyQueued++;
              continue;
            }
            const target = targets.get(j.id) ?? null;
            if (target) {
              const state = await queue.getJobState(target);
              if (WAITING_STATES.has(state)) {
                s.skipped.alreadyQueued++;
                continue;
              }
            }
            if (scene) takenScenes.add(scene);
            if (s.refused) s.skipped.breakerNotClosed++;
            else if (o.dryRun) {
              s.requeued++;
              s.jobIds.push(j.id);
            } else {
              pendingMoves++;
              await launch(move(j, target));
            }
          }
        }
        await flush();
        progress();
      }
      if (exhausted) break;
    }
  }
  await flush();
  progress(true);
  s.durationMs = Math.round(performance.now() - started);
  log.info(
    { dryRun: s.dryRun, scanned: s.scanned, matched: s.matched, requeued: s.requeued, skipped: s.skipped, refused: s.refused, durationMs: s.durationMs },
    'requeue finished',
  );
  return s;
}

async function loadPage(redis: RedisConnection, queue: Queue, k: Keys, entries: { id: string; score: number }[]): Promise<PageJob[]> {
  const pipe = redis.pipeline();
  for (const e of entries) pipe.hmget(queue.toKey(e.id), 'data', 'failedReason', 'finishedOn', 'deid');
  pipe.hmget(k.requeueCounts, ...entries.map((e) => e.id));
  const res = (await pipe.exec()) ?? [];
  const counts = (res[entries.length]?.[1] as (string | null)[] | undefined) ?? [];
  const out: PageJob[] = [];
  entries.forEach((e, i) => {
    const [data, failedReason, finishedOn, deid] = (res[i]?.[1] as (string | null)[] | undefined) ?? [];
    if (data === null && failedReason === null && finishedOn === null) return; // removed meanwhile
    out.push({
      id: e.id,
      finishedOn: toInt(finishedOn) ?? e.score,
      failedReason,
      sceneId: sceneIdOf(data ?? null),
      requeueCount: toInt(counts[i]) ?? 0,
      dedupId: deid ?? null,
    });
  });
  return out;
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
export async function runRequeue(config: Pick<Config, 'redis' | 'errorStrategies'>, options: RequeueOptions, extras: RunRequeueExtras): Promise<RequeueSummary> {
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
