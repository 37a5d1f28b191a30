// The supervisor's pause and resume (src/supervisor/queue-control.ts, ./lua/holdQueue-9.lua) against real
// BullMQ: the queue's pause and the supervisor's mark and reasons change in one fenced step; a worker
// really stops and starts taking jobs; an operator's pause is never taken over or undone; the jobs an
// outage delayed run at once when released.
import { Worker } from 'bullmq';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { keys } from '../../src/core/keys.js';
import { SYNC_QUEUE } from '../../src/core/redis.js';
import { LeaderLease } from '../../src/resilience/lease.js';
import { outageJobsAdd } from '../../src/resilience/store.js';
import { LeaderState } from '../../src/supervisor/leader-state.js';
import { QueueControl, queueState, readSupervisorHold } from '../../src/supervisor/queue-control.js';
import { createSyncQueue } from '../../src/sync/queue.js';
import { testRedis, uniquePrefix } from '../helpers/redis.js';
import { waitFor } from '../helpers/wait.js';

const redis = testRedis();
afterAll(() => redis.disconnect());
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function rig() {
  const prefix = uniquePrefix('hold');
  const k = keys(prefix);
  const queue = createSyncQueue(redis, prefix);
  cleanups.push(() => queue.close());
  const lease = new LeaderLease(redis, k.leader, 'leader', 10_000);
  expect(await lease.tryAcquire()).toBe('acquired');
  const control = new QueueControl([queue], lease, k, redis);
  const ran: string[] = [];
  const startWorker = () => {
    const run = (job: { id?: string }) => {
      ran.push(job.id!);
      return Promise.resolve();
    };
    const worker = new Worker(SYNC_QUEUE, run, { connection: redis.duplicate(), prefix });
    cleanups.push(() => worker.close());
    return worker;
  };
  const add = (id: string, delay = 0) => queue.add('sync', { sceneId: id, reason: 'hook', enqueuedAt: Date.now() }, { jobId: id, delay });
  return { prefix, k, queue, lease, control, ran, startWorker, add };
}

describe('QueueControl: the pause and its reasons in one step', () => {
  it('holds (paused, marked, reasons), refreshes the reasons, and releases: a worker stops and starts taking jobs', async () => {
    const r = await rig();
    r.startWorker();
    expect(await r.control.pause(['plex down'])).toEqual({ paused: [SYNC_QUEUE], pausedAgain: [] });
    expect(await r.queue.isPaused()).toBe(true);
    expect(await readSupervisorHold(redis, r.k, SYNC_QUEUE)).toEqual({ reasons: ['plex down'] });
    expect((await queueState(r.queue, redis, r.k)).pausedBy).toBe('supervisor');
    await r.add('a');
    // held already: nothing newly paused, the reasons refreshed
    expect(await r.control.pause(['plex down', 'token rejected'])).toEqual({ paused: [], pausedAgain: [] });
    expect(await readSupervisorHold(redis, r.k, SYNC_QUEUE)).toEqual({ reasons: ['plex down', 'token rejected'] });
    await new Promise((res) => setTimeout(res, 300)); // the worker had its chance to take the job: it must not
    expect(r.ran).toEqual([]);
    expect(await r.control.resume()).toEqual([SYNC_QUEUE]);
    expect(await r.queue.isPaused()).toBe(false);
    expect(await readSupervisorHold(redis, r.k, SYNC_QUEUE)).toBeNull();
    await waitFor(() => r.ran.includes('a'), 5_000, 'the worker takes the job once released');
    // BullMQ emitted its own events for both steps
    const events = (await redis.xrange(`${r.prefix}:${SYNC_QUEUE}:events`, '-', '+')).map(([, f]) => f[1]);
    expect(events).toEqual(expect.arrayContaining(['paused', 'resumed']));
  });

  it("pauses again a queue resumed behind its back, and never takes over or undoes an operator's pause", async () => {
    const r = await rig();
    await r.control.pause(['plex down']);
    await r.queue.resume(); // BullMQ's own resume (a script, redis-cli): the mark stays
    expect(await r.control.pause(['plex down'])).toEqual({ paused: [SYNC_QUEUE], pausedAgain: [SYNC_QUEUE] });
    expect(await r.queue.isPaused()).toBe(true);
    await r.control.resume();

    await r.queue.pause(); // an operator's
    expect(await r.control.pause(['plex down'])).toEqual({ paused: [], pausedAgain: [] });
    expect(await readSupervisorHold(redis, r.k, SYNC_QUEUE)).toBeNull();
    expect(await r.control.resume()).toEqual([]);
    expect(await r.queue.isPaused()).toBe(true);
    expect((await queueState(r.queue, redis, r.k)).pausedBy).toBe('operator');
  });

  it('writes nothing without the lease', async () => {
    const r = await rig();
    const other = new QueueControl([r.queue], new LeaderLease(redis, r.k.leader, 'someone-else', 10_000), r.k, redis);
    expect(await other.pause(['plex down'])).toEqual({ paused: [], pausedAgain: [] });
    expect(await r.queue.isPaused()).toBe(false);
    expect(await redis.exists(r.k.pausedBy)).toBe(0);
    await r.control.pause(['plex down']);
    expect(await other.resume()).toEqual([]);
    expect(await r.queue.isPaused()).toBe(true);
  });

  it('a release moves jobs left in the legacy paused list back to wait, and wakes the worker', async () => {
    const r = await rig();
    await r.control.pause(['plex down']);
    await r.add('x');
    // what a BullMQ before 5 left behind: the waiting job sits in the `paused` list
    await redis.rename(`${r.prefix}:${SYNC_QUEUE}:wait`, `${r.prefix}:${SYNC_QUEUE}:paused`);
    r.startWorker();
    await r.control.resume();
    expect(await redis.exists(`${r.prefix}:${SYNC_QUEUE}:paused`)).toBe(0);
    await waitFor(() => r.ran.includes('x'), 5_000, 'the legacy job runs');
  });
});

describe('LeaderState.promoteHeldJobs: no backoff outlives its outage', () => {
  it("promotes the delayed jobs of the outage's job set only", async () => {
    const r = await rig();
    const state = new LeaderState({ redis, keys: r.k, lease: r.lease, queues: [r.queue], historySize: 10 });
    await r.add('held', 60_000);
    await r.add('backoff-not-outage', 60_000);
    await r.add('waiting');
    await r.lease.write([outageJobsAdd(r.k, ['held', 'waiting'])]);
    expect(await state.promoteHeldJobs()).toBe(1);
    expect(await r.queue.getJobState('held')).toBe('waiting');
    expect(await r.queue.getJobState('backoff-not-outage')).toBe('delayed');
    r.startWorker();
    await waitFor(() => r.ran.includes('held') && r.ran.includes('waiting'), 5_000, 'both run at once');
    expect(r.ran).not.toContain('backoff-not-outage');
  });
});
