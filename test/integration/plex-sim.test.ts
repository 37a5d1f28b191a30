// The Plex simulator itself, over raw HTTP: it must behave like Plex (plex-api.md), not like our client.
import { createHash } from 'node:crypto';
import { connect } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PlexSimulator, ROUTES } from '../../src/sim/plex.js';
import { waitFor } from '../helpers/wait.js';

const TOKEN = 'sim-token-abc123';
let sim: PlexSimulator;
let sec: string;

beforeAll(async () => {
  sim = await PlexSimulator.start({ token: TOKEN });
  sec = sim.addSection({ title: 'Movies', locations: ['/m'] });
});
afterEach(async () => {
  await sim.setMode('up');
  sim.setLatencyMs(0);
  sim.setFileFilter('folder');
  sim.setTagEdits('replace');
});
afterAll(() => sim.stop());

const H = { 'X-Plex-Token': TOKEN, Accept: 'application/json' };
const get = (path: string, headers: Record<string, string> = H) => fetch(`${sim.url}${path}`, { headers });
const put = (path: string, query: Record<string, string> | URLSearchParams) =>
  fetch(`${sim.url}${path}?${new URLSearchParams(query).toString()}`, { method: 'PUT', headers: H });
/** A Plex item as these tests read it (the fields they look at; the rest stays unknown). */
interface Metadata {
  ratingKey: string;
  thumb?: string;
  /** A poster's (/posters lists them as Metadata). */
  selected?: boolean;
  key?: string;
  Media: { Part: { file: string; size?: number }[] }[];
  [field: string]: unknown;
}
const json = async (res: Response) => (await res.json()) as { MediaContainer: { Metadata: Metadata[]; [field: string]: unknown } };

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'ECONNREFUSED'));
  });
}

describe('PlexSimulator', () => {
  it('needs a token (header or query) everywhere but /identity, and keeps tokens out of its log', async () => {
    expect((await get('/identity', { Accept: 'application/json' })).status).toBe(200);
    expect((await get('/library/sections', { Accept: 'application/json' })).status).toBe(401);
    expect((await get('/library/sections', { ...H, 'X-Plex-Token': 'nope' })).status).toBe(401);
    sim.resetCounters();
    const res = await get(`/library/sections?X-Plex-Token=${TOKEN}`, { Accept: 'application/json' });
    expect(res.status).toBe(200);
    expect(sim.requests[0]).toMatchObject({ route: ROUTES.sections, tokenIn: 'query', path: '/library/sections', status: 200 });
  });

  it('answers JSON only when asked, XML otherwise', async () => {
    const x = await get('/identity', {});
    expect(x.headers.get('content-type')).toMatch(/xml/);
    expect(await x.text()).toMatch(/^<\?xml[\s\S]*<MediaContainer [^>]*machineIdentifier="/);
    const j = await json(await get('/identity', { Accept: 'application/json' }));
    expect(j.MediaContainer).toMatchObject({ size: 0, claimed: true, machineIdentifier: sim.machineIdentifier });
  });

  it('lists sections with their locations', async () => {
    const mc = (await json(await get('/library/sections'))).MediaContainer;
    expect(mc.Directory).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ key: sec, type: 'movie', title: 'Movies', Location: [{ id: expect.any(Number) as number, path: '/m' }] }),
      ]),
    );
  });

  it('lists partial items, filters file= by folder (not exactly), title= by substring, and pages', async () => {
    const a = sim.addItem({ sectionKey: sec, title: 'Alpha One', file: '/m/list/a.mp4', genre: ['G'], summary: 'S' });
    const b = sim.addItem({ sectionKey: sec, title: 'Beta', file: '/m/list/b.mp4' });
    sim.addItem({ sectionKey: sec, title: 'Gamma', file: '/m/else/c.mp4' });
    const byFile = (await json(await get(`/library/sections/${sec}/all?type=1&file=${encodeURIComponent('/m/list/a.mp4')}`)))
      .MediaContainer;
    expect(byFile.Metadata.map((m) => m.ratingKey).sort()).toEqual([a, b].sort());
    const first = byFile.Metadata.find((m) => m.ratingKey === a);
    expect(first).not.toHaveProperty('Genre');
    expect(first).not.toHaveProperty('summary');
    expect(first!.Media[0].Part[0].file).toBe('/m/list/a.mp4');
    const byTitle = (await json(await get(`/library/sections/${sec}/all?type=1&title=alpha`))).MediaContainer;
    expect(byTitle.Metadata.map((m) => m.ratingKey)).toEqual([a]);
    const page = await get(`/library/sections/${sec}/all?type=1`, { ...H, 'X-Plex-Container-Start': '1', 'X-Plex-Container-Size': '1' });
    expect(page.headers.get('X-Plex-Container-Total-Size')).toBe('3');
    expect((await json(page)).MediaContainer).toMatchObject({ size: 1, offset: 1, totalSize: 3 });
    expect((await get(`/library/sections/77/all?type=1`)).status).toBe(404);
  });

  it('listings follow items added, removed and pointed at other files after an earlier listing', async () => {
    const keys = async (file: string) =>
      ((await json(await get(`/library/sections/${sec}/all?type=1&file=${encodeURIComponent(file)}`))).MediaContainer.Metadata ?? [])
        .map((m) => m.ratingKey)
        .sort();
    const a = sim.addItem({ sectionKey: sec, title: 'Index A', file: '/m/index1/a.mp4' });
    expect(await keys('/m/index1/x.mp4')).toEqual([a]);
    const b = sim.addItem({ sectionKey: sec, title: 'Index B', file: '/m/index1/b.mp4' });
    expect(await keys('/m/index1/x.mp4')).toEqual([a, b].sort());
    sim.setItemFiles(a, ['/m/index2/a.mp4']);
    expect(await keys('/m/index1/x.mp4')).toEqual([b]);
    expect(await keys('/m/index2/x.mp4')).toEqual([a]);
    sim.removeItem(b);
    expect(await keys('/m/index1/x.mp4')).toEqual([]);
  });

  it('file= may be ignored: the whole section, still paged; start/size and the client id are logged', async () => {
    const own = sim.addSection({ title: 'Ignoring', locations: ['/ign'] });
    const rks = ['a', 'b', 'c'].map((n, i) => sim.addItem({ sectionKey: own, title: n, file: `/ign/d${i}/${n}.mp4` }));
    sim.setFileFilter('ignored');
    sim.resetCounters();
    const all = (await json(await get(`/library/sections/${own}/all?type=1&file=${encodeURIComponent('/ign/d0/a.mp4')}`))).MediaContainer;
    expect(all.Metadata.map((m) => m.ratingKey)).toEqual(rks);
    const paged = await get(`/library/sections/${own}/all?type=1&file=x&X-Plex-Container-Start=2&X-Plex-Container-Size=5`, {
      ...H,
      'X-Plex-Client-Identifier': 'dev-1',
    });
    expect((await json(paged)).MediaContainer).toMatchObject({ size: 1, offset: 2, totalSize: 3, Metadata: [{ ratingKey: rks[2] }] });
    expect(sim.requests.map((r) => [r.containerStart, r.containerSize, r.listed, r.clientId])).toEqual([
      [null, null, 3, null],
      ['2', '5', 1, 'dev-1'],
    ]);
    expect(sim.clientIds()).toEqual(['dev-1']);
  });

  it('serves the full item with tag arrays, fields and parts; empty ones are left out', async () => {
    const rk = sim.addItem({ sectionKey: sec, title: 'Full', file: '/m/full/x.mp4', genre: ['G1'], actor: ['A'], locked: ['title'] });
    const md = (await json(await get(`/library/metadata/${rk}`))).MediaContainer.Metadata[0];
    expect(md).toMatchObject({
      ratingKey: rk,
      title: 'Full',
      librarySectionID: Number(sec),
      Genre: [{ tag: 'G1' }],
      Role: [{ tag: 'A' }],
      Field: [{ name: 'title', locked: true }],
    });
    expect(md.Media[0].Part[0].file).toBe('/m/full/x.mp4');
    expect(md).not.toHaveProperty('Collection');
    expect(md).not.toHaveProperty('summary');
    expect((await get('/library/metadata/424242')).status).toBe(404);
  });

  it('edits: indexed tags set, tag.tag- removes (comma-safe), .locked locks; bad params → 400, nothing applied', async () => {
    const rk = sim.addItem({ sectionKey: sec, title: 'E', file: '/m/edit/e.mp4', genre: ['Old', 'A,B'] });
    const ok = await put(`/library/sections/${sec}/all`, {
      type: '1',
      id: rk,
      'title.value': 'New',
      'title.locked': '1',
      'genre[0].tag.tag': 'New1',
      'genre[].tag.tag-': [encodeURIComponent('A,B'), 'Old'].join(','),
      'genre.locked': '1',
    });
    expect(ok.status).toBe(200);
    expect(sim.item(rk)).toMatchObject({ title: 'New', genre: ['New1'], locked: ['genre', 'title'] });

    const before = sim.item(rk);
    const bad: Record<string, string>[] = [
      { type: '1', id: rk, 'title.value': 'X', 'bogus.value': 'y' },
      { type: '1', id: rk, 'title.value': 'X', 'genre[].tag.tag-': '%E0%A4%A' },
      { type: '1', id: rk, 'genre[x].tag.tag': 'y' },
      { type: '1', id: rk, 'title.locked': 'yes' },
      { type: '1', id: rk, 'originallyAvailableAt.value': '29/02/2024' },
      { id: rk, 'title.value': 'X' },
    ];
    for (const q of bad) {
      expect((await put(`/library/sections/${sec}/all`, q)).status, JSON.stringify(q)).toBe(400);
    }
    expect(sim.item(rk)).toEqual(before);
    expect((await put(`/library/sections/${sec}/all`, { type: '1', id: '999999', 'title.value': 'X' })).status).toBe(404);
  });

  it('indexed tags replace the whole list by default, as on a real server; "add" mode adds them', async () => {
    const rk = sim.addItem({ sectionKey: sec, title: 'R', file: '/m/replace/r.mp4', genre: ['Old1', 'Old2'], actor: ['Keep'] });
    // What a client sending only the new tags does: on a real server the old ones are gone.
    expect((await put(`/library/sections/${sec}/all`, { type: '1', id: rk, 'genre[0].tag.tag': 'New', 'genre.locked': '1' })).status).toBe(
      200,
    );
    expect(sim.item(rk)).toMatchObject({ genre: ['New'], actor: ['Keep'], locked: ['genre'] });
    // Only a lock: the list stays.
    expect((await put(`/library/sections/${sec}/all`, { type: '1', id: rk, 'actor.locked': '1' })).status).toBe(200);
    expect(sim.item(rk)!.actor).toEqual(['Keep']);

    sim.setTagEdits('add');
    expect((await put(`/library/sections/${sec}/all`, { type: '1', id: rk, 'genre[0].tag.tag': 'Added' })).status).toBe(200);
    expect(sim.item(rk)!.genre).toEqual(['New', 'Added']);
  });

  it('rates (-1 clears) and stores posters; counts edits', async () => {
    const rk = sim.addItem({ sectionKey: sec, title: 'R', file: '/m/rate/r.mp4' });
    sim.resetCounters();
    const rate = (rating: string) => put('/:/rate', { key: rk, identifier: 'com.plexapp.plugins.library', rating });
    expect((await rate('7.5')).status).toBe(200);
    expect(sim.item(rk)!.userRating).toBe(7.5);
    expect((await rate('11')).status).toBe(400);
    expect((await rate('-1')).status).toBe(200);
    expect(sim.item(rk)!.userRating).toBeNull();
    const post = await fetch(`${sim.url}/library/metadata/${rk}/posters`, {
      method: 'POST',
      headers: { ...H, 'Content-Type': 'image/png' },
      body: new Uint8Array([1, 2, 3]),
    });
    expect(post.status).toBe(200);
    expect(sim.item(rk)!.poster).toMatchObject({
      bytes: 3,
      contentType: 'image/png',
      sha256: expect.stringMatching(/^[0-9a-f]{64}$/) as string,
    });
    await get(`/library/metadata/${rk}`);
    expect(sim.editCount()).toBe(4);
    expect(sim.count({ route: ROUTES.rate, status: 400 })).toBe(1);
  });

  it('posters as python-plexapi sees them: the agent’s listed and selected; an upload (upload://posters/<sha1>) added once and selected; select puts one back and locks it', async () => {
    const agentBytes = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 7]);
    const rk = sim.addItem({
      sectionKey: sec,
      title: 'P',
      file: '/m/posters/p.mp4',
      poster: { bytes: agentBytes, contentType: 'image/jpeg' },
    });
    const bare = sim.addItem({ sectionKey: sec, title: 'Q', file: '/m/posters/q.mp4' });
    const list = async (key: string) =>
      (await json(await get(`/library/metadata/${key}/posters`))).MediaContainer.Metadata as {
        ratingKey: string;
        selected: boolean;
        provider?: string;
        key: string;
      }[];
    const thumbOf = async (key: string) => (await json(await get(`/library/metadata/${key}`))).MediaContainer.Metadata[0].thumb;
    const agent = await list(rk);
    expect(agent).toEqual([
      expect.objectContaining({
        ratingKey: expect.stringMatching(/^metadata:\/\/posters\//) as string,
        selected: true,
        provider: 'tv.plex.agents.movie',
      }),
    ]);
    expect(await list(bare)).toEqual([]);
    expect(await thumbOf(bare)).toBeUndefined();
    expect(await thumbOf(rk)).toMatch(new RegExp(`^/library/metadata/${rk}/thumb/\\d+$`));
    const png = new Uint8Array([1, 2, 3, 4]);
    const upload = () =>
      fetch(`${sim.url}/library/metadata/${rk}/posters`, { method: 'POST', headers: { ...H, 'Content-Type': 'image/png' }, body: png });
    expect((await upload()).status).toBe(200);
    expect((await upload()).status).toBe(200);
    const sha1 = createHash('sha1').update(png).digest('hex');
    expect((await list(rk)).map((p) => [p.ratingKey, p.selected])).toEqual([
      [agent[0].ratingKey, false],
      [`upload://posters/${sha1}`, true],
    ]);
    expect(sim.item(rk)).toMatchObject({ posterKey: `upload://posters/${sha1}`, poster: { bytes: 4 }, locked: [] });
    sim.resetCounters();
    expect((await put(`/library/metadata/${rk}/poster`, { url: agent[0].ratingKey })).status).toBe(200);
    expect(sim.item(rk)).toMatchObject({ posterKey: agent[0].ratingKey, poster: { bytes: agentBytes.length }, locked: ['thumb'] });
    expect((await put(`/library/metadata/${rk}/poster`, { url: 'upload://posters/none' })).status).toBe(404);
    expect((await put(`/library/metadata/${rk}/poster`, {})).status).toBe(400);
    expect(sim.editCount()).toBe(3);
  });

  it('a moved file: a bare new item (the old one gone), the same item at the new path, or nothing until a refresh covers its folder', async () => {
    const edited = sim.addItem({
      sectionKey: sec,
      title: 'Edited title',
      summary: 'Set by someone',
      file: '/m/a/moved.mp4',
      locked: ['title'],
    });
    const fresh = sim.moveFile('/m/a/moved.mp4', '/m/b/moved-renamed.mp4')!;
    expect(sim.item(edited)).toBeUndefined();
    expect(sim.item(fresh)).toMatchObject({ title: 'moved-renamed', summary: '', locked: [], files: ['/m/b/moved-renamed.mp4'] });
    expect(fresh).not.toBe(edited);

    const kept = sim.addItem({ sectionKey: sec, title: 'Kept title', file: '/m/a/kept.mp4' });
    expect(sim.moveFile('/m/a/kept.mp4', '/m/c/kept.mp4', 'same-item')).toBe(kept);
    expect(sim.item(kept)).toMatchObject({ title: 'Kept title', files: ['/m/c/kept.mp4'] });

    const waiting = sim.addItem({ sectionKey: sec, title: 'Waiting', file: '/m/a/waiting.mp4', size: 4_321 });
    expect(sim.moveFile('/m/a/waiting.mp4', '/m/d/waiting.mp4', 'unscanned')).toBeNull();
    expect(sim.item(waiting)).toMatchObject({ files: ['/m/a/waiting.mp4'] });
    expect(sim.items().some((i) => i.files.includes('/m/d/waiting.mp4'))).toBe(false);
    expect((await get(`/library/sections/${sec}/refresh?path=${encodeURIComponent('/m/d')}`)).status).toBe(200);
    await waitFor(() => sim.items().some((i) => i.files.includes('/m/d/waiting.mp4')), 5_000, 'the scan of /m/d');
    const scanned = (await json(await get(`/library/sections/${sec}/all?type=1&file=${encodeURIComponent('/m/d/waiting.mp4')}`)))
      .MediaContainer.Metadata;
    expect(scanned.map((m) => m.Media[0].Part[0])).toEqual([expect.objectContaining({ file: '/m/d/waiting.mp4', size: 4_321 })]);
    expect(() => sim.moveFile('/m/nowhere.mp4', '/m/x.mp4')).toThrow(/no item holds/);
  });

  it("fault mode 'flaky': reads answered, a seeded random share of writes 503 (the same sequence for the same seed)", async () => {
    const item = sim.addItem({ sectionKey: sec, title: 'Flaky', file: '/m/flaky/f.mp4' });
    const edit = (n: number) => put(`/library/sections/${sec}/all`, { type: '1', id: item, 'title.value': `Flaky ${n}` });
    await sim.setMode('flaky');
    const run = async (seed: number) => {
      sim.setFlakyWrites(0.5, seed);
      const statuses: number[] = [];
      for (let n = 0; n < 40; n++) statuses.push((await edit(n)).status);
      return statuses;
    };
    const first = await run(7);
    expect(new Set(first)).toEqual(new Set([200, 503]));
    const failed = first.filter((s) => s === 503).length;
    expect(failed).toBeGreaterThan(10);
    expect(failed).toBeLessThan(30);
    expect(await run(7)).toEqual(first);
    expect(await run(8)).not.toEqual(first);
    for (let n = 0; n < 10; n++) expect((await get(`/library/metadata/${item}`)).status).toBe(200);
    expect((await get('/identity')).status).toBe(200);
    sim.setFlakyWrites(0, 1);
    expect((await edit(99)).status).toBe(200);
    sim.setFlakyWrites(0.5, 1);
  });

  it('fault modes: 503, 401 (identity still up), down = connection refused, up = same port', async () => {
    await sim.setMode('503');
    expect((await get('/identity')).status).toBe(503);
    await sim.setMode('401');
    expect((await get('/library/sections')).status).toBe(401);
    expect((await get('/identity')).status).toBe(200);
    const port = sim.port;
    await sim.setMode('down');
    expect(await refused(port)).toBe(true);
    await expect(get('/identity')).rejects.toThrow();
    await sim.setMode('up');
    expect(sim.port).toBe(port);
    expect((await get('/identity')).status).toBe(200);
  });

  it('denyItems: 401 for requests about those items only, while the token works elsewhere', async () => {
    const denied = sim.addItem({ sectionKey: sec, title: 'Denied', file: '/m/denied/denied.mp4' });
    const other = sim.addItem({ sectionKey: sec, title: 'Other', file: '/m/other/other.mp4' });
    sim.denyItems([denied]);
    try {
      expect((await get('/library/sections')).status).toBe(200);
      expect((await get(`/library/sections/${sec}/all`)).status).toBe(200);
      expect((await get(`/library/metadata/${denied}`)).status).toBe(401);
      expect((await put(`/library/sections/${sec}/all`, { type: '1', id: denied, 'title.value': 'x' })).status).toBe(401);
      expect((await get(`/library/metadata/${other}`)).status).toBe(200);
      expect((await put(`/library/sections/${sec}/all`, { type: '1', id: other, 'title.value': 'y' })).status).toBe(200);
    } finally {
      sim.denyItems([]);
    }
    expect((await get(`/library/metadata/${denied}`)).status).toBe(200);
  });

  it("a proxy's limits: 414 past the request line's, 431 past the headers', logged, nothing applied; none by default", async () => {
    const rk = sim.addItem({ sectionKey: sec, title: 'Before', file: '/m/proxy/limits.mp4' });
    const long = (n: number) => ({ type: '1', id: rk, 'title.value': 'é'.repeat(n) });
    const line = (query: Record<string, string>) =>
      `PUT /library/sections/${sec}/all?${new URLSearchParams(query).toString()} HTTP/1.1\r\n`.length;
    // 20 KiB of URL: more than Node's own header limit, taken by the simulator unless a proxy limit says otherwise.
    expect((await put(`/library/sections/${sec}/all`, long(3_500))).status).toBe(200);
    expect(sim.item(rk)!.title).toBe('é'.repeat(3_500));
    try {
      sim.setProxyLimits({ requestLine: 8_192 });
      const fits = long(1_300);
      expect(line(fits)).toBeLessThanOrEqual(8_192);
      expect((await put(`/library/sections/${sec}/all`, fits)).status).toBe(200);
      const over = long(1_400);
      expect(line(over)).toBeGreaterThan(8_192);
      sim.resetCounters();
      const res = await put(`/library/sections/${sec}/all`, over);
      expect(res.status).toBe(414);
      expect(await res.text()).toContain('Request-URI Too Large');
      expect(sim.requests).toMatchObject([{ method: 'PUT', route: ROUTES.sectionAll, status: 414 }]);
      expect(sim.item(rk)!.title).toBe('é'.repeat(1_300));
      sim.setProxyLimits({ headers: 4_000 });
      expect((await put(`/library/sections/${sec}/all`, long(300))).status).toBe(200);
      expect((await put(`/library/sections/${sec}/all`, long(700))).status).toBe(431);
      expect((await get('/identity', { Accept: 'application/json', Cookie: 'x'.repeat(4_000) })).status).toBe(431);
      expect(sim.item(rk)!.title).toBe('é'.repeat(300));
    } finally {
      sim.setProxyLimits({});
    }
  });

  it('latency delays answers; going down drops requests in flight', async () => {
    sim.setLatencyMs(150);
    const t = Date.now();
    expect((await get('/identity')).status).toBe(200);
    expect(Date.now() - t).toBeGreaterThanOrEqual(140);
    sim.setLatencyMs(300);
    const inflight = get('/identity');
    await new Promise((r) => setTimeout(r, 50));
    await sim.setMode('down');
    await expect(inflight).rejects.toThrow();
  });
});
