// The Stash simulator's scene saves over real HTTP, against Stash's real schema: sceneUpdate,
// scenesUpdate and bulkSceneUpdate change the library as Stash does, and each saved scene's hook gets
// the hookContext Stash builds (test/helpers/stash-scene-hooks.ts), one after the other, before the
// mutation answers.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { StashSimulator, type StashHookContext } from '../../src/sim/stash.js';
import { bulkSceneUpdateHooks, scanUpdateHook, sceneUpdateHook, scenesUpdateHooks } from '../helpers/stash-scene-hooks.js';

const KEY = 'sim-hooks-key';
let sim: StashSimulator;
let seen: StashHookContext[];
let ids: { scenes: string[]; tag: string; otherTag: string; performer: string; otherPerformer: string; studio: string };

async function gql(query: string, variables: Record<string, unknown>) {
  const res = await fetch(`${sim.url}/graphql`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ApiKey: KEY },
    body: JSON.stringify({ query, variables }),
  });
  return { status: res.status, body: (await res.json()) as { data?: Record<string, unknown>; errors?: { message: string }[] } };
}

beforeAll(async () => {
  sim = await StashSimulator.start({ apiKey: KEY });
  expect(sim.schemaSource).toBe('reference');
  const tag = sim.addTag('tag-a');
  const otherTag = sim.addTag('tag-b');
  const performer = sim.addPerformer('Ann');
  const otherPerformer = sim.addPerformer('Bea');
  const studio = sim.addStudio('Studio S');
  const scenes = [1, 2, 3, 4, 5].map((i) => sim.addScene({ title: `Scene ${i}`, tag_ids: [otherTag], performer_ids: [otherPerformer] }));
  ids = { scenes, tag, otherTag, performer, otherPerformer, studio };
});
afterAll(() => sim.stop());
beforeEach(() => {
  seen = [];
  sim.onHook = (ctx) => {
    // A hook sees the save done: Stash runs it after the transaction.
    expect(sim.scene(String(ctx.id))).not.toBeNull();
    seen.push(structuredClone(ctx));
  };
  sim.hookFailures.length = 0;
});

describe('StashSimulator scene saves fire Scene.Update.Post as Stash does', () => {
  it('sceneUpdate: one hook, the full SceneUpdateInput (nulls included), strings trimmed in the library', async () => {
    const [a] = ids.scenes.map(Number);
    const r = await gql('mutation Save($input: SceneUpdateInput!) { sceneUpdate(input: $input) { id title } }', {
      input: { id: String(a), title: '  Renamed ' },
    });
    expect(r.body).toEqual({ data: { sceneUpdate: { id: String(a), title: 'Renamed' } } });
    expect(seen).toEqual([sceneUpdateHook(a, '  Renamed ')]);
    expect(sim.hookFailures).toEqual([]);
  });

  it("scenesUpdate: a hook per scene, in turn, each with every scene's input and its own fields", async () => {
    const [a, b] = ids.scenes.map(Number);
    const before = sim.scene(String(a))!.updated_at;
    const r = await gql('mutation Parse($input: [SceneUpdateInput!]!) { scenesUpdate(input: $input) { id title date tags { id } } }', {
      input: [
        { id: String(a), title: 'Parsed', date: '2024-05-06' },
        { id: String(b), tag_ids: [ids.tag] },
      ],
    });
    expect(r.body.errors).toBeUndefined();
    expect(r.body.data!.scenesUpdate).toEqual([
      { id: String(a), title: 'Parsed', date: '2024-05-06', tags: [{ id: ids.otherTag }] },
      { id: String(b), title: 'Scene 2', date: null, tags: [{ id: ids.tag }] },
    ]);
    expect(seen).toEqual(scenesUpdateHooks(a, b, { title: 'Parsed', date: '2024-05-06', tag: ids.tag }));
    expect(sim.scene(String(a))!.updated_at >= before).toBe(true);
    expect(sim.hookFailures).toEqual([]);
  });

  it('bulkSceneUpdate: a hook per scene of ids, each with the one input (only the fields given); relations by mode', async () => {
    const three = ids.scenes.slice(2).map(Number);
    const r = await gql(
      'mutation Bulk($input: BulkSceneUpdateInput!) { bulkSceneUpdate(input: $input) { id tags { id } performers { id } } }',
      {
        input: { ids: three.map(String), performer_ids: { ids: [ids.performer], mode: 'SET' }, tag_ids: { ids: [ids.tag], mode: 'ADD' } },
      },
    );
    expect(r.body.errors).toBeUndefined();
    expect(r.body.data!.bulkSceneUpdate).toEqual(
      three.map((id) => ({ id: String(id), tags: [{ id: ids.otherTag }, { id: ids.tag }], performers: [{ id: ids.performer }] })),
    );
    expect(seen).toEqual(bulkSceneUpdateHooks(three, { performer: ids.performer, tag: ids.tag }));
    // REMOVE, a SET without ids (clears), and a field given null: `{mode}` alone, the null field
    // left out of input but named in inputFields.
    seen = [];
    const again = await gql(
      'mutation Bulk($input: BulkSceneUpdateInput!) { bulkSceneUpdate(input: $input) { id tags { id } performers { id } } }',
      {
        input: {
          ids: [String(three[0])],
          tag_ids: { ids: [ids.otherTag], mode: 'REMOVE' },
          performer_ids: { mode: 'SET' },
          studio_id: null,
        },
      },
    );
    expect(again.body.data!.bulkSceneUpdate).toEqual([{ id: String(three[0]), tags: [{ id: ids.tag }], performers: [] }]);
    expect(seen).toEqual([
      {
        id: three[0],
        type: 'Scene.Update.Post',
        input: { ids: [String(three[0])], performer_ids: { mode: 'SET' }, tag_ids: { ids: [ids.otherTag], mode: 'REMOVE' } },
        inputFields: ['ids', 'studio_id', 'performer_ids', 'tag_ids'],
      },
    ]);
    expect(sim.hookFailures).toEqual([]);
  });

  it('a save that fails changes nothing and fires no hook; a failing hook does not undo the save', async () => {
    const [a] = ids.scenes;
    const bad = await gql('mutation Parse($input: [SceneUpdateInput!]!) { scenesUpdate(input: $input) { id } }', {
      input: [
        { id: a, title: 'Never' },
        { id: '999', title: 'No such scene' },
      ],
    });
    expect(bad.body.errors?.[0]?.message).toMatch(/scene with id 999 not found/);
    expect(sim.scene(a)!.title).not.toBe('Never');
    expect(seen).toEqual([]);
    sim.onHook = () => {
      throw new Error('plugin exited 1');
    };
    const r = await gql('mutation Save($input: SceneUpdateInput!) { sceneUpdate(input: $input) { title } }', {
      input: { id: a, title: 'Kept' },
    });
    expect(r.body).toEqual({ data: { sceneUpdate: { title: 'Kept' } } });
    expect(sim.hookFailures).toEqual([{ hookContext: expect.objectContaining({ id: Number(a) }) as object, error: 'plugin exited 1' }]);
  });

  it("a scan that finds a file moved: the file's path (same id, size), updated_at untouched, one Scene.Update.Post without input", async () => {
    const [, , , d] = ids.scenes;
    const before = sim.scene(d)!;
    const [file] = sim.filesOf(d);
    await sim.scanMovedFile(d, '/data/elsewhere/renamed.mp4');
    expect(seen).toEqual([scanUpdateHook(Number(d))]);
    // As it reaches a plugin: `"input":null` present, no inputFields.
    expect(JSON.stringify(seen[0])).toBe(`{"id":${d},"type":"Scene.Update.Post","input":null}`);
    expect(sim.filesOf(d)).toEqual([{ ...file, path: '/data/elsewhere/renamed.mp4' }]);
    const after = sim.scene(d)!;
    expect(after.updated_at).toBe(before.updated_at);
    expect(after.files[0]).toMatchObject({ path: '/data/elsewhere/renamed.mp4', basename: 'renamed.mp4', size: before.files[0].size });
  });

  it('moveFiles: new paths (into a folder, or one file renamed), no hook, updated_at untouched; a bad move changes nothing', async () => {
    const [, , , , e] = ids.scenes;
    const before = sim.scene(e)!;
    const [file] = sim.filesOf(e);
    const move = (input: Record<string, unknown>) => gql('mutation Move($input: MoveFilesInput!) { moveFiles(input: $input) }', { input });
    expect((await move({ ids: [file.id], destination_folder: '/data/moved/' })).body).toEqual({ data: { moveFiles: true } });
    expect(sim.filesOf(e)[0].path).toBe(`/data/moved/${file.path.split('/').pop()}`);
    expect((await move({ ids: [file.id], destination_folder: '/data/moved', destination_basename: 'new-name.mp4' })).body).toEqual({
      data: { moveFiles: true },
    });
    expect(sim.filesOf(e)[0].path).toBe('/data/moved/new-name.mp4');
    expect(seen).toEqual([]);
    expect(sim.scene(e)!.updated_at).toBe(before.updated_at);
    const other = sim.filesOf(ids.scenes[0])[0];
    expect((await move({ ids: ['999999'], destination_folder: '/data/x' })).body.errors?.[0]?.message).toMatch(
      /file with id 999999 not found/,
    );
    expect(
      (
        await move({
          ids: [file.id],
          destination_folder: other.path.replace(/\/[^/]*$/, ''),
          destination_basename: other.path.split('/').pop(),
        })
      ).body.errors?.[0]?.message,
    ).toMatch(/already exists/);
    expect((await move({ ids: [file.id], destination_folder_id: '3' })).body.errors?.[0]?.message).toMatch(/not simulated/);
    expect(sim.filesOf(e)[0].path).toBe('/data/moved/new-name.mp4');
  });

  it('without onHook the saves still change the library', async () => {
    sim.onHook = null;
    const [, b] = ids.scenes;
    const r = await gql('mutation Save($input: SceneUpdateInput!) { sceneUpdate(input: $input) { details } }', {
      input: { id: b, details: 'Plain save' },
    });
    expect(r.body).toEqual({ data: { sceneUpdate: { details: 'Plain save' } } });
  });
});
