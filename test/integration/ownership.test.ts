// Safe on a real library (issue 13), through syncScene with both simulators and real Redis: the quality
// gate, the ownership record (a field stash2plex set follows Stash; one it never set is never blanked),
// PRESERVE_PLEX_EDITS and SYNC_FIELDS.
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keys, ownershipKey } from '../../src/core/redis.js';
import { syncScene, type SyncDeps } from '../../src/sync/processor.js';
import { migrateLegacyPosterHashes } from '../../src/sync/ownership-store.js';
import { testRedis } from '../helpers/redis.js';
import { worldSyncDeps } from '../helpers/sync-deps.js';
import { startWorld, type World } from '../helpers/world.js';

let world: World;
let redis: Redis;
let section: string;
let n = 0;

beforeAll(async () => {
  world = await startWorld({ scenes: 0, prefixName: 'own' });
  redis = testRedis();
  section = world.plex.sections()[0].key;
});
afterAll(async () => {
  redis.disconnect();
  await world.stop();
});

/** syncScene's dependencies under the world's settings plus `env`. */
const depsWith = (env: Record<string, string> = {}): SyncDeps => worldSyncDeps(world, redis, env);

const AGENT_POSTER = { bytes: Buffer.from([0xff, 0xd8, 0xff, 0xe0, 9, 9, 9]), contentType: 'image/jpeg' };

/**
 * A file Plex's agent has matched (summary, genres, a user rating, a poster; nothing locked) and the
 * Stash scene of that file, only just scanned: no title, no metadata, no cover generated yet (Stash
 * serves its placeholder).
 */
function scannedPair(): { sceneId: string; ratingKey: string } {
  const name = `scanned-${++n}`;
  const sceneId = world.stash.addScene({ files: [`/stash/videos/own/${name}.mp4`] });
  world.stash.removeCover(sceneId);
  const ratingKey = world.plex.addItem({
    sectionKey: section,
    title: 'The Agent Title',
    file: `/plex/videos/own/${name}.mp4`,
    summary: 'What the agent found',
    genre: ['Agent Genre'],
    userRating: 7,
    poster: AGENT_POSTER,
  });
  return { sceneId, ratingKey };
}

/** A scene with every field, and its Plex item as scanned. */
function fullPair(): { sceneId: string; ratingKey: string } {
  const name = `full-${++n}`;
  const sceneId = world.stash.addScene({
    title: `Title ${n}`,
    details: `Details ${n}`,
    date: '2024-03-01',
    rating100: 80,
    studio_id: world.stash.addStudio('Own Studio'),
    performer_ids: [world.stash.addPerformer('Own Performer')],
    tag_ids: [world.stash.addTag('own-tag')],
    files: [`/stash/videos/own/${name}.mp4`],
  });
  const ratingKey = world.plex.addItem({ sectionKey: section, title: name, file: `/plex/videos/own/${name}.mp4` });
  return { sceneId, ratingKey };
}

describe('a just-scanned scene (no metadata) whose Plex item has what its agent found', () => {
  it('default gate: the job is skipped as not ready, with no Plex request at all, and counted', async () => {
    const { sceneId, ratingKey } = scannedPair();
    const before = world.plex.item(ratingKey);
    world.plex.resetCounters();
    const result = await syncScene(sceneId, depsWith());
    expect(result).toEqual({ skipped: 'not ready: no title, details, date, studio, performers or tags' });
    expect(world.plex.count()).toBe(0);
    expect(world.plex.item(ratingKey)).toEqual(before);
    expect(await redis.hget(keys(world.prefix).syncSkipped, 'metadata')).toBe('1');
  });

  it('SYNC_REQUIRE=none: the title becomes the file name (locked), CONTENT_RATING is set; nothing else of the item changes', async () => {
    const { sceneId, ratingKey } = scannedPair();
    const before = world.plex.item(ratingKey)!;
    const result = await syncScene(sceneId, depsWith({ SYNC_REQUIRE: 'none' }));
    expect(result).toMatchObject({ ratingKey, posterUploaded: false });
    const after = world.plex.item(ratingKey)!;
    expect(after).toMatchObject({ title: `scanned-${n}`, contentRating: 'XXX' });
    const unchanged = { title: before.title, contentRating: before.contentRating, locked: before.locked, updatedAt: before.updatedAt };
    expect({ ...after, ...unchanged }).toEqual(before);
    expect(after.locked).toEqual(['contentRating', 'title']);
    expect((await redis.hkeys(ownershipKey(keys(world.prefix), ratingKey))).sort()).toEqual(['contentrating', 'title']);
  });
});

describe('ownership', () => {
  it('details deleted in Stash clear the summary stash2plex had set; a tag removed in Stash leaves Plex', async () => {
    const deps = depsWith();
    const { sceneId, ratingKey } = fullPair();
    await syncScene(sceneId, deps);
    expect(world.plex.item(ratingKey)).toMatchObject({ summary: `Details ${n}`, genre: ['own-tag'] });
    world.stash.updateScene(sceneId, { details: null, tag_ids: [] });
    await syncScene(sceneId, deps);
    expect(world.plex.item(ratingKey)).toMatchObject({ summary: '', genre: [], title: `Title ${n}` });
  });

  it('a ratingKey Plex no longer has takes its ownership record along', async () => {
    const deps = depsWith();
    const { sceneId, ratingKey } = fullPair();
    await syncScene(sceneId, deps);
    const key = ownershipKey(keys(world.prefix), ratingKey);
    expect(await redis.exists(key)).toBe(1);
    world.plex.removeItem(ratingKey);
    await expect(syncScene(sceneId, deps)).rejects.toMatchObject({ type: 'PlexNotFound' });
    expect(await redis.exists(key)).toBe(0);
  });
});

describe('PRESERVE_PLEX_EDITS=true', () => {
  it('a title changed in Plex after a sync survives the next sync of a changed scene, and the result names it', async () => {
    const deps = depsWith({ PRESERVE_PLEX_EDITS: 'true' });
    const { sceneId, ratingKey } = fullPair();
    await syncScene(sceneId, deps);
    // Someone renames it in Plex (the same edit call Plex's own UI makes).
    await deps.plex.applyEdit(section, ratingKey, { scalars: { title: 'My Plex Title' }, tags: {} });
    world.stash.updateScene(sceneId, { title: 'Changed In Stash', details: 'Changed details' });
    const result = await syncScene(sceneId, deps);
    expect(result).toMatchObject({ preserved: ['title'] });
    expect(world.plex.item(ratingKey)).toMatchObject({ title: 'My Plex Title', summary: 'Changed details' });
  });
});

describe('SYNC_FIELDS=title,genres', () => {
  it('summary, studio, date, actors, rating and poster are untouched (not even locked)', async () => {
    const { sceneId, ratingKey } = fullPair();
    const before = world.plex.item(ratingKey)!;
    const result = await syncScene(sceneId, depsWith({ SYNC_FIELDS: 'title,genres' }));
    expect(result).toMatchObject({ posterUploaded: false });
    const after = world.plex.item(ratingKey)!;
    expect(after).toMatchObject({ title: `Title ${n}`, genre: ['own-tag'] });
    expect({ ...after, title: before.title, genre: before.genre, locked: before.locked, updatedAt: before.updatedAt }).toEqual(before);
    expect(after.locked).toEqual(['genre', 'title']);
  });
});

describe('legacy poster hashes', () => {
  it("move into the ownership records once (a record's own poster wins), then the hash is gone", async () => {
    const k = keys(world.prefix);
    const sha = (c: string) => c.repeat(64);
    await redis.hset(k.posterHashes, { 'legacy-1': sha('a'), 'legacy-2': sha('b') });
    await redis.hset(ownershipKey(k, 'legacy-2'), { poster: 'c'.repeat(16), title: 'd'.repeat(16) });
    expect(await migrateLegacyPosterHashes(redis, k)).toBe(2);
    expect(await redis.hgetall(ownershipKey(k, 'legacy-1'))).toEqual({ poster: 'a'.repeat(16) });
    expect(await redis.hgetall(ownershipKey(k, 'legacy-2'))).toEqual({ poster: 'c'.repeat(16), title: 'd'.repeat(16) });
    expect(await redis.exists(k.posterHashes)).toBe(0);
    expect(await migrateLegacyPosterHashes(redis, k)).toBe(0);
  });
});
