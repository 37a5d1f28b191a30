// The `sync` queue: how a job is added (deduplicated per scene, prioritised, retried per error type).
import { Job, Queue, type JobsOptions, type KeepJobs } from 'bullmq';
import { DEFAULT_KEEP_FAILED, type FailedRetention } from '../core/config.js';
import type { ErrorStrategies } from '../core/errors.js';
import { maxAttempts } from '../core/errors.js';
import type { RedisConnection } from '../core/redis.js';
import { SYNC_QUEUE } from '../core/redis.js';
import { PRIORITY, priorityOf, SYNC_JOB_NAME } from '../model/job.js';
import type { SyncJobData } from '../model/inbox-item.js';

/** Completed jobs are kept a while for the dashboard. */
export const KEEP_COMPLETED = { age: 24 * 3600, count: 5_000 } as const;

/**
 * Failed jobs are the dead-letter queue: kept FAILED_KEEP_DAYS (0: no age limit) and at most
 * FAILED_KEEP_MAX, the newest. BullMQ trims the failed set each time a job fails (removeOnFail).
 */
export function failedRetention(keep: FailedRetention): KeepJobs {
  return keep.days > 0 ? { age: keep.days * 86_400, count: keep.max } : { count: keep.max };
}

/** The `sync` queue; jobs added through it carry the failed-job retention (FAILED_KEEP_DAYS, FAILED_KEEP_MAX). */
export function createSyncQueue(
  connection: RedisConnection,
  prefix: string,
  keepFailed: FailedRetention = DEFAULT_KEEP_FAILED,
): Queue<SyncJobData> {
  return new Queue<SyncJobData>(SYNC_QUEUE, { connection, prefix, defaultJobOptions: { removeOnFail: failedRetention(keepFailed) } });
}

export function jobOptions(job: SyncJobData, strategies: ErrorStrategies): JobsOptions {
  return {
    // Deduplicated while the job waits: the worker drops the key when it starts, so an edit made during
    // a sync gets a job of its own (src/sync/worker.ts).
    deduplication: { id: job.sceneId },
    priority: priorityOf(job.reason),
    attempts: maxAttempts(strategies),
    backoff: { type: 'per-error-type' },
    removeOnComplete: KEEP_COMPLETED,
    // removeOnFail: the queue's default (createSyncQueue).
  };
}

export async function enqueueSync(queue: Queue<SyncJobData>, job: SyncJobData, strategies: ErrorStrategies) {
  return queue.add(SYNC_JOB_NAME, job, jobOptions(job, strategies));
}

export async function enqueueSyncBulk(queue: Queue<SyncJobData>, jobs: SyncJobData[], strategies: ErrorStrategies) {
  if (jobs.length === 0) return [];
  return queue.addBulk(jobs.map((data) => ({ name: SYNC_JOB_NAME, data, opts: jobOptions(data, strategies) })));
}

/**
 * A fresh edit (hook priority) of a scene whose bulk job still waits (a scan's, a fan-out's, a
 * reconciliation's) joins that job, deduplicated: the job is raised to the edit's priority, so the edit
 * is not left behind thousands of bulk jobs. `added[i]` is what the add answered for `jobs[i]` (the
 * waiting job's id when it joined one). Answers how many jobs were raised. One read per fresh edit.
 */
export async function raiseJoined(
  queue: Queue<SyncJobData>,
  jobs: readonly SyncJobData[],
  added: readonly { id?: string }[],
): Promise<number> {
  const ids = new Set(jobs.flatMap((j, i) => (priorityOf(j.reason) === PRIORITY.hook && added[i]?.id ? [added[i].id] : [])));
  const raised = await Promise.all(
    [...ids].map(async (id) => {
      const waiting = await Job.fromId<SyncJobData>(queue, id);
      if (!waiting || !(Number(waiting.priority) > PRIORITY.hook)) return 0;
      await waiting.changePriority({ priority: PRIORITY.hook });
      return 1;
    }),
  );
  return raised.reduce<number>((a, b) => a + b, 0);
}

/**
 * How many jobs an add really added. BullMQ answers a deduplicated add with the id of the job that
 * waits for the scene instead of a new one; `waitingBefore[i]` is the job that waited for job i's scene
 * just before the add (or null), `returned[i]` the id the add answered. A scene twice in one add counts once.
 */
export function countAdded(waitingBefore: readonly (string | null)[], returned: readonly (string | undefined)[]): number {
  const added = new Set<string>();
  returned.forEach((id, i) => {
    if (id !== undefined && id !== waitingBefore[i]) added.add(id);
  });
  return added.size;
}

/**
 * enqueueSyncBulk, answering how many jobs were really added (not the scenes whose job still waits), for
 * reports that say what was queued. The waiting jobs are read first (BullMQ's getDeduplicationJobId): a
 * job another producer adds for the same scene between that read and the add counts as added (it was, a
 * moment before ours would have been). The hot path (inbox ingest) does not pay for this read.
 */
export async function enqueueSyncBulkCounted(queue: Queue<SyncJobData>, jobs: SyncJobData[], strategies: ErrorStrategies): Promise<number> {
  if (jobs.length === 0) return 0;
  const waitingBefore = await Promise.all(jobs.map((j) => queue.getDeduplicationJobId(jobOptions(j, strategies).deduplication!.id)));
  const added = await enqueueSyncBulk(queue, jobs, strategies);
  return countAdded(
    waitingBefore,
    added.map((j) => j.id),
  );
}
