// The `sync` queue: how a job is added (deduplicated per scene, prioritised, retried per error type).
import { Queue, type JobsOptions } from 'bullmq';
import type { ErrorStrategies } from '../core/errors.js';
import { maxAttempts } from '../core/errors.js';
import type { RedisConnection } from '../core/redis.js';
import { SYNC_QUEUE } from '../core/redis.js';
import { priorityOf, SYNC_JOB_NAME } from '../model/job.js';
import type { SyncJobData } from '../model/inbox-item.js';

/** Completed jobs are kept a while for the dashboard; failed ones forever: they are the dead-letter queue. */
export const KEEP_COMPLETED = { age: 24 * 3600, count: 5_000 } as const;

export function createSyncQueue(connection: RedisConnection, prefix: string): Queue<SyncJobData> {
  return new Queue<SyncJobData>(SYNC_QUEUE, { connection, prefix });
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
    removeOnFail: false,
  };
}

export async function enqueueSync(queue: Queue<SyncJobData>, job: SyncJobData, strategies: ErrorStrategies) {
  return queue.add(SYNC_JOB_NAME, job, jobOptions(job, strategies));
}

export async function enqueueSyncBulk(queue: Queue<SyncJobData>, jobs: SyncJobData[], strategies: ErrorStrategies) {
  if (jobs.length === 0) return [];
  return queue.addBulk(jobs.map((data) => ({ name: SYNC_JOB_NAME, data, opts: jobOptions(data, strategies) })));
}
