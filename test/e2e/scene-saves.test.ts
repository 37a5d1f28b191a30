// Every way Stash saves a scene reaches Plex, end to end: a real GraphQL mutation to the Stash simulator
// (scenesUpdate, as the Scene Filename Parser saves; bulkSceneUpdate, as the scene list's bulk edit
// saves) fires one Scene.Update.Post per scene with the hookContext Stash builds (src/sim/stash-mutations.ts),
// which runs the real hook: the Node plugin process with the plugin input on a pipe as its stdin, or a
// POST to the dashboard process's HTTP hook. A real worker process takes the inbox to the Plex simulator.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StashHookContext } from '../../src/sim/stash.js';
import { stdinPipe } from '../../bench/lib.js';
import { freePort } from '../helpers/ports.js';
import { startProcess, type Proc } from '../helpers/proc.js';
import { stashPluginInput } from '../helpers/stash-scene-hooks.js';
import { waitFor } from '../helpers/wait.js';
import { STASH_KEY, startWorld, type World } from '../helpers/world.js';

const PLUGIN = 'dist/stash-plugin/stash2plex.cjs';
const WORKER = 'dist/workers/worker.js';
const DASHBOARD = 'dist/workers/dashboard.js';
const TOKEN = 'scene-saves-hook-token-2b7c';

let world: World;
let worker: Proc;
let dashboard: Proc;
let dashboardUrl: string;
let pluginDir: string;
/** What each hook answered Stash: its scene and its one output object. */
let answers: { id: number; answer: unknown }[];

/** The Node plugin as Stash runs it: `node stash2plex.cjs`, the plugin input on a pipe, waited for. */
function runNodeHook(hookContext: StashHookContext): Promise<void> {
  const session = world.stash.createSession();
  const input = stashPluginInput(hookContext, { port: world.stash.port, pluginDir, cookie: session });
  const pipe = stdinPipe(pluginDir, input);
  if (!pipe) throw new Error('no mkfifo: cannot give the plugin a pipe');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [PLUGIN], {
      env: { PATH: process.env.PATH ?? '', REDIS_URL: world.env.REDIS_URL, REDIS_PREFIX: world.prefix },
      stdio: [pipe.fd, 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.resume();
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      pipe.close();
      const lines = stdout.split('\n').filter(Boolean);
      answers.push({ id: hookContext.id, answer: code === 0 && lines.length === 1 ? JSON.parse(lines[0]) : { code, stdout } });
      resolve();
    });
  });
}

/** The HTTP variant: the plugin input posted to the dashboard's hook, as the wget/curl exec does. */
async function postHttpHook(hookContext: StashHookContext): Promise<void> {
  const body = stashPluginInput(hookContext, { port: world.stash.port, pluginDir: '/root/.stash/plugins/stash2plex' });
  const res = await fetch(`${dashboardUrl}/api/stash/hook`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
    body,
  });
  const text = await res.text();
  answers.push({ id: hookContext.id, answer: res.status === 200 ? JSON.parse(text) : { status: res.status, text } });
}

/** A GraphQL mutation to the simulated Stash, as its UI sends it; the scenes it answers. */
async function mutate(query: string, input: unknown): Promise<{ id: string }[]> {
  const res = await fetch(`${world.stash.url}/graphql`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ApiKey: STASH_KEY },
    body: JSON.stringify({ query, variables: { input } }),
  });
  const body = (await res.json()) as { data?: Record<string, { id: string }[]>; errors?: unknown };
  expect(body.errors).toBeUndefined();
  return Object.values(body.data!)[0];
}
const SCENE_UPDATE = 'mutation SceneUpdate($input: SceneUpdateInput!) { sceneUpdate(input: $input) { id } }';
const SCENES_UPDATE = 'mutation ScenesUpdate($input: [SceneUpdateInput!]!) { scenesUpdate(input: $input) { id } }';
const BULK_SCENE_UPDATE = 'mutation BulkSceneUpdate($input: BulkSceneUpdateInput!) { bulkSceneUpdate(input: $input) { id } }';

/**
 * Two scenes saved with scenesUpdate (new titles, one a new date), then three with bulkSceneUpdate (a tag
 * added, the performers set); waits until Plex shows every new value.
 */
async function saveAndSee(ids: string[], label: string): Promise<void> {
  const [a, b, ...bulk] = ids as [string, string, ...string[]];
  const tag = world.stash.addTag(`${label} tag`);
  const performer = world.stash.addPerformer(`${label} performer`);
  answers = [];
  await mutate(SCENES_UPDATE, [
    { id: a, title: `${label} parsed ${a}` },
    { id: b, title: `${label} parsed ${b}`, date: '2023-03-04' },
  ]);
  await mutate(BULK_SCENE_UPDATE, { ids: bulk, tag_ids: { ids: [tag], mode: 'ADD' }, performer_ids: { ids: [performer], mode: 'SET' } });
  expect(world.stash.hookFailures).toEqual([]);
  // Stash waited for every hook: each answered once, and recorded its scene.
  expect(answers).toEqual(ids.map((id) => ({ id: Number(id), answer: { output: `queued scene ${id}` } })));

  const item = (id: string) => world.plex.item(world.ratingKeyOf.get(id)!)!;
  for (const id of [a, b]) {
    await waitFor(() => item(id).title === `${label} parsed ${id}`, 30_000, `Plex title of scene ${id}`);
  }
  await waitFor(() => item(b).originallyAvailableAt === '2023-03-04', 30_000, `Plex date of scene ${b}`);
  for (const id of bulk) {
    const wanted = world.stash.scene(id)!;
    expect(wanted.tags.map((t) => t.name)).toContain(`${label} tag`);
    await waitFor(
      () =>
        JSON.stringify(item(id).genre) === JSON.stringify(wanted.tags.map((t) => t.name)) &&
        JSON.stringify(item(id).actor) === JSON.stringify([`${label} performer`]),
      30_000,
      `Plex genres and actors of scene ${id}`,
    );
  }
}

beforeAll(async () => {
  world = await startWorld({ scenes: 10, prefixName: 'saves', env: { SYNC_POSTER: 'false' } });
  pluginDir = mkdtempSync(join(tmpdir(), 's2p-saves-plugin-'));
  const port = await freePort();
  dashboardUrl = `http://127.0.0.1:${port}`;
  worker = startProcess(WORKER, world.env);
  dashboard = startProcess(DASHBOARD, { ...world.env, HOOK_TOKEN: TOKEN, DASHBOARD_PORT: String(port) });
  await waitFor(async () => (await fetch(`${dashboardUrl}/healthz`).catch(() => null))?.status === 200, 15_000, 'the dashboard process');
});
afterAll(async () => {
  await dashboard?.stop();
  await worker?.stop();
  await world?.stop();
  rmSync(pluginDir, { recursive: true, force: true });
});

describe('Stash scene saves → hook → Redis inbox → worker → Plex', () => {
  it('scenesUpdate (2 scenes) and bulkSceneUpdate (3 scenes) through the Node plugin process', async () => {
    world.stash.onHook = runNodeHook;
    await saveAndSee(['1', '2', '3', '4', '5'], 'Node');
  });

  it("scenesUpdate (2 scenes) and bulkSceneUpdate (3 scenes) through the dashboard's HTTP hook", async () => {
    world.stash.onHook = postHttpHook;
    await saveAndSee(['6', '7', '8', '9', '10'], 'HTTP');
  });

  // A scene's groups make its group collections (COLLECTION_SOURCES groups, the default): putting it in a
  // group is an edit Plex shows, from the scene's page (sceneUpdate `groups`) or the list's bulk edit
  // (bulkSceneUpdate `group_ids`, by mode).
  it("a scene put in a group (sceneUpdate groups, bulkSceneUpdate group_ids) joins the group's collection", async () => {
    world.stash.onHook = postHttpHook;
    const group = world.stash.addGroup('Saves saga');
    answers = [];
    await mutate(SCENE_UPDATE, { id: '1', groups: [{ group_id: group, scene_index: 1 }] });
    await mutate(BULK_SCENE_UPDATE, { ids: ['2', '3'], group_ids: { ids: [group], mode: 'ADD' } });
    expect(world.stash.hookFailures).toEqual([]);
    expect(answers).toEqual(['1', '2', '3'].map((id) => ({ id: Number(id), answer: { output: `queued scene ${id}` } })));
    const collection = () => world.plex.collection(world.plex.sections()[0].key, 'Saves saga');
    await waitFor(() => collection()?.childCount === 3, 30_000, "Plex's group collection with the three scenes");
    for (const id of ['1', '2', '3']) expect(world.plex.item(world.ratingKeyOf.get(id)!)!.collection).toContain('Saves saga');
    // Taken out of the group (the deprecated `movies`, empty): the collection loses the scene.
    await mutate(SCENE_UPDATE, { id: '1', movies: [] });
    await waitFor(() => collection()?.childCount === 2, 30_000, 'the collection without scene 1');
  });
});
