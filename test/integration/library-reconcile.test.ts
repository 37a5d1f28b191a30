// Reconcile Library against both simulators and a real Redis: a library built to hold every gap class
// (and healthy scenes), found exactly; the jobs it queues, run by a real worker, close the gaps; a dry
// run queues nothing; a larger library is read in pages.
import type { StatusJson } from '../../src/supervisor/status.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Queue } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { ReconcileIndexLost, RunStopped } from '../../src/core/errors.js';
import { createLogger } from '../../src/core/log.js';
import { connectRedis, keys, type RedisConnection } from '../../src/core/redis.js';
import type { SyncJobData } from '../../src/model/inbox-item.js';
import { decodeInboxEntry } from '../../src/model/job.js';
import { PlexClient } from '../../src/plex/client.js';
import { renderStatusMain } from '../../src/dashboard/page.js';
import { buildStatus } from '../../src/supervisor/status.js';
import { startDashboard } from '../../src/dashboard/server.js';
import { startWorkerRole, type WorkerRole } from '../../src/roles/worker.js';
import { ROUTES } from '../../src/sim/plex.js';
import { startPrivateRedis } from '../../src/sim/redis-server.js';
import { SIM_STASH_KEY } from '../../src/sim/world.js';
import { runTask, type TaskContext } from '../../src/stash-plugin/tasks.js';
import { reportLines } from '../../src/sync/library-gaps.js';
import { readLibraryReport, runLibraryReconcile } from '../../src/sync/library-reconcile-run.js';
import { parseLibraryFailure, readLibraryFailureText } from '../../src/sync/library-report-store.js';
import { createSyncQueue, enqueueSync } from '../../src/sync/queue.js';
import { startProxy } from '../helpers/plex-proxy.js';
import { testRedisUrl } from '../helpers/redis.js';
import { waitFor } from '../helpers/wait.js';
import { startWorld, type World } from '../helpers/world.js';

const quiet = createLogger({ level: 'silent' });
const PAGE_SETTINGS = {
  ramp: { initialRate: 5, targetRate: 20, durationMs: 300_000 },
  plexMaxRate: null,
  trial: { calls: 10, errorRate: 0.2 },
};
const fast = (attempts: number) => ({
  attempts,
  backoffBaseMs: 300,
  backoffCapMs: 300,
  countsTowardBreaker: false,
  requeueByDefault: false,
});
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
  await waitFor(
    async () => {
      const c = await r.queue.getJobCounts('completed', 'failed');
      return c.completed + c.failed >= n;
    },
    30_000,
    `${n} finished jobs`,
  );
}

const sorted = (ids: string[]) => [...ids].sort((a, b) => Number(a) - Number(b));
const classes = (report: Awaited<ReturnType<typeof runLibraryReconcile>>) => ({
  notInPlex: sorted(report.notInPlex.sceneIds),
  empty: sorted(report.empty.sceneIds),
  drifted: sorted(report.drifted.sceneIds),
  neverSynced: sorted(report.neverSynced.sceneIds),
  moved: sorted(report.moved.sceneIds),
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
  const section = world.plex.sections()[0].key;
  world.stash.addScene({ title: 'Scene 11', details: 'Moved in Plex', files: ['/stash/videos/folder0/scene-11.mp4'] });
  world.plex.addItem({ sectionKey: section, title: 'scene-11', file: '/plex/videos/moved/scene-11.mp4' });
  const w = await worker(r);
  for (const sceneId of ['1', '2', '3', '4', '5', '6'])
    await enqueueSync(r.queue, { sceneId, reason: 'hook', enqueuedAt: Date.now() }, world.config.errorStrategies);
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

/** The world's config with Plex behind a proxy that, before the requests `when` picks, has Redis lose `lose`'s keys. */
async function losing(r: Rig, when: (path: string) => boolean, lose: 'index' | 'everything') {
  const pattern = lose === 'index' ? `${keys(r.world.prefix).reconcileIndex}:*` : `${r.world.prefix}:*`;
  const proxy = await startProxy(r.world.plex.url, async (path) => {
    if (!when(path)) return;
    const gone = await r.redis.keys(pattern);
    if (gone.length) await r.redis.del(...gone);
  });
  stops.push(() => proxy.stop());
  return { ...r.world.config, plex: { ...r.world.config.plex, url: proxy.url } };
}
const itemReads = (path: string) => path.startsWith('/library/metadata/');
const listings = (path: string) => /^\/library\/sections\/\d+\/all/.test(path);
/** The `which`-th (from 0) of the requests `match` picks. */
const nth = (match: (path: string) => boolean, which: number) => {
  let n = 0;
  return (path: string) => match(path) && n++ === which;
};
const queuedIds = async (r: Rig) => sorted((await r.queue.getJobs(['prioritized', 'waiting'])).map((j) => j.data.sceneId));
const ids = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => String(from + i));

/** Runs a task as the plugin would, against the world's Stash (API key) and Redis; PLEX_* etc. from `env`. */
async function task(mode: 'reconcile_library' | 'reconcile_library_dry_run', r: Rig, env: Record<string, string>) {
  const dir = mkdtempSync(join(tmpdir(), 's2p-lib-'));
  stops.push(() => Promise.resolve(rmSync(dir, { recursive: true, force: true })));
  const lines: string[] = [];
  const progress: number[] = [];
  const ctx: TaskContext = {
    input: {
      server_connection: { Scheme: 'http', Host: '127.0.0.1', Port: Number(new URL(r.world.stash.url).port), PluginDir: dir },
      args: { mode },
    },
    env: { STASH_API_KEY: SIM_STASH_KEY, ...env },
    dir,
    redis: { url: testRedisUrl(), prefix: r.world.prefix },
    log: (level, msg) => lines.push(`${level === 'info' ? '' : `${level} `}${msg}`),
    progress: (f) => progress.push(f),
    perPage: 5,
  };
  return { summary: await runTask(mode, ctx), lines, progress };
}
const inbox = async (r: Rig) =>
  ((await r.redis.xrange(keys(r.world.prefix).inbox, '-', '+')) as [string, string[]][]).map(([, flat]) => {
    const d = decodeInboxEntry(flat);
    if (d.ok && d.job) return d.job;
    throw new Error('not a scene entry');
  });

describe('several Plex items in one request (GET /library/metadata/{k1},{k2},…)', () => {
  it('answers the items that exist, in one request per 100 keys; none of them: an empty map', async () => {
    const r = await rig(3);
    const plex = new PlexClient({ url: r.world.plex.url, token: r.world.config.plex.token, clientIdentifier: 'test-items' });
    const [a, b, c] = ['1', '2', '3'].map((id) => r.world.ratingKeyOf.get(id)!);
    r.world.plex.removeItem(b);
    const reads = () => r.world.plex.requests.filter((q) => q.route === ROUTES.metadata).map((q) => q.path.split('/').pop()!.split(','));
    const before = reads().length;
    const items = await plex.getItems([a, b, c, a]);
    expect([...items.keys()]).toEqual([a, c]);
    expect(items.get(a)).toMatchObject({ ratingKey: a, title: 'scene-1', files: ['/plex/videos/folder0/scene-1.mp4'] });
    // A 404 of the whole read: each key read alone (neither exists).
    expect(await plex.getItems([b, '999999'])).toEqual(new Map());
    expect(
      reads()
        .slice(before)
        .map((keys) => keys.length),
    ).toEqual([3, 2, 1, 1]);
    const many = Array.from({ length: 250 }, (_, i) => String(900_000 + i));
    const from = reads().length;
    expect([...(await plex.getItems([a, ...many])).keys()]).toEqual([a]);
    const multi = reads()
      .slice(from)
      .filter((keys) => keys.length > 1);
    expect(multi.map((keys) => keys.length)).toEqual([100, 100, 51]);
  });
});

describe('Reconcile Library', () => {
  it('finds each gap class exactly; the jobs it queues, run by a real worker, close them', async () => {
    const r = await gapLibrary();
    const first = await runLibraryReconcile(r.world.config, { dryRun: false, log: quiet });
    expect(first.scanned).toBe(11);
    expect(classes(first)).toEqual({
      notInPlex: ['9', '10'],
      empty: ['7', '11'],
      drifted: ['5', '6'],
      neverSynced: ['7', '8', '11'],
      moved: [],
    });
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
    expect(classes(second)).toEqual({ notInPlex: ['9'], empty: [], drifted: [], neverSynced: [], moved: [] });
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

  it('a run that fails after a dry run is kept: the status and the page say so, never the dry run as current', async () => {
    const r = await gapLibrary();
    const dry = await runLibraryReconcile(r.world.config, { dryRun: true, log: quiet });
    await r.world.stash.setMode('down');
    await expect(runLibraryReconcile(r.world.config, { dryRun: false, log: quiet })).rejects.toThrow();
    const k = keys(r.world.prefix);
    const status = await buildStatus({ redis: r.redis, keys: k, queues: [r.queue], config: r.world.config, now: Date.now() });
    expect(status.reconcile?.last).toEqual(dry);
    expect(status.reconcile?.lastFailure).toMatchObject({ dryRun: false });
    expect(status.reconcile!.lastFailure!.failedAt).toBeGreaterThan(dry.finishedAt);
    const html = renderStatusMain(status, { now: Date.now(), settings: PAGE_SETTINGS, nonce: 'n' });
    expect(html).toMatch(/data-testid="reconcile-failed">The last run failed .*The report below is from an earlier run, not this one\./);
    expect(html).toContain('Earlier run (dry run)');
    expect(html).not.toContain('Last run (dry run)');
    // A run that finishes forgets the failure.
    await r.world.stash.setMode('up');
    await runLibraryReconcile(r.world.config, { dryRun: true, log: quiet });
    const after = await buildStatus({ redis: r.redis, keys: k, queues: [r.queue], config: r.world.config, now: Date.now() });
    expect(after.reconcile?.lastFailure).toBeNull();
  });

  it('does not queue a drift PRESERVE_PLEX_EDITS keeps, nor a scene Plex does not hold without folder scans', async () => {
    const r = await gapLibrary();
    const config = {
      ...r.world.config,
      sync: { ...r.world.config.sync, preservePlexEdits: true },
      matching: { ...r.world.config.matching, scanMissing: false },
    };
    const report = await runLibraryReconcile(config, { dryRun: false, log: quiet });
    expect(classes(report).drifted).toEqual(['5', '6']);
    expect(sorted((await r.queue.getJobs(['prioritized', 'waiting'])).map((j) => j.data.sceneId))).toEqual(['7', '8', '11']);
  });

  it('a file two Plex items hold by base name and size is ambiguous: not in Plex, never queued; another size is another file', async () => {
    const r = await rig(0);
    const section = r.world.plex.sections()[0].key;
    const twice = r.world.stash.addScene({ title: 'Twice', files: [{ path: '/stash/videos/x/twice.mp4', size: 5_000 }] });
    const decoyOnly = r.world.stash.addScene({ title: 'Decoy', files: [{ path: '/stash/videos/x/decoy.mp4', size: 7_000 }] });
    r.world.plex.addItem({ sectionKey: section, title: 'twice', file: '/plex/videos/a/twice.mp4', size: 5_000 });
    r.world.plex.addItem({ sectionKey: section, title: 'twice', file: '/plex/videos/b/TWICE.mp4', size: 5_000 });
    r.world.plex.addItem({ sectionKey: section, title: 'decoy', file: '/plex/videos/c/decoy.mp4', size: 7_001 });
    const report = await runLibraryReconcile(r.world.config, { dryRun: false, log: quiet });
    expect(classes(report).notInPlex).toEqual(sorted([twice, decoyOnly]));
    // Not the ambiguous one (a sync fails AmbiguousMatch); the other one: its folder scan is the fix.
    expect((await r.queue.getJobs(['prioritized', 'waiting'])).map((j) => j.data.sceneId)).toEqual([decoyOnly]);
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

describe('an index Redis loses mid-run (evicted, flushed)', () => {
  it('lost between two pages (its key deleted): rebuilt once, and the report is the one without the loss', async () => {
    const r = await rig(20);
    const config = await losing(r, nth(itemReads, 0), 'index');
    const report = await runLibraryReconcile(config, { dryRun: false, log: quiet, perPage: 5 });
    expect(report).toMatchObject({ scanned: 20, notInPlex: { count: 0 }, neverSynced: { count: 20 }, queued: 20 });
    expect(r.world.plex.count({ route: ROUTES.sectionAll })).toBe(2); // built, lost, built again
    expect(await queuedIds(r)).toEqual(ids(1, 20));
    expect(await r.redis.keys(`${keys(r.world.prefix).reconcileIndex}:*`)).toEqual([]);
  });

  it('lost with every key of the deployment (FLUSHDB, eviction) between two pages: rebuilt, the report right', async () => {
    const r = await rig(20);
    const config = await losing(r, nth(itemReads, 0), 'everything');
    const report = await runLibraryReconcile(config, { dryRun: true, log: quiet, perPage: 5 });
    expect(report).toMatchObject({ scanned: 20, notInPlex: { count: 0 }, neverSynced: { count: 20 }, toQueue: 20 });
  });

  it('half lost while it is built (the second listing page wiped the first): rebuilt before any lookup', async () => {
    const r = await rig(1_001);
    // Listing pages hold 1000 items: the second request comes after the first page is in the index.
    const config = await losing(r, nth(listings, 1), 'index');
    const report = await runLibraryReconcile(config, { dryRun: true, log: quiet });
    expect(report).toMatchObject({ scanned: 1_001, notInPlex: { count: 0 }, neverSynced: { count: 1_001 } });
    expect(r.world.plex.count({ route: ROUTES.sectionAll })).toBe(4);
  }, 60_000);

  it('a write Redis refuses (OOM under noeviction) fails the run as itself, never as scenes not in Plex', async () => {
    const server = await startPrivateRedis();
    stops.push(() => Promise.resolve(server.stop()));
    const r = await rig(20, { REDIS_URL: server.url });
    await r.redis.config('SET', 'maxmemory-policy', 'noeviction');
    // Redis fills up as the listing starts: the index's entries are refused.
    let full = false;
    const proxy = await startProxy(r.world.plex.url, async (path) => {
      if (listings(path) && !full) await r.redis.config('SET', 'maxmemory', '1').then(() => (full = true));
    });
    stops.push(() => proxy.stop());
    const progress: number[] = [];
    const run = runLibraryReconcile(
      { ...r.world.config, plex: { ...r.world.config.plex, url: proxy.url } },
      { dryRun: true, log: quiet, onProgress: (p) => progress.push(p.scanned) },
    );
    await expect(run).rejects.toThrow(/^OOM command not allowed/);
    await r.redis.config('SET', 'maxmemory', '0');
    // It stopped at the index: not one page was classified from it.
    expect(progress).toEqual([]);
    expect(await readLibraryReport(r.redis, keys(r.world.prefix))).toBeNull();
  });

  it('lost again after its rebuild: the run stops with the reason, keeps no report and queued nothing from a partial index', async () => {
    const r = await rig(20);
    const config = await losing(r, itemReads, 'index');
    const run = runLibraryReconcile(config, { dryRun: false, log: quiet, perPage: 5 });
    await expect(run).rejects.toThrow(ReconcileIndexLost);
    await expect(run).rejects.toThrow(
      "the index of Plex's files this run keeps in Redis was lost mid-run, and again after a rebuild (evicted or flushed? Redis needs maxmemory-policy noeviction); " +
        'stopped after 10 of 20 scenes, the 10 scenes queued before came from the complete index, none from a partial one, and no report was kept',
    );
    // Pages 1 and 2 were read from a complete index (the second from the rebuilt one); page 3 never was.
    expect(await queuedIds(r)).toEqual(ids(1, 10));
    expect(await readLibraryReport(r.redis, keys(r.world.prefix))).toBeNull();
    expect(await r.redis.keys(`${keys(r.world.prefix).reconcileIndex}:*`)).toEqual([]);
  });
});

describe('a run whose caller went (the Stash task cancelled)', () => {
  it('stops before its next page: what it queued stays queued, the failure says how far it got and why', async () => {
    const r = await rig(20);
    const stop = new AbortController();
    const run = runLibraryReconcile(r.world.config, {
      dryRun: false,
      log: quiet,
      perPage: 5,
      signal: stop.signal,
      // Two pages done: the caller goes.
      onProgress: (p) => p.scanned === 10 && stop.abort(new Error('the Stash task went away')),
    });
    await expect(run).rejects.toThrow(RunStopped);
    await expect(run).rejects.toThrow('stopped after 10 of 20 scenes: the Stash task went away');
    expect(await queuedIds(r)).toEqual(ids(1, 10));
    expect(await readLibraryReport(r.redis, keys(r.world.prefix))).toBeNull();
    expect(parseLibraryFailure(await readLibraryFailureText(r.redis, keys(r.world.prefix)))).toMatchObject({
      dryRun: false,
      error: 'stopped after 10 of 20 scenes: the Stash task went away',
    });
  });
});

describe('Reconcile Library: files moved in Stash since their last sync', () => {
  /** Stash's moveFiles, as its UI sends it: the files get new paths, no scene is saved, no hook runs. */
  async function moveFiles(r: Rig, sceneId: string, folder: string) {
    const res = await fetch(`${r.world.stash.url}/graphql`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ApiKey: SIM_STASH_KEY },
      body: JSON.stringify({
        query: 'mutation Move($input: MoveFilesInput!) { moveFiles(input: $input) }',
        variables: { input: { ids: r.world.stash.filesOf(sceneId).map((f) => f.id), destination_folder: folder } },
      }),
    });
    expect(await res.json()).toEqual({ data: { moveFiles: true } });
  }

  it('reports them as moved, in every face of the report; the jobs it queues put each on the item holding its new path', async () => {
    const r = await rig(5);
    const w = await worker(r);
    for (const sceneId of ids(1, 5))
      await enqueueSync(r.queue, { sceneId, reason: 'hook', enqueuedAt: Date.now() }, r.world.config.errorStrategies);
    await finished(r, 5);
    await w.stop();
    const { world } = r;
    const plexFile = (id: string) => world.plex.item(world.ratingKeyOf.get(id)!)!.files[0];
    // moveFiles (no hook) of scenes 1–3; Plex: a new bare item for 1, the same item for 2, nothing yet for 3.
    const moved = { '1': 'new-item', '2': 'same-item', '3': 'unscanned' } as const;
    for (const [id, outcome] of Object.entries(moved)) {
      const from = plexFile(id);
      await moveFiles(r, id, '/stash/videos/moved');
      world.plex.moveFile(from, `/plex/videos/moved/scene-${id}.mp4`, outcome);
    }
    // Scene 4's item is gone from Plex, its file where it was: not in Plex, but not moved.
    world.plex.removeItem(world.ratingKeyOf.get('4')!);

    const dry = await runLibraryReconcile(world.config, { dryRun: true, log: quiet });
    // 3: Plex's old item has its name and size, but a sync found a Stash file at exactly that path: not taken.
    expect(classes(dry)).toEqual({ notInPlex: ['3', '4'], empty: ['1'], drifted: [], neverSynced: ['1'], moved: ['1', '2', '3'] });
    expect(dry.moved.count).toBe(3);
    expect(dry.toQueue).toBe(4);
    expect(reportLines(dry)).toContain('Moved or renamed in Stash since their last sync: 3 (scene 1, 2, 3)');

    // Every face of the report: /api/status, the status page, the Stash task.
    const dash = await startDashboard({ ...world.config, dashboard: { ...world.config.dashboard, port: 0 } }, quiet, {
      redis: r.redis,
      queues: [r.queue],
    });
    stops.push(() => dash.stop());
    const status = (await (await fetch(`${dash.url}/api/status`)).json()) as StatusJson;
    expect(status.reconcile?.last?.moved).toEqual({ count: 3, sceneIds: ['1', '2', '3'] });
    const html = renderStatusMain(status, {
      now: Date.now(),
      nonce: 'n',
      settings: { ramp: { initialRate: 5, targetRate: 20, durationMs: 1 }, plexMaxRate: null, trial: { calls: 10, errorRate: 0.2 } },
    });
    expect(html).toContain('data-testid="reconcile-moved">3<');
    expect(html).toContain('moved since last sync: 1, 2, 3');
    const fromTask = await task('reconcile_library_dry_run', r, {
      PLEX_URL: world.plex.url,
      PLEX_TOKEN: world.config.plex.token,
      PATH_MAP: world.env.PATH_MAP,
    });
    expect(fromTask.lines).toContain('Moved or renamed in Stash since their last sync: 3 (scene 1, 2, 3)');

    const real = await runLibraryReconcile(world.config, { dryRun: false, log: quiet });
    expect(real.queued).toBe(4);
    expect(await queuedIds(r)).toEqual(['1', '2', '3', '4']);
    await worker(r);
    await finished(r, 5 + 4);
    const after = await runLibraryReconcile(world.config, { dryRun: true, log: quiet });
    expect(classes(after)).toEqual({ notInPlex: ['4'], empty: [], drifted: [], neverSynced: [], moved: [] });
    for (const id of ['1', '2', '3']) {
      const holder = world.plex.items().find((i) => i.files.includes(`/plex/videos/moved/scene-${id}.mp4`));
      expect(holder).toMatchObject({ title: `Scene ${id}`, summary: `Details of scene ${id}` });
    }
  });
});

describe('the Stash tasks Reconcile Library (dry run) and Reconcile Library', () => {
  it('report the gaps with progress; the real one writes the fixable scenes to the inbox as reconcile entries', async () => {
    const r = await rig(12);
    r.world.plex.removeItem(r.world.ratingKeyOf.get('12')!);
    const env = { PLEX_URL: r.world.plex.url, PLEX_TOKEN: r.world.config.plex.token, PATH_MAP: r.world.env.PATH_MAP };
    const dry = await task('reconcile_library_dry_run', r, env);
    expect(dry.summary).toBe('Dry run: 12 scenes would be queued for a sync; nothing queued');
    expect(dry.lines).toContain('Not in Plex: 1 (scene 12)');
    expect(dry.lines).toContainEqual(expect.stringMatching(/^Reconcile Library \(dry run\): 12 scenes read in /));
    expect(dry.lines).toContain('Ready but never synced by stash2plex: 11 (scene 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11)');
    expect(await inbox(r)).toEqual([]);
    expect(dry.progress.at(-1)).toBe(1);
    expect(dry.progress).toEqual([...dry.progress].sort((a, b) => a - b));
    expect(dry.progress.length).toBeGreaterThanOrEqual(4); // 0, three pages of 5

    const real = await task('reconcile_library', r, env);
    // The task writes the inbox and queues nothing itself: it says so, not "queued".
    expect(real.summary).toBe(
      "Sent 12 scenes to the workers' inbox for a sync (bulk priority; a scene already waiting is not queued twice)",
    );
    const jobs = await inbox(r);
    expect(jobs.map((j) => j.sceneId)).toEqual(['1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '11', '12']);
    expect(new Set(jobs.map((j) => `${j.reason}/${j.event}`))).toEqual(new Set(['reconcile/reconcile_library']));
    expect(await readLibraryReport(r.redis, keys(r.world.prefix))).toMatchObject({ queued: 0, sentToInbox: 12, toQueue: 12 });
  });

  it('say in one line why a run stopped when Redis lost its index twice', async () => {
    const r = await rig(3);
    const plexUrl = (await losing(r, listings, 'index')).plex.url;
    await expect(
      task('reconcile_library_dry_run', r, { PLEX_URL: plexUrl, PLEX_TOKEN: r.world.config.plex.token, PATH_MAP: r.world.env.PATH_MAP }),
    ).rejects.toThrow(
      /^Reconcile Library \(dry run\) stopped: the index of Plex's files this run keeps in Redis was lost mid-run, and again after a rebuild \(evicted or flushed\? .*\); stopped after 0 of 3 scenes, nothing was queued, and no report was kept$/,
    );
  });

  it('without PLEX_URL in the plugin environment, says so', async () => {
    const r = await rig(1);
    await expect(task('reconcile_library_dry_run', r, {})).rejects.toThrow(
      "Reconcile Library (dry run): Reconcile Library needs PLEX_URL and PLEX_TOKEN in the plugin folder's .env, or STASH2PLEX_URL and HOOK_TOKEN there so the task asks the stash2plex dashboard, which has them (STASH2PLEX_URL and HOOK_TOKEN are not set); or run it on the status page, or npm run reconcile",
    );
  });
});

describe('POST /api/reconcile and the status page', () => {
  it('a dry run by default, the real run on dryRun: false; the last report in /api/status and on the page', async () => {
    const r = await gapLibrary();
    const dash = await startDashboard({ ...r.world.config, dashboard: { ...r.world.config.dashboard, port: 0 } }, quiet, {
      redis: r.redis,
      queues: [r.queue],
    });
    stops.push(() => dash.stop());
    const call = async (body: unknown, headers: Record<string, string> = { 'X-Requested-With': 'stash2plex' }) => {
      const res = await fetch(`${dash.url}/api/reconcile`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', ...headers },
        body: JSON.stringify(body),
      });
      return { status: res.status, json: (await res.json()) as Record<string, unknown> };
    };
    expect((await call({ dryRun: false }, { Origin: 'http://evil.example' })).status).toBe(403);
    expect(await call({ dry_run: false })).toEqual({ status: 400, json: { error: expect.stringMatching(/dry_run/) as unknown } });
    const dry = await call({});
    expect(dry.status).toBe(200);
    expect(dry.json).toMatchObject({
      dryRun: true,
      scanned: 11,
      queued: 0,
      toQueue: 7,
      text: 'Dry run: 7 scenes would be queued for a sync; nothing queued',
    });
    expect(dry.json.lines).toContain('Not in Plex: 2 (scene 9, 10)');
    expect(await r.queue.count()).toBe(0);
    const real = await call({ dryRun: false });
    expect(real.json).toMatchObject({ dryRun: false, queued: 7, text: 'Queued 7 scenes for a sync (bulk priority)' });
    expect(await r.queue.count()).toBe(7);
    // Right after: the same 7 still wait, deduplicated by BullMQ; none is counted as queued.
    const again = await call({ dryRun: false });
    expect(again.json).toMatchObject({
      dryRun: false,
      toQueue: 7,
      queued: 0,
      text: 'Queued 0 scenes for a sync (bulk priority); 7 already waiting, not queued twice',
    });
    expect(await r.queue.count()).toBe(7);
    const status = (await (await fetch(`${dash.url}/api/status`)).json()) as StatusJson;
    expect(status.reconcile?.last).toMatchObject({ dryRun: false, queued: 0, toQueue: 7, drifted: { count: 2, sceneIds: ['5', '6'] } });
    const html = renderStatusMain(status, {
      now: Date.now(),
      nonce: 'n',
      settings: { ramp: { initialRate: 5, targetRate: 20, durationMs: 1 }, plexMaxRate: null, trial: { calls: 10, errorRate: 0.2 } },
    });
    expect(html).toContain('data-testid="reconcile-drifted">2<');
    expect(html).toContain('Queued 0 scenes for a sync (bulk priority); 7 already waiting, not queued twice');
  });

  it('a run that stopped because Redis lost its index twice: 503 and the reason, in one line', async () => {
    const r = await rig(3);
    const config = await losing(r, listings, 'index');
    const dash = await startDashboard({ ...config, dashboard: { ...config.dashboard, port: 0 } }, quiet, {
      redis: r.redis,
      queues: [r.queue],
    });
    stops.push(() => dash.stop());
    const res = await fetch(`${dash.url}/api/reconcile`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Requested-With': 'stash2plex' },
      body: JSON.stringify({ dryRun: false }),
    });
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: string }).error).toMatch(
      /^Reconcile Library stopped: the index of Plex's files this run keeps in Redis was lost mid-run, and again after a rebuild \(evicted or flushed\? .*\); stopped after 0 of 3 scenes, nothing was queued, and no report was kept$/,
    );
    expect(await r.queue.count()).toBe(0);
  });
});
