// StashClient against StashSimulator over real HTTP (the simulator executes against Stash's schema).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SyncError } from '../../src/core/errors.js';
import { simFileSize } from '../../src/sim/file-size.js';
import { StashSimulator } from '../../src/sim/stash.js';
import { formatStashTime, STASH_WINDOW_WIDENING_MS, StashClient, type StashClock } from '../../src/stash-api/client.js';
import { readPluginSettings } from '../../src/hook/stash-plugin-config.js';
import type { Screenshot } from '../../src/model/types.js';
import { startReverseProxy } from '../helpers/reverse-proxy.js';

const KEY = 'stash-test-key-5b1e9d';

let sim: StashSimulator;
let client: StashClient;
/** Every error any test provoked: none may carry the key. */
const seenErrors: string[] = [];

async function failure(p: Promise<unknown>): Promise<SyncError> {
  try {
    await p;
  } catch (err) {
    if (!(err instanceof SyncError)) throw err;
    seenErrors.push(err.message, err.reason, String(err.stack));
    return err;
  }
  throw new Error('expected a failure');
}

async function collect(gen: AsyncGenerator<string[]>): Promise<string[][]> {
  const pages: string[][] = [];
  for await (const page of gen) pages.push(page);
  return pages;
}

beforeAll(async () => {
  sim = await StashSimulator.start({ apiKey: KEY });
  client = new StashClient({ url: sim.url, apiKey: KEY, timeoutMs: 2_000 });
});
afterAll(async () => {
  await sim.stop();
  // Checked last, over every failure of the file (wrong key, down, 503, redirects, GraphQL errors…).
  expect(seenErrors.length).toBeGreaterThan(10);
  for (const m of seenErrors) expect(m).not.toContain(KEY);
});
afterEach(async () => {
  sim.setLatencyMs(0);
  await sim.setMode('up');
});

describe('simulator', () => {
  it('executes against the real schema folder when present', () => {
    expect(sim.schemaSource).toBe('reference');
  });

  it('rejects documents the schema rejects with 422 and errors, like Stash (gqlgen)', async () => {
    const res = await fetch(`${sim.url}/graphql`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ApiKey: KEY },
      body: JSON.stringify({ query: '{ findScene(id: 1) { id plex_key } }' }),
    });
    expect(res.status).toBe(422);
    const body = (await res.json()) as { errors: { message: string; extensions: { code: string } }[] };
    expect(body.errors[0].message).toMatch(/plex_key/);
    expect(body.errors[0].extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
  });

  it('answers 401 on /graphql and 302 to /login elsewhere without credentials', async () => {
    const gql = await fetch(`${sim.url}/graphql`, { method: 'POST', body: '{"query":"{ findScene(id: 1) { id } }"}' });
    expect(gql.status).toBe(401);
    const id = sim.addScene();
    const shot = await fetch(`${sim.url}/scene/${id}/screenshot`, { redirect: 'manual' });
    expect(shot.status).toBe(302);
    expect(shot.headers.get('location')).toMatch(/^\/login\?returnURL=/);
  });
});

describe('findScene', () => {
  it('returns the full StashScene shape', async () => {
    const parent = sim.addStudio('Parent Studio');
    const studio = sim.addStudio('Child Studio', parent);
    const p1 = sim.addPerformer('Ann');
    const p2 = sim.addPerformer('Bob');
    const tag = sim.addTag('outdoor');
    const id = sim.addScene({
      title: 'A title',
      code: 'ABC-123',
      details: 'Some details',
      director: 'Dee',
      urls: ['https://example.com/a', 'https://example.com/b'],
      date: '2024-05-06',
      rating100: 80,
      organized: true,
      studio_id: studio,
      performer_ids: [p1, p2],
      tag_ids: [tag],
      files: ['/stash/videos/a/one.mp4', { path: 'C:\\videos\\two.mkv', size: 4_000_000_000 }],
      stash_ids: [{ endpoint: 'https://stashdb.org/graphql', stash_id: '7c3f0a55-stashdb-id' }],
    });
    const scene = await client.findScene(id);
    expect(scene).toEqual({
      id,
      title: 'A title',
      code: 'ABC-123',
      details: 'Some details',
      director: 'Dee',
      urls: ['https://example.com/a', 'https://example.com/b'],
      date: '2024-05-06',
      rating100: 80,
      organized: true,
      updated_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)$/) as string,
      // Without an image of its own, Stash's URL of its default (internal/api/urlbuilders/studio.go, tag.go).
      studio: {
        id: studio,
        name: 'Child Studio',
        details: null,
        image_path: expect.stringMatching(/\/studio\/\d+\/image\?t=\d+&default=true$/) as string,
        parent_studio: {
          id: parent,
          name: 'Parent Studio',
          details: null,
          image_path: expect.stringMatching(/\/studio\/\d+\/image\?t=\d+&default=true$/) as string,
        },
      },
      performers: [
        // Neither has an image of its own: Stash's URL of its default silhouette (internal/api/urlbuilders/performer.go).
        {
          id: p1,
          name: 'Ann',
          image_path: expect.stringMatching(new RegExp(`^${sim.url}/performer/${p1}/image\\?t=\\d+&default=true$`)) as string,
        },
        {
          id: p2,
          name: 'Bob',
          image_path: expect.stringMatching(new RegExp(`^${sim.url}/performer/${p2}/image\\?t=\\d+&default=true$`)) as string,
        },
      ],
      tags: [
        {
          id: tag,
          name: 'outdoor',
          description: null,
          image_path: expect.stringMatching(/\/tag\/\d+\/image\?t=\d+&default=true$/) as string,
          parents: [],
        },
      ],
      groups: [],
      files: [
        { path: '/stash/videos/a/one.mp4', basename: 'one.mp4', size: simFileSize('/stash/videos/a/one.mp4') },
        // Int64: beyond 32 bits, still a JSON number.
        { path: 'C:\\videos\\two.mkv', basename: 'two.mkv', size: 4_000_000_000 },
      ],
      stash_ids: [{ endpoint: 'https://stashdb.org/graphql', stash_id: '7c3f0a55-stashdb-id' }],
      paths: { screenshot: expect.stringMatching(new RegExp(`^${sim.url}/scene/${id}/screenshot`)) as string },
    });
    // The store's view is the same answer, plus relation ids.
    expect(sim.scene(id)).toMatchObject(scene!);
    expect(sim.scene(id)!.performers).toEqual(scene!.performers);
  });

  it("reads performers' scene counts only when asked (COLLECTION_PERFORMERS_MIN > 0), and follows a change of that setting", async () => {
    const [ann, bob] = [sim.addPerformer('Count Ann'), sim.addPerformer('Count Bob')];
    const first = sim.addScene({ performer_ids: [ann, bob] });
    sim.addScene({ performer_ids: [ann] });
    sim.addScene({ performer_ids: [ann] });
    const counted = new StashClient({ url: sim.url, apiKey: KEY, performerSceneCounts: true });
    const counts = async (c: StashClient) => (await c.findScene(first))!.performers.map((p) => p.scene_count);
    expect(await counts(counted)).toEqual([3, 1]);
    expect((await counted.findScenes([first])).get(first)!.performers.map((p) => p.scene_count)).toEqual([3, 1]);
    // Stash counts them per performer and read: a client that does not need them does not ask.
    expect(await counts(client)).toEqual([undefined, undefined]);
    counted.setPerformerSceneCounts(false);
    expect(await counts(counted)).toEqual([undefined, undefined]);
    client.setPerformerSceneCounts(true);
    try {
      expect(await counts(client)).toEqual([3, 1]);
    } finally {
      client.setPerformerSceneCounts(false);
    }
  });

  it('a scene with nothing set has nulls and empty lists', async () => {
    const id = sim.addScene({ files: [] });
    expect(await client.findScene(id)).toMatchObject({
      title: null,
      studio: null,
      performers: [],
      tags: [],
      files: [],
      urls: [],
      rating100: null,
    });
  });

  it('a missing or deleted scene is null', async () => {
    expect(await client.findScene('999999')).toBeNull();
    const id = sim.addScene();
    sim.deleteScene(id);
    expect(await client.findScene(id)).toBeNull();
  });

  it('works with the session cookie a plugin gets instead of a key', async () => {
    const id = sim.addScene({ title: 'via cookie' });
    const viaCookie = new StashClient({ url: sim.url, sessionCookie: sim.createSession() });
    expect((await viaCookie.findScene(id))?.title).toBe('via cookie');
    const stale = new StashClient({ url: sim.url, sessionCookie: { name: 'session', value: 'expired' } });
    expect((await failure(stale.findScene(id))).type).toBe('StashAuthError');
  });
});

describe('failures', () => {
  it('a wrong key is StashAuthError (permanent), and the key is not in the message', async () => {
    const wrong = 'not-the-key-' + KEY;
    const err = await failure(new StashClient({ url: sim.url, apiKey: wrong }).findScene('1'));
    expect(err.type).toBe('StashAuthError');
    expect(err.status).toBe(401);
    expect(err.message).not.toContain(wrong);
  });

  it('no credentials at all is StashAuthError', async () => {
    expect((await failure(new StashClient({ url: sim.url }).findScene('1'))).type).toBe('StashAuthError');
  });

  it('Stash down (connection refused) is StashUnavailable, and it recovers on the same port', async () => {
    const id = sim.addScene({ title: 'back' });
    await sim.setMode('down');
    // A kept-alive socket may die first (UND_ERR_SOCKET); a new connection is then refused.
    expect((await failure(client.findScene(id))).type).toBe('StashUnavailable');
    const err = await failure(client.findScene(id));
    expect(err.type).toBe('StashUnavailable');
    expect(err.message).toMatch(/ECONNREFUSED/);
    await sim.setMode('up');
    expect((await client.findScene(id))?.title).toBe('back');
  });

  it('HTTP 503 is StashUnavailable', async () => {
    await sim.setMode('503');
    const err = await failure(client.findScene('1'));
    expect(err.type).toBe('StashUnavailable');
    expect(err.status).toBe(503);
  });

  it('a timeout is StashUnavailable', async () => {
    sim.setLatencyMs(500);
    const slow = new StashClient({ url: sim.url, apiKey: KEY, timeoutMs: 100 });
    const err = await failure(slow.findScene('1'));
    expect(err.type).toBe('StashUnavailable');
    expect(err.message).toMatch(/ETIMEDOUT/);
  });

  describe('GraphQL errors in a 200 answer', () => {
    let stub: Server;
    let stubUrl: string;
    let answer: unknown;
    beforeAll(async () => {
      stub = createServer((req, res) => {
        req.resume();
        req.on('end', () => {
          res.writeHead(200, { 'Content-Type': 'application/json' });
          res.end(typeof answer === 'string' ? answer : JSON.stringify(answer));
        });
      });
      await new Promise<void>((r) => stub.listen(0, '127.0.0.1', r));
      stubUrl = `http://127.0.0.1:${(stub.address() as AddressInfo).port}`;
    });
    afterAll(() => new Promise<void>((r) => stub.close(() => r())));
    const stubClient = () => new StashClient({ url: stubUrl, apiKey: KEY });

    it('are StashUnavailable with the message quoted', async () => {
      answer = { errors: [{ message: 'database is locked' }], data: null };
      const err = await failure(stubClient().findScene('1'));
      expect(err.type).toBe('StashUnavailable');
      expect(err.message).toMatch(/database is locked/);
    });

    it('saying unauthorized are StashAuthError', async () => {
      answer = { errors: [{ message: 'unauthorized' }], data: null };
      expect((await failure(stubClient().findScene('1'))).type).toBe('StashAuthError');
    });

    it('an echoed key is scrubbed; a body that is not GraphQL or of the wrong shape is StashUnavailable', async () => {
      answer = { errors: [{ message: `bad key ${KEY} in request` }], data: null };
      expect((await failure(stubClient().findScene('1'))).message).toContain('[REDACTED]');
      answer = '<html>proxy error</html>';
      expect((await failure(stubClient().findScene('1'))).type).toBe('StashUnavailable');
      answer = { data: { findScene: { id: 1 } } };
      expect((await failure(stubClient().findScene('1'))).message).toMatch(/unexpected response shape/);
    });
  });
});

describe('scenes changed in a window (250 scenes, paged)', () => {
  let windowSim: StashSimulator;
  let wc: StashClient;
  const T0 = Date.UTC(2025, 5, 1, 12, 0, 0);
  const MIN = 60_000;
  /** Windows are widened by STASH_WINDOW_WIDENING_MS (61 min): 61 scenes one minute apart. */
  const WIDE = STASH_WINDOW_WIDENING_MS / MIN;
  const UTC: StashClock = { newest: null, offsetMinutes: 0 };
  const ids: string[] = [];
  beforeAll(async () => {
    windowSim = await StashSimulator.start({ apiKey: KEY });
    wc = new StashClient({ url: windowSim.url, apiKey: KEY });
    // Scene i changed at T0 + i minutes (+ 250 ms, to be sure sub-second parts are handled).
    for (let i = 0; i < 250; i++) ids.push(windowSim.addScene({ title: `s${i}`, updated_at: T0 + i * MIN + 250 }));
  });
  afterAll(() => windowSim.stop());

  it('GREATER_THAN: every scene changed since (widened), oldest first, each once, over pages', async () => {
    const since = T0 + 150 * MIN; // scene 150 - WIDE changed 250 ms after the widened start
    const pages = await collect(wc.scenesUpdatedIn({ since }, UTC, 40));
    expect(pages.map((p) => p.length)).toEqual([40, 40, 40, 40, 1]); // 100 + 61
    expect(pages.flat()).toEqual(ids.slice(150 - WIDE));
  });

  it('a change in the same second as the widened start, but after it, is not missed', async () => {
    const pages = await collect(wc.scenesUpdatedIn({ since: T0 + 150 * MIN + 100 }, UTC, 100));
    expect(pages.flat()[0]).toBe(ids[150 - WIDE]);
  });

  it('BETWEEN: only scenes changed within the (widened) window, both ends included', async () => {
    const pages = await collect(wc.scenesUpdatedIn({ since: T0 + 100 * MIN, until: T0 + 120 * MIN - 100 }, UTC, 30));
    expect(pages.flat()).toEqual(ids.slice(100 - WIDE, 120 + WIDE));
  });

  it('findScenesUpdated gives the window count and the change times', async () => {
    const page = await wc.findScenesUpdated({ window: { since: T0 + 200 * MIN }, clock: UTC, page: 2, perPage: 20 });
    expect(page.count).toBe(50 + WIDE);
    expect(page.scenes.map((s) => s.id)).toEqual(ids.slice(200 - WIDE + 20, 200 - WIDE + 40));
    expect(page.scenes[0].updated_at).toBe(formatStashTime(T0 + (200 - WIDE + 20) * MIN));
  });

  it('scenes changed within the same second page stably (ties ordered by id)', async () => {
    const same = Date.UTC(2025, 6, 1);
    const tied = Array.from({ length: 23 }, () => windowSim.addScene({ updated_at: same + 500 }));
    const pages = await collect(wc.scenesUpdatedIn({ since: same, until: same + 900 }, UTC, 5));
    expect(pages.flat()).toEqual(tied);
  });

  it('an empty window yields no page', async () => {
    expect(await collect(wc.scenesUpdatedIn({ since: Date.UTC(2030, 0, 1) }, UTC))).toEqual([]);
  });

  it('clock(): Stash’s newest change and its zone, in one request (the version read once per client before)', async () => {
    await wc.server(); // which document: groups or, before Stash v0.27.0, movies
    windowSim.resetCounters();
    const clock = await wc.clock();
    expect(clock).toMatchObject({ newest: formatStashTime(Date.UTC(2025, 6, 1)), offsetMinutes: 0 });
    expect(windowSim.count()).toBe(1);
    // Its Date header says where its clock stands: this one is ours.
    expect(clock.aheadMs!.min).toBeLessThanOrEqual(0);
    expect(clock.aheadMs!.max).toBeGreaterThanOrEqual(0);
  });

  it('a window of ours comes back exact: the changes in it, not those of the hour around it', async () => {
    for (const [name, opts] of [
      ['UTC+9', { utcOffsetMinutes: 540 }],
      ['10 minutes behind', { clockSkewMs: -600_000 }],
    ] as const) {
      const sim = await StashSimulator.start({ apiKey: KEY, ...opts });
      try {
        const now = Date.now();
        for (const minutes of [50, 20, 5]) sim.addScene({ updated_at: now - minutes * MIN + (opts.clockSkewMs ?? 0) });
        const during = sim.addScene(); // now, on Stash's clock
        sim.addScene({ updated_at: now + 20 * MIN + (opts.clockSkewMs ?? 0) });
        const c = new StashClient({ url: sim.url, apiKey: KEY });
        const clock = await c.clock();
        expect(clock.aheadMs!.min, name).toBeLessThanOrEqual(opts.clockSkewMs ?? 0);
        expect(clock.aheadMs!.max, name).toBeGreaterThanOrEqual(opts.clockSkewMs ?? 0);
        const window = { since: now - 30_000, until: now + 30_000 };
        expect((await collect(c.scenesUpdatedIn(window, clock))).flat(), name).toEqual([during]);
        // The query itself stays wide (Stash compares text): it holds every neighbour within the hour.
        expect((await c.findScenesUpdated({ window, clock, page: 1, perPage: 1 })).count, name).toBe(5);
      } finally {
        await sim.stop();
      }
    }
  });

  it('a Stash in another zone: bounds in the zone clock() learnt (it compares local-time text)', async () => {
    const ny = await StashSimulator.start({ apiKey: KEY, utcOffsetMinutes: -300 });
    try {
      const late = ny.addScene({ updated_at: T0 + 60_000 });
      ny.addScene({ updated_at: T0 - STASH_WINDOW_WIDENING_MS - 60_000 });
      const c = new StashClient({ url: ny.url, apiKey: KEY });
      const clock = await c.clock();
      expect(clock).toMatchObject({ newest: formatStashTime(T0 + 60_000, -300), offsetMinutes: -300 });
      expect((await collect(c.scenesUpdatedIn({ since: T0 }, clock))).flat()).toEqual([late]);
      // Written in UTC the bound is 5 h "later" as text: the change is missed.
      expect((await collect(c.scenesUpdatedIn({ since: T0 }, UTC))).flat()).toEqual([]);
    } finally {
      await ny.stop();
    }
  });

  it('allSceneIds walks every scene in id order, in pages of the size asked', async () => {
    const all = windowSim.sceneIds();
    const pages = await collect(wc.allSceneIds(100));
    expect(pages.flat()).toEqual(all);
    expect(pages[0]).toHaveLength(100);
    expect((await collect(wc.allSceneIds(5000))).flat()).toEqual(all);
  });

  it('Stash serves any per_page (no cap since v0.20.0, negative: all); the client asks at most 1000 a page, its own bound', async () => {
    const big = await StashSimulator.start({ apiKey: KEY });
    try {
      for (let i = 0; i < 1200; i++) big.addScene({ title: `b${i}` });
      const count = async (perPage: number) => {
        const res = await fetch(`${big.url}/graphql`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', ApiKey: KEY },
          body: JSON.stringify({ query: `{ findScenes(filter: { per_page: ${perPage} }) { count scenes { id } } }` }),
        });
        const { data } = (await res.json()) as { data: { findScenes: { count: number; scenes: unknown[] } } };
        return [data.findScenes.count, data.findScenes.scenes.length];
      };
      expect(await count(1200)).toEqual([1200, 1200]);
      expect(await count(-1)).toEqual([1200, 1200]);
      const pages = await collect(new StashClient({ url: big.url, apiKey: KEY }).allSceneIds(5000));
      expect(pages.map((p) => p.length)).toEqual([1000, 200]);
      expect(pages.flat()).toEqual(big.sceneIds());
    } finally {
      await big.stop();
    }
  });
});

describe('scenes by performer, studio, tag (renames)', () => {
  it('finds the scenes of each; a rename does not change any scene’s updated_at', async () => {
    let clock = Date.UTC(2025, 0, 1);
    const s = await StashSimulator.start({ apiKey: KEY, now: () => clock });
    try {
      const c = new StashClient({ url: s.url, apiKey: KEY });
      const ann = s.addPerformer('Ann');
      const bob = s.addPerformer('Bob');
      const red = s.addTag('red');
      const parent = s.addStudio('Network');
      const child = s.addStudio('Label', parent);
      const other = s.addStudio('Other');
      const a = s.addScene({ performer_ids: [ann], tag_ids: [red], studio_id: child });
      const b = s.addScene({ performer_ids: [ann, bob], studio_id: parent });
      const d = s.addScene({ performer_ids: [bob], tag_ids: [red], studio_id: other });
      for (let i = 0; i < 12; i++) s.addScene({ performer_ids: [bob] });

      expect((await collect(c.sceneIdsWith('performer', ann))).flat()).toEqual([a, b]);
      expect((await collect(c.sceneIdsWith('tag', red))).flat()).toEqual([a, d]);
      // A parent studio's scenes include its sub-studios' (their scenes show the parent's name).
      expect((await collect(c.sceneIdsWith('studio', parent))).flat()).toEqual([a, b]);
      expect((await collect(c.sceneIdsWith('studio', child))).flat()).toEqual([a]);
      const bobPages = await collect(c.sceneIdsWith('performer', bob, 5));
      expect(bobPages.map((p) => p.length)).toEqual([5, 5, 4]);

      const before = (await c.findScene(a))!.updated_at;
      clock += STASH_WINDOW_WIDENING_MS + 10 * 60_000;
      s.renamePerformer(ann, 'Anna');
      s.renameTag(red, 'crimson');
      s.renameStudio(parent, 'Network 2');
      const after = (await c.findScene(a))!;
      expect(after.updated_at).toBe(before);
      expect(after.performers.map((p) => p.name)).toEqual(['Anna']);
      expect(after.tags.map((t) => t.name)).toEqual(['crimson']);
      expect(after.studio).toMatchObject({ id: child, name: 'Label', parent_studio: { name: 'Network 2' } });
      // So a window query does not see renames: that is why sceneIdsWith exists.
      expect((await collect(c.scenesUpdatedIn({ since: clock - 60_000 }, { newest: null, offsetMinutes: 0 }))).flat()).toEqual([]);
    } finally {
      await s.stop();
    }
  });
});

describe('performers, studios, tags changed since (renames at checkpoints)', () => {
  it('relationsUpdatedSince finds the renamed ones, oldest change first, over pages', async () => {
    let clock = Date.UTC(2025, 0, 1);
    const s = await StashSimulator.start({ apiKey: KEY, now: () => clock });
    try {
      const c = new StashClient({ url: s.url, apiKey: KEY });
      const performers = Array.from({ length: 7 }, (_, i) => s.addPerformer(`P${i}`));
      const tag = s.addTag('t');
      const studio = s.addStudio('S');
      s.addStudio('S2');
      const UTC: StashClock = { newest: null, offsetMinutes: 0 };
      clock += STASH_WINDOW_WIDENING_MS + 60_000;
      const since = clock; // the widened window starts a minute after they were created
      expect(await collect(c.relationsUpdatedIn('performer', { since }, UTC))).toEqual([]);
      clock += 120_000;
      for (const id of [performers[5], performers[1], performers[3]]) {
        s.renamePerformer(id, `renamed ${id}`);
        clock += 2_000;
      }
      s.renameStudio(studio, 'S renamed');
      s.renameTag(tag, 't renamed');
      const pages = await collect(c.relationsUpdatedIn('performer', { since }, UTC, 2));
      expect(pages).toEqual([[performers[5], performers[1]], [performers[3]]]);
      expect((await collect(c.relationsUpdatedIn('studio', { since }, UTC))).flat()).toEqual([studio]);
      expect((await collect(c.relationsUpdatedIn('tag', { since }, UTC))).flat()).toEqual([tag]);
      // The bound is the criterion's: a rename before the widened `since` is not found.
      expect((await collect(c.relationsUpdatedIn('performer', { since: clock + STASH_WINDOW_WIDENING_MS + 1_000 }, UTC))).flat()).toEqual(
        [],
      );
      // From a mark Stash wrote (a checkpoint), only what changed since: not the renames 10 minutes
      // earlier, though the query (an hour wide) returns them.
      clock += 10 * 60_000;
      const mark = formatStashTime(clock);
      s.renamePerformer(performers[0], 'renamed again');
      expect((await collect(c.relationsUpdatedIn('performer', { since: mark }, UTC))).flat()).toEqual([performers[0]]);
      expect((await collect(c.relationsUpdatedIn('tag', { since: mark }, UTC))).flat()).toEqual([]);
    } finally {
      await s.stop();
    }
  });

  // A renamed group renames its collection: its hook may be lost like any other. findGroups from Stash
  // v0.27.0, findMovies before; the clock counts groups too, so the checkpoint's mark passes them.
  it.each(['v0.30.1', 'v0.24.3'])('groups changed since, and the clock, on Stash %s', async (version) => {
    let clock = Date.UTC(2025, 0, 1);
    const s = await StashSimulator.start({ apiKey: KEY, version, now: () => clock });
    try {
      const c = new StashClient({ url: s.url, apiKey: KEY });
      const groups = [s.addGroup('G1'), s.addGroup('G2'), s.addGroup('G3')];
      s.addScene({ title: 'a scene' });
      const UTC: StashClock = { newest: null, offsetMinutes: 0 };
      clock += STASH_WINDOW_WIDENING_MS + 60_000;
      const since = clock;
      expect(await collect(c.relationsUpdatedIn('group', { since }, UTC))).toEqual([]);
      clock += 120_000;
      s.updateGroup(groups[2], { name: 'G3 renamed' });
      clock += 2_000;
      s.updateGroup(groups[0], { name: 'G1 renamed' });
      expect(await collect(c.relationsUpdatedIn('group', { since }, UTC, 1))).toEqual([[groups[2]], [groups[0]]]);
      expect((await c.clock()).newest).toBe(formatStashTime(clock));
      const wanted = version === 'v0.24.3' ? ['FindMoviesUpdated', 'FindGroupsUpdated'] : ['FindGroupsUpdated', 'FindMoviesUpdated'];
      expect(s.count({ operationName: wanted[0], status: 200 })).toBeGreaterThan(0);
      expect(s.count({ operationName: wanted[1] })).toBe(0);
      expect(s.count({ status: 422 })).toBe(0);
    } finally {
      await s.stop();
    }
  });
});

/** The image of a screenshot that was read (not skipped). */
function image(shot: Screenshot): { bytes: Buffer; contentType: string } {
  if ('skipped' in shot) throw new Error(shot.skipped);
  return shot;
}

describe('fetchScreenshot', () => {
  it('returns the image bytes and type; distinct per scene; follows setScreenshot', async () => {
    const a = sim.addScene();
    const b = sim.addScene();
    const urlA = (await client.findScene(a))!.paths!.screenshot!;
    const urlB = (await client.findScene(b))!.paths!.screenshot!;
    const shotA = image(await client.fetchScreenshot(urlA));
    expect(shotA.contentType).toBe('image/png');
    expect(shotA.bytes.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    expect(shotA.bytes).toEqual(sim.screenshotOf(a).bytes);
    expect(image(await client.fetchScreenshot(urlB)).bytes.equals(shotA.bytes)).toBe(false);
    const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]);
    sim.setScreenshot(a, jpeg, 'image/jpeg');
    expect(await client.fetchScreenshot(urlA)).toEqual({ bytes: jpeg, contentType: 'image/jpeg' });
    expect(sim.count({ operationName: 'screenshot', status: 200 })).toBeGreaterThanOrEqual(3);
  });

  it('without credentials: the 302 to the login page is rejected, not followed into HTML', async () => {
    const id = sim.addScene();
    const url = (await client.findScene(id))!.paths!.screenshot!;
    const err = await failure(new StashClient({ url: sim.url }).fetchScreenshot(url));
    expect(err.type).toBe('StashUnavailable');
    expect(err.status).toBe(302);
    expect(err.message).toMatch(/login/);
    expect(sim.count({ path: '/login' })).toBe(0);
  });

  it('a 200 that is not an image is rejected', async () => {
    const id = sim.addScene();
    sim.setScreenshot(id, Buffer.from('<html>oops</html>'), 'text/html; charset=utf-8');
    const err = await failure(client.fetchScreenshot((await client.findScene(id))!.paths!.screenshot!));
    expect(err.type).toBe('StashUnavailable');
    expect(err.message).toMatch(/not an image \(content-type text\/html\)/);
  });

  it('never sends the key to another host: a Stash image route is read from STASH_URL, anything else without credentials', async () => {
    const elsewhere = await StashSimulator.start({ apiKey: KEY });
    const proxy = await startReverseProxy(elsewhere.url);
    try {
      const id = sim.addScene();
      const shot = image(await client.fetchScreenshot(`${proxy.url}/scene/${id}/screenshot?t=5`));
      expect(shot.bytes).toEqual(sim.screenshotOf(id).bytes);
      expect(sim.count({ path: `/scene/${id}/screenshot` })).toBe(1);
      // Not a Stash route: fetched where it points, without the key (had it been sent: 200).
      const err = await failure(client.fetchScreenshot(`${proxy.url}/covers/${id}`));
      expect(err.status).toBe(302);
      expect(err.message).toMatch(/credentials withheld/);
      expect(proxy.paths).toEqual([`/covers/${id}`]);
      expect(proxy.withCredentials()).toBe(0);
    } finally {
      await proxy.stop();
      await elsewhere.stop();
    }
  });

  it('Stash with external_host: paths.screenshot names that host; the screenshot is read from STASH_URL with the key', async () => {
    const proxy = await startReverseProxy(sim.url);
    const s = await StashSimulator.start({ apiKey: KEY, externalHost: proxy.url });
    const c = new StashClient({ url: s.url, apiKey: KEY });
    try {
      const id = s.addScene();
      const url = (await c.findScene(id))!.paths!.screenshot!;
      expect(url).toMatch(new RegExp(`^${proxy.url}/scene/${id}/screenshot\\?t=\\d+$`));
      expect(image(await c.fetchScreenshot(url)).bytes).toEqual(s.screenshotOf(id).bytes);
      expect(s.count({ operationName: 'screenshot', status: 200 })).toBe(1);
      expect(proxy.paths).toEqual([]);
      // As Stash, the setting is read on every request: unset, the URL names the address asked.
      s.setExternalHost(null);
      expect((await c.findScene(id))!.paths!.screenshot).toMatch(new RegExp(`^${s.url}/scene/${id}/screenshot`));
    } finally {
      await s.stop();
      await proxy.stop();
    }
  });

  it('STASH_URL behind a proxy under a path prefix: the prefix is kept, whatever base Stash wrote', async () => {
    const proxy = await startReverseProxy(sim.url, { prefix: '/stash' });
    const c = new StashClient({ url: proxy.url, apiKey: KEY });
    try {
      const id = sim.addScene();
      // The proxy sends X-Forwarded-Prefix: Stash writes it into its URLs (BaseURLMiddleware).
      const url = (await c.findScene(id))!.paths!.screenshot!;
      expect(url).toMatch(new RegExp(`^${proxy.url}/scene/${id}/screenshot\\?t=\\d+$`));
      expect(image(await c.fetchScreenshot(url)).bytes).toEqual(sim.screenshotOf(id).bytes);
      // A base without the prefix (external_host set, no X-Forwarded-Prefix): still read under it.
      const bare = `https://stash.example.invalid/scene/${id}/screenshot?t=7`;
      expect(image(await c.fetchScreenshot(bare)).bytes).toEqual(sim.screenshotOf(id).bytes);
      expect(proxy.paths.slice(-1)).toEqual([`/stash/scene/${id}/screenshot?t=7`]);
      expect(proxy.withCredentials()).toBe(proxy.paths.length);
    } finally {
      await proxy.stop();
    }
  });

  it('Stash down while fetching is StashUnavailable', async () => {
    const url = (await client.findScene(sim.addScene()))!.paths!.screenshot!;
    await sim.setMode('down');
    expect((await failure(client.fetchScreenshot(url))).type).toBe('StashUnavailable');
  });
});

describe('Stash versions', () => {
  it("reads the server's version once; a Stash from v0.25.0 is asked findScenes(ids)", async () => {
    const c = new StashClient({ url: sim.url, apiKey: KEY });
    const [a, b] = [sim.addScene(), sim.addScene()];
    sim.resetCounters();
    expect(await c.server()).toMatchObject({ version: sim.version, sceneIdsArgument: 'ids' });
    await c.findScenes([a, b]);
    await c.findScenes([b, a]);
    expect(sim.count({ operationName: 'StashVersion' })).toBe(1);
    expect(sim.count({ operationName: 'FindScenesByIds', status: 200 })).toBe(2);
  });

  it('Stash v0.24 (no ids argument): findScenes(scene_ids), one request, no rejected one; a missing id as before', async () => {
    const old = await StashSimulator.start({ apiKey: KEY, version: 'v0.24.3' });
    try {
      // The simulator is that Stash: the newer argument is rejected as gqlgen does.
      const res = await fetch(`${old.url}/graphql`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', ApiKey: KEY },
        body: JSON.stringify({ query: '{ findScenes(ids: ["1"]) { count } }' }),
      });
      expect(res.status).toBe(422);
      expect(((await res.json()) as { errors: { message: string }[] }).errors[0].message).toMatch(
        /Unknown argument "ids" on field "Query.findScenes"/,
      );
      old.resetCounters();

      const c = new StashClient({ url: old.url, apiKey: KEY });
      const ids = [old.addScene({ title: 'a' }), old.addScene({ title: 'b' }), old.addScene({ title: 'c' })];
      expect(await c.server()).toMatchObject({ version: 'v0.24.3', sceneIdsArgument: 'scene_ids' });
      const found = await c.findScenes(ids);
      expect([...found.values()].map((scene) => scene?.title)).toEqual(['a', 'b', 'c']);
      expect(found.get(ids[0])).toEqual(await c.findScene(ids[0]));
      expect(old.count({ operationName: 'FindScenesBySceneIds', status: 200 })).toBe(1);
      old.deleteScene(ids[1]);
      const again = await c.findScenes([...ids, '2147483648']);
      expect(Object.fromEntries([...again].map(([id, scene]) => [id, scene?.title ?? null]))).toEqual({
        [ids[0]]: 'a',
        [ids[1]]: null,
        [ids[2]]: 'c',
        '2147483648': null, // beyond scene_ids' Int: read alone, not failing the batch
      });
      expect(old.count({ status: 422 })).toBe(0);
      expect(old.count({ operationName: 'StashVersion' })).toBe(1);
    } finally {
      await old.stop();
    }
  });

  it('a version read that fails (Stash down at start) is asked again by the next batch', async () => {
    const c = new StashClient({ url: sim.url, apiKey: KEY, timeoutMs: 2_000 });
    await sim.setMode('down');
    expect((await failure(c.server())).type).toBe('StashUnavailable');
    await sim.setMode('up');
    const [a, b] = [sim.addScene(), sim.addScene()];
    expect((await c.findScenes([a, b])).size).toBe(2);
    expect((await c.server()).sceneIdsArgument).toBe('ids');
  });

  it('the simulator goes back to v0.24.0 only: the differences before it are not modelled', async () => {
    await expect(StashSimulator.start({ version: 'v0.23.1' })).rejects.toThrow(/v0\.23\.1 is not simulated \(the oldest is v0\.24\.0\)/);
  });
});

describe('embedded schema fallback', () => {
  it('serves the same queries when the schema folder is absent', async () => {
    const s = await StashSimulator.start({ apiKey: KEY, schemaDir: '/nonexistent/stash-schema' });
    try {
      expect(s.schemaSource).toBe('embedded');
      const c = new StashClient({ url: s.url, apiKey: KEY });
      const tag = s.addTag('t');
      const studio = s.addStudio('S', s.addStudio('P'));
      const id = s.addScene({ title: 'x', tag_ids: [tag], studio_id: studio, performer_ids: [s.addPerformer('A')] });
      expect(s.scene(id)).toMatchObject((await c.findScene(id))!);
      expect((await c.findScene(id))!.studio!.parent_studio).toMatchObject({ name: 'P' });
      expect((await collect(c.scenesUpdatedIn({ since: Date.now() - 5000 }, await c.clock()))).flat()).toEqual([id]);
      expect((await collect(c.sceneIdsWith('tag', tag))).flat()).toEqual([id]);
      expect(await readPluginSettings({ url: s.url, apiKey: KEY, pluginId: 'x' })).toEqual({});
    } finally {
      await s.stop();
    }
  });
});
