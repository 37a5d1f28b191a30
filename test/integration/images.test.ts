// A scene's images through syncScene, with both simulators, real Redis and the real dashboard (issue 24):
// the background (the screenshot, full frame), posters cropped or letterboxed to 2:3, a group's front
// cover as poster, and actor photos served by the dashboard under signed links. Each is synced, changed
// and cleared; an unchanged pass reads no image and uploads nothing.
import type { Redis } from 'ioredis';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig, type Config } from '../../src/core/config.js';
import { createLogger } from '../../src/core/log.js';
import { keys } from '../../src/core/redis.js';
import { startDashboard, type DashboardHandle } from '../../src/dashboard/server.js';
import { PlexClient } from '../../src/plex/client.js';
import { restoreScenes } from '../../src/restore/run.js';
import { StashClient } from '../../src/stash-api/client.js';
import { cachedImageSecret } from '../../src/sync/image-links.js';
import { syncScene as syncAny, type SyncDeps, type SyncedResult } from '../../src/sync/processor.js';
import { PlexSimulator } from '../../src/sim/plex.js';
import { testRedis } from '../helpers/redis.js';
import { PLEX_TOKEN, STASH_KEY, startWorld, type World } from '../helpers/world.js';

let world: World;
let redis: Redis;
let dash: DashboardHandle;

/** A frame of `width`×`height` in one colour (a 16:9 screenshot by default). */
const frame = (colour: number, width = 1280, height = 720, format: 'png' | 'jpeg' = 'png') =>
  sharp({ create: { width, height, channels: 3, background: { r: colour, g: 255 - colour, b: 40 } } })
    [format]()
    .toBuffer();

const sizeOf = async (bytes: Buffer | null) => {
  const meta = await sharp(bytes!).metadata();
  return { format: meta.format, width: meta.width, height: meta.height };
};

beforeAll(async () => {
  // IMAGE_RATE_PER_MINUTE: a small bucket, so that the rate limit shows within one test.
  world = await startWorld({ scenes: 0, prefixName: 'images', env: { DASHBOARD_PORT: '0', IMAGE_RATE_PER_MINUTE: '30' } });
  redis = testRedis();
  dash = await startDashboard(world.config, createLogger({ level: 'silent' }));
  // Stash's clock behind ours: each `?t=` is settled (screenshotVersion) as soon as it is written.
  world.stash.setClockSkewMs(skewMs);
});

/** Stash's clock moved on by 3 s (still behind ours): the next change has a new `?t=`, as a later edit would. */
let skewMs = -300_000;
const later = () => {
  skewMs += 3_000;
  world.stash.setClockSkewMs(skewMs);
};
afterAll(async () => {
  await dash?.stop();
  redis?.disconnect();
  await world?.stop();
});

function depsWith(env: Record<string, string> = {}): SyncDeps {
  const config: Config = parseConfig({ ...world.env, ...env });
  return {
    plex: new PlexClient({
      url: config.plex.url,
      token: config.plex.token,
      clientIdentifier: 'stash2plex-test',
      pathMap: config.plex.pathMap,
    }),
    stash: new StashClient({ url: config.stash.url, apiKey: config.stash.apiKey, posterMaxBytes: config.stash.posterMaxBytes }),
    redis,
    keys: keys(world.prefix),
    sync: { ...config.sync, imageBaseUrl: dash.url },
    posterMaxBytes: config.stash.posterMaxBytes,
    imageSecret: cachedImageSecret(redis, keys(world.prefix)),
  };
}

const syncScene = async (id: string, d: SyncDeps) => (await syncAny(id, d)) as SyncedResult;

/** A new scene with a 16:9 screenshot of its own; its ratingKey. */
async function sceneWithShot(i: number, colour: number): Promise<{ id: string; ratingKey: string }> {
  const id = world.addScene(i);
  world.stash.setScreenshot(id, await frame(colour));
  return { id, ratingKey: world.ratingKeyOf.get(id)! };
}

const uploads = () => world.plex.count((r) => r.method === 'POST');
const imageReads = () => world.stash.count((r) => ['screenshot', 'performer-image', 'group-image'].includes(r.operationName ?? ''));

describe('background (SYNC_FIELDS background)', () => {
  it('synced: the screenshot, full frame, as a locked JPEG; changed with the screenshot; cleared: released, then restored', async () => {
    const deps = depsWith({ SYNC_FIELDS: 'title,background' });
    const { id, ratingKey } = await sceneWithShot(101, 10);
    const first = await syncScene(id, deps);
    expect(first).toMatchObject({ backgroundUploaded: true, posterUploaded: false });
    const item = world.plex.item(ratingKey)!;
    expect(item.locked).toContain('art');
    expect(item.artKey).toMatch(/^upload:\/\/arts\/[0-9a-f]{40}$/);
    expect(await sizeOf(world.plex.image(ratingKey, 'art'))).toEqual({ format: 'jpeg', width: 1280, height: 720 });
    // The same pixels as the screenshot (a JPEG of it).
    const [shot, art] = await Promise.all([
      sharp(world.stash.screenshotOf(id).bytes).resize(4, 4).raw().toBuffer(),
      sharp(world.plex.image(ratingKey, 'art')!).resize(4, 4).raw().toBuffer(),
    ]);
    expect([...art].every((v, i) => Math.abs(v - shot[i]) < 8)).toBe(true);

    // Unchanged: no read, no upload.
    const [reads, posts] = [imageReads(), uploads()];
    expect(await syncScene(id, deps)).toMatchObject({ editRequests: 0 });
    expect([imageReads(), uploads()]).toEqual([reads, posts]);

    // Changed: a new screenshot is a new background.
    later();
    world.stash.setScreenshot(id, await frame(200, 1920, 1080, 'jpeg'));
    expect(await syncScene(id, deps)).toMatchObject({ backgroundUploaded: true });
    expect(world.plex.image(ratingKey, 'art')).toEqual(world.stash.screenshotOf(id).bytes); // a JPEG goes up as it is
    expect(world.plex.item(ratingKey)!.arts).toHaveLength(2);

    // Cleared: out of SYNC_FIELDS, its lock is released once; a restore selects what Plex had (none here: it stays, unlocked).
    await syncScene(id, depsWith({ SYNC_FIELDS: 'title' }));
    expect(world.plex.item(ratingKey)!.locked).not.toContain('art');
  });

  it("restore puts back the background Plex's agent had", async () => {
    const { id, ratingKey } = await sceneWithShot(102, 30);
    const agentArt = { bytes: await frame(99, 320, 180, 'jpeg'), contentType: 'image/jpeg' };
    // The item shows a background of its own, unlocked, before the first sync replaces it.
    const deps = depsWith({ SYNC_FIELDS: 'title,background' });
    const plex = deps.plex as PlexClient;
    await plex.uploadArt(world.plex.item(ratingKey)!.sectionKey, ratingKey, agentArt.bytes, agentArt.contentType);
    await plex.applyEdit(world.plex.item(ratingKey)!.sectionKey, ratingKey, { scalars: {}, tags: {}, unlock: ['art'] });
    const before = world.plex.item(ratingKey)!.artKey;
    expect(await syncScene(id, deps)).toMatchObject({ backgroundUploaded: true });
    expect(world.plex.item(ratingKey)!.artKey).not.toBe(before);
    const report = await restoreScenes({ redis, keys: keys(world.prefix), plex }, { scope: { sceneIds: [id] }, dryRun: false });
    expect(report.scenes[0]?.restored).toContain('background');
    expect(world.plex.item(ratingKey)!.artKey).toBe(before);
    expect(world.plex.item(ratingKey)!.locked).not.toContain('art');
  });
});

describe('POSTER_STYLE', () => {
  it.each(['crop', 'letterbox'] as const)('%s: a 2:3 JPEG, made again when the screenshot changes, not when it does not', async (style) => {
    const deps = depsWith({ SYNC_FIELDS: 'title,poster', POSTER_STYLE: style });
    const { id, ratingKey } = await sceneWithShot(style === 'crop' ? 111 : 112, 60);
    expect(await syncScene(id, deps)).toMatchObject({ posterUploaded: true });
    const made = await sizeOf(world.plex.image(ratingKey, 'poster'));
    expect(made.format).toBe('jpeg');
    expect(made.width * 3).toBe(made.height * 2);
    expect(made).toEqual(style === 'crop' ? { format: 'jpeg', width: 480, height: 720 } : { format: 'jpeg', width: 1000, height: 1500 });
    expect(world.plex.item(ratingKey)!.poster).toMatchObject({ contentType: 'image/jpeg' });

    const [reads, posts] = [imageReads(), uploads()];
    expect(await syncScene(id, deps)).toMatchObject({ posterUploaded: false });
    expect([imageReads(), uploads()]).toEqual([reads, posts]);

    later();
    world.stash.setScreenshot(id, await frame(250, 640, 360));
    const key = world.plex.item(ratingKey)!.posterKey;
    expect(await syncScene(id, deps)).toMatchObject({ posterUploaded: true });
    expect(world.plex.item(ratingKey)!.posterKey).not.toBe(key);
    const again = await sizeOf(world.plex.image(ratingKey, 'poster'));
    expect(again.width * 3).toBe(again.height * 2);

    // Cleared: another style is a new upload of the same screenshot; out of SYNC_FIELDS, the lock is released.
    expect(await syncScene(id, depsWith({ SYNC_FIELDS: 'title,poster', POSTER_STYLE: 'screenshot' }))).toMatchObject({
      posterUploaded: true,
    });
    expect(world.plex.item(ratingKey)!.poster).toMatchObject({ contentType: 'image/png' });
    await syncScene(id, depsWith({ SYNC_FIELDS: 'title' }));
    expect(world.plex.item(ratingKey)!.locked).not.toContain('thumb');
  });
});

describe('POSTER_FROM=group', () => {
  it("a group's front cover is the poster; a new cover replaces it; a group without one leaves the screenshot", async () => {
    const deps = depsWith({ SYNC_FIELDS: 'title,poster', POSTER_FROM: 'group', POSTER_STYLE: 'crop' });
    const { id, ratingKey } = await sceneWithShot(121, 80);
    const cover = await frame(5, 400, 600, 'jpeg');
    const group = world.stash.addGroup('The Group', { bytes: cover, contentType: 'image/jpeg' });
    world.stash.updateScene(id, { group_ids: [group] });
    expect(await syncScene(id, deps)).toMatchObject({ posterUploaded: true });
    expect(await sizeOf(world.plex.image(ratingKey, 'poster'))).toEqual({ format: 'jpeg', width: 400, height: 600 });
    expect(world.stash.count({ operationName: 'group-image' })).toBe(1);

    const reads = imageReads();
    expect(await syncScene(id, deps)).toMatchObject({ posterUploaded: false });
    expect(imageReads()).toBe(reads);

    later();
    world.stash.setGroupFrontImage(group, { bytes: await frame(250, 800, 1200, 'jpeg'), contentType: 'image/jpeg' });
    expect(await syncScene(id, deps)).toMatchObject({ posterUploaded: true });
    expect(await sizeOf(world.plex.image(ratingKey, 'poster'))).toEqual({ format: 'jpeg', width: 800, height: 1200 });

    // Cleared: the group loses its cover (Stash's image_path says `default=true`): the screenshot, cropped.
    later();
    world.stash.setGroupFrontImage(group, null);
    expect(await syncScene(id, deps)).toMatchObject({ posterUploaded: true });
    expect(await sizeOf(world.plex.image(ratingKey, 'poster'))).toEqual({ format: 'jpeg', width: 480, height: 720 });
  });
});

describe('actor photos (SYNC_FIELDS actorphotos)', () => {
  it('each performer with an image of its own gets a signed dashboard URL that answers its bytes; changed and cleared with Stash', async () => {
    const deps = depsWith({ SYNC_FIELDS: 'title,actors,actorphotos' });
    const id = world.addScene(131);
    const ratingKey = world.ratingKeyOf.get(id)!;
    const photo = await frame(170, 300, 450, 'jpeg');
    const withImage = world.stash.addPerformer('Photo Performer');
    const without = world.stash.addPerformer('Plain Performer');
    world.stash.setPerformerImage(withImage, { bytes: photo, contentType: 'image/jpeg' });
    world.stash.updateScene(id, { performer_ids: [withImage, without] });
    expect(world.stash.scene(id)!.performers.find((p) => p.id === without)!.image_path).toMatch(/&default=true$/);

    await syncScene(id, deps);
    const thumbs = world.plex.item(ratingKey)!.actorThumbs;
    expect(Object.keys(thumbs)).toEqual(['Photo Performer']); // no silhouette for the performer without an image
    const url = thumbs['Photo Performer'];
    expect(url).toMatch(new RegExp(`^${dash.url}/images/performer/${withImage}\\?v=\\d+&sig=[0-9a-f]{32}$`));
    for (const secret of [STASH_KEY, PLEX_TOKEN]) expect(url).not.toContain(secret);
    const res = await fetch(url);
    expect([res.status, res.headers.get('content-type')]).toEqual([200, 'image/jpeg']);
    expect(Buffer.from(await res.arrayBuffer())).toEqual(photo);
    expect(res.headers.get('cache-control')).toMatch(/immutable/);

    // A wrong signature, another performer with this one's signature, a missing one: 403.
    const wrong = url.replace(/sig=([0-9a-f])/, (_m, c: string) => `sig=${c === '0' ? '1' : '0'}`);
    expect((await fetch(wrong)).status).toBe(403);
    expect((await fetch(url.replace(`/performer/${withImage}?`, `/performer/${without}?`))).status).toBe(403);
    expect((await fetch(url.replace(/&sig=.*/, ''))).status).toBe(403);

    // Unchanged: no image read, no edit.
    const reads = imageReads();
    expect(await syncScene(id, deps)).toMatchObject({ editRequests: 0 });
    expect(imageReads()).toBe(reads);

    // Changed: a new image moves the version, so the URL.
    later();
    world.stash.setPerformerImage(withImage, { bytes: await frame(20, 300, 450, 'jpeg'), contentType: 'image/jpeg' });
    await syncScene(id, deps);
    const moved = world.plex.item(ratingKey)!.actorThumbs['Photo Performer'];
    expect(moved).not.toBe(url);
    expect(Buffer.from(await (await fetch(moved)).arrayBuffer())).toEqual(world.stash.performerImage(withImage));

    // Cleared: the performer's image deleted in Stash, the photo goes.
    later();
    world.stash.setPerformerImage(withImage, null);
    await syncScene(id, deps);
    expect(world.plex.item(ratingKey)!.actorThumbs).toEqual({});
  });

  it('the image route is rate-limited per address (429)', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 40; i++) statuses.push((await fetch(`${dash.url}/images/performer/1?v=1&sig=${'0'.repeat(32)}`)).status);
    expect(statuses.slice(0, 5)).not.toContain(429);
    expect(statuses).toContain(429);
  });
});

describe('an unchanged pass', () => {
  it('reads no image and uploads nothing, with every image row on', async () => {
    const deps = depsWith({ POSTER_STYLE: 'letterbox' });
    const ids: string[] = [];
    for (let i = 141; i < 146; i++) {
      const { id } = await sceneWithShot(i, i);
      const performer = world.stash.addPerformer(`Pictured ${i}`);
      world.stash.setPerformerImage(performer, { bytes: await frame(i, 200, 300, 'jpeg'), contentType: 'image/jpeg' });
      world.stash.updateScene(id, { performer_ids: [performer] });
      ids.push(id);
    }
    for (const id of ids) expect(await syncScene(id, deps)).toMatchObject({ posterUploaded: true, backgroundUploaded: true });
    world.stash.resetCounters();
    world.plex.resetCounters();
    for (const id of ids) expect(await syncScene(id, deps)).toMatchObject({ posterUploaded: false, editRequests: 0 });
    expect(imageReads()).toBe(0);
    expect(world.plex.count((r) => PlexSimulator.isEdit(r))).toBe(0);
  });
});
