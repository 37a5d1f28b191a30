// The text and label fields of issue 24 through syncScene, with both simulators and real Redis: content
// rating (CONTENT_RATING), original title (the scene's studio code), sort title (the title without its
// leading article), tagline (the first line of the details) and labels (LABEL_TAGS). Each is synced
// (set and locked), changed and cleared; an unchanged pass sends nothing; a restore puts back what Plex had.
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/core/config.js';
import { keys } from '../../src/core/redis.js';
import type { PlexEdit, PlexLockField } from '../../src/model/types.js';
import { PlexClient } from '../../src/plex/client.js';
import { restoreScenes } from '../../src/restore/run.js';
import { StashClient } from '../../src/stash-api/client.js';
import { syncScene as syncAny, type SyncDeps, type SyncedResult } from '../../src/sync/processor.js';
import { testRedis } from '../helpers/redis.js';
import { PLEX_TOKEN, startWorld, type World } from '../helpers/world.js';

let world: World;
let redis: Redis;

beforeAll(async () => {
  world = await startWorld({ scenes: 0, prefixName: 'fields' });
  redis = testRedis();
});
afterAll(async () => {
  redis?.disconnect();
  await world?.stop();
});

const plexClient = () =>
  new PlexClient({
    url: world.config.plex.url,
    token: world.config.plex.token,
    clientIdentifier: 'stash2plex-test',
    pathMap: world.config.plex.pathMap,
  });

function depsWith(env: Record<string, string> = {}): SyncDeps {
  const config = parseConfig({ ...world.env, ...env });
  return {
    plex: plexClient(),
    stash: new StashClient({ url: config.stash.url, apiKey: config.stash.apiKey, posterMaxBytes: config.stash.posterMaxBytes }),
    redis,
    keys: keys(world.prefix),
    sync: config.sync,
  };
}

const syncScene = async (id: string, d: SyncDeps) => (await syncAny(id, d)) as SyncedResult;

/** A new scene and its Plex item's ratingKey. */
function newScene(i: number): { id: string; ratingKey: string } {
  const id = world.addScene(i);
  return { id, ratingKey: world.ratingKeyOf.get(id)! };
}

const shown = (ratingKey: string) => world.plex.item(ratingKey)!;

/** What Plex answers for the item, as JSON (the attributes and arrays a client reads). */
async function metadataJson(ratingKey: string): Promise<Record<string, unknown>> {
  const res = await fetch(`${world.plex.url}/library/metadata/${ratingKey}`, {
    headers: { Accept: 'application/json', 'X-Plex-Token': PLEX_TOKEN },
  });
  const body = (await res.json()) as { MediaContainer: { Metadata: Record<string, unknown>[] } };
  return body.MediaContainer.Metadata[0];
}

/** Sets values on the item as Plex's agent would: not locked. */
async function asTheAgent(ratingKey: string, scalars: PlexEdit['scalars'], label: string[] = []): Promise<void> {
  const item = shown(ratingKey);
  const unlock = Object.keys(scalars) as PlexLockField[];
  await plexClient().applyEdit(item.sectionKey, ratingKey, {
    scalars,
    tags: label.length ? { label: { set: label, remove: [] } } : {},
    unlock: label.length ? [...unlock, 'label'] : unlock,
  });
}

describe('content rating (SYNC_FIELDS contentrating, CONTENT_RATING)', () => {
  it('on by default as XXX, locked; changed with CONTENT_RATING; set empty: Plex’s is left alone, the lock released', async () => {
    const { id, ratingKey } = newScene(201);
    expect(parseConfig(world.env).sync.fields).toContain('contentrating');
    await syncScene(id, depsWith());
    expect(shown(ratingKey)).toMatchObject({ contentRating: 'XXX' });
    expect(shown(ratingKey).locked).toContain('contentRating');
    expect(await metadataJson(ratingKey)).toMatchObject({ contentRating: 'XXX' });
    expect(await syncScene(id, depsWith())).toMatchObject({ editRequests: 0 });

    await syncScene(id, depsWith({ CONTENT_RATING: 'NC-17' }));
    expect(shown(ratingKey).contentRating).toBe('NC-17');

    // Set empty: left alone from now on (the value stays, no longer locked), and nothing more is sent.
    await syncScene(id, depsWith({ CONTENT_RATING: '' }));
    expect(shown(ratingKey).contentRating).toBe('NC-17');
    expect(shown(ratingKey).locked).not.toContain('contentRating');
    expect(await syncScene(id, depsWith({ CONTENT_RATING: '' }))).toMatchObject({ editRequests: 0 });
  });

  it("set empty, a rating Plex's agent gave is never touched", async () => {
    const { id, ratingKey } = newScene(202);
    await asTheAgent(ratingKey, { contentRating: 'TV-MA' });
    await syncScene(id, depsWith({ CONTENT_RATING: ' ' }));
    expect(shown(ratingKey).contentRating).toBe('TV-MA');
    expect(shown(ratingKey).locked).not.toContain('contentRating');
  });
});

describe('original title (SYNC_FIELDS originaltitle)', () => {
  it("the scene's studio code, on by default; changed with it; cleared when Stash's code is removed", async () => {
    const { id, ratingKey } = newScene(211);
    world.stash.updateScene(id, { code: 'ABC-123' });
    await syncScene(id, depsWith());
    expect(shown(ratingKey).originalTitle).toBe('ABC-123');
    expect(shown(ratingKey).locked).toContain('originalTitle');
    expect(await metadataJson(ratingKey)).toMatchObject({ originalTitle: 'ABC-123' });
    expect(await syncScene(id, depsWith())).toMatchObject({ editRequests: 0 });

    world.stash.updateScene(id, { code: 'ABC-124' });
    await syncScene(id, depsWith());
    expect(shown(ratingKey).originalTitle).toBe('ABC-124');

    world.stash.updateScene(id, { code: null });
    await syncScene(id, depsWith());
    expect(shown(ratingKey).originalTitle).toBe('');
    expect(await metadataJson(ratingKey)).not.toHaveProperty('originalTitle');
  });

  it('a scene without a code leaves an original title stash2plex never set', async () => {
    const { id, ratingKey } = newScene(212);
    await asTheAgent(ratingKey, { originalTitle: 'Agent Title' });
    await syncScene(id, depsWith());
    expect(shown(ratingKey).originalTitle).toBe('Agent Title');
  });
});

describe('sort title (SYNC_FIELDS sorttitle)', () => {
  it('off by default; the title without its leading article; changed with the title; cleared when it has none', async () => {
    const { id, ratingKey } = newScene(221);
    world.stash.updateScene(id, { title: 'The Long Night' });
    await syncScene(id, depsWith());
    expect(shown(ratingKey).titleSort).toBe('');

    const deps = depsWith({ SYNC_FIELDS: 'title,sorttitle' });
    await syncScene(id, deps);
    expect(shown(ratingKey)).toMatchObject({ title: 'The Long Night', titleSort: 'Long Night' });
    expect(shown(ratingKey).locked).toContain('titleSort');
    expect(await metadataJson(ratingKey)).toMatchObject({ titleSort: 'Long Night' });
    expect(await syncScene(id, deps)).toMatchObject({ editRequests: 0 });

    world.stash.updateScene(id, { title: 'An Early Morning' });
    await syncScene(id, deps);
    expect(shown(ratingKey).titleSort).toBe('Early Morning');

    // No article: Plex sorts by the title itself, the sort title stash2plex set goes.
    world.stash.updateScene(id, { title: 'Afternoon' });
    await syncScene(id, deps);
    expect(shown(ratingKey)).toMatchObject({ title: 'Afternoon', titleSort: '' });
  });
});

describe('tagline (SYNC_FIELDS tagline, TAGLINE_FROM_DETAILS)', () => {
  it('off by default; TAGLINE_FROM_DETAILS=true: the first line of the details; changed; cleared; released when turned off', async () => {
    const { id, ratingKey } = newScene(231);
    world.stash.updateScene(id, { details: '\nA first line.\nAnd the rest of the story.' });
    await syncScene(id, depsWith());
    expect(shown(ratingKey).tagline).toBe('');

    const deps = depsWith({ SYNC_FIELDS: 'title,summary', TAGLINE_FROM_DETAILS: 'true' });
    await syncScene(id, deps);
    expect(shown(ratingKey).tagline).toBe('A first line.');
    expect(shown(ratingKey).summary).toBe('A first line.\nAnd the rest of the story.');
    expect(shown(ratingKey).locked).toContain('tagline');
    expect(await metadataJson(ratingKey)).toMatchObject({ tagline: 'A first line.' });
    expect(await syncScene(id, deps)).toMatchObject({ editRequests: 0 });

    world.stash.updateScene(id, { details: 'Another line' });
    await syncScene(id, deps);
    expect(shown(ratingKey).tagline).toBe('Another line');

    world.stash.updateScene(id, { details: null });
    await syncScene(id, deps);
    expect(shown(ratingKey).tagline).toBe('');

    // `tagline` in SYNC_FIELDS does the same; out of it (and the switch off), the lock goes.
    world.stash.updateScene(id, { details: 'Back again' });
    await syncScene(id, depsWith({ SYNC_FIELDS: 'title,tagline' }));
    expect(shown(ratingKey)).toMatchObject({ tagline: 'Back again' });
    await syncScene(id, depsWith({ SYNC_FIELDS: 'title' }));
    expect(shown(ratingKey).locked).not.toContain('tagline');
  });
});

describe('labels (SYNC_FIELDS labels, LABEL_TAGS)', () => {
  it("off by default; the scene's tags named in LABEL_TAGS; changed with its tags; cleared when none is left; others stay", async () => {
    const { id, ratingKey } = newScene(241);
    const favourite = world.stash.addTag('Favourite');
    const uhd = world.stash.addTag('4K');
    const other = world.stash.addTag('Outdoor');
    world.stash.updateScene(id, { tag_ids: [favourite, other] });
    await syncScene(id, depsWith());
    expect(shown(ratingKey).label).toEqual([]);
    // A label another tool set (Kometa's `Overlay`): not named in LABEL_TAGS, never removed.
    await asTheAgent(ratingKey, {}, ['Overlay']);

    const deps = depsWith({ SYNC_FIELDS: 'title,genres', LABEL_TAGS: 'favourite, 4K' });
    expect(deps.sync.fields).toContain('labels');
    await syncScene(id, deps);
    expect(shown(ratingKey).label).toEqual(['Overlay', 'Favourite']);
    expect(shown(ratingKey).genre).toEqual(['Favourite', 'Outdoor']);
    expect(shown(ratingKey).locked).toContain('label');
    expect(await metadataJson(ratingKey)).toMatchObject({
      Label: [expect.objectContaining({ tag: 'Overlay' }), expect.objectContaining({ tag: 'Favourite' })],
    });
    expect(await syncScene(id, deps)).toMatchObject({ editRequests: 0 });

    world.stash.updateScene(id, { tag_ids: [favourite, uhd, other] });
    await syncScene(id, deps);
    expect(shown(ratingKey).label).toEqual(['Overlay', 'Favourite', '4K']);

    world.stash.updateScene(id, { tag_ids: [other] });
    await syncScene(id, deps);
    expect(shown(ratingKey).label).toEqual(['Overlay']);
    await syncScene(id, depsWith({ SYNC_FIELDS: 'title,labels' }));
    expect(shown(ratingKey).label).toEqual(['Overlay']);
  });
});

describe('restore', () => {
  it("puts back what Plex's agent had in each field, unlocked as it was", async () => {
    const { id, ratingKey } = newScene(251);
    const tag = world.stash.addTag('Pick');
    world.stash.updateScene(id, { title: 'The Restored One', code: 'R-1', details: 'Tag line\nmore', tag_ids: [tag] });
    await asTheAgent(ratingKey, { contentRating: 'R', tagline: 'Agent tagline' }, ['Agent label']);
    const deps = depsWith({ SYNC_FIELDS: 'title,contentrating,originaltitle,sorttitle,tagline,labels', LABEL_TAGS: 'Pick' });
    await syncScene(id, deps);
    expect(shown(ratingKey)).toMatchObject({
      contentRating: 'XXX',
      originalTitle: 'R-1',
      titleSort: 'Restored One',
      tagline: 'Tag line',
      label: ['Agent label', 'Pick'],
    });
    const report = await restoreScenes(
      { redis, keys: keys(world.prefix), plex: deps.plex as PlexClient },
      { scope: { sceneIds: [id] }, dryRun: false },
    );
    expect(report.scenes[0]?.restored).toEqual(
      expect.arrayContaining(['contentrating', 'originaltitle', 'sorttitle', 'tagline', 'labels']),
    );
    expect(shown(ratingKey)).toMatchObject({
      contentRating: 'R',
      originalTitle: '',
      titleSort: '',
      tagline: 'Agent tagline',
      label: ['Agent label'],
    });
    for (const lock of ['contentRating', 'originalTitle', 'titleSort', 'tagline', 'label'])
      expect(shown(ratingKey).locked).not.toContain(lock);
  });
});
