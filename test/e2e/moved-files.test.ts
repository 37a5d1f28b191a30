// A file Stash finds moved or renamed, end to end: the Stash simulator's scan changes the scene's file
// path (its updated_at unchanged) and sends Scene.Update.Post without input, as Stash's scan does
// (src/sim/stash.ts scanMovedFile); that hook runs the real hook (the Node plugin process with the
// plugin input on its stdin, or the dashboard process's HTTP hook), and a real worker process puts the
// scene onto the Plex item now holding its file: a new bare item, the same item at the new path, or,
// while Plex has not scanned the new folder, the item its folder scan brings in.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectRedis, keys, ownershipKey, type RedisConnection } from '../../src/core/redis.js';
import type { SyncJobData } from '../../src/model/inbox-item.js';
import { ROUTES } from '../../src/sim/plex.js';
import type { StashHookContext } from '../../src/sim/stash.js';
import { createSyncQueue } from '../../src/sync/queue.js';
import { freePort } from '../helpers/ports.js';
import { runNode, startProcess, type Proc } from '../helpers/proc.js';
import { stashPluginInput } from '../helpers/stash-scene-hooks.js';
import { waitFor } from '../helpers/wait.js';
import { STASH_KEY, startWorld, type World } from '../helpers/world.js';

const PLUGIN = 'dist/stash-plugin/stash2plex.cjs';
const WORKER = 'dist/workers/worker.js';
const DASHBOARD = 'dist/workers/dashboard.js';
const TOKEN = 'moved-files-hook-token-5e1a';
const fast = { attempts: 8, backoffBaseMs: 300, backoffCapMs: 300, countsTowardBreaker: false, requeueByDefault: false };

let world: World;
let worker: Proc;
let dashboard: Proc;
let dashboardUrl: string;
let pluginDir: string;
let redis: RedisConnection;
let queue: Queue<SyncJobData>;
/** What each hook answered Stash. */
let answers: unknown[] = [];

/** The Node plugin as Stash runs it: `node stash2plex.cjs`, the plugin input on its stdin, waited for. */
async function runNodeHook(hookContext: StashHookContext): Promise<void> {
  const input = stashPluginInput(hookContext, { port: world.stash.port, pluginDir, cookie: world.stash.createSession() });
  const r = await runNode(PLUGIN, input, { REDIS_URL: world.env.REDIS_URL, REDIS_PREFIX: world.prefix });
  answers.push(r.code === 0 ? JSON.parse(r.stdout) : { code: r.code, stderr: r.stderr });
}

/** The HTTP variant: the plugin input posted to the dashboard's hook, as the wget/curl exec does. */
async function postHttpHook(hookContext: StashHookContext): Promise<void> {
  const body = stashPluginInput(hookContext, { port: world.stash.port, pluginDir: '/root/.stash/plugins/stash2plex' });
  const res = await fetch(`${dashboardUrl}/api/stash/hook`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
    body,
  });
  answers.push(res.status === 200 ? await res.json() : { status: res.status, text: await res.text() });
}

const stashPath = (id: string) => world.stash.scene(id)!.files[0].path;
const plexPath = (p: string) => p.replace('/stash/videos/', '/plex/videos/');
const k = () => keys(world.prefix);
/** The jobs a scan's hook queued for a scene (reason 'reconcile', event the hook), finished. */
const scanJobs = async (sceneId: string) =>
  (await queue.getJobs(['completed', 'failed'])).filter(
    (j) => j.data.sceneId === sceneId && j.data.reason === 'reconcile' && j.data.event === 'Scene.Update.Post',
  );

beforeAll(async () => {
  world = await startWorld({ scenes: 3, prefixName: 'moved', env: { ERROR_STRATEGIES: JSON.stringify({ PlexNotFound: fast }) } });
  redis = connectRedis(world.config);
  queue = createSyncQueue(redis, world.prefix);
  pluginDir = mkdtempSync(join(tmpdir(), 's2p-moved-plugin-'));
  const port = await freePort();
  dashboardUrl = `http://127.0.0.1:${port}`;
  worker = startProcess(WORKER, world.env);
  dashboard = startProcess(DASHBOARD, { ...world.env, HOOK_TOKEN: TOKEN, DASHBOARD_PORT: String(port) });
  await waitFor(async () => (await fetch(`${dashboardUrl}/healthz`).catch(() => null))?.status === 200, 15_000, 'the dashboard process');
  // Each scene synced once, by an edit in Stash: the path cache, the hint, the record and the claim exist.
  world.stash.onHook = runNodeHook;
  for (const id of ['1', '2', '3']) {
    const res = await fetch(`${world.stash.url}/graphql`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ApiKey: STASH_KEY },
      body: JSON.stringify({
        query: 'mutation Save($input: SceneUpdateInput!) { sceneUpdate(input: $input) { id } }',
        variables: { input: { id, title: `Synced ${id}` } },
      }),
    });
    expect(res.status).toBe(200);
  }
  for (const [id, rk] of world.ratingKeyOf) {
    await waitFor(
      () => world.plex.item(rk)?.title === `Synced ${id}` && world.plex.item(rk)!.poster !== null,
      30_000,
      `scene ${id} synced`,
    );
    await waitFor(async () => (await redis.hget(k().plexSceneItem, id)) === rk, 10_000, `scene ${id}'s hint`);
  }
});
afterAll(async () => {
  await dashboard?.stop();
  await worker?.stop();
  await queue?.close();
  redis?.disconnect();
  await world?.stop();
  if (pluginDir) rmSync(pluginDir, { recursive: true, force: true });
});

describe("a file moved in Stash: the scan's Scene.Update.Post without input → hook → worker → the Plex item holding the new path", () => {
  it('Plex made a new bare item: the scene is synced onto it (Node plugin); the old item, gone, hands over its record and claim', async () => {
    const old = world.ratingKeyOf.get('1')!;
    const from = stashPath('1');
    const to = '/stash/videos/renamed/scene-1-renamed.mp4';
    const updatedAt = world.stash.scene('1')!.updated_at;
    const fresh = world.plex.moveFile(plexPath(from), plexPath(to), 'new-item')!;
    expect(world.plex.item(fresh)).toMatchObject({ title: 'scene-1-renamed', summary: '', poster: null });
    world.stash.onHook = runNodeHook;
    answers = [];
    await world.stash.scanMovedFile('1', to);
    expect(world.stash.hookFailures).toEqual([]);
    expect(answers).toEqual([{ output: 'queued scene 1' }]);
    expect(world.stash.scene('1')!.updated_at).toBe(updatedAt);

    const wanted = world.stash.scene('1')!;
    await waitFor(
      () => world.plex.item(fresh)?.title === 'Synced 1' && world.plex.item(fresh)!.poster !== null,
      30_000,
      'the new item synced',
    );
    expect(world.plex.item(fresh)).toMatchObject({
      summary: wanted.details,
      studio: wanted.studio!.name,
      originallyAvailableAt: wanted.date,
      genre: wanted.tags.map((t) => t.name),
      actor: wanted.performers.map((p) => p.name),
    });
    await waitFor(async () => (await scanJobs('1')).length === 1, 30_000, "the scan hook's job");
    const [job] = await scanJobs('1');
    expect(job).toMatchObject({ opts: { priority: 10 }, returnvalue: { ratingKey: fresh } });
    expect(await redis.hget(k().plexSceneItem, '1')).toBe(fresh);
    expect(await redis.hget(k().plexItemScene, fresh)).toBe('1\tpath');
    // The old item is proven gone: its claim and record went (the record onto the new item, then confirmed).
    expect(await redis.hexists(k().plexItemScene, old)).toBe(0);
    expect(await redis.exists(ownershipKey(k(), old))).toBe(0);
  });

  it('Plex kept the item at the new path: the scene is resolved there again, no edit needed (HTTP hook)', async () => {
    const rk = world.ratingKeyOf.get('2')!;
    const to = '/stash/videos/elsewhere/scene-2.mp4';
    expect(world.plex.moveFile(plexPath(stashPath('2')), plexPath(to), 'same-item')).toBe(rk);
    const edits = world.plex.editCount();
    world.stash.onHook = postHttpHook;
    answers = [];
    await world.stash.scanMovedFile('2', to);
    expect(answers).toEqual([{ output: 'queued scene 2' }]);
    await waitFor(async () => (await scanJobs('2')).length === 1, 30_000, "the scan hook's job");
    const [job] = await scanJobs('2');
    expect(job.returnvalue).toEqual({ ratingKey: rk, editRequests: 0, posterUploaded: false });
    expect(world.plex.editCount()).toBe(edits);
    expect(await redis.hget(k().plexPathCache, plexPath(to))).toBe(rk);
    expect(await redis.hget(k().plexSceneItem, '2')).toBe(rk);
  });

  it('Plex has not scanned the new folder: no base-name match onto the old item, a folder scan brings the file in, and the scene is synced onto it (Node plugin)', async () => {
    const old = world.ratingKeyOf.get('3')!;
    const from = stashPath('3');
    const to = '/stash/videos/later/scene-3.mp4';
    expect(world.plex.moveFile(plexPath(from), plexPath(to), 'unscanned')).toBeNull();
    const refreshes = world.plex.count({ route: ROUTES.refresh });
    world.stash.onHook = runNodeHook;
    answers = [];
    await world.stash.scanMovedFile('3', to);
    expect(answers).toEqual([{ output: 'queued scene 3' }]);

    const holder = () => world.plex.items().find((i) => i.files.includes(plexPath(to)));
    await waitFor(() => holder()?.title === 'Synced 3', 30_000, 'the scanned item synced');
    const fresh = holder()!.ratingKey;
    expect(fresh).not.toBe(old);
    expect(world.plex.count({ route: ROUTES.refresh })).toBe(refreshes + 1);
    expect(world.plex.requests.some((r) => r.route === ROUTES.refresh && r.path.includes(encodeURIComponent('/plex/videos/later')))).toBe(
      true,
    );
    expect(await redis.hget(k().plexSceneItem, '3')).toBe(fresh);
    // Plex still has the old item (its folder not scanned): left as it is, record and claim kept.
    expect(world.plex.item(old)).toMatchObject({ title: 'Synced 3', files: [plexPath(from)] });
    expect(await redis.exists(ownershipKey(k(), old))).toBe(1);
    expect(await redis.hget(k().plexItemScene, old)).toBe('3\tpath');
  });
});
