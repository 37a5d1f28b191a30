// PlexClient against PlexSimulator over real HTTP, with the path cache in a real Redis.
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SyncError, type ErrorType } from '../../src/core/errors.js';
import { PlexClient, type PlexClientOptions } from '../../src/plex/client.js';
import { keys } from '../../src/core/redis.js';
import { simFileSize } from '../../src/sim/file-size.js';
import { PlexSimulator, ROUTES, type SimRequest, type TagEditMode } from '../../src/sim/plex.js';
import type { SyncMode } from '../../src/sync/mapping.js';
import { decideEdit } from '../../src/sync/ownership.js';
import type { DesiredPlexState, PlexItem } from '../../src/model/types.js';
import { testRedis, uniquePrefix } from '../helpers/redis.js';

const TOKEN = 'plex-TOKEN-s3cr3t-91ab';
const MACHINE = 'sim-machine-1';
const CLIENT_ID = 'stash2plex-test-client';

let sim: PlexSimulator;
let redis: Redis;
let movies: string;
let other: string;
/** Every SyncError a test saw, checked for the token at the end. */
const seen: unknown[] = [];

beforeAll(async () => {
  sim = await PlexSimulator.start({ token: TOKEN, machineIdentifier: MACHINE });
  redis = testRedis();
  movies = sim.addSection({ title: 'Movies', locations: ['/plex/movies'] });
  other = sim.addSection({ title: 'Other', locations: ['/plex/movies/other'] });
  sim.addSection({ title: 'Shows', type: 'show', locations: ['/plex'] });
});
afterEach(async () => {
  await sim.setMode('up');
  sim.setLatencyMs(0);
  sim.setFileFilter('folder');
  sim.setTagEdits('replace');
  sim.setProxyLimits({});
});
afterAll(async () => {
  await sim.stop();
  redis.disconnect();
});

function client(over: Partial<PlexClientOptions> = {}) {
  const prefix = uniquePrefix('plex');
  const c = new PlexClient({
    url: sim.url,
    token: TOKEN,
    redis,
    prefix,
    pathMap: [{ from: '/stash', to: '/plex' }],
    clientIdentifier: CLIENT_ID,
    ...over,
  });
  return Object.assign(c, { pathCacheKey: keys(prefix).plexPathCache, scanMarkKey: keys(prefix).plexLastScan });
}

/** The SyncError a promise rejects with (recorded for the token check). */
async function failure(p: Promise<unknown>): Promise<SyncError> {
  const err = await p.then(
    () => {
      throw new Error('expected a failure');
    },
    (e: unknown) => e,
  );
  seen.push(err);
  expect(err).toBeInstanceOf(SyncError);
  return err as SyncError;
}

async function expectType(p: Promise<unknown>, type: ErrorType): Promise<SyncError> {
  const err = await failure(p);
  expect(err.type).toBe(type);
  return err;
}

const listings = () => sim.requests.filter((x) => x.route === ROUTES.sectionAll && x.method === 'GET');
/** A listing bounded by X-Plex-Container-Start/-Size (at most 1000), and answered within it. */
const bounded = (r: SimRequest) =>
  r.containerStart !== null && r.containerSize !== null && Number(r.containerSize) <= 1000 && r.listed <= Number(r.containerSize);

const add = (
  sectionKey: string,
  file: string,
  title = file
    .split('/')
    .pop()!
    .replace(/\.\w+$/, ''),
) => sim.addItem({ sectionKey, title, file });

describe('server and token', () => {
  it('reads the identity without a token', async () => {
    const id = await client().identity();
    expect(id).toMatchObject({ machineIdentifier: MACHINE, version: expect.stringMatching(/^1\.\d+/) as string });
    expect(id.latencyMs).toBeGreaterThanOrEqual(0);
    expect(sim.requests.at(-1)).toMatchObject({ route: ROUTES.identity, tokenIn: null, status: 200 });
  });

  it('sends the token only as a header, never in a URL', async () => {
    sim.resetCounters();
    const c = client();
    await c.checkToken();
    await c.resolveItem('/stash/movies/none/x.mp4').catch(() => undefined);
    expect(sim.count()).toBeGreaterThan(1);
    expect(sim.requests.every((r) => r.tokenIn === 'header' && !r.path.includes(TOKEN))).toBe(true);
  });

  it('maps 401 to PlexAuthError (wrong token, or token revoked)', async () => {
    await expectType(client({ token: 'wrong-token-xyz' }).checkToken(), 'PlexAuthError');
    await sim.setMode('401');
    const err = await expectType(client().checkToken(), 'PlexAuthError');
    expect(err.message).toBe('GET /library/sections → HTTP 401 (token rejected)');
    // /identity needs no token: a rejected token is not an outage.
    await expect(client().identity()).resolves.toMatchObject({ machineIdentifier: MACHINE });
  });

  it('maps a closed port to PlexServerDown, and works again on the same port', async () => {
    const c = client();
    await c.identity();
    const url = sim.url;
    await sim.setMode('down');
    await expectType(c.identity(), 'PlexServerDown');
    await expectType(c.getItem('1'), 'PlexServerDown');
    await sim.setMode('up');
    expect(sim.url).toBe(url);
    await expect(c.identity()).resolves.toMatchObject({ machineIdentifier: MACHINE });
  });

  it('a proxy answering 404 for paths Plex always has is an outage (PlexTemporaryError), not a missing item', async () => {
    await sim.setMode('proxy404');
    const c = client();
    expect((await expectType(c.identity(), 'PlexTemporaryError')).message).toMatch(/404 .*a path Plex always has/);
    await expectType(c.checkToken(), 'PlexTemporaryError');
    await expectType(c.resolveItem('/stash/movies/p/x.mp4'), 'PlexTemporaryError');
    // A single item's 404 stays PlexNotFound: that one is Plex's own answer about an item.
    await expectType(c.getItem('424242'), 'PlexNotFound');
    await sim.setMode('proxy502');
    await expectType(c.identity(), 'PlexTemporaryError');
  });

  it("a listing of a section Plex no longer lists is PlexNotFound (the 404 is Plex's own)", async () => {
    const gone = sim.addSection({ title: 'Gone', locations: ['/plex/gone'] });
    const c = client();
    await c.sections(); // cached with the section, as a worker's would be
    sim.removeSection(gone);
    await expectType(c.resolveItem('/stash/gone/x.mp4'), 'PlexNotFound');
  });

  it('maps 503 to PlexTemporaryError', async () => {
    await sim.setMode('503');
    const err = await expectType(client().identity(), 'PlexTemporaryError');
    expect(err.status).toBe(503);
    await expectType(client().checkToken(), 'PlexTemporaryError');
  });

  it('maps a response slower than the timeout to PlexTemporaryError', async () => {
    sim.setLatencyMs(3_000);
    const started = Date.now();
    await expectType(client({ timeoutMs: 100 }).checkToken(), 'PlexTemporaryError');
    expect(Date.now() - started).toBeLessThan(1_500); // gave up long before the answer
    await expectType(client().identity(100), 'PlexTemporaryError');
  });

  it('keeps the section list ~60 s', async () => {
    const c = client();
    await c.sections();
    sim.resetCounters();
    await c.sections();
    await Promise.all([c.sections(), c.sections()]);
    expect(sim.count({ route: ROUTES.sections })).toBe(0);
  });
});

describe('resolveItem', () => {
  it('finds the item by the file filter; the exact file wins over folder neighbours', async () => {
    const [a, b, c] = ['a', 'b', 'c'].map((n) => add(movies, `/plex/movies/f1/${n}.mp4`));
    sim.resetCounters();
    const r = await client().resolveItem('/stash/movies/f1/b.mp4');
    expect(r).toEqual({ ratingKey: b, sectionKey: movies, via: 'path', cached: false });
    expect([a, c]).not.toContain(r.ratingKey);
    const lists = listings();
    expect(lists).toHaveLength(1);
    expect(lists[0].path).toContain('file=%2Fplex%2Fmovies%2Ff1%2Fb.mp4');
    expect(lists[0]).toMatchObject({ containerStart: '0', containerSize: '1000' });
  });

  it('picks the section with the longest location prefix', async () => {
    const rk = add(other, '/plex/movies/other/o.mp4');
    expect(await client().resolveItem('/stash/movies/other/o.mp4')).toEqual({
      ratingKey: rk,
      sectionKey: other,
      via: 'path',
      cached: false,
    });
  });

  it('falls back to the title filter when the file filter finds nothing', async () => {
    const rk = add(movies, '/plex/movies/f2/My.Fine_Clip.mp4', 'My Fine Clip (2021)');
    add(movies, '/plex/movies/f9/My.Fine_Clip.mp4', 'My Fine Clip'); // same title, other file
    sim.setFileFilter('none');
    sim.resetCounters();
    expect(await client().resolveItem('/stash/movies/f2/My.Fine_Clip.mp4')).toEqual({
      ratingKey: rk,
      sectionKey: movies,
      via: 'path',
      cached: false,
    });
    expect(sim.requests.map((x) => x.path).filter((p) => p.includes('title='))).toHaveLength(1);
    expect(listings().length).toBeGreaterThan(0);
    expect(listings().every(bounded)).toBe(true);
  });

  it('falls back to a paged scan of the section', async () => {
    const big = sim.addSection({ title: 'Big', locations: ['/plex/big'] });
    let target = '';
    for (let i = 0; i < 450; i++) {
      const rk = sim.addItem({ sectionKey: big, title: `Renamed by agent ${i}`, file: `/plex/big/d${i % 7}/file-${i}.mp4` });
      if (i === 401) target = rk;
    }
    sim.setFileFilter('none');
    sim.resetCounters();
    expect(await client({ listPageSize: 200 }).resolveItem('/stash/big/d2/file-401.mp4')).toEqual({
      ratingKey: target,
      sectionKey: big,
      via: 'path',
      cached: false,
    });
    const scans = listings().filter((x) => !/file=|title=/.test(x.path));
    expect(scans.map((x) => x.containerStart)).toEqual(['0', '200', '400']); // 0–199, 200–399, 400–449
    expect(listings().every(bounded)).toBe(true);
  });

  it('pages the file= search too, when the server ignores the filter and answers the whole section', async () => {
    const big = sim.addSection({ title: 'Ignored', locations: ['/plex/ign'] });
    let target = '';
    for (let i = 0; i < 450; i++) {
      const rk = sim.addItem({ sectionKey: big, title: `Clip ${i}`, file: `/plex/ign/d${i % 7}/file-${i}.mp4` });
      if (i === 333) target = rk;
    }
    sim.setFileFilter('ignored');
    sim.resetCounters();
    expect(await client({ listPageSize: 200 }).resolveItem('/stash/ign/d4/file-333.mp4')).toEqual({
      ratingKey: target,
      sectionKey: big,
      via: 'path',
      cached: false,
    });
    // The file= search alone found it: three bounded pages, no title search, no scan.
    expect(listings().map((x) => [x.path.includes('file='), x.containerStart])).toEqual([
      [true, '0'],
      [true, '200'],
      [true, '400'],
    ]);
    expect(listings().every(bounded)).toBe(true);
  });

  it('a Plex that answers 400 to file=: files still resolve (title search, paged listing); file= is asked once per section per process', async () => {
    const refusing = sim.addSection({ title: 'Refusing', locations: ['/plex/refuse'] });
    const second = sim.addSection({ title: 'Refusing too', locations: ['/plex/refuse2'] });
    const want = new Map<string, string>();
    for (let i = 0; i < 30; i++) {
      const file = `/plex/refuse/d${i % 3}/clip-${i}.mp4`;
      want.set(file, sim.addItem({ sectionKey: refusing, title: `Renamed by agent ${i}`, file }));
    }
    const other = sim.addItem({ sectionKey: second, title: 'Renamed by agent', file: '/plex/refuse2/x/clip.mp4' });
    sim.setFileFilter('rejected');
    sim.resetCounters();
    const warnings: unknown[] = [];
    const c = client({ listPageSize: 10, log: { warn: (obj: unknown) => warnings.push(obj) } });
    const stash = (file: string) => file.replace('/plex/', '/stash/');
    const files = [...want.keys()];
    // Eight at once (a worker's jobs), then the rest one by one: every one found, by the paged listing.
    // allSettled: a failing resolution leaves no other one running into the next test.
    const first = await Promise.allSettled(files.slice(0, 8).map((f) => c.resolveItem(stash(f))));
    const found = first.map((r) => (r.status === 'fulfilled' ? r.value.ratingKey : String(r.reason)));
    for (const f of files.slice(8)) found.push((await c.resolveItem(stash(f))).ratingKey);
    expect(found).toEqual([...want.values()]);
    expect(await c.resolveItem('/stash/refuse2/x/clip.mp4')).toMatchObject({ ratingKey: other, sectionKey: second, via: 'path' });
    const byFile = listings().filter((x) => x.path.includes('file='));
    expect(byFile.map((x) => [x.path.split('?')[0], x.status])).toEqual([
      [`/library/sections/${refusing}/all`, 400],
      [`/library/sections/${second}/all`, 400],
    ]);
    expect(listings().filter((x) => !/file=|title=/.test(x.path))).toHaveLength(30 * 3 + 1); // each section read whole: 30 items in pages of 10, and 1 item
    expect(listings().every((x) => x.path.includes('file=') || bounded(x))).toBe(true);
    expect(warnings).toEqual([{ sectionKey: refusing }, { sectionKey: second }]);
    // Another process (a new client) asks once more.
    sim.resetCounters();
    await client().resolveItem(stash(files[0]));
    expect(listings().filter((x) => x.path.includes('file='))).toHaveLength(1);
    for (const rk of [...want.values(), other]) sim.removeItem(rk);
  });

  it('resolves in a section of 50 000 that ignores file=, in pages of at most 1000; the path cache then costs no listing', async () => {
    const huge = sim.addSection({ title: 'Huge', locations: ['/plex/huge'] });
    const keys: string[] = [];
    for (let i = 0; i < 50_000; i++)
      keys.push(sim.addItem({ sectionKey: huge, title: `Scene ${i}`, file: `/plex/huge/d${i % 100}/s${i}.mp4` }));
    sim.setFileFilter('ignored');
    sim.resetCounters();
    const c = client();
    expect(await c.resolveItem('/stash/huge/d17/s31717.mp4')).toEqual({
      ratingKey: keys[31717],
      sectionKey: huge,
      via: 'path',
      cached: false,
    });
    const lists = listings();
    expect(lists.length).toBe(50); // the whole section once (a second holder would be noticed), 1000 at a time
    expect(lists.every(bounded)).toBe(true);
    expect(Math.max(...lists.map((x) => x.listed))).toBe(1000);

    sim.resetCounters();
    // The verification read is handed back with the answer: the caller need not read the item again.
    expect(await c.resolveItem('/stash/huge/d17/s31717.mp4')).toMatchObject({
      ratingKey: keys[31717],
      sectionKey: huge,
      item: { ratingKey: keys[31717] },
    });
    expect(listings()).toHaveLength(0);
    expect(sim.requests.map((x) => `${x.method} ${x.route}`)).toEqual([`GET ${ROUTES.metadata}`]);
    for (const rk of keys) sim.removeItem(rk);
  }, 60_000);

  it('throws PlexNotFound when no item holds the file, or no library holds the path', async () => {
    add(movies, '/plex/movies/f3/neighbour.mp4');
    const err = await expectType(client().resolveItem('/stash/movies/f3/missing.mp4'), 'PlexNotFound');
    expect(err.message).toContain('/plex/movies/f3/missing.mp4');
    const outside = await expectType(client().resolveItem('/elsewhere/x.mp4'), 'PlexNotFound');
    expect(outside.message).toMatch(/no location of any movie library contains \/elsewhere\/x\.mp4/);
    // The allow-list narrows the search: 'Other' does not hold /plex/movies/f3.
    const limited = await expectType(client({ libraries: ['Other'] }).resolveItem('/stash/movies/f3/neighbour.mp4'), 'PlexNotFound');
    expect(limited.message).toContain('"Other"');
  });

  it('throws AmbiguousMatch when several items hold the file', async () => {
    const one = add(movies, '/plex/movies/f4/dup.mp4');
    const two = add(movies, '/plex/movies/f4/dup.mp4');
    const err = await expectType(client().resolveItem('/stash/movies/f4/dup.mp4'), 'AmbiguousMatch');
    expect(err.message).toContain(`${one}, ${two}`);
  });

  it('resolves Windows paths, sending the filter in the server’s style', async () => {
    const win = sim.addSection({ title: 'Win', locations: ['C:\\Plex\\Clips'] });
    const rk = sim.addItem({ sectionKey: win, title: 'w', file: '\\\\?\\C:\\Plex\\Clips\\w\\clip.mp4' });
    sim.resetCounters();
    const c = client({ pathMap: [{ from: '/stash/win', to: 'C:\\Plex\\Clips' }] });
    expect(await c.resolveItem('/stash/win/w/clip.mp4')).toEqual({ ratingKey: rk, sectionKey: win, via: 'path', cached: false });
    expect(sim.requests.find((x) => x.path.includes('file='))!.path).toContain(
      `file=${encodeURIComponent('C:\\Plex\\Clips\\w\\clip.mp4')}`,
    );
  });

  it('uses the Redis cache after a verified read, and drops a stale entry', async () => {
    const rk = add(movies, '/plex/movies/f5/cached.mp4');
    const c = client();
    await c.resolveItem('/stash/movies/f5/cached.mp4');
    expect(await redis.hget(c.pathCacheKey, '/plex/movies/f5/cached.mp4')).toBe(rk);

    sim.resetCounters();
    expect(await c.resolveItem('/stash/movies/f5/cached.mp4')).toMatchObject({
      ratingKey: rk,
      sectionKey: movies,
      item: { ratingKey: rk },
    });
    expect(sim.requests.map((x) => `${x.method} ${x.route}`)).toEqual([`GET ${ROUTES.metadata}`]);

    // Stale: the cached item now holds another file; a new item holds ours.
    sim.setItemFiles(rk, ['/plex/movies/f5/moved.mp4']);
    const fresh = add(movies, '/plex/movies/f5/cached.mp4');
    expect(await c.resolveItem('/stash/movies/f5/cached.mp4')).toEqual({
      ratingKey: fresh,
      sectionKey: movies,
      via: 'path',
      cached: false,
    });
    expect(await redis.hget(c.pathCacheKey, '/plex/movies/f5/cached.mp4')).toBe(fresh);

    // Stale: the cached item is gone (404) and nothing holds the file any more: proven by a second read
    // after the section answered, the entry goes and the caller is told (it forgets what it kept).
    sim.removeItem(fresh);
    const gone: [string, string | null][] = [];
    await expectType(
      c.resolveItem('/stash/movies/f5/cached.mp4', null, { onGone: (k, by) => (gone.push([k, by]), Promise.resolve()) }),
      'PlexNotFound',
    );
    expect(await redis.hexists(c.pathCacheKey, '/plex/movies/f5/cached.mp4')).toBe(0);
    expect(gone).toEqual([[fresh, null]]);
  });

  it('a cached item that 404s while its section does not answer normally keeps its entry, and nothing is reported gone', async () => {
    const rk = add(movies, '/plex/movies/f6/kept.mp4');
    const c = client();
    await c.resolveItem('/stash/movies/f6/kept.mp4');
    const gone: string[] = [];
    await sim.setMode('proxy404');
    await expectType(
      c.resolveItem('/stash/movies/f6/kept.mp4', null, { onGone: (k) => (gone.push(k), Promise.resolve()) }),
      'PlexTemporaryError',
    );
    await sim.setMode('up');
    expect(await redis.hget(c.pathCacheKey, '/plex/movies/f6/kept.mp4')).toBe(rk);
    expect(gone).toEqual([]);
  });

  it('an item replaced by a new one for the same file: reported with its successor', async () => {
    const old = add(movies, '/plex/movies/f7/replaced.mp4');
    const c = client();
    await c.resolveItem('/stash/movies/f7/replaced.mp4');
    sim.removeItem(old);
    const successor = add(movies, '/plex/movies/f7/replaced.mp4');
    const gone: [string, string | null][] = [];
    expect(
      await c.resolveItem('/stash/movies/f7/replaced.mp4', null, { onGone: (k, by) => (gone.push([k, by]), Promise.resolve()) }),
    ).toMatchObject({
      ratingKey: successor,
    });
    expect(gone).toEqual([[old, successor]]);
  });

  it('a base-name match cached before a folder scan is looked for again: the file may now be in Plex under its own path', async () => {
    const elsewhere = add(movies, '/plex/movies/elsewhere/clip77.mp4');
    const c = client();
    const stashPath = '/stash/movies/f8/clip77.mp4';
    const size = simFileSize('clip77.mp4');
    expect(await c.resolveItem(stashPath, size)).toMatchObject({ ratingKey: elsewhere, via: 'fallback', cached: false });
    const exact = add(movies, '/plex/movies/f8/clip77.mp4');
    // Until a scan is asked for, the cached match stands (verified: the item still holds its file).
    expect(await c.resolveItem(stashPath, size)).toMatchObject({ ratingKey: elsewhere, via: 'fallback', cached: true });
    await redis.set(c.scanMarkKey, String(Date.now() + 1)); // what the folder scanner writes when it asks Plex to scan
    expect(await c.resolveItem(stashPath, size)).toMatchObject({ ratingKey: exact, via: 'path', cached: false });
  });

  it("a file moved in Stash that Plex has not scanned at its new place: the scene's last item, at the old path, is no base-name match (a scan is the fix)", async () => {
    const old = add(movies, '/plex/movies/f9/relocated.mp4');
    const c = client();
    const size = simFileSize('relocated.mp4');
    expect(await c.resolveItem('/stash/movies/f9/relocated.mp4', size)).toMatchObject({ ratingKey: old, via: 'path' });
    // Stash now has the file in f10; Plex still shows the scene's item in f9, where a sync found it exactly.
    const err = await failure(c.resolveItem('/stash/movies/f10/relocated.mp4', size, { lastSyncedTo: old }));
    expect(err.type).toBe('PlexNotFound');
    expect(err.message).toBe(
      `no item in library section ${movies} holds /plex/movies/f10/relocated.mp4 (its last item ${old} still shows it at /plex/movies/f9/relocated.mp4: moved or renamed in Stash, not scanned by Plex at its new place yet?)`,
    );
    expect(await redis.hexists(c.pathCacheKey, '/plex/movies/f10/relocated.mp4')).toBe(0);
    // For another scene it is a copy of the same name and size: matched by base name (the claims judge it).
    expect(await c.resolveItem('/stash/movies/f10/relocated.mp4', size)).toMatchObject({ ratingKey: old, via: 'fallback' });
    // The scene's last item, but never found at that path by a sync: the usual base-name match (a PATH_MAP that differs).
    const twin = add(movies, '/plex/movies/f11/twin.mp4');
    expect(await client().resolveItem('/stash/movies/f12/twin.mp4', simFileSize('twin.mp4'), { lastSyncedTo: twin })).toMatchObject({
      ratingKey: twin,
      via: 'fallback',
    });
    expect(await c.syncedPaths(['/plex/movies/f9/relocated.mp4', '/plex/movies/f11/twin.mp4'])).toEqual([true, false]);
  });
});

/** What the worker wants in Plex: only the tags matter here. */
const desiredTags = (tags: DesiredPlexState['tags']): DesiredPlexState => ({
  scalars: { title: 'T', summary: '', studio: '', originallyAvailableAt: '' },
  tags,
  userRating: null,
  posterUrl: null,
});

/** The tag edit for fields stash2plex owns (so they follow Stash). */
const diff = (desired: DesiredPlexState, item: PlexItem, mode: SyncMode) =>
  decideEdit(
    desired,
    item,
    { genres: 'x', actors: 'x', collection: 'x' },
    { mode, fields: ['genres', 'actors', 'collection'], preservePlexEdits: false, maxTags: 200 },
  ).edit;

// Real Plex replaces a tag list with the indexed tags sent (python-plexapi plexapi/mixins.py editTags);
// the client must be right under that reading and under the older additive one.
describe.each<TagEditMode>(['replace', 'add'])('tag edits when Plex reads indexed tags as "%s"', (mode) => {
  it('mirror mode: exactly the desired tags', async () => {
    sim.setTagEdits(mode);
    const rk = sim.addItem({
      sectionKey: movies,
      title: 'T',
      file: `/plex/movies/tm-${mode}/x.mp4`,
      genre: ['Old', 'Keep', 'Bad, Tag'],
      actor: ['Zed'],
    });
    const c = client();
    const edit = diff(desiredTags({ genre: ['Keep', 'Drama, Dark'], actor: ['Alice'], collection: [] }), await c.getItem(rk), 'mirror');
    await c.applyEdit(movies, rk, edit);
    const item = await c.getItem(rk);
    expect([...item.tags.genre].sort()).toEqual(['Drama, Dark', 'Keep']);
    expect(item.tags.actor).toEqual(['Alice']);
    expect(item.tags.collection).toEqual([]);
    // In sync now: nothing more to send.
    expect(diff(desiredTags({ genre: ['Keep', 'Drama, Dark'], actor: ['Alice'], collection: [] }), item, 'mirror')).toEqual({
      scalars: {},
      tags: {},
    });
  });

  it('merge mode: the union, so tags only Plex has survive', async () => {
    sim.setTagEdits(mode);
    const rk = sim.addItem({
      sectionKey: movies,
      title: 'T',
      file: `/plex/movies/tg-${mode}/x.mp4`,
      genre: ['Plex Only', 'Both'],
      actor: ['Zed'],
    });
    const c = client();
    const edit = diff(desiredTags({ genre: ['Both', 'Stash Only'], actor: ['Alice'], collection: [] }), await c.getItem(rk), 'merge');
    expect(edit.tags.genre).toEqual({ set: ['Plex Only', 'Both', 'Stash Only'], remove: [] });
    await c.applyEdit(movies, rk, edit);
    const item = await c.getItem(rk);
    expect(item.tags.genre).toEqual(['Plex Only', 'Both', 'Stash Only']);
    expect(item.tags.actor).toEqual(['Zed', 'Alice']);
    expect(item.locked).toEqual(expect.arrayContaining(['genre', 'actor']));
  });
});

describe('getItem / applyEdit / uploadPoster', () => {
  it('applies scalars, mirrored tags, locks and the rating; getItem reads them back', async () => {
    const rk = sim.addItem({
      sectionKey: movies,
      title: 'raw',
      file: '/plex/movies/e1/x.mp4',
      genre: ['Old', 'Keep', 'Bad, Tag'],
      actor: ['Zed'],
    });
    const c = client();
    sim.resetCounters();
    const sent = await c.applyEdit(movies, rk, {
      scalars: { title: 'New Title', summary: 'Line 1\nLine 2 & more', studio: 'Studio, Inc.', originallyAvailableAt: '2024-02-29' },
      tags: {
        genre: { set: ['Keep', 'Drama, Dark', '100% real'], remove: ['Old', 'Bad, Tag'] },
        actor: { set: ['Alice'], remove: ['Zed'] },
        collection: { set: ['Col'], remove: [] },
      },
      userRating: 8.5,
    });
    expect(sent).toBe(2);
    expect(sim.editCount()).toBe(2);
    const item = await c.getItem(rk);
    expect(item).toMatchObject({
      ratingKey: rk,
      sectionKey: movies,
      title: 'New Title',
      summary: 'Line 1\nLine 2 & more',
      studio: 'Studio, Inc.',
      originallyAvailableAt: '2024-02-29',
      userRating: 8.5,
      files: ['/plex/movies/e1/x.mp4'],
    });
    // Mirror: exactly the desired set.
    expect([...item.tags.genre].sort()).toEqual(['100% real', 'Drama, Dark', 'Keep']);
    expect(item.tags.actor).toEqual(['Alice']);
    expect(item.tags.collection).toEqual(['Col']);
    expect([...item.locked].sort()).toEqual(['actor', 'collection', 'genre', 'originallyAvailableAt', 'studio', 'summary', 'title']);

    expect(await c.applyEdit(movies, rk, { scalars: {}, tags: {}, userRating: null })).toBe(1);
    expect((await c.getItem(rk)).userRating).toBeNull();
  });

  it('sends nothing at all for an empty edit', async () => {
    const rk = add(movies, '/plex/movies/e2/y.mp4');
    sim.resetCounters();
    expect(await client().applyEdit(movies, rk, { scalars: {}, tags: {} })).toBe(0);
    expect(sim.count()).toBe(0);
  });

  it('reports a rejected edit as PlexBadRequest and a missing item as PlexNotFound', async () => {
    const rk = add(movies, '/plex/movies/e3/z.mp4');
    await expectType(client().applyEdit(movies, rk, { scalars: { originallyAvailableAt: 'yesterday' }, tags: {} }), 'PlexBadRequest');
    await expectType(client().getItem('999999'), 'PlexNotFound');
  });

  it('uploads a poster and locks it', async () => {
    const rk = add(movies, '/plex/movies/e4/p.mp4');
    const bytes = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 4]);
    sim.resetCounters();
    await client().uploadPoster(movies, rk, bytes, 'image/jpeg');
    expect(sim.editCount()).toBe(2);
    expect(sim.item(rk)!.poster).toMatchObject({ bytes: 8, contentType: 'image/jpeg' });
    expect((await client().getItem(rk)).locked).toContain('thumb');
  });

  it("lists an item's posters (the selected one marked), selects one again, and reads the item's thumb", async () => {
    const rk = sim.addItem({
      sectionKey: movies,
      title: 'P',
      file: '/plex/movies/e4/agent.mp4',
      poster: { bytes: Buffer.from([0xff, 0xd8, 0xff, 9]), contentType: 'image/jpeg' },
    });
    const c = client();
    const [agent] = await c.posters(rk);
    expect(agent).toEqual({
      ratingKey: expect.stringMatching(/^metadata:\/\/posters\//) as string,
      selected: true,
      provider: 'tv.plex.agents.movie',
    });
    expect((await c.getItem(rk)).thumb).toMatch(new RegExp(`^/library/metadata/${rk}/thumb/`));
    await c.uploadPoster(movies, rk, Buffer.from([0xff, 0xd8, 0xff, 0xe0, 5]), 'image/jpeg');
    expect((await c.posters(rk)).map((p) => p.selected)).toEqual([false, true]);
    await c.selectPoster(rk, agent.ratingKey);
    expect(sim.item(rk)!.posterKey).toBe(agent.ratingKey);
    expect((await c.posters(rk)).map((p) => p.selected)).toEqual([true, false]);
    expect((await c.getItem(add(movies, '/plex/movies/e4/none.mp4'))).thumb).toBeUndefined();
    await expectType(c.selectPoster(rk, 'upload://posters/missing'), 'PlexNotFound');
  });
});

// Every field goes into a PUT's query string; nginx answers 414 past 8 KiB of request line, a Node-based
// proxy 431 past 16 KiB of headers. An edit is split to stay under PLEX_MAX_URL_BYTES (default 8 KiB).
describe('edits longer than a proxy allows', () => {
  const LETTERS = Array.from('äöü€漢字😀é');
  const text = (n: number) => Array.from({ length: n }, (_, i) => LETTERS[i % LETTERS.length]).join('');
  const names = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => `${prefix} ${i} — ñ`);
  const editUrls = () => sim.requests.filter((r) => r.method === 'PUT' && r.route === ROUTES.sectionAll).map((r) => `${sim.url}${r.path}`);
  const logged: { fields: Record<string, unknown>; msg: string }[] = [];
  const log = { warn: (fields: unknown, msg?: string) => void logged.push({ fields: fields as Record<string, unknown>, msg: msg ?? '' }) };

  it.each<TagEditMode>(['replace', 'add'])(
    'an edit over 8 KiB goes in several PUTs, each under it, each list whole ("%s")',
    async (mode) => {
      sim.setTagEdits(mode);
      sim.setProxyLimits({ requestLine: 8 * 1024 });
      const rk = sim.addItem({
        sectionKey: movies,
        title: 'raw',
        file: `/plex/movies/long-${mode}/x.mp4`,
        genre: ['Old'],
        actor: names(30, 'Gone'),
      });
      const edit = {
        scalars: { title: 'Ünïcödé', summary: text(700) },
        tags: { genre: { set: names(120, 'Génre'), remove: ['Old'] }, actor: { set: names(40, 'Actör'), remove: names(30, 'Gone') } },
      };
      sim.resetCounters();
      const sent = await client().applyEdit(movies, rk, edit);
      const urls = editUrls();
      expect(urls.length).toBeGreaterThan(1);
      expect(sent).toBe(urls.length);
      expect(Math.max(...urls.map((u) => u.length))).toBeLessThanOrEqual(8 * 1024);
      expect(sim.count({ status: 414 })).toBe(0);
      expect(sim.item(rk)).toMatchObject({ title: 'Ünïcödé', summary: text(700), genre: names(120, 'Génre'), actor: names(40, 'Actör') });
      expect(sim.item(rk)!.locked).toEqual(['actor', 'genre', 'summary', 'title']);
    },
  );

  it('a proxy whose limit is lower: the refused request goes again split further, once, and says so', async () => {
    sim.setProxyLimits({ requestLine: 5_000 });
    const rk = add(movies, '/plex/movies/long-lower/x.mp4');
    logged.length = 0;
    sim.resetCounters();
    const sent = await client({ log }).applyEdit(movies, rk, {
      scalars: { summary: text(300) },
      tags: { genre: { set: names(50, 'Génre'), remove: [] } },
    });
    expect(sim.requests.map((r) => r.status)).toEqual([414, 200, 200]);
    expect(sent).toBe(3);
    expect(sim.item(rk)).toMatchObject({ summary: text(300), genre: names(50, 'Génre') });
    expect(logged).toEqual([
      {
        fields: expect.objectContaining({ status: 414, parts: 2 }) as object,
        msg: expect.stringContaining('PLEX_MAX_URL_BYTES') as string,
      },
    ]);
  });

  it.each([
    { limits: { requestLine: 3_000 }, status: 414 },
    { limits: { headers: 3_000 }, status: 431 },
  ])(
    'what a proxy still refuses ($status) fails as PlexBadRequest naming the setting; sent again, it completes',
    async ({ limits, status }) => {
      sim.setProxyLimits(limits);
      const rk = add(movies, `/plex/movies/long-refused-${status}/x.mp4`);
      const edit = { scalars: { title: 'Split' }, tags: { genre: { set: names(60, 'Génre'), remove: [] } } };
      sim.resetCounters();
      const err = await expectType(client().applyEdit(movies, rk, edit), 'PlexBadRequest');
      expect(err.message).toContain(`HTTP ${status}`);
      expect(err.message).toContain('PLEX_MAX_URL_BYTES');
      expect(err.status).toBe(status);
      // Split once: the title went through, the list alone was still refused, nothing more was tried.
      expect(sim.requests.map((r) => r.status)).toEqual([status, 200, status]);
      expect(sim.item(rk)).toMatchObject({ title: 'Split', genre: [] });
      sim.setProxyLimits({});
      await client().applyEdit(movies, rk, edit);
      expect(sim.item(rk)).toMatchObject({ title: 'Split', genre: names(60, 'Génre') });
    },
  );
});

describe('secrets', () => {
  it('never puts the token into an error', async () => {
    // Provoke a few more, then check every error recorded by this file.
    await sim.setMode('down');
    await failure(client().resolveItem('/stash/movies/x/y.mp4'));
    await sim.setMode('401');
    await failure(client().getItem('1'));
    await sim.setMode('up');
    expect(seen.length).toBeGreaterThan(15);
    for (const err of seen) {
      const e = err as SyncError;
      for (const text of [e.message, e.reason, String(e), e.stack ?? '', JSON.stringify(e)]) {
        expect(text).not.toContain(TOKEN);
      }
    }
  });
});
