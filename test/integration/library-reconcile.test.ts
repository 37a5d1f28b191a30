// Reconcile Library against both simulators and a real Redis: a library built to hold every gap class
// (and healthy scenes), found exactly; the jobs it queues, run by a real worker, close the gaps; a dry
// run queues nothing; a larger library is read in pages.
import type { Queue } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/core/log.js';
import { connectRedis, keys, type RedisConnection } from '../../src/core/redis.js';
import type { SyncJobData } from '../../src/model/inbox-item.js';
import { PlexClient } from '../../src/plex/client.js';
import { startWorkerRole, type WorkerRole } from '../../src/roles/worker.js';
import { ROUTES } from '../../src/sim/plex.js';
import { readLibraryReport, runLibraryReconcile } from '../../src/sync/library-reconcile-run.js';
import { createSyncQueue, enqueueSync } from '../../src/sync/queue.js';
import { waitFor } from '../helpers/wait.js';
import { startWorld, type World } from '../helpers/world.js';

const quiet = createLogger({ level: 'silent' });
const fast = (attempts: number) => ({ attempts, backoffBaseMs: 300, backoffCapMs: 300, countsTowardBreaker: false, requeueByDefault: false });
const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
});

interface Rig {
  world: World;
  redis: RedisConnection;
  queue: Queue<SyncJobData>;
}

async function rig(scenes: number, env: Record<string, string> = {}): Promise<Rig> {
  const world = await startWorld({
    scenes,
    prefixName: 'lib',
    env: { SYNC_POSTER: 'false', ERROR_STRATEGIES: JSON.stringify({ PlexNotFound: fast(3) }), ...env },
  });
  stops.push(() => world.stop());
  const redis = connectRedis(world.config);
  const queue = createSyncQueue(redis, world.prefix);
  stops.push(async () => {
    await queue.close();
    redis.disconnect();
  });
  return { world, redis, queue };
}

async function worker(r: Rig): Promise<WorkerRole> {
  const w = await startWorkerRole(r.world.config, quiet);
  stops.push(() => w.stop());
  return w;
}

async function finished(r: Rig, n: number) {
  await waitFor(async () => {
    const c = await r.queue.getJobCounts('completed', 'failed');
    return c.completed + c.failed >= n;
  }, 30_000, `${n} finished jobs`);
}

const sorted = (ids: string[]) => [...ids].sort((a, b) => Number(a) - Number(b));
const classes = (report: Awaited<ReturnType<typeof runLibraryReconcile>>) => ({
  notInPlex: sorted(report.notInPlex.sceneIds),
  empty: sorted(report.empty.sceneIds),
  drifted: sorted(report.drifted.sceneIds),
  neverSynced: sorted(report.neverSynced.sceneIds),
});

/**
 * Scenes 1–11: 1–4 synced and healthy; 5 and 6 synced, then edited in Plex (drifted); 7 never synced,
 * its item blank (empty and never synced); 8 never synced, its item with a value set in Plex; 9 not in
 * Plex and not on disk; 10 not in Plex but on disk, unscanned; 11 held by Plex under another folder
 * (found by base name and size, never synced, blank).
 */
async function gapLibrary(): Promise<Rig> {
  const r = await rig(10);
  const { world } = r;
  const section = world.plex.sections()[0]!.key;
  world.stash.addScene({ title: 'Scene 11', details: 'Moved in Plex', files: ['/stash/videos/folder0/scene-11.mp4'] });
  world.plex.addItem({ sectionKey: section, title: 'scene-11', file: '/plex/videos/moved/scene-11.mp4' });
  const w = await worker(r);
  for (const sceneId of ['1', '2', '3', '4', '5', '6']) await enqueueSync(r.queue, { sceneId, reason: 'hook', enqueuedAt: Date.now() }, world.config.errorStrategies);
  await finished(r, 6);
  await w.stop();
  const plex = new PlexClient({ url: world.plex.url, token: world.config.plex.token, clientIdentifier: 'test-hand-edits' });
  const rk = (id: string) => world.ratingKeyOf.get(id)!;
  await plex.applyEdit(section, rk('5'), { scalars: { summary: 'Edited by hand in Plex' }, tags: {} });
  await plex.applyEdit(section, rk('6'), { scalars: {}, tags: { genre: { set: ['Changed in Plex'], remove: [] } } });
  await plex.applyEdit(section, rk('8'), { scalars: { summary: 'Written by an agent' }, tags: {} });
  world.plex.removeItem(rk('9'));
  world.plex.removeItem(rk('10'));
  world.plex.addFileOnDisk({ file: '/plex/videos/folder0/scene-10.mp4' });
  return r;
}

describe('Reconcile Library', () => {
  it('finds each gap class exactly; the jobs it queues, run by a real worker, close them', async () => {
    const r = await gapLibrary();
    const first = await runLibraryReconcile(r.world.config, { dryRun: false, log: quiet });
    expect(first.scanned).toBe(11);
    expect(classes(first)).toEqual({ notInPlex: ['9', '10'], empty: ['7', '11'], drifted: ['5', '6'], neverSynced: ['7', '8', '11'] });
    expect(first.notInPlex.count).toBe(2);
    // Everything with a gap a sync closes; 9 too (its folder scan is the sync's fix, though nothing is there).
    expect(first.queued).toBe(7);
    const jobs = await r.queue.getJobs(['prioritized', 'waiting']);
    expect(sorted(jobs.map((j) => j.data.sceneId))).toEqual(['5', '6', '7', '8', '9', '10', '11']);
    expect(jobs.every((j) => j.data.reason === 'reconcile' && j.opts.priority === 10)).toBe(true);
    expect(await readLibraryReport(r.redis, keys(r.world.prefix))).toEqual(first);

    await worker(r);
    await finished(r, 6 + 7);
    const second = await runLibraryReconcile(r.world.config, { dryRun: false, log: quiet });
    expect(classes(second)).toEqual({ notInPlex: ['9'], empty: [], drifted: [], neverSynced: [] });
    expect(r.world.plex.item(r.world.ratingKeyOf.get('5')!)!.summary).toBe('Details of scene 5');
    // A run leaves no index behind.
    expect(await r.redis.keys(`${keys(r.world.prefix).reconcileIndex}:*`)).toEqual([]);
  });

  it('queues nothing in a dry run, and keeps its report', async () => {
    const r = await gapLibrary();
    const dry = await runLibraryReconcile(r.world.config, { dryRun: true, log: quiet });
    expect(dry).toMatchObject({ dryRun: true, queued: 0, toQueue: 7, scanned: 11 });
    expect(await r.queue.count()).toBe(0);
    expect((await readLibraryReport(r.redis, keys(r.world.prefix)))?.dryRun).toBe(true);
  });

  it('does not queue a drift PRESERVE_PLEX_EDITS keeps, nor a scene Plex does not hold without folder scans', async () => {
    const r = await gapLibrary();
    const config = { ...r.world.config, sync: { ...r.world.config.sync, preservePlexEdits: true }, matching: { ...r.world.config.matching, scanMissing: false } };
    const report = await runLibraryReconcile(config, { dryRun: false, log: quiet });
    expect(classes(report).drifted).toEqual(['5', '6']);
    expect(sorted((await r.queue.getJobs(['prioritized', 'waiting'])).map((j) => j.data.sceneId))).toEqual(['7', '8', '11']);
  });

  it('reads a 5 000-scene library in pages: Stash 1000 scenes a request, Plex 100 items a request', async () => {
    const r = await rig(5_000);
    const started = performance.now();
    const report = await runLibraryReconcile(r.world.config, { dryRun: true, log: quiet });
    const ms = performance.now() - started;
    expect(report.scanned).toBe(5_000);
    expect(report.neverSynced.count).toBe(5_000);
    expect(report.neverSynced.sceneIds).toHaveLength(20);
    expect(r.world.stash.count({ operationName: 'FindScenesPage' })).toBe(5);
    // The index: one listing of the library (1000 a page); the items: 100 a request.
    expect(r.world.plex.count({ route: ROUTES.sectionAll })).toBe(5);
    expect(r.world.plex.count({ route: ROUTES.metadata })).toBe(50);
    expect(ms).toBeLessThan(60_000);
  }, 120_000);
});
