// The sync queue on a real Redis with both simulators over real HTTP.
import { type Queue } from 'bullmq';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/core/log.js';
import { connectRedis, keys } from '../../src/core/redis.js';
import { readSignals } from '../../src/resilience/signals.js';
import { enqueueSync, enqueueSyncBulk, enqueueSyncBulkCounted, createSyncQueue } from '../../src/sync/queue.js';
import { InboxIngest } from '../../src/sync/ingest.js';
import { encodeInboxEntry } from '../../src/model/inbox-item.js';
import { reconcileWindow } from '../../src/sync/reconcile.js';
import { StashClient } from '../../src/stash-api/client.js';
import { startWorkerRole, type WorkerRole } from '../../src/roles/worker.js';
import type { SyncJobData } from '../../src/model/inbox-item.js';
import { startWorld, type World } from '../helpers/world.js';
import { waitFor } from '../helpers/wait.js';

const quiet = createLogger({ level: 'silent' });
const fast = (attempts: number) => ({ attempts, backoffBaseMs: 50, backoffCapMs: 100, countsTowardBreaker: true, requeueByDefault: false });
const job = (sceneId: string, reason: SyncJobData['reason'] = 'hook'): SyncJobData => ({ sceneId, reason, enqueuedAt: Date.now() });

let world: World;
let queue: Queue<SyncJobData>;
let conn: ReturnType<typeof connectRedis>;
const roles: WorkerRole[] = [];

beforeAll(async () => {
  world = await startWorld({
    scenes: 20,
    env: { ERROR_STRATEGIES: JSON.stringify({ PlexTemporaryError: fast(3), PlexNotFound: { ...fast(2), countsTowardBreaker: false } }) },
  });
  conn = connectRedis(world.config);
  queue = createSyncQueue(conn, world.prefix);
});
afterEach(async () => {
  await Promise.all(roles.splice(0).map((r) => r.stop()));
  await world.plex.setMode('up');
  world.plex.setLatencyMs(0);
  await queue.obliterate({ force: true });
});
afterAll(async () => {
  await queue.close();
  conn.disconnect();
  await world.stop();
});

async function startWorker(extra: Parameters<typeof startWorkerRole>[2] = {}, config = world.config) {
  const role = await startWorkerRole(config, quiet, extra);
  roles.push(role);
  return role;
}

async function drained() {
  await waitFor(async () => {
    const c = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
    return c.waiting + c.active + c.delayed + c.prioritized === 0;
  }, 20_000);
}

describe('sync queue', () => {
  it('deduplicates a burst of edits of one scene while it waits, with hook priority first', async () => {
    for (let i = 0; i < 5; i++) await enqueueSync(queue, job('1'), world.config.errorStrategies);
    await enqueueSync(queue, job('2', 'reconcile'), world.config.errorStrategies);
    const counts = await queue.getJobCounts('prioritized', 'waiting');
    expect(counts.prioritized + counts.waiting).toBe(2);
    const jobs = await queue.getJobs(['prioritized', 'waiting']);
    expect(jobs.map((j) => [j.data.sceneId, j.opts.priority]).sort()).toEqual([
      ['1', 1],
      ['2', 10],
    ]);
  });

  it("a fresh edit of a scene whose bulk job still waits (a scan's) raises that job to hook priority: it runs before the other bulk jobs", async () => {
    const strategies = world.config.errorStrategies;
    const bulk = ['1', '2', '3'].map((id) => ({ ...job(id, 'reconcile'), event: 'Scene.Update.Post' }));
    await enqueueSyncBulk(queue, bulk, strategies);
    const ingest = new InboxIngest({ connection: conn, inboxKey: keys(world.prefix).inbox, queue, strategies, log: quiet });
    await ingest.handle([
      ['1-0', encodeInboxEntry({ ...job('3'), event: 'Scene.Update.Post', fields: ['title', 'id'] })],
      ['1-1', encodeInboxEntry(job('4'))],
    ]);
    const waiting = await queue.getJobs(['prioritized', 'waiting']);
    expect(waiting.map((j) => [j.data.sceneId, Number(j.priority)]).sort()).toEqual([
      ['1', 10],
      ['2', 10],
      ['3', 1],
      ['4', 1],
    ]);
    // One job per scene still: scene 3's is the one the scan queued.
    expect(waiting.filter((j) => j.data.sceneId === '3')).toHaveLength(1);
    // One job at a time: the order they run in is the order BullMQ hands them out.
    await startWorker({}, { ...world.config, worker: { ...world.config.worker, concurrency: 1 } });
    await drained();
    const done = (await queue.getJobs(['completed'])).sort((a, b) => a.processedOn! - b.processedOn!);
    expect(
      done
        .map((j) => j.data.sceneId)
        .slice(0, 2)
        .sort(),
    ).toEqual(['3', '4']);
  });

  it('a bulk add says how many jobs it really added: not the scenes whose job still waits', async () => {
    const strategies = world.config.errorStrategies;
    await enqueueSync(queue, job('1'), strategies);
    await enqueueSync(queue, job('2'), strategies);
    // 1 and 2 wait; 3 twice in the same add is one job.
    expect(
      await enqueueSyncBulkCounted(
        queue,
        ['1', '2', '3', '3'].map((id) => job(id, 'reconcile')),
        strategies,
      ),
    ).toBe(1);
    expect(
      await enqueueSyncBulkCounted(
        queue,
        ['1', '2', '3'].map((id) => job(id, 'reconcile')),
        strategies,
      ),
    ).toBe(0);
    expect(await queue.count()).toBe(3);
    // Once a job ran, its scene gets a new one.
    await startWorker();
    await drained();
    expect(
      await enqueueSyncBulkCounted(
        queue,
        ['1', '2', '4'].map((id) => job(id, 'reconcile')),
        strategies,
      ),
    ).toBe(3);
    expect(await enqueueSyncBulkCounted(queue, [], strategies)).toBe(0);
  });

  it('window reconciliation counts the jobs it added, not the scenes Stash changed', async () => {
    const stash = new StashClient({
      url: world.config.stash.url,
      apiKey: world.config.stash.apiKey,
      maxResponseBytes: world.config.stash.maxResponseBytes,
    });
    const clock = await stash.clock();
    const run = () => reconcileWindow({ stash, queue, strategies: world.config.errorStrategies, window: { since: 0 }, clock });
    expect(await run()).toEqual({ scenes: 20, pages: 1, queued: 20 });
    expect(await run()).toEqual({ scenes: 20, pages: 1, queued: 0 });
  });

  it('syncs 20 scenes so Plex equals Stash, locked; an unchanged scene costs no edit', async () => {
    await startWorker();
    for (const id of world.ratingKeyOf.keys()) await enqueueSync(queue, job(id), world.config.errorStrategies);
    await drained();
    expect(await queue.getJobCounts('completed', 'failed')).toEqual({ completed: 20, failed: 0 });
    for (const [id, rk] of world.ratingKeyOf) {
      const s = world.stash.scene(id)!;
      const p = world.plex.item(rk)!;
      expect(p.title).toBe(s.title);
      expect(p.summary).toBe(s.details);
      expect(p.studio).toBe(s.studio!.name);
      expect(p.originallyAvailableAt).toBe(s.date);
      expect(p.genre).toEqual(s.tags.map((t) => t.name));
      expect(p.actor).toEqual(s.performers.map((x) => x.name));
      for (const f of ['title', 'summary', 'studio', 'originallyAvailableAt', 'genre', 'actor']) expect(p.locked).toContain(f);
    }
    // Second pass: nothing changed, so not one edit request reaches Plex.
    world.plex.resetCounters();
    for (const id of world.ratingKeyOf.keys()) await enqueueSync(queue, job(id, 'manual'), world.config.errorStrategies);
    await drained();
    expect(world.plex.editCount()).toBe(0);
    // Removing a tag in Stash removes the genre in Plex (mirror mode).
    const [id, rk] = [...world.ratingKeyOf][0];
    const extra = world.stash.addTag('Extra');
    world.stash.updateScene(id, { tag_ids: [...world.stash.scene(id)!.tags.map((t) => t.id), extra] });
    await enqueueSync(queue, job(id), world.config.errorStrategies);
    await drained();
    expect(world.plex.item(rk)!.genre).toContain('Extra');
    world.stash.updateScene(id, {
      tag_ids: world.stash
        .scene(id)!
        .tags.filter((t) => t.name !== 'Extra')
        .map((t) => t.id),
    });
    await enqueueSync(queue, job(id), world.config.errorStrategies);
    await drained();
    expect(world.plex.item(rk)!.genre).not.toContain('Extra');
  });

  it('retries a temporary error and then succeeds; signals record each attempt', async () => {
    await world.plex.setMode('503');
    await startWorker();
    const added = await enqueueSync(queue, job('3'), world.config.errorStrategies);
    await waitFor(async () => (await queue.getJob(added.id!))!.attemptsMade >= 1, 10_000);
    await world.plex.setMode('up');
    await drained();
    const done = (await queue.getJob(added.id!))!;
    expect(await done.getState()).toBe('completed');
    const signals = await readSignals(conn, keys(world.prefix).signals, '0-0');
    expect(signals.some((s) => s.outcome === 'PlexTemporaryError' && s.jobId === added.id)).toBe(true);
    expect(signals.at(-1)).toMatchObject({ outcome: 'ok', jobId: added.id });
  });

  it('sends a permanent error to the failed set at once, typed', async () => {
    await world.plex.setMode('401');
    await startWorker();
    const added = await enqueueSync(queue, job('4'), world.config.errorStrategies);
    await waitFor(async () => (await queue.getJobCounts('failed')).failed === 1, 10_000);
    const failed = (await queue.getJob(added.id!))!;
    expect(failed.failedReason).toMatch(/^PlexAuthError: /);
    expect(failed.attemptsMade).toBe(1);
    expect(failed.failedReason).not.toContain(world.env.PLEX_TOKEN);
  });

  it('retries PlexNotFound without crashing and finally fails it as PlexNotFound', async () => {
    const id = world.stash.addScene({ title: 'Not in Plex', files: ['/stash/videos/missing.mp4'] });
    await startWorker();
    const added = await enqueueSync(queue, job(id), world.config.errorStrategies);
    await waitFor(async () => (await queue.getJobCounts('failed')).failed === 1, 10_000);
    const failed = (await queue.getJob(added.id!))!;
    expect(failed.failedReason).toMatch(/^PlexNotFound: /);
    expect(failed.attemptsMade).toBe(2);
  });

  it('fails a malformed payload as InvalidJob without harming the others', async () => {
    await startWorker();
    await queue.add('sync', { sceneId: 'abc', reason: 'nope' } as unknown as SyncJobData);
    await enqueueSync(queue, job('5'), world.config.errorStrategies);
    await drained();
    const failed = await queue.getFailed();
    expect(failed).toHaveLength(1);
    expect(failed[0].failedReason).toMatch(/^InvalidJob: /);
    expect(await queue.getJobCounts('completed')).toEqual({ completed: 1 });
  });
});
