// A scene's Plex collections through syncScene, with both simulators and real Redis (issue 24,
// collections): a group's collection gets the group's front cover and synopsis, follows their changes and
// the group's rename, loses a member that left the group, and with COLLECTION_PRUNE is deleted only when
// stash2plex created it; a studio's and a tag's collection show their image and text; PRESERVE_PLEX_EDITS
// keeps a summary someone edited in Plex. An unchanged pass costs no collection request.
import type { Redis } from 'ioredis';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keys } from '../../src/core/redis.js';
import { StashSimulator } from '../../src/sim/stash.js';
import { StashClient } from '../../src/stash-api/client.js';
import { decideHook } from '../../src/hook/decide.js';
import { explainScene } from '../../src/explain/explain.js';
import { syncScene as syncAny, type SyncDeps, type SyncedResult } from '../../src/sync/processor.js';
import { testRedis } from '../helpers/redis.js';
import { worldSyncDeps } from '../helpers/sync-deps.js';
import { PLEX_TOKEN, startWorld, type World } from '../helpers/world.js';

let world: World;
let redis: Redis;

const cover = (colour: number, width = 400, height = 600) =>
  sharp({ create: { width, height, channels: 3, background: { r: colour, g: 90, b: 255 - colour } } })
    .jpeg()
    .toBuffer();
const sha256 = async (bytes: Buffer) => (await import('node:crypto')).createHash('sha256').update(bytes).digest('hex');

/** Stash's clock behind ours, moved on 3 s per change: each `?t=` is new and settled (ownership.screenshotVersion). */
let skewMs = -300_000;
const later = () => {
  skewMs += 3_000;
  world.stash.setClockSkewMs(skewMs);
};

beforeAll(async () => {
  world = await startWorld({ scenes: 0, prefixName: 'collections' });
  redis = testRedis();
  world.stash.setClockSkewMs(skewMs);
});
afterAll(async () => {
  redis?.disconnect();
  await world?.stop();
});

function depsWith(env: Record<string, string> = {}): SyncDeps {
  const deps = worldSyncDeps(world, redis, { SYNC_FIELDS: 'title,collection', ...env });
  return { ...deps, collections: { plex: deps.plex, keys: keys(world.prefix) } };
}

const syncScene = async (id: string, d: SyncDeps) => (await syncAny(id, d)) as SyncedResult;
const section = () => world.plex.sections()[0].key;
const collectionRequests = () =>
  world.plex.count((r) => /type=18/.test(r.path) || (r.route === '/library/metadata/:key' && r.method === 'DELETE'));
const imageReads = () => world.stash.count((r) => ['group-image', 'collection-image'].includes(r.operationName ?? ''));

describe('group collections (COLLECTION_SOURCES groups, the default)', () => {
  it("created with the group's cover and synopsis; changed with them; renamed with the group; unchanged costs nothing", async () => {
    const deps = depsWith();
    const front = await cover(10);
    const group = world.stash.addGroup('Saga', { bytes: front, contentType: 'image/jpeg' }, 'Part one of three.');
    const a = world.addScene(201);
    const b = world.addScene(202);
    world.stash.updateScene(a, { group_ids: [group] });
    world.stash.updateScene(b, { group_ids: [group] });
    await syncScene(a, deps);
    await syncScene(b, deps);
    expect(world.plex.item(world.ratingKeyOf.get(a)!)!.collection).toEqual(['Saga']);
    const saga = world.plex.collection(section(), 'Saga')!;
    expect(saga).toMatchObject({ summary: 'Part one of three.', childCount: 2, locked: ['summary', 'thumb'] });
    expect(saga.poster?.sha256).toBe(await sha256(front)); // a JPEG goes up as it is

    // Unchanged: no collection request, no image read.
    const [requests, reads] = [collectionRequests(), imageReads()];
    expect(await syncScene(a, deps)).toMatchObject({ editRequests: 0 });
    expect([collectionRequests(), imageReads()]).toEqual([requests, reads]);

    // Changed: a new synopsis and a new cover.
    later();
    world.stash.updateGroup(group, { synopsis: 'Part one of four.' });
    const next = await cover(200);
    world.stash.setGroupFrontImage(group, { bytes: next, contentType: 'image/jpeg' });
    await syncScene(a, deps);
    expect(world.plex.collection(section(), 'Saga')).toMatchObject({
      summary: 'Part one of four.',
      poster: { sha256: await sha256(next) },
    });

    // Renamed: the collection itself takes the new name (same ratingKey, artwork kept), every member with it.
    later();
    world.stash.updateGroup(group, { name: 'Saga Redux' });
    await syncScene(a, deps);
    const redux = world.plex.collection(section(), 'Saga Redux')!;
    expect(redux).toMatchObject({ ratingKey: saga.ratingKey, childCount: 2, summary: 'Part one of four.' });
    expect(world.plex.collection(section(), 'Saga')).toBeUndefined();
    expect(world.plex.item(world.ratingKeyOf.get(b)!)!.collection).toEqual(['Saga Redux']);
    expect(await syncScene(b, deps)).toMatchObject({ editRequests: 0 });
  });

  it('cleared: a scene that left its group leaves the collection; COLLECTION_PRUNE deletes only a collection stash2plex created', async () => {
    const prune = depsWith({ COLLECTION_PRUNE: 'true' });
    const ours = world.stash.addGroup('Ours', null, 'made by stash2plex');
    const a = world.addScene(211);
    world.stash.updateScene(a, { group_ids: [ours] });
    await syncScene(a, prune);
    expect(world.plex.collection(section(), 'Ours')).toMatchObject({ childCount: 1, summary: 'made by stash2plex', poster: null });

    // A collection that was in Plex before stash2plex added a member: not stash2plex's to delete.
    const theirs = world.stash.addGroup('Theirs');
    const b = world.addScene(212);
    const c = world.addScene(213);
    // c is made a member in Plex: the collection exists before stash2plex adds b.
    world.plex.seedItem(world.ratingKeyOf.get(c)!, { edit: new URLSearchParams({ 'collection[0].tag.tag': 'Theirs' }) });
    world.stash.updateScene(b, { group_ids: [theirs] });
    await syncScene(b, prune);
    world.plex.seedItem(world.ratingKeyOf.get(c)!, { edit: new URLSearchParams({ 'collection[].tag.tag-': 'Theirs' }) });
    expect(world.plex.collection(section(), 'Theirs')).toMatchObject({ childCount: 1 });

    world.stash.updateScene(a, { group_ids: [] });
    world.stash.updateScene(b, { group_ids: [] });
    await syncScene(a, prune);
    await syncScene(b, prune);
    expect(world.plex.item(world.ratingKeyOf.get(a)!)!.collection).toEqual([]);
    expect(world.plex.item(world.ratingKeyOf.get(b)!)!.collection).toEqual([]);
    expect(world.plex.collection(section(), 'Ours')).toBeUndefined();
    expect(world.plex.collection(section(), 'Theirs')).toMatchObject({ childCount: 0 });

    // Without COLLECTION_PRUNE an empty collection stays, as Plex keeps it.
    const kept = world.stash.addGroup('Kept');
    const d = world.addScene(214);
    world.stash.updateScene(d, { group_ids: [kept] });
    await syncScene(d, depsWith());
    world.stash.updateScene(d, { group_ids: [] });
    await syncScene(d, depsWith());
    expect(world.plex.collection(section(), 'Kept')).toMatchObject({ childCount: 0 });
  });

  it('PRESERVE_PLEX_EDITS keeps a summary edited in Plex; without it Stash wins again', async () => {
    const group = world.stash.addGroup('Edited', null, 'from Stash');
    const a = world.addScene(221);
    world.stash.updateScene(a, { group_ids: [group] });
    await syncScene(a, depsWith({ PRESERVE_PLEX_EDITS: 'true' }));
    const rk = world.plex.collection(section(), 'Edited')!.ratingKey;
    world.plex.editCollectionAsUser(rk, { summary: 'my own words' });
    later();
    world.stash.updateGroup(group, { synopsis: 'from Stash, changed' });
    await syncScene(a, depsWith({ PRESERVE_PLEX_EDITS: 'true' }));
    expect(world.plex.collection(section(), 'Edited')!.summary).toBe('my own words');
    later();
    world.stash.updateGroup(group, { synopsis: 'from Stash, again' });
    await syncScene(a, depsWith());
    expect(world.plex.collection(section(), 'Edited')!.summary).toBe('from Stash, again');
  });
});

describe('collections made by hand in Plex', () => {
  it('stay on an item in SYNC_MODE=mirror, while the group collections stash2plex synced come and go', async () => {
    const deps = depsWith();
    const group = world.stash.addGroup('Heist', null, 'a heist');
    const a = world.addScene(241);
    world.stash.updateScene(a, { group_ids: [group] });
    await syncScene(a, deps);
    const rk = world.ratingKeyOf.get(a)!;
    expect(world.plex.item(rk)!.collection).toEqual(['Heist']);
    // A person adds the item to a collection of their own in Plex Web (the whole list, as Plex Web sends it).
    const query = new URLSearchParams({ type: '1', id: rk, 'collection[0].tag.tag': 'Heist', 'collection[1].tag.tag': 'My Favourites' });
    const res = await fetch(`${world.plex.url}/library/sections/${section()}/all?${query}`, {
      method: 'PUT',
      headers: { 'X-Plex-Token': PLEX_TOKEN },
    });
    expect(res.status).toBe(200);
    expect([...world.plex.item(rk)!.collection].sort()).toEqual(['Heist', 'My Favourites']);
    await syncScene(a, deps);
    expect([...world.plex.item(rk)!.collection].sort()).toEqual(['Heist', 'My Favourites']);
    // The scene leaves the group: its collection goes, the person's stays.
    world.stash.updateScene(a, { group_ids: [] });
    await syncScene(a, deps);
    expect(world.plex.item(rk)!.collection).toEqual(['My Favourites']);

    // Explain judges as the sync does: nothing left to do, nothing recorded.
    const looked = { ...deps, keys: keys(world.prefix), matching: { scanMissing: false, notFound: 'retry' as const } };
    const before = await redis.smembers(keys(world.prefix).plexCollectionTitles);
    const explained = await explainScene(looked, a);
    expect(explained.fields.find((f) => f.field === 'collection')).toMatchObject({ action: 'keep' });
    expect(explained.next).toMatch(/^nothing to send/);
    expect(await redis.smembers(keys(world.prefix).plexCollectionTitles)).toEqual(before);
  });
});

describe('studio and tag collections', () => {
  it("a studio's collection shows its image and details; a tag's its image and description", async () => {
    const deps = depsWith({ COLLECTION_SOURCES: 'studio', COLLECTION_TAGS: '*', COLLECTION_TAG_PARENT: 'Series' });
    const logo = await cover(60, 600, 300);
    const studio = world.stash.addStudio('Big Studio');
    world.stash.updateNamed('studio', studio, { text: 'A big studio.', image: { bytes: logo, contentType: 'image/jpeg' } });
    const parent = world.stash.addTag('Series');
    const series = world.stash.addTag('Series One');
    const badge = await cover(120, 300, 300);
    world.stash.updateNamed('tag', series, {
      text: 'The first series.',
      image: { bytes: badge, contentType: 'image/jpeg' },
      parentIds: [parent],
    });
    const plain = world.stash.addTag('Plain');
    const a = world.addScene(231);
    world.stash.updateScene(a, { studio_id: studio, tag_ids: [series, plain] });
    await syncScene(a, deps);
    expect(world.plex.item(world.ratingKeyOf.get(a)!)!.collection).toEqual(['Big Studio', 'Series One']);
    expect(world.plex.collection(section(), 'Big Studio')).toMatchObject({
      summary: 'A big studio.',
      poster: { sha256: await sha256(logo) },
    });
    expect(world.plex.collection(section(), 'Series One')).toMatchObject({
      summary: 'The first series.',
      poster: { sha256: await sha256(badge) },
    });
    expect(world.plex.collection(section(), 'Plain')).toBeUndefined();
  });
});

describe('parent studio and named tag collections (COLLECTION_SOURCES parentstudio, COLLECTION_TAGS names)', () => {
  it('synced, changed with the scene, cleared when the scene leaves them', async () => {
    const deps = depsWith({ COLLECTION_SOURCES: 'parentstudio', COLLECTION_TAGS: 'Featured,Classics' });
    const network = world.stash.addStudio('The Network');
    const label = world.stash.addStudio('A Label', network);
    const other = world.stash.addStudio('Other Network');
    const otherLabel = world.stash.addStudio('Other Label', other);
    const [featured, classics, plain] = [world.stash.addTag('Featured'), world.stash.addTag('Classics'), world.stash.addTag('Plain Tag')];
    const a = world.addScene(271);
    const collectionsOf = () => [...world.plex.item(world.ratingKeyOf.get(a)!)!.collection].sort();
    world.stash.updateScene(a, { studio_id: label, tag_ids: [featured, plain] });
    await syncScene(a, deps);
    // The parent studio, not the studio itself; only the tags named.
    expect(collectionsOf()).toEqual(['Featured', 'The Network']);
    later();
    world.stash.updateScene(a, { studio_id: otherLabel, tag_ids: [classics] });
    await syncScene(a, deps);
    expect(collectionsOf()).toEqual(['Classics', 'Other Network']);
    later();
    world.stash.updateScene(a, { studio_id: null, tag_ids: [plain] });
    await syncScene(a, deps);
    expect(collectionsOf()).toEqual([]);
    expect(world.plex.collection(section(), 'The Network')).toMatchObject({ childCount: 0 });
  });
});

describe('performer collections (COLLECTION_PERFORMERS_MIN)', () => {
  it('a performer in at least that many scenes has a collection; one who drops below leaves it; 0 turns them off', async () => {
    const deps = depsWith({ COLLECTION_SOURCES: 'groups', COLLECTION_PERFORMERS_MIN: '2' });
    const [pia, quinn] = [world.stash.addPerformer('Pia Many'), world.stash.addPerformer('Quinn Once')];
    const [a, b, c] = [world.addScene(261), world.addScene(262), world.addScene(263)];
    world.stash.updateScene(a, { performer_ids: [pia, quinn] });
    world.stash.updateScene(b, { performer_ids: [pia] });
    const collectionsOf = (id: string) => world.plex.item(world.ratingKeyOf.get(id)!)!.collection;
    await syncScene(a, deps);
    expect(collectionsOf(a)).toEqual(['Pia Many']);
    expect(world.plex.collection(section(), 'Pia Many')).toMatchObject({ childCount: 1 });

    // Changed: Quinn's second scene makes Quinn's collection, on the next sync of each scene.
    world.stash.updateScene(c, { performer_ids: [quinn] });
    await syncScene(c, deps);
    later();
    world.stash.updateScene(a, { title: 'a, again' });
    await syncScene(a, deps);
    expect(collectionsOf(c)).toEqual(['Quinn Once']);
    expect(collectionsOf(a)).toEqual(['Pia Many', 'Quinn Once']);

    // Cleared: Pia leaves b, so Pia is in one scene, below the minimum: a leaves Pia's collection.
    later();
    world.stash.updateScene(b, { performer_ids: [] });
    world.stash.updateScene(a, { title: 'a, once more' });
    await syncScene(a, deps);
    expect(collectionsOf(a)).toEqual(['Quinn Once']);

    // COLLECTION_PERFORMERS_MIN=0 (the default): no performer collection, and the counts are not read.
    later();
    world.stash.updateScene(a, { title: 'a, off' });
    await syncScene(a, depsWith({ COLLECTION_SOURCES: 'groups' }));
    expect(collectionsOf(a)).toEqual([]);
  });
});

describe('a renamed group fans out to its scenes (Group.Update.Post; Movie.Update.Post before Stash v0.27.0)', () => {
  const all = async (gen: AsyncGenerator<string[]>) => {
    const out: string[] = [];
    for await (const ids of gen) out.push(...ids);
    return out;
  };

  it("the hook's rename is a group fan-out, and the group's scenes are found on a current Stash and, as movies, on v0.24", async () => {
    const hook = (type: string) =>
      decideHook(
        { server_connection: {}, args: { hookContext: { id: 5, type, input: { id: '5', name: 'New' }, inputFields: ['id', 'name'] } } },
        1,
      );
    expect(hook('Group.Update.Post')).toMatchObject({ action: 'fanout', event: { relation: 'group', id: '5' } });
    expect(hook('Movie.Update.Post')).toMatchObject({ action: 'fanout', event: { relation: 'group', id: '5' } });

    for (const version of [undefined, 'v0.24.3']) {
      const sim = await StashSimulator.start({ ...(version ? { version } : {}) });
      try {
        const group = sim.addGroup('G', null, 'synopsis');
        const [a, , c] = [sim.addScene(), sim.addScene(), sim.addScene()];
        sim.updateScene(a, { group_ids: [group] });
        sim.updateScene(c, { group_ids: [group] });
        const client = new StashClient({ url: sim.url });
        expect(await all(client.sceneIdsWith('group', group))).toEqual([a, c]);
        // The scene itself reads its group either way (movies before v0.27.0).
        expect((await client.findScene(a))!.groups).toEqual([
          {
            id: group,
            name: 'G',
            synopsis: 'synopsis',
            front_image_path: expect.stringMatching(/\/group\/\d+\/frontimage\?t=\d+&default=true$/) as string,
          },
        ]);
        expect(sim.requests.some((r) => r.operationName === 'FindScenesByMovie')).toBe(version !== undefined);
      } finally {
        await sim.stop();
      }
    }
  });
});
