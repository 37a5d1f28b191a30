// Edits longer than a proxy allows (issue 21, part 3), through syncScene with both simulators and real
// Redis, behind a reverse proxy that answers 414 past 8 KiB of request line (nginx's default): an edit is
// split into PUTs each under PLEX_MAX_URL_BYTES, and a value too long to travel alone is cut and said so.
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/core/config.js';
import type { SyncError } from '../../src/core/errors.js';
import { keys, ownershipKey } from '../../src/core/redis.js';
import { plexClientFrom } from '../../src/plex/from-config.js';
import { PlexSimulator, ROUTES } from '../../src/sim/plex.js';
import { StashClient } from '../../src/stash-api/client.js';
import { syncScene, type SyncDeps, type SyncedResult } from '../../src/sync/processor.js';
import { testRedis } from '../helpers/redis.js';
import { startWorld, type World } from '../helpers/world.js';

/** The text fields only: no image is read or uploaded (the images have tests of their own: images.test.ts). */
const TEXT_FIELDS = 'title,summary,studio,date,genres,actors,rating';

const BOUND = 8 * 1024;
let world: World;
let redis: Redis;
let section: string;
let n = 0;

beforeAll(async () => {
  world = await startWorld({ scenes: 0, prefixName: 'long' });
  world.plex.setProxyLimits({ requestLine: BOUND });
  redis = testRedis();
  section = world.plex.sections()[0].key;
});
afterAll(async () => {
  redis.disconnect();
  await world.stop();
});

function depsWith(env: Record<string, string> = {}): SyncDeps {
  const config = parseConfig({ ...world.env, SYNC_POSTER: 'false', SYNC_FIELDS: TEXT_FIELDS, ...env });
  return {
    plex: plexClientFrom(config, { clientIdentifier: 'stash2plex-test', use: 'sync', redis }),
    stash: new StashClient({ url: config.stash.url, apiKey: config.stash.apiKey }),
    redis,
    keys: keys(world.prefix),
    sync: config.sync,
  };
}

/** Non-ASCII text of `count` characters: 2 to 4 UTF-8 bytes each, 6 to 12 bytes of URL. */
const LETTERS = Array.from('äöü€漢字😀éß');
const text = (count: number) => Array.from({ length: count }, (_, i) => LETTERS[i % LETTERS.length]).join('');
const tagNames = (count: number) => Array.from({ length: count }, (_, i) => `Catégorie ${String(i).padStart(3, '0')}`);

/** A scene with this summary and these tags, and the Plex item of its file as an agent left it. */
function pair(details: string, tags: string[]): { sceneId: string; ratingKey: string } {
  const name = `long-${++n}`;
  const sceneId = world.stash.addScene({
    title: `Tïtle ${name}`,
    details,
    tag_ids: tags.map((t) => world.stash.addTag(t)),
    performer_ids: [world.stash.addPerformer(`Pérformer ${name}`)],
    files: [`/stash/videos/long/${name}.mp4`],
  });
  const ratingKey = world.plex.addItem({
    sectionKey: section,
    title: name,
    file: `/plex/videos/long/${name}.mp4`,
    summary: 'Agent summary',
    genre: ['Agent Genre'],
  });
  return { sceneId, ratingKey };
}

/** Every edit request Plex's proxy saw since the counters were reset, as full URLs. */
const editUrls = () => world.plex.requests.filter((r) => PlexSimulator.isEdit(r)).map((r) => `${world.plex.url}${r.path}`);

describe('edits longer than a proxy allows (PLEX_MAX_URL_BYTES, default 8 KiB)', () => {
  it('a 4000-character non-ASCII summary and 120 tags: the job completes, Plex holds everything, the summary cut to what fits alone', async () => {
    const summary = text(4_000);
    const { sceneId, ratingKey } = pair(summary, tagNames(120));
    world.plex.resetCounters();
    const result = (await syncScene(sceneId, depsWith())) as SyncedResult;

    const held = world.plex.item(ratingKey)!;
    expect(held.summary.endsWith('…')).toBe(true);
    const kept = held.summary.slice(0, -1);
    expect(kept.length).toBeGreaterThan(500);
    expect(summary.startsWith(kept)).toBe(true);
    expect(() => encodeURIComponent(kept)).not.toThrow(); // no half of a surrogate pair
    expect(result.cut).toEqual([`summary: 4000 → ${Array.from(kept).length} characters (PLEX_MAX_URL_BYTES)`]);
    expect(held).toMatchObject({ title: `Tïtle long-${n}`, genre: tagNames(120), actor: [`Pérformer long-${n}`] });
    expect(held.locked).toEqual(expect.arrayContaining(['title', 'summary', 'genre', 'actor']));

    const urls = editUrls();
    expect(result.editRequests).toBe(urls.length);
    expect(urls.length).toBeGreaterThan(1);
    expect(Math.max(...urls.map((u) => u.length))).toBeLessThanOrEqual(BOUND);
    expect(world.plex.count({ status: 414 })).toBe(0);
    // The summary was as long as it could be: one more character would not have fitted its request.
    const summaryUrl = urls.find((u) => u.includes('summary.value='))!;
    const next = Array.from(summary.slice(kept.length))[0];
    expect(summaryUrl.length + new URLSearchParams({ s: next }).toString().length - 2).toBeGreaterThan(BOUND);

    // In sync: nothing sent again, nothing reported again.
    world.plex.resetCounters();
    const again = (await syncScene(sceneId, depsWith())) as SyncedResult;
    expect(again.editRequests).toBe(0);
    expect(again).not.toHaveProperty('cut');
  });

  it('a summary that fits alone is not cut, however long the edit is in all', async () => {
    const summary = text(600);
    const { sceneId, ratingKey } = pair(summary, tagNames(120));
    world.plex.resetCounters();
    const result = (await syncScene(sceneId, depsWith())) as SyncedResult;
    expect(result).not.toHaveProperty('cut');
    expect(world.plex.item(ratingKey)).toMatchObject({ summary, genre: tagNames(120) });
    const urls = editUrls();
    expect(urls.length).toBeGreaterThan(1);
    expect(urls.join('').length).toBeGreaterThan(BOUND);
    expect(Math.max(...urls.map((u) => u.length))).toBeLessThanOrEqual(BOUND);
  });

  it('a split edit failing half-way throws; the retry finishes it and owns what went through (PRESERVE_PLEX_EDITS=true)', async () => {
    const deps = () => depsWith({ PRESERVE_PLEX_EDITS: 'true' });
    const summary = text(600);
    const { sceneId, ratingKey } = pair(summary, tagNames(120));
    // The first PUT (the scalars) is applied, its answer lost: the tag lists are not sent.
    world.plex.loseAnswers(1, 502, ROUTES.sectionAll);
    const failed = await syncScene(sceneId, deps()).then(
      () => null,
      (err: unknown) => err as SyncError,
    );
    expect(failed?.type).toBe('PlexTemporaryError');
    expect(world.plex.item(ratingKey)).toMatchObject({ summary, genre: ['Agent Genre'] });

    const result = (await syncScene(sceneId, deps())) as SyncedResult;
    expect(result).not.toHaveProperty('preserved');
    expect(world.plex.item(ratingKey)).toMatchObject({ summary, genre: tagNames(120), actor: [`Pérformer long-${n}`] });
    expect(Object.keys(await redis.hgetall(ownershipKey(keys(world.prefix), ratingKey))).filter((f) => f.endsWith(':intent'))).toEqual([]);
  });
});
