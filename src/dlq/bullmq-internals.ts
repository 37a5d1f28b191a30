// What the dead-letter code relies on of BullMQ beyond its documented API, in one place: key names, job
// hash fields and error messages, read in bullmq 6 (taskforcesh/bullmq src/classes/queue-keys.ts,
// src/commands/includes/storeJob.lua, src/classes/finished-errors.ts). test/integration/bullmq-internals
// .test.ts checks each against a real Queue and Worker, so an upgrade that moves one fails there, loudly.
import type { JobState, Queue } from 'bullmq';

/** Fields of a job's hash (`<prefix>:<queue>:<job id>`) read or checked directly. */
export const JOB_FIELDS = {
  /** The job's data, JSON. */
  data: 'data',
  /** The last error message (src/core/errors.ts reads the error type from it). */
  failedReason: 'failedReason',
  /** Epoch ms the job ended (failed or completed); BullMQ's retry clears it. */
  finishedOn: 'finishedOn',
  /** Epoch ms the job started; BullMQ's retry clears it. */
  processedOn: 'processedOn',
  /** The deduplication id the job was added with. */
  dedupId: 'deid',
} as const;

/** States in which a job still waits to run (a scene's deduplication key pointing at one holds). */
export const WAITING_STATES: ReadonlySet<JobState | 'unknown'> = new Set(['waiting', 'prioritized', 'delayed']);

/** The queue's keys used directly. */
export interface QueueInternals {
  /** Sorted set of failed job ids, scored by failure time (epoch ms). */
  failedKey: string;
  /** The job's hash. */
  jobKey: (jobId: string) => string;
  /** The deduplication key of `dedupId`: holds the id of the job added with it while that job waits. */
  dedupKey: (dedupId: string) => string;
}

export function queueInternals(queue: Pick<Queue, 'keys' | 'toKey'>): QueueInternals {
  const { failed, de } = queue.keys;
  if (!failed || !de) throw new Error('BullMQ queue keys changed: no `failed` or `de` key (see src/dlq/bullmq-internals.ts)');
  return { failedKey: failed, jobKey: (id) => queue.toKey(id), dedupKey: (id) => `${de}:${id}` };
}

/**
 * True when `job.retry('failed')` failed because the job was no longer failed (moved by someone else
 * first) or no longer exists: BullMQ's messages for its codes JobNotInState and JobNotExist.
 */
export function isLostRetryRace(err: unknown): boolean {
  return /is not in the failed state|Missing key for job/.test((err as Error | undefined)?.message ?? '');
}
