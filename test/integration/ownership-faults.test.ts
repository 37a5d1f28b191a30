// What the user had in Plex survives faults (issue: ownership that survives the network), through
// syncScene with both simulators and real Redis: a lost answer is not a person's edit, a locked field a
// person typed stays theirs, a field dropped from SYNC_FIELDS is released, a replaced item keeps what is
// stash2plex's, and a base-name match never crosses scenes (duplicates, stacked parts).
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/core/config.js';
import type { SyncError } from '../../src/core/errors.js';
import { keys, ownershipKey } from '../../src/core/redis.js';
import { ROUTES } from '../../src/sim/plex.js';
import { buildStatus } from '../../src/supervisor/status.js';
import { parseConflict } from '../../src/sync/claims.js';
import { syncScene, type SyncDeps } from '../../src/sync/processor.js';
import { testRedis } from '../helpers/redis.js';
import { worldSyncDeps } from '../helpers/sync-deps.js';
import { startWorld, type World } from '../helpers/world.js';

let world: World;
let redis: Redis;
let section: string;
let n = 0;

beforeAll(async () => {
  world = await startWorld({ scenes: 0, prefixName: 'ownf' });
  redis = testRedis();
  section = world.plex.sections()[0].key;
});
afterAll(async () => {
  redis.disconnect();
  await world.stop();
});

const k = () => keys(world.prefix);

const depsWith = (env: Record<string, string> = {}): SyncDeps => worldSyncDeps(world, redis, { SYNC_POSTER: 'false', ...env });

/** A scene with title and details, and the Plex item of its file as an agent left it. */
function pair(over: { folder?: string; name?: string; item?: boolean } = {}): { sceneId: string; ratingKey: string; file: string } {
  const name = over.name ?? `of-${++n}`;
  const folder = over.folder ?? 'ownf';
  const sceneId = world.stash.addScene({
    title: `Title ${name}`,
    details: `Details ${name}`,
    files: [`/stash/videos/${folder}/${name}.mp4`],
  });
  const file = `/plex/videos/${folder}/${name}.mp4`;
  const ratingKey =
    over.item === false
      ? ''
      : world.plex.addItem({ sectionKey: section, title: name, file, summary: 'Agent summary', genre: ['Agent Genre'] });
  return { sceneId, ratingKey, file };
}

/** A person's edit in Plex's UI: the value, locked (what Plex Web sends). */
const personSets = (ratingKey: string, field: string, value: string) =>
  world.plex.seedItem(ratingKey, { edit: new URLSearchParams({ [`${field}.value`]: value, [`${field}.locked`]: '1' }) });

const failure = (p: Promise<unknown>) =>
  p.then(
    () => null,
    (err: unknown) => err as SyncError,
  );

describe('an answer that was lost is not a user edit (PRESERVE_PLEX_EDITS=true)', () => {
  const deps = () => depsWith({ PRESERVE_PLEX_EDITS: 'true' });

  it('an edit Plex applied whose connection was cut: the retry owns it, and a later Stash change arrives', async () => {
    const { sceneId, ratingKey } = pair();
    await syncScene(sceneId, deps());
    world.stash.updateScene(sceneId, { title: 'Second' });
    world.plex.loseAnswers(1, 'cut');
    expect((await failure(syncScene(sceneId, deps())))?.type).toBe('PlexServerDown');
    expect(world.plex.item(ratingKey)!.title).toBe('Second'); // applied, unanswered
    expect(await syncScene(sceneId, deps())).not.toHaveProperty('preserved');
    world.stash.updateScene(sceneId, { title: 'Third' });
    expect(await syncScene(sceneId, deps())).not.toHaveProperty('preserved');
    expect(world.plex.item(ratingKey)!.title).toBe('Third');
  });

  it('the answer lost and Stash changed again before the retry: the intent recognises what Plex applied', async () => {
    const { sceneId, ratingKey } = pair();
    await syncScene(sceneId, deps());
    world.stash.updateScene(sceneId, { title: 'Second' });
    world.plex.loseAnswers(1, 502);
    expect((await failure(syncScene(sceneId, deps())))?.type).toBe('PlexTemporaryError');
    world.stash.updateScene(sceneId, { title: 'Third' });
    expect(await syncScene(sceneId, deps())).not.toHaveProperty('preserved');
    expect(world.plex.item(ratingKey)!.title).toBe('Third');
    // Settled: no intent is left behind.
    expect(Object.keys(await redis.hgetall(ownershipKey(k(), ratingKey))).filter((f) => f.endsWith(':intent'))).toEqual([]);
  });

  it('/:/rate failing after the PUT: the retry sends the rating, and the title change that went through is owned', async () => {
    const { sceneId, ratingKey } = pair();
    await syncScene(sceneId, deps());
    world.stash.updateScene(sceneId, { title: 'Rated', rating100: 60 });
    world.plex.loseAnswers(1, 502, ROUTES.rate);
    expect((await failure(syncScene(sceneId, deps())))?.type).toBe('PlexTemporaryError');
    expect(await syncScene(sceneId, deps())).not.toHaveProperty('preserved');
    world.stash.updateScene(sceneId, { title: 'Rated again' });
    await syncScene(sceneId, deps());
    expect(world.plex.item(ratingKey)).toMatchObject({ title: 'Rated again', userRating: 6 });
  });

  it("a person's own edit after a sync is still preserved", async () => {
    const { sceneId, ratingKey } = pair();
    await syncScene(sceneId, deps());
    personSets(ratingKey, 'title', 'Mine');
    world.stash.updateScene(sceneId, { title: 'From Stash' });
    expect(await syncScene(sceneId, deps())).toMatchObject({ preserved: ['title'] });
    expect(world.plex.item(ratingKey)!.title).toBe('Mine');
  });
});

describe('a locked field a person typed is theirs', () => {
  it('PRESERVE_PLEX_EDITS=true: a locked title stash2plex never set is not filled; the unlocked agent summary is', async () => {
    const { sceneId, ratingKey } = pair();
    personSets(ratingKey, 'title', 'Typed before stash2plex');
    const result = await syncScene(sceneId, depsWith({ PRESERVE_PLEX_EDITS: 'true' }));
    expect(result).toMatchObject({ preserved: ['title'] });
    expect(world.plex.item(ratingKey)).toMatchObject({ title: 'Typed before stash2plex', summary: `Details of-${n}` });
    expect(await redis.hexists(ownershipKey(k(), ratingKey), 'title')).toBe(0);
  });

  it('a field removed from SYNC_FIELDS has its lock released, once', async () => {
    const { sceneId, ratingKey } = pair();
    await syncScene(sceneId, depsWith());
    expect(world.plex.item(ratingKey)!.locked).toContain('summary');
    const titleOnly = depsWith({ SYNC_FIELDS: 'title' });
    world.plex.resetCounters();
    await syncScene(sceneId, titleOnly);
    expect(world.plex.item(ratingKey)!.locked).toEqual(['title']);
    expect(world.plex.item(ratingKey)!.summary).toBe(`Details of-${n}`); // the value stays; only the lock goes
    expect(Object.keys(await redis.hgetall(ownershipKey(k(), ratingKey)))).toEqual(['title']);
    world.plex.resetCounters();
    await syncScene(sceneId, titleOnly);
    expect(world.plex.editCount()).toBe(0);
  });
});

describe('a replaced item (a new ratingKey for the same file)', () => {
  // Guards the locked-field rule below: without the carried record, stash2plex's own locked values on the
  // new item would read as a person's and freeze.
  it("the record carries over: stash2plex's locked values on the new item are recognised, and Stash changes arrive", async () => {
    const deps = depsWith({ PRESERVE_PLEX_EDITS: 'true' });
    const { sceneId, ratingKey, file } = pair();
    await syncScene(sceneId, deps);
    const was = world.plex.item(ratingKey)!;
    // Plex re-creates the item of that file, keeping its locked metadata (as a refresh of a moved bundle can).
    world.plex.removeItem(ratingKey);
    const fresh = world.plex.addItem({
      sectionKey: section,
      title: was.title,
      file,
      summary: was.summary,
      contentRating: was.contentRating,
      locked: was.locked,
    });
    world.stash.updateScene(sceneId, { title: 'After the replacement' });
    expect(await syncScene(sceneId, deps)).not.toHaveProperty('preserved');
    expect(world.plex.item(fresh)!.title).toBe('After the replacement');
    expect(await redis.exists(ownershipKey(k(), ratingKey))).toBe(0);
  });

  it('a single 404 of the cached item, while its section does not answer, forgets nothing', async () => {
    const deps = depsWith({ PRESERVE_PLEX_EDITS: 'true' });
    const { sceneId, ratingKey } = pair();
    await syncScene(sceneId, deps);
    const record = await redis.hgetall(ownershipKey(k(), ratingKey));
    await world.plex.setMode('proxy404');
    try {
      expect((await failure(syncScene(sceneId, deps)))?.type).toBe('PlexTemporaryError');
    } finally {
      await world.plex.setMode('up');
    }
    expect(await redis.hgetall(ownershipKey(k(), ratingKey))).toEqual(record);
    expect(await redis.hget(k().plexPathCache, `/plex/videos/ownf/of-${n}.mp4`)).toBe(ratingKey);
  });
});

describe('the base-name fallback never crosses scenes', () => {
  it('two Stash files of one name and size, only one in Plex: the other scene is refused, reported, and never written', async () => {
    // Plex holds a/dup.mp4 only; Stash has a/dup.mp4 (scene A) and b/dup.mp4 (scene B), the same size.
    const a = pair({ folder: 'dupa', name: 'dup' });
    const b = pair({ folder: 'dupb', name: 'dup', item: false });
    const deps = depsWith();
    // B first: its file is not in Plex; the fallback finds A's item, and Stash says A has such a file.
    const first = await syncScene(b.sceneId, deps);
    expect(first).toMatchObject({ skipped: expect.stringMatching(new RegExp(`scene ${a.sceneId} .*same name and size`)) as string });
    expect(world.plex.item(a.ratingKey)).toMatchObject({ title: 'dup', summary: 'Agent summary' });
    expect(parseConflict(await redis.hget(k().plexConflicts, b.sceneId))).toMatchObject({
      kind: 'duplicate',
      otherScenes: [a.sceneId],
      ratingKey: a.ratingKey,
    });
    // GET /api/status reports it (and so the status page and Health Check).
    const status = await buildStatus({ redis, keys: k(), queues: [], config: parseConfig(world.env), now: Date.now() });
    expect(status.matching!.conflicts.recent.map((c) => c.sceneId)).toContain(b.sceneId);
    // A by its exact path: synced.
    expect(await syncScene(a.sceneId, deps)).toMatchObject({ ratingKey: a.ratingKey, editRequests: 1 });
    expect(world.plex.item(a.ratingKey)).toMatchObject({ title: 'Title dup' });
    // B again (its fallback match is not cached): still refused, A's values stay.
    world.plex.resetCounters();
    expect(await syncScene(b.sceneId, deps)).toHaveProperty('skipped');
    expect(world.plex.editCount()).toBe(0);
    expect(parseConflict(await redis.hget(k().plexConflicts, a.sceneId))).toBeNull();
  });

  it('a fallback match onto an item another scene matched by path is refused even when Stash finds no duplicate', async () => {
    const a = pair({ folder: 'clm', name: 'claimed' });
    const deps = depsWith();
    await syncScene(a.sceneId, deps);
    // Stash no longer has another file of that name (A's was renamed in Stash after A was matched): only
    // A's claim on the item can refuse C.
    world.stash.updateScene(a.sceneId, { files: ['/stash/videos/clm/renamed.mp4'] });
    const c = world.stash.addScene({ title: 'C', details: 'C', files: ['/stash/videos/elsewhere/claimed.mp4'] });
    expect(await syncScene(c, deps)).toMatchObject({
      skipped: expect.stringMatching(new RegExp(`belongs to scene ${a.sceneId}`)) as string,
    });
    expect(world.plex.item(a.ratingKey)!.title).toBe('Title claimed');
  });

  it("Plex stacking two scenes' files into one item (-pt1/-pt2): neither is synced, both are reported", async () => {
    const p1 = world.stash.addScene({ title: 'Part one', details: 'One', files: ['/stash/videos/stack/movie-pt1.mp4'] });
    const p2 = world.stash.addScene({ title: 'Part two', details: 'Two', files: ['/stash/videos/stack/movie-pt2.mp4'] });
    const item = world.plex.addItem({
      sectionKey: section,
      title: 'movie',
      file: '/plex/videos/stack/movie-pt1.mp4',
      extraFiles: ['/plex/videos/stack/movie-pt2.mp4'],
    });
    const deps = depsWith();
    world.plex.resetCounters();
    for (const [self, other] of [
      [p1, p2],
      [p2, p1],
    ] as const) {
      expect(await syncScene(self, deps)).toMatchObject({
        skipped: expect.stringMatching(new RegExp(`stacks .*scene ${other}.*Split Apart`)) as string,
      });
      expect(parseConflict(await redis.hget(k().plexConflicts, self))).toMatchObject({ kind: 'stacked', otherScenes: [other] });
    }
    expect(world.plex.editCount()).toBe(0);
    expect(world.plex.item(item)!.title).toBe('movie');
  });

  it('one scene holding both parts of a stacked item is synced as usual', async () => {
    const sceneId = world.stash.addScene({
      title: 'Both parts',
      details: 'Both',
      files: ['/stash/videos/both/film-pt1.mp4', '/stash/videos/both/film-pt2.mp4'],
    });
    const item = world.plex.addItem({
      sectionKey: section,
      title: 'film',
      file: '/plex/videos/both/film-pt1.mp4',
      extraFiles: ['/plex/videos/both/film-pt2.mp4'],
    });
    expect(await syncScene(sceneId, depsWith())).toMatchObject({ ratingKey: item, editRequests: 1 });
    expect(world.plex.item(item)!.title).toBe('Both parts');
  });
});
