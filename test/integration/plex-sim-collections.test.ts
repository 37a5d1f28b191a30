// The Plex simulator's collections (src/sim/plex-collections.ts): items of type 18 made by the first
// collection tag, listed, read, edited through the section, given a poster, renamed with their tag, and
// left in place once empty, as a real server does (docs/REAL-SERVERS.md, "Collections").
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PlexSimulator } from '../../src/sim/plex.js';

const TOKEN = 'sim-collections-token';
let sim: PlexSimulator;
let section: string;

beforeAll(async () => {
  sim = await PlexSimulator.start({ token: TOKEN });
  section = sim.addSection({ title: 'Movies', locations: ['/media'] });
});
afterAll(async () => {
  await sim.stop();
});

const call = (method: string, path: string, body?: Uint8Array<ArrayBuffer>) =>
  fetch(`${sim.url}${path}`, { method, headers: { 'X-Plex-Token': TOKEN, Accept: 'application/json' }, body });

describe('collections in the Plex simulator', () => {
  it('are made by the first collection tag, listed with type=18, edited, renamed with their tag, kept empty, deleted', async () => {
    const a = sim.addItem({ sectionKey: section, title: 'A', file: '/media/a.mp4' });
    const b = sim.addItem({ sectionKey: section, title: 'B', file: '/media/b.mp4' });
    expect(sim.collections()).toEqual([]);
    const tag = (id: string, q: string) => call('PUT', `/library/sections/${section}/all?type=1&id=${id}&${q}`);
    expect((await tag(a, 'collection%5B0%5D.tag.tag=Saga')).status).toBe(200);
    expect((await tag(b, 'collection%5B0%5D.tag.tag=Saga')).status).toBe(200);
    const saga = sim.collection(section, 'Saga')!;
    expect(saga).toMatchObject({ title: 'Saga', summary: '', childCount: 2, poster: null });

    const listed = (await (await call('GET', `/library/sections/${section}/all?type=18&title=saga`)).json()) as {
      MediaContainer: { Metadata: { ratingKey: string; type: string; childCount: string }[] };
    };
    expect(listed.MediaContainer.Metadata).toEqual([
      expect.objectContaining({ ratingKey: saga.ratingKey, type: 'collection', childCount: '2' }),
    ]);

    const edit = `/library/sections/${section}/all?type=18&id=${saga.ratingKey}`;
    expect((await call('PUT', `${edit}&summary.value=Three+parts&summary.locked=1`)).status).toBe(200);
    expect((await call('PUT', `${edit}&genre%5B0%5D.tag.tag=x`)).status).toBe(400);
    expect((await call('POST', `/library/metadata/${saga.ratingKey}/posters`, new TextEncoder().encode('jpeg bytes'))).status).toBe(200);
    const read = (await (await call('GET', `/library/metadata/${saga.ratingKey}`)).json()) as {
      MediaContainer: { Metadata: Record<string, unknown>[] };
    };
    expect(read.MediaContainer.Metadata[0]).toMatchObject({
      title: 'Saga',
      summary: 'Three parts',
      Field: [{ name: 'summary', locked: true }],
    });
    expect(read.MediaContainer.Metadata[0].thumb).toMatch(new RegExp(`^/library/metadata/${saga.ratingKey}/thumb/`));

    expect((await call('PUT', `${edit}&title.value=Saga+II&title.locked=1`)).status).toBe(200);
    expect(sim.item(a)!.collection).toEqual(['Saga II']);
    expect(sim.collection(section, 'Saga')).toBeUndefined();

    await tag(a, `collection%5B%5D.tag.tag-=${encodeURIComponent('Saga II')}`);
    await tag(b, `collection%5B%5D.tag.tag-=${encodeURIComponent('Saga II')}`);
    expect(sim.collection(section, 'Saga II')).toMatchObject({ childCount: 0, summary: 'Three parts' });
    expect((await call('DELETE', `/library/metadata/${saga.ratingKey}`)).status).toBe(200);
    expect(sim.collections()).toEqual([]);
    expect((await call('DELETE', `/library/metadata/${saga.ratingKey}`)).status).toBe(404);
  });

  it('list their posters, each upload `upload://posters/<sha1>` once, and select one again, locking thumb', async () => {
    const item = sim.addItem({ sectionKey: section, title: 'C', file: '/media/c.mp4' });
    await call('PUT', `/library/sections/${section}/all?type=1&id=${item}&collection%5B0%5D.tag.tag=Posters`);
    const rk = sim.collection(section, 'Posters')!.ratingKey;
    const posters = async () =>
      (
        (await (await call('GET', `/library/metadata/${rk}/posters`)).json()) as {
          MediaContainer: { Metadata?: { ratingKey: string; selected: boolean }[] };
        }
      ).MediaContainer.Metadata ?? [];
    expect(await posters()).toEqual([]);
    const [one, two] = [new TextEncoder().encode('first image'), new TextEncoder().encode('second image')];
    const sha1 = async (b: Uint8Array) => (await import('node:crypto')).createHash('sha1').update(b).digest('hex');
    for (const bytes of [one, two, one]) expect((await call('POST', `/library/metadata/${rk}/posters`, bytes)).status).toBe(200);
    const [first, second] = [`upload://posters/${await sha1(one)}`, `upload://posters/${await sha1(two)}`];
    expect(await posters()).toEqual([
      expect.objectContaining({ ratingKey: first, selected: true }),
      expect.objectContaining({ ratingKey: second, selected: false }),
    ]);
    expect(sim.collection(section, 'Posters')).toMatchObject({ posterKey: first, posters: [first, second], locked: [] });

    expect((await call('PUT', `/library/metadata/${rk}/poster?url=${encodeURIComponent(second)}`)).status).toBe(200);
    expect(sim.collection(section, 'Posters')).toMatchObject({ posterKey: second, locked: ['thumb'] });
    expect((await call('PUT', `/library/metadata/${rk}/poster?url=upload%3A%2F%2Fposters%2Fnone`)).status).toBe(404);
    expect((await call('PUT', `/library/sections/${section}/all?type=18&id=${rk}&thumb.locked=0`)).status).toBe(200);
    expect(sim.collection(section, 'Posters')).toMatchObject({ posterKey: second, locked: [] });
  });
});
