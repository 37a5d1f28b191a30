// A scene's poster through syncScene, with both simulators and real Redis: only a JPEG/PNG/WebP within
// POSTER_MAX_BYTES is uploaded and locked; anything else (Stash's SVG placeholder for a scene without a
// cover, an image too large) is skipped with a note in the result, and the job still succeeds.
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PlexClient } from '../../src/plex/client.js';
import { keys } from '../../src/core/redis.js';
import { StashClient } from '../../src/stash-api/client.js';
import { syncScene as syncAny, type SyncDeps, type SyncedResult } from '../../src/sync/processor.js';
import { testRedis } from '../helpers/redis.js';
import { startReverseProxy } from '../helpers/reverse-proxy.js';
import { startWorld, type World } from '../helpers/world.js';

let world: World;
let redis: Redis;
let deps: SyncDeps;

beforeAll(async () => {
  // The poster alone (the background has tests of its own: images.test.ts).
  world = await startWorld({
    scenes: 4,
    prefixName: 'poster',
    env: { POSTER_MAX_BYTES: String(64 * 1024), SYNC_FIELDS: 'title,summary,studio,date,genres,actors,rating,poster' },
  });
  redis = testRedis();
  const { config } = world;
  deps = {
    plex: new PlexClient({
      url: config.plex.url,
      token: config.plex.token,
      clientIdentifier: 'stash2plex-test',
      pathMap: config.plex.pathMap,
    }),
    stash: new StashClient({ url: config.stash.url, apiKey: config.stash.apiKey, posterMaxBytes: config.stash.posterMaxBytes }),
    redis,
    keys: keys(world.prefix),
    sync: config.sync,
  };
});
afterAll(async () => {
  redis.disconnect();
  await world.stop();
});

/** Every scene here is ready: the result is a sync's. */
const syncScene = async (id: string, d: SyncDeps) => (await syncAny(id, d)) as SyncedResult;

const [first, second, third, fourth] = [0, 1, 2, 3].map((i) => () => [...world.ratingKeyOf.keys()][i]);

describe('poster', () => {
  it('a scene with a cover: the PNG is uploaded and locked', async () => {
    const id = first();
    const result = await syncScene(id, deps);
    expect(result).toMatchObject({ posterUploaded: true });
    expect(result.posterSkipped).toBeUndefined();
    const item = world.plex.item(world.ratingKeyOf.get(id)!)!;
    expect(item.poster).toMatchObject({ contentType: 'image/png', bytes: world.stash.screenshotOf(id).bytes.length });
    expect(item.locked).toContain('thumb');
  });

  it("a scene without a cover: Stash's SVG placeholder is never uploaded nor locked; the job succeeds", async () => {
    const id = second();
    world.stash.removeCover(id);
    // Like the real server: 200, image/svg+xml.
    const res = await fetch(world.stash.scene(id)!.paths!.screenshot!, { headers: { ApiKey: world.config.stash.apiKey! } });
    expect([res.status, res.headers.get('content-type')]).toEqual([200, 'image/svg+xml']);
    expect((await res.text()).startsWith('<svg')).toBe(true);

    const result = await syncScene(id, deps);
    expect(result.posterUploaded).toBe(false);
    expect(result.posterSkipped).toMatch(/not JPEG, PNG or WebP \(image\/svg\+xml, \d+ bytes\).*without a cover/);
    const item = world.plex.item(world.ratingKeyOf.get(id)!)!;
    expect(item.poster).toBeNull();
    expect(item.locked).not.toContain('thumb');
    expect(world.plex.count({ method: 'POST' })).toBe(1); // the first test's upload only
  });

  it('a scene without a cover, unchanged: its placeholder is read once, not on every sync; a cover added later is read and uploaded', async () => {
    const id = world.addScene(7);
    const ratingKey = world.ratingKeyOf.get(id)!;
    const screenshots = () => world.stash.count({ operationName: 'screenshot' });
    // Stash's clock behind ours: each `?t=` is settled (screenshotVersion) as soon as it is written.
    world.stash.setClockSkewMs(-60_000);
    try {
      world.stash.removeCover(id);
      world.stash.resetCounters();
      expect((await syncScene(id, deps)).posterSkipped).toMatch(/not JPEG, PNG or WebP \(image\/svg\+xml/);
      expect(screenshots()).toBe(1);
      for (let pass = 0; pass < 3; pass++) expect(await syncScene(id, deps)).toMatchObject({ posterUploaded: false, editRequests: 0 });
      expect(screenshots()).toBe(1);
      expect(world.plex.item(ratingKey)!.poster).toBeNull();

      // A cover set later is a scene update: `?t=` (updated_at) moves, the screenshot is read again.
      world.stash.setClockSkewMs(-30_000);
      world.stash.setScreenshot(id, world.stash.screenshotOf(first()).bytes);
      expect(await syncScene(id, deps)).toMatchObject({ posterUploaded: true });
      expect(screenshots()).toBe(2);
      expect(world.plex.item(ratingKey)!.locked).toContain('thumb');
      expect(await syncScene(id, deps)).toMatchObject({ posterUploaded: false });
      expect(screenshots()).toBe(2);
    } finally {
      world.stash.setClockSkewMs(0);
    }
  });

  it('bytes decide, not the label: an SVG called PNG is skipped, a JPEG called PNG goes up as JPEG', async () => {
    const [svgId, jpegId] = [third(), fourth()];
    world.stash.setScreenshot(svgId, Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>'), 'image/png');
    expect((await syncScene(svgId, deps)).posterSkipped).toMatch(/not JPEG, PNG or WebP/);
    expect(world.plex.item(world.ratingKeyOf.get(svgId)!)!.poster).toBeNull();
    world.stash.setScreenshot(jpegId, Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]), 'image/png');
    expect((await syncScene(jpegId, deps)).posterUploaded).toBe(true);
    expect(world.plex.item(world.ratingKeyOf.get(jpegId)!)!.poster).toMatchObject({ contentType: 'image/jpeg' });
  });

  it('a screenshot over POSTER_MAX_BYTES is skipped with a note, not failed; nothing uploaded or locked', async () => {
    const id = world.addScene(5);
    world.stash.setScreenshot(id, Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(200 * 1024)]), 'image/jpeg');
    const result = await syncScene(id, deps);
    expect(result.posterUploaded).toBe(false);
    expect(result.posterSkipped).toMatch(/too large: .*over the 65536-byte limit.*POSTER_MAX_BYTES/);
    const item = world.plex.item(world.ratingKeyOf.get(id)!)!;
    expect(item.poster).toBeNull();
    expect(item.locked).not.toContain('thumb');
  });

  it("Stash with external_host (a reverse proxy's address) and an API key: the poster is read from STASH_URL with the key", async () => {
    // Users reach Stash through the proxy; Stash writes that address into every URL it returns.
    const proxy = await startReverseProxy(world.stash.url);
    world.stash.setExternalHost(proxy.url);
    try {
      const id = world.addScene(6);
      expect(world.stash.scene(id)!.paths!.screenshot).toMatch(new RegExp(`^${proxy.url}/scene/${id}/screenshot\\?t=\\d+$`));
      const result = await syncScene(id, deps);
      expect(result.posterUploaded).toBe(true);
      const item = world.plex.item(world.ratingKeyOf.get(id)!)!;
      expect(item.poster).toMatchObject({ contentType: 'image/png', bytes: world.stash.screenshotOf(id).bytes.length });
      expect(item.locked).toContain('thumb');
      // Read from STASH_URL, with the key; nothing went to the external address.
      expect(world.stash.count({ operationName: 'screenshot', status: 200 })).toBeGreaterThanOrEqual(1);
      expect(proxy.paths).toEqual([]);
    } finally {
      world.stash.setExternalHost(null);
      await proxy.stop();
    }
  });
});
