// Restore of Plex collections against both simulators and the run's Redis: a collection a person made in
// Plex, with their own summary and poster, is written by stash2plex (a Stash studio of that name), then
// `restore --all` puts the person's summary and poster back with their locks; a summary changed in Plex
// after stash2plex wrote it is left and reported; a dry run writes nothing; a restore of chosen scenes
// leaves collections as they are.
import { createHash } from 'node:crypto';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/core/log.js';
import { connectRedis, keys, originalsKey, ownershipKey, type RedisConnection } from '../../src/core/redis.js';
import { runRestore } from '../../src/restore/from-config.js';
import { restoreLines } from '../../src/restore/report.js';
import { startDashboard } from '../../src/dashboard/server.js';
import { restoreReport } from '../../src/stash-plugin/task-reports.js';
import { syncScene, type SyncDeps } from '../../src/sync/processor.js';
import { worldSyncDeps } from '../helpers/sync-deps.js';
import { startWorld, type World } from '../helpers/world.js';

const quiet = createLogger({ level: 'silent' });

let world: World;
let redis: RedisConnection;
let section: string;
let n = 0;
/** Stash's clock behind ours, moved on per studio: each image's `?t=` is new and settled (ownership.screenshotVersion). */
let skewMs = -300_000;

beforeAll(async () => {
  world = await startWorld({ scenes: 0, prefixName: 'collrestore' });
  redis = connectRedis(world.config);
  section = world.plex.sections()[0].key;
  world.stash.setClockSkewMs(skewMs);
});
afterAll(async () => {
  redis?.disconnect();
  await world?.stop();
});

const k = () => keys(world.prefix);
const deps = (): SyncDeps & { plex: ReturnType<typeof worldSyncDeps>['plex'] } => {
  const d = worldSyncDeps(world, redis, { SYNC_FIELDS: 'title,collection', COLLECTION_SOURCES: 'studio' });
  return { ...d, collections: { plex: d.plex, keys: k() } };
};
const cover = (colour: number) =>
  sharp({ create: { width: 300, height: 450, channels: 3, background: { r: colour, g: 40, b: 255 - colour } } })
    .jpeg()
    .toBuffer();
const uploadKey = (bytes: Uint8Array) => `upload://posters/${createHash('sha1').update(bytes).digest('hex')}`;
const restore = (scope: 'all' | string[], dryRun = false) =>
  runRestore(world.config, { scope: scope === 'all' ? { all: true } : { sceneIds: scope }, dryRun, log: quiet, redis });

/** What a person sees of a collection in Plex: its summary, the poster selected, the locks. */
const shown = (ratingKey: string) => {
  const c = world.plex.collections().find((x) => x.ratingKey === ratingKey)!;
  return { summary: c.summary, posterKey: c.posterKey, locked: c.locked };
};

/**
 * A collection a person made in Plex (one of their own items in it), optionally with their own summary
 * and poster (Plex's editor locks both); then a Stash studio of that name with its details and logo, and
 * a scene of that studio synced: stash2plex writes the collection.
 */
async function personsCollectionSynced(own: boolean) {
  const title = `Studio ${++n}`;
  world.plex.addItem({ sectionKey: section, title: `Their film ${n}`, file: `/plex/videos/theirs/${n}.mp4`, collection: [title] });
  const ratingKey = world.plex.collection(section, title)!.ratingKey;
  const d = deps();
  let poster: string | null = null;
  if (own) {
    world.plex.editCollectionAsUser(ratingKey, { summary: `My own words about ${title}` });
    const bytes = await cover(30 + n);
    await d.plex.uploadCollectionPoster(section, ratingKey, bytes, 'image/jpeg');
    poster = uploadKey(bytes);
  }
  const before = shown(ratingKey);

  skewMs += 3_000;
  world.stash.setClockSkewMs(skewMs);
  const logo = await cover(150 + n);
  const studio = world.stash.addStudio(title);
  world.stash.updateNamed('studio', studio, { text: `${title}, as Stash has it.`, image: { bytes: logo, contentType: 'image/jpeg' } });
  const sceneId = world.addScene(400 + n);
  world.stash.updateScene(sceneId, { studio_id: studio });
  await syncScene(sceneId, d);
  expect(shown(ratingKey)).toEqual({ summary: `${title}, as Stash has it.`, posterKey: uploadKey(logo), locked: ['summary', 'thumb'] });
  return { title, ratingKey, sceneId, before, poster, logo };
}

describe('restore --all of a collection stash2plex wrote to', () => {
  it("a person's own summary and poster, locked, come back with their locks; what was kept is forgotten", async () => {
    const c = await personsCollectionSynced(true);
    expect(c.before).toEqual({ summary: `My own words about ${c.title}`, posterKey: c.poster, locked: ['summary', 'thumb'] });
    // Kept before the first write, beside the ownership record, and the collection noted.
    expect(await redis.hgetall(originalsKey(k(), c.ratingKey))).toEqual({
      summary: JSON.stringify({ value: c.before.summary, locked: true }),
      poster: JSON.stringify({ value: c.poster, locked: true }),
      'poster:upload': createHash('sha1').update(c.logo).digest('hex'),
    });
    expect(await redis.sismember(k().origCollections, c.ratingKey)).toBe(1);

    const summary = await restore('all');
    expect(summary.collections).toMatchObject({ plexChanged: 0, failed: 0 });
    expect(summary.collections!.listed.find((x) => x.ratingKey === c.ratingKey)).toEqual({
      ratingKey: c.ratingKey,
      title: c.title,
      restored: ['summary', 'poster'],
      neverWritten: [],
      plexChanged: [],
      notes: [],
    });
    expect(shown(c.ratingKey)).toEqual(c.before);
    expect(await redis.exists(ownershipKey(k(), c.ratingKey), originalsKey(k(), c.ratingKey))).toBe(0);
    expect(await redis.sismember(k().origCollections, c.ratingKey)).toBe(0);
    expect(restoreLines(summary)).toContain(`collection "${c.title}" (${c.ratingKey}): restored summary, poster`);
    expect(restoreLines(summary).at(-1)).toMatch(/, \d+ collections? restored/);
  });

  it('a collection Plex made itself (no summary, no poster, nothing locked): summary emptied and unlocked, the upload left unlocked', async () => {
    const c = await personsCollectionSynced(false);
    expect(c.before).toEqual({ summary: '', posterKey: null, locked: [] });
    const summary = await restore('all');
    expect(summary.collections!.listed.find((x) => x.ratingKey === c.ratingKey)).toMatchObject({
      restored: ['summary', 'poster'],
      notes: ['poster: Plex had none; the uploaded one stays (unlocked) until Plex picks another'],
    });
    expect(shown(c.ratingKey)).toEqual({ summary: '', posterKey: uploadKey(c.logo), locked: [] });
  });

  it('a summary a person changed after stash2plex wrote it is left and reported; the poster still comes back', async () => {
    const c = await personsCollectionSynced(true);
    world.plex.editCollectionAsUser(c.ratingKey, { summary: 'Changed my mind' });
    const summary = await restore('all');
    expect(summary.collections).toMatchObject({ plexChanged: 1, failed: 0 });
    expect(summary.collections!.listed.find((x) => x.ratingKey === c.ratingKey)).toMatchObject({
      restored: ['poster'],
      plexChanged: ['summary'],
    });
    expect(shown(c.ratingKey)).toEqual({ summary: 'Changed my mind', posterKey: c.poster, locked: ['summary', 'thumb'] });
    expect(restoreLines(summary).at(-1)).toContain('1 collection changed in Plex left as it is');
    // The Stash task's report warns of it.
    expect(restoreReport(summary).lines).toContainEqual({
      level: 'warning',
      text: `collection "${c.title}" (${c.ratingKey}): restored poster; changed in Plex, left: summary`,
    });
  });

  it('a dry run reports what it would put back and writes nothing, to Plex or Redis', async () => {
    const c = await personsCollectionSynced(true);
    const synced = shown(c.ratingKey);
    const kept = await redis.hgetall(originalsKey(k(), c.ratingKey));
    const owned = await redis.hgetall(ownershipKey(k(), c.ratingKey));
    world.plex.resetCounters();
    const summary = await restore('all', true);
    expect(summary).toMatchObject({ dryRun: true });
    expect(summary.collections!.listed.find((x) => x.ratingKey === c.ratingKey)).toMatchObject({ restored: ['summary', 'poster'] });
    expect(restoreLines(summary)).toContain(`collection "${c.title}" (${c.ratingKey}): would restore summary, poster`);
    expect(world.plex.editCount()).toBe(0);
    expect(shown(c.ratingKey)).toEqual(synced);
    expect(await redis.hgetall(originalsKey(k(), c.ratingKey))).toEqual(kept);
    expect(await redis.hgetall(ownershipKey(k(), c.ratingKey))).toEqual(owned);
    expect(await redis.sismember(k().origCollections, c.ratingKey)).toBe(1);
  });

  it('a restore of chosen scenes (--scene) leaves the collection as it is, and what was kept of it', async () => {
    const c = await personsCollectionSynced(true);
    const synced = shown(c.ratingKey);
    const kept = await redis.hgetall(originalsKey(k(), c.ratingKey));
    const summary = await restore([c.sceneId]);
    expect(summary).toMatchObject({ restored: 1, excluded: 1 });
    expect(summary.collections).toBeUndefined();
    expect(shown(c.ratingKey)).toEqual(synced);
    expect(await redis.hgetall(originalsKey(k(), c.ratingKey))).toEqual(kept);
    expect(await redis.sismember(k().origCollections, c.ratingKey)).toBe(1);

    // A later restore of everything still puts the person's back.
    await restore('all');
    expect(shown(c.ratingKey)).toEqual(c.before);
  });

  it('the status page restores collections too: POST /api/restore {"all": true}', async () => {
    const c = await personsCollectionSynced(true);
    const dash = await startDashboard({ ...world.config, dashboard: { ...world.config.dashboard, port: 0 } }, quiet, { redis, queues: [] });
    try {
      const res = await fetch(`${dash.url}/api/restore`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'X-Requested-With': 'stash2plex' },
        body: JSON.stringify({ all: true, dryRun: false }),
      });
      const body = (await res.json()) as { collections: { listed: { ratingKey: string; restored: string[] }[] }; lines: string[] };
      expect(body.collections.listed.find((x) => x.ratingKey === c.ratingKey)).toMatchObject({ restored: ['summary', 'poster'] });
      expect(body.lines).toContain(`collection "${c.title}" (${c.ratingKey}): restored summary, poster`);
      expect(shown(c.ratingKey)).toEqual(c.before);
    } finally {
      await dash.stop();
    }
  });
});
