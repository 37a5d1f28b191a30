// BullMQ's private names the dead-letter code relies on (src/dlq/bullmq-internals.ts), checked against a
// real Queue and Worker: when a BullMQ upgrade moves a key, a field or an error message, this fails here,
// naming what moved, before a requeue silently reads nothing.
import { Job, Queue, UnrecoverableError, Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isLostRetryRace, JOB_FIELDS, queueInternals, WAITING_STATES, type QueueInternals } from '../../src/dlq/bullmq-internals.js';
import { testRedis, uniquePrefix } from '../helpers/redis.js';
import { waitFor } from '../helpers/wait.js';

const redis = testRedis();
const workerRedis = testRedis();
const prefix = uniquePrefix('bullmq-internals');
const QUEUE = 'internals';
let queue: Queue;
let worker: Worker;
let bull: QueueInternals;

beforeAll(() => {
  queue = new Queue(QUEUE, { connection: redis, prefix });
  worker = new Worker(QUEUE, (): Promise<unknown> => Promise.reject(new UnrecoverableError('PlexServerDown: refused')), {
    connection: workerRedis,
    prefix,
  });
  bull = queueInternals(queue);
});
afterAll(async () => {
  await worker?.close();
  await queue?.close();
  workerRedis.disconnect();
  redis.disconnect();
});

/** Adds a job deduplicated by `dedupId` and waits until the worker failed it. */
async function failedJob(dedupId: string): Promise<Job> {
  const job = await queue.add('sync', { sceneId: dedupId }, { deduplication: { id: dedupId }, attempts: 1, removeOnFail: false });
  await waitFor(async () => (await queue.getJobState(job.id!)) === 'failed', 10_000, `job ${job.id} failed`);
  return (await Job.fromId(queue, job.id!))!;
}

describe('BullMQ internals (src/dlq/bullmq-internals.ts)', () => {
  it('names the keys BullMQ writes: the deduplication key of a waiting job, the job hash', async () => {
    await worker.pause(); // keep the job waiting
    try {
      const job = await queue.add('sync', { sceneId: 'w1' }, { deduplication: { id: 'w1' }, delay: 60_000 });
      expect(await redis.get(bull.dedupKey('w1')), 'dedupKey(id) holds the job id').toBe(job.id);
      expect(await redis.hget(bull.jobKey(job.id!), JOB_FIELDS.dedupId), `job hash field ${JOB_FIELDS.dedupId}`).toBe('w1');
      expect(JSON.parse((await redis.hget(bull.jobKey(job.id!), JOB_FIELDS.data))!), `job hash field ${JOB_FIELDS.data}`).toEqual({
        sceneId: 'w1',
      });
      expect(WAITING_STATES.has(await queue.getJobState(job.id!)), 'a delayed job counts as waiting').toBe(true);
      await job.remove();
    } finally {
      await worker.resume();
    }
  });

  it('names the failed set and the fields of a failed job', async () => {
    const job = await failedJob('f1');
    const score = await redis.zscore(bull.failedKey, job.id!);
    expect(score, 'failedKey is the sorted set of failed job ids').not.toBeNull();
    const [failedReason, finishedOn, processedOn, deid] = await redis.hmget(
      bull.jobKey(job.id!),
      JOB_FIELDS.failedReason,
      JOB_FIELDS.finishedOn,
      JOB_FIELDS.processedOn,
      JOB_FIELDS.dedupId,
    );
    expect(failedReason).toBe('PlexServerDown: refused');
    expect(Number(finishedOn), 'the failed set is scored by finishedOn').toBe(Number(score));
    expect(Number(processedOn)).toBeGreaterThan(0);
    expect(deid).toBe('f1');
  });

  it('retry clears processedOn / finishedOn (restoreDedup relies on it) and leaves the job waiting', async () => {
    const job = await failedJob('r1');
    // Paused, so the worker cannot take the job up (and stamp processedOn) before the fields are read.
    await worker.pause();
    try {
      await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
      const fields = await redis.hmget(bull.jobKey(job.id!), JOB_FIELDS.processedOn, JOB_FIELDS.finishedOn);
      expect(fields).toEqual([null, null]);
      expect(await redis.zscore(bull.failedKey, job.id!)).toBeNull();
      expect(await queue.getJobState(job.id!)).toBe('waiting');
    } finally {
      await worker.resume();
    }
    // Fails again once the worker runs.
    await waitFor(async () => (await queue.getJobState(job.id!)) === 'failed', 10_000, 'failed again');
  });

  it('recognises the errors of a retry that lost its race: no longer failed, no longer there', async () => {
    const job = await failedJob('x1');
    await worker.pause();
    try {
      const stale = (await Job.fromId(queue, job.id!))!;
      await job.retry('failed');
      const notFailed = await stale.retry('failed').then(
        () => null,
        (e: unknown) => e,
      );
      expect(notFailed, 'a second retry of the same job fails').toBeInstanceOf(Error);
      expect(isLostRetryRace(notFailed), `"${(notFailed as Error).message}" is a lost race`).toBe(true);
      await job.remove();
      const gone = await stale.retry('failed').then(
        () => null,
        (e: unknown) => e,
      );
      expect(gone, 'a retry of a removed job fails').toBeInstanceOf(Error);
      expect(isLostRetryRace(gone), `"${(gone as Error).message}" is a lost race`).toBe(true);
      expect(isLostRetryRace(new Error('Connection is closed.'))).toBe(false);
    } finally {
      await worker.resume();
    }
  });
});
