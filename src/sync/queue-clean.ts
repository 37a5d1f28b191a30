// Emptying parts of the `sync` queue on request (Stash tasks, status page): the failed set (all of it,
// or what failed more than N days ago) and the pending jobs (waiting, prioritised, delayed; active ones
// finish). Each has a dry run that counts and removes nothing. BullMQ's queue.clean removes in batches
// of at most 10 000 per script call, and drops each job's deduplication key with it, so a removed
// scene's next hook is queued again.
import type { Queue } from 'bullmq';
import type { RedisConnection } from '../core/redis.js';

export type CleanAction = 'clear_failed' | 'purge_failed' | 'clear_pending';

export interface CleanRequest {
  action: CleanAction;
  dryRun: boolean;
  /** purge_failed: failed more than this many days ago. */
  days?: number;
}

export interface CleanSummary extends CleanRequest {
  /** Jobs removed (a dry run: that would be). */
  count: number;
  /** Of how many failed (clear/purge failed) or pending (clear_pending) jobs. */
  of: number;
}

const DAY_MS = 86_400_000;
/** States of a job not started yet (prioritised jobs live apart from plain waiting ones; a paused queue's are in `wait`). */
const PENDING = ['wait', 'prioritized', 'delayed'] as const;

const total = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);

/** Most days a purge reaches back (a hundred years: anything larger is a typing slip). */
export const MAX_PURGE_DAYS = 36_500;

/** A purge's `days`: a whole number of days, at least 0. */
export function validDays(days: unknown): days is number {
  return typeof days === 'number' && Number.isInteger(days) && days >= 0 && days <= MAX_PURGE_DAYS;
}

/** `redis` is the queue's connection: the failed set is scored by failure time. */
export async function cleanQueue(queue: Queue, redis: RedisConnection, req: CleanRequest, now = Date.now()): Promise<CleanSummary> {
  if (req.action === 'clear_pending') {
    const of = total(await queue.getJobCounts(...PENDING));
    if (req.dryRun) return { ...req, count: of, of };
    let count = 0;
    for (const state of PENDING) count += (await queue.clean(0, 0, state)).length;
    return { ...req, count, of };
  }
  const of = await queue.getFailedCount();
  if (req.action === 'clear_failed') return { ...req, count: req.dryRun ? of : (await queue.clean(0, 0, 'failed')).length, of };
  if (!validDays(req.days)) throw new RangeError('days must be a whole number of days, 0 or more');
  const grace = req.days * DAY_MS;
  const count = req.dryRun
    ? await redis.zcount(queue.keys.failed, '-inf', `(${now - grace}`)
    : (await queue.clean(grace, 0, 'failed')).length;
  return { ...req, count, of };
}

const jobs = (n: number) => `${n} job${n === 1 ? '' : 's'}`;

/** One line: what was (or would be) removed. */
export function cleanSummaryText(cleanSummary: CleanSummary, label: string): string {
  const verb = cleanSummary.dryRun ? 'would be removed (dry run: nothing removed)' : 'removed';
  if (cleanSummary.action === 'clear_pending')
    return `${label}: ${jobs(cleanSummary.count)} waiting or delayed ${verb}; active ones finish`;
  if (cleanSummary.action === 'clear_failed') return `${label}: ${jobs(cleanSummary.count)} of the failed set ${verb}`;
  return `${label}: ${jobs(cleanSummary.count)} of ${cleanSummary.of} failed more than ${cleanSummary.days} day${cleanSummary.days === 1 ? '' : 's'} ago ${verb}`;
}
