// syncScene with fake ports (Plex, Stash) and the run's real Redis: what it reads, what it sends, and the
// errors it ends with.
import { createHash } from 'node:crypto';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { parseConfig } from '../../src/core/config.js';
import { SyncError } from '../../src/core/errors.js';
import { keys, originalsKey, ownershipKey } from '../../src/core/redis.js';
import type { PlexEdit, PlexItem, Screenshot, StashScene } from '../../src/model/types.js';
import { parseItem } from '../../src/plex/edits.js';
import { NOT_IN_PLEX, syncScene, type PlexPort, type StashPort, type SyncDeps } from '../../src/sync/processor.js';
import { testRedis, uniquePrefix } from '../helpers/redis.js';

const JPEG = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]);
const OTHER_JPEG = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 9, 9, 9]);
const SVG = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>');

function scene(id: string, over: Partial<StashScene> = {}): StashScene {
  return {
    id,
    title: `Scene ${id}`,
    code: null,
    details: 'Details',
    director: null,
    urls: [],
    date: '2024-05-01',
    rating100: 80,
    organized: false,
    updated_at: '2024-05-01T00:00:00Z',
    studio: { id: '1', name: 'Studio', parent_studio: null },
    performers: [{ name: 'Ann' }],
    tags: [{ name: 'Tag' }],
    files: [{ path: `/media/${id}.mp4`, basename: `${id}.mp4`, size: 10 }],
    paths: { screenshot: `http://stash/scene/${id}/screenshot` },
    stash_ids: [],
    ...over,
  };
}

/** A Plex that knows the files it is given, applies edits to its items, and records every call. */
function fakePlex(files: Record<string, string>) {
  const items = new Map<string, PlexItem>();
  const calls: string[] = [];
  for (const ratingKey of new Set(Object.values(files))) {
    // A fresh item as Plex's scanner leaves it: the file name as title, nothing else, nothing locked.
    items.set(ratingKey, parseItem({ MediaContainer: { Metadata: [{ ratingKey, title: 'file name' }] } }, '1'));
  }
  const lock = (item: PlexItem, field: string) => !item.locked.includes(field) && item.locked.push(field);
  const port: PlexPort & { down?: boolean } = {
    // Like the real client with a cached ratingKey: verified by reading the item through `read`.
    async resolveItem(path, _size, opts) {
      calls.push(`resolve ${path}`);
      if (port.down) throw new SyncError('PlexServerDown', 'GET /library/sections → ECONNREFUSED');
      const ratingKey = files[path];
      if (!ratingKey) throw new SyncError('PlexNotFound', `${path} is in no library`);
      const found = { ratingKey, sectionKey: '1', via: 'path' as const, cached: false };
      return opts?.read ? { ...found, cached: true, item: await opts.read(ratingKey, '1') } : found;
    },
    plexPathOf: (path) => path,
    getItem(ratingKey) {
      calls.push(`read ${ratingKey}`);
      const item = items.get(ratingKey);
      if (!item) return Promise.reject(new SyncError('PlexNotFound', `GET /library/metadata/${ratingKey} → 404`));
      return Promise.resolve(structuredClone(item));
    },
    applyEdit(_section, ratingKey, edit: PlexEdit) {
      calls.push(`edit ${ratingKey}`);
      const item = items.get(ratingKey)!;
      for (const [field, value] of Object.entries(edit.scalars)) {
        (item as unknown as Record<string, string>)[field] = value!;
        lock(item, field);
      }
      for (const [field, change] of Object.entries(edit.tags)) {
        item.tags[field as keyof PlexItem['tags']] = change.set;
        lock(item, field);
      }
      if (edit.userRating !== undefined) item.userRating = edit.userRating;
      return Promise.resolve(1);
    },
    editBudget: () => 8000,
    uploadPoster(_section, ratingKey) {
      calls.push(`poster ${ratingKey}`);
      lock(items.get(ratingKey)!, 'thumb');
      items.get(ratingKey)!.thumb = `/library/metadata/${ratingKey}/thumb/2`;
      return Promise.resolve();
    },
    posters(ratingKey) {
      calls.push(`posters ${ratingKey}`);
      return Promise.resolve(
        items.get(ratingKey)!.thumb ? [{ ratingKey: 'metadata://posters/agent', selected: true, provider: 'agent' }] : [],
      );
    },
    uploadArt(_section, ratingKey) {
      calls.push(`art ${ratingKey}`);
      lock(items.get(ratingKey)!, 'art');
      items.get(ratingKey)!.art = `/library/metadata/${ratingKey}/art/2`;
      return Promise.resolve();
    },
    arts(ratingKey) {
      calls.push(`arts ${ratingKey}`);
      return Promise.resolve(items.get(ratingKey)!.art ? [{ ratingKey: 'metadata://arts/agent', selected: true, provider: 'agent' }] : []);
    },
    // Like the real client: proven gone only when Plex answers (not down) and has no such item.
    confirmGone(ratingKey) {
      calls.push(`confirm gone ${ratingKey}`);
      return Promise.resolve(!port.down && !items.has(ratingKey));
    },
  };
  return { port, calls, items };
}

function fakeStash(scenes: StashScene[], shot: () => Screenshot) {
  const byId = new Map(scenes.map((s) => [s.id, s]));
  const port: StashPort & { screenshots: number } = {
    screenshots: 0,
    findScene(id) {
      return Promise.resolve(byId.get(id) ?? null);
    },
    fetchScreenshot() {
      port.screenshots++;
      return Promise.resolve(shot());
    },
    scenesWithFileNamed(name) {
      return Promise.resolve(
        [...byId.values()].filter((s) => s.files.some((f) => f.basename === name)).map((s) => ({ id: s.id, files: s.files })),
      );
    },
  };
  return { port, byId };
}

// The run's private Redis (test/helpers/global-setup.ts), a fresh key prefix per setup().
const redis = testRedis();
afterAll(() => redis.disconnect());

// The text fields and the poster: the background and actor photos have tests of their own (test/integration/images.test.ts).
const SYNC = parseConfig({ SYNC_FIELDS: 'title,summary,studio,date,genres,actors,rating,poster' }, { plex: false, stash: false }).sync;
const NO_POSTER = { ...SYNC, fields: SYNC.fields.filter((f) => f !== 'poster') };

function setup(
  opts: { poster?: boolean; files?: Record<string, string>; shot?: () => Screenshot; scenes?: StashScene[] } = {},
  over: Partial<SyncDeps> = {},
) {
  const plex = fakePlex(opts.files ?? { '/media/1.mp4': '101' });
  const stash = fakeStash(opts.scenes ?? [scene('1')], opts.shot ?? (() => ({ bytes: JPEG, contentType: 'image/jpeg' })));
  const sync = opts.poster ? SYNC : NO_POSTER;
  const deps: SyncDeps = { plex: plex.port, stash: stash.port, redis, keys: keys(uniquePrefix('sync')), sync, ...over };
  return { deps, plex, stash };
}

const failure = (p: Promise<unknown>) =>
  p.then(
    () => null,
    (err: unknown) => err as SyncError,
  );

describe('syncScene', () => {
  it('a changed scene: one edit; the same scene again: no edit at all', async () => {
    const { deps, plex } = setup();
    expect(await syncScene('1', deps)).toEqual({ ratingKey: '101', editRequests: 1, posterUploaded: false });
    expect(plex.items.get('101')).toMatchObject({
      title: 'Scene 1',
      studio: 'Studio',
      userRating: 8,
      tags: { genre: ['Tag'], actor: ['Ann'] },
    });
    expect(await syncScene('1', deps)).toEqual({ ratingKey: '101', editRequests: 0, posterUploaded: false });
    expect(plex.calls.filter((c) => c.startsWith('edit'))).toEqual(['edit 101']);
  });

  it('an edit in Stash after a sync: one more edit', async () => {
    const { deps, plex, stash } = setup();
    await syncScene('1', deps);
    stash.byId.set('1', scene('1', { title: 'Renamed' }));
    expect(await syncScene('1', deps)).toMatchObject({ editRequests: 1 });
    expect(plex.items.get('101')!.title).toBe('Renamed');
  });

  it('the poster: uploaded once, not again while the image and its lock stay, again when the image changes', async () => {
    let bytes = JPEG;
    const { deps, plex } = setup({ poster: true, shot: () => ({ bytes, contentType: 'image/jpeg' }) });
    expect(await syncScene('1', deps)).toMatchObject({ posterUploaded: true });
    expect(await syncScene('1', deps)).toMatchObject({ posterUploaded: false });
    plex.items.get('101')!.locked = plex.items.get('101')!.locked.filter((f) => f !== 'thumb'); // someone unlocked it in Plex
    expect(await syncScene('1', deps)).toMatchObject({ posterUploaded: true });
    bytes = OTHER_JPEG;
    expect(await syncScene('1', deps)).toMatchObject({ posterUploaded: true });
    expect(plex.calls.filter((c) => c.startsWith('poster'))).toHaveLength(3);
  });

  it('a screenshot that is no poster (SVG placeholder, too large) is skipped with a note, and nothing is uploaded', async () => {
    for (const shot of [{ bytes: SVG, contentType: 'image/svg+xml' }, { skipped: 'screenshot too large' }] as Screenshot[]) {
      const { deps, plex } = setup({ poster: true, shot: () => shot });
      const result = await syncScene('1', deps);
      expect(result).toMatchObject({
        posterUploaded: false,
        posterSkipped: expect.stringMatching(/not JPEG, PNG or WebP|too large/) as string,
      });
      expect(plex.calls.some((c) => c.startsWith('poster'))).toBe(false);
    }
  });

  it("a coverless scene's placeholder is read once per version: an unchanged sync reads no screenshot; a cover added later is read and uploaded", async () => {
    let version = 1_700_000_000;
    let shot: Screenshot = { bytes: SVG, contentType: 'image/svg+xml' };
    const scenes = [scene('1')];
    const withVersion = () => (scenes[0].paths = { screenshot: `http://stash/scene/1/screenshot?t=${version}` });
    withVersion();
    const { deps, plex, stash } = setup({ poster: true, scenes, shot: () => shot });
    expect(await syncScene('1', deps)).toMatchObject({
      posterUploaded: false,
      posterSkipped: expect.stringMatching(/not JPEG, PNG or WebP/) as string,
    });
    expect(stash.port.screenshots).toBe(1);
    expect(await syncScene('1', deps)).toMatchObject({
      posterUploaded: false,
      posterSkipped: expect.stringMatching(/not read: at this version/) as string,
    });
    expect(await syncScene('1', deps)).toMatchObject({ posterUploaded: false });
    expect(stash.port.screenshots).toBe(1);
    // A cover set in Stash moves the scene's updated_at, and so `?t=`.
    version += 60;
    withVersion();
    shot = { bytes: JPEG, contentType: 'image/jpeg' };
    expect(await syncScene('1', deps)).toMatchObject({ posterUploaded: true });
    expect(stash.port.screenshots).toBe(2);
    expect(await syncScene('1', deps)).toMatchObject({ posterUploaded: false });
    expect(stash.port.screenshots).toBe(2);
    expect(plex.calls.filter((c) => c.startsWith('poster'))).toHaveLength(1);
  });

  it('a screenshot skipped unread (over POSTER_MAX_BYTES) is read again next time: the limit may have changed', async () => {
    const scenes = [scene('1', { paths: { screenshot: 'http://stash/scene/1/screenshot?t=1700000000' } })];
    const { deps, stash } = setup({ poster: true, scenes, shot: () => ({ skipped: 'screenshot too large' }) });
    await syncScene('1', deps);
    await syncScene('1', deps);
    expect(stash.port.screenshots).toBe(2);
  });

  it('no screenshot is read with SYNC_POSTER off or a scene without one', async () => {
    const off = setup();
    await syncScene('1', off.deps);
    expect(off.stash.port.screenshots).toBe(0);
    const none = setup({ poster: true, scenes: [scene('1', { paths: { screenshot: null } })] });
    await syncScene('1', none.deps);
    expect(none.stash.port.screenshots).toBe(0);
  });

  it('a scene Stash does not have: StashSceneMissing, and Plex is not asked', async () => {
    const { deps, plex } = setup();
    expect((await failure(syncScene('9', deps)))?.type).toBe('StashSceneMissing');
    expect(plex.calls).toEqual([]);
  });

  it('no file Plex knows: PlexNotFound after trying each (and a scan of their folders), or skipped with PLEX_NOT_FOUND=skip', async () => {
    const two = scene('1', {
      files: [
        { path: '/a/1.mp4', basename: '1.mp4' },
        { path: '/b/1.mkv', basename: '1.mkv' },
      ],
    });
    const scanned: string[][] = [];
    const { deps, plex } = setup({ files: {}, scenes: [two] }, { scanMissing: (paths) => (scanned.push([...paths]), Promise.resolve([])) });
    expect((await failure(syncScene('1', deps)))?.type).toBe('PlexNotFound');
    expect(plex.calls).toEqual(['resolve /a/1.mp4', 'resolve /b/1.mkv']);
    expect(scanned).toEqual([['/a/1.mp4', '/b/1.mkv']]);
    expect(await syncScene('1', { ...deps, notFound: 'skip' })).toEqual({ skipped: NOT_IN_PLEX });
    const noFiles = setup({ scenes: [scene('1', { files: [] })] });
    expect((await failure(syncScene('1', noFiles.deps)))?.type).toBe('PlexNotFound');
  });

  it('several files, the second known to Plex: that item is edited', async () => {
    const two = scene('1', {
      files: [
        { path: '/a/1.mp4', basename: '1.mp4' },
        { path: '/b/1.mkv', basename: '1.mkv' },
      ],
    });
    const { deps, plex } = setup({ files: { '/b/1.mkv': '202' }, scenes: [two] });
    expect(await syncScene('1', deps)).toMatchObject({ ratingKey: '202', editRequests: 1 });
    expect(plex.calls.filter((c) => !c.startsWith('read'))).toEqual(['resolve /a/1.mp4', 'resolve /b/1.mkv', 'edit 202']);
  });

  it('an error other than not-found stops at the first file and propagates as it is', async () => {
    const two = scene('1', {
      files: [
        { path: '/a/1.mp4', basename: '1.mp4' },
        { path: '/b/1.mkv', basename: '1.mkv' },
      ],
    });
    const { deps, plex } = setup({ files: { '/b/1.mkv': '202' }, scenes: [two] });
    plex.port.down = true;
    expect((await failure(syncScene('1', deps)))?.type).toBe('PlexServerDown');
    expect(plex.calls).toEqual(['resolve /a/1.mp4']);
  });

  it('the item a scene last synced to is read alongside the scene, once, and verified by resolution', async () => {
    const { deps, plex, stash } = setup();
    await syncScene('1', deps);
    expect(await redis.hget(deps.keys.plexSceneItem, '1')).toBe('101');
    // The Stash read held open: the Plex read must already be under way.
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const findScene = stash.port.findScene.bind(stash.port);
    stash.port.findScene = async (id) => {
      await held;
      return findScene(id);
    };
    plex.calls.length = 0;
    const run = syncScene('1', deps);
    await vi.waitFor(() => expect(plex.calls).toEqual(['read 101']));
    release();
    expect(await run).toEqual({ ratingKey: '101', editRequests: 0, posterUploaded: false });
    expect(plex.calls).toEqual(['read 101', 'resolve /media/1.mp4']);
  });

  it('a stale hint costs one read: resolution decides, and the hint follows it', async () => {
    const { deps, plex } = setup({ files: { '/media/1.mp4': '101', '/old/1.mp4': '100' } });
    await redis.hset(deps.keys.plexSceneItem, '1', '100');
    expect(await syncScene('1', deps)).toMatchObject({ ratingKey: '101', editRequests: 1 });
    expect(plex.calls.filter((c) => c.startsWith('read'))).toEqual(['read 100', 'read 101']);
    expect(await redis.hget(deps.keys.plexSceneItem, '1')).toBe('101');
    // A hint to an item Plex no longer has: its 404 is not the job's (and is no unhandled rejection).
    await redis.hset(deps.keys.plexSceneItem, '1', '404');
    expect(await syncScene('1', deps)).toMatchObject({ ratingKey: '101', editRequests: 0 });
  });

  it("a moved file: the scene lands on Plex's new item; the old one, proven gone, hands it its record and loses its claim", async () => {
    const files: Record<string, string> = { '/media/1.mp4': '101' };
    const { deps, plex, stash } = setup({ files });
    await syncScene('1', deps);
    const before = await redis.hgetall(ownershipKey(deps.keys, '101'));
    expect(await redis.hget(deps.keys.plexItemScene, '101')).toBe('1\tpath');
    // Stash's scan found the file at a new path; Plex dropped the old item and made a bare one there.
    stash.byId.get('1')!.files = [{ path: '/media/moved/1.mp4', basename: '1.mp4', size: 10 }];
    plex.items.delete('101');
    plex.items.set('102', parseItem({ MediaContainer: { Metadata: [{ ratingKey: '102', title: 'file name' }] } }, '1'));
    delete files['/media/1.mp4'];
    files['/media/moved/1.mp4'] = '102';
    plex.calls.length = 0;
    expect(await syncScene('1', deps)).toMatchObject({ ratingKey: '102', editRequests: 1 });
    expect(plex.calls).toEqual(['read 101', 'resolve /media/moved/1.mp4', 'read 102', 'confirm gone 101', 'edit 102']);
    expect(plex.items.get('102')).toMatchObject({ title: 'Scene 1', summary: 'Details' });
    expect(await redis.hget(deps.keys.plexSceneItem, '1')).toBe('102');
    expect(await redis.hget(deps.keys.plexItemScene, '102')).toBe('1\tpath');
    expect(await redis.hexists(deps.keys.plexItemScene, '101')).toBe(0);
    expect(await redis.exists(ownershipKey(deps.keys, '101'))).toBe(0);
    // The old record came over as intents, then was confirmed by the edit: the same values, now 102's.
    expect(await redis.hgetall(ownershipKey(deps.keys, '102'))).toEqual(before);
    // Synced again: nothing to prove, nothing to send.
    plex.calls.length = 0;
    expect(await syncScene('1', deps)).toMatchObject({ ratingKey: '102', editRequests: 0 });
    expect(plex.calls).toEqual(['read 102', 'resolve /media/moved/1.mp4']);
  });

  it('a moved file whose old item Plex still has: the scene moves to the new item, the old one keeps its record and claim', async () => {
    const { deps, plex, stash } = setup({ files: { '/media/1.mp4': '101', '/media/moved/1.mp4': '102' } });
    await syncScene('1', deps);
    stash.byId.get('1')!.files = [{ path: '/media/moved/1.mp4', basename: '1.mp4', size: 10 }];
    plex.calls.length = 0;
    expect(await syncScene('1', deps)).toMatchObject({ ratingKey: '102', editRequests: 1 });
    expect(plex.calls).not.toContain('confirm gone 101');
    expect(await redis.hget(deps.keys.plexSceneItem, '1')).toBe('102');
    expect(await redis.hget(deps.keys.plexItemScene, '101')).toBe('1\tpath');
    expect(await redis.exists(ownershipKey(deps.keys, '101'))).toBe(1);
  });

  it('a scene Stash no longer has loses its hint', async () => {
    const { deps, stash } = setup();
    await syncScene('1', deps);
    expect(await redis.hget(deps.keys.plexSceneItem, '1')).toBe('101');
    stash.byId.delete('1');
    expect((await failure(syncScene('1', deps)))?.type).toBe('StashSceneMissing');
    expect(await redis.hexists(deps.keys.plexSceneItem, '1')).toBe(0);
  });

  it('an excluded scene (restored) is skipped before any Stash or Plex request, saying how to bring it back', async () => {
    const { deps, plex } = setup();
    const reads: string[] = [];
    deps.stash.findScene = (id) => (reads.push(id), Promise.resolve(null));
    await redis.hset(deps.keys.syncExcluded, '1', JSON.stringify({ at: 1, why: 'restored', ratingKey: '101' }));
    expect(await syncScene('1', deps)).toEqual({
      skipped: 'excluded from sync (restored): npm run restore -- --resume --scene 1, or "Sync again" on the status page, brings it back',
    });
    expect(plex.calls).toEqual([]);
    expect(reads).toEqual([]);
  });
});

describe('what Plex had is kept before stash2plex first writes a field', () => {
  const kept = (deps: SyncDeps) => redis.hgetall(originalsKey(deps.keys, '101'));

  it('each field the first edit writes, with its lock; once: a later edit of the same field keeps the first', async () => {
    const { deps, plex, stash } = setup();
    plex.items.get('101')!.locked.push('studio');
    plex.items.get('101')!.userRating = 3;
    await syncScene('1', deps);
    expect(await kept(deps)).toEqual({
      title: JSON.stringify({ value: 'file name', locked: false }),
      summary: JSON.stringify({ value: '', locked: false }),
      studio: JSON.stringify({ value: '', locked: true }),
      date: JSON.stringify({ value: '', locked: false }),
      genres: JSON.stringify({ value: [], locked: false }),
      actors: JSON.stringify({ value: [], locked: false }),
      rating: JSON.stringify({ value: 3, locked: false }),
    });
    const first = await kept(deps);
    stash.byId.set('1', scene('1', { title: 'Renamed' }));
    await syncScene('1', deps);
    expect(plex.items.get('101')!.title).toBe('Renamed');
    expect(await kept(deps)).toEqual(first);
  });

  it('a field the ownership record already holds (set before originals were kept) keeps nothing', async () => {
    const { deps } = setup();
    await redis.hset(ownershipKey(deps.keys, '101'), 'title', 'feedc0de00000000');
    await syncScene('1', deps);
    expect(Object.keys(await kept(deps))).not.toContain('title');
    expect(Object.keys(await kept(deps))).toContain('summary');
  });

  it('the poster Plex had selected, read once before the first upload, and the SHA-1 of each upload', async () => {
    let bytes = JPEG;
    const { deps, plex } = setup({ poster: true, shot: () => ({ bytes, contentType: 'image/jpeg' }) });
    plex.items.get('101')!.thumb = '/library/metadata/101/thumb/1';
    await syncScene('1', deps);
    expect(await kept(deps)).toMatchObject({
      poster: JSON.stringify({ value: 'metadata://posters/agent', locked: false }),
      'poster:upload': createHash('sha1').update(JPEG).digest('hex'),
    });
    bytes = OTHER_JPEG;
    await syncScene('1', deps);
    expect(await kept(deps)).toMatchObject({
      poster: JSON.stringify({ value: 'metadata://posters/agent', locked: false }),
      'poster:upload': createHash('sha1').update(OTHER_JPEG).digest('hex'),
    });
    expect(plex.calls.filter((c) => c.startsWith('posters'))).toEqual(['posters 101']);
  });
});
