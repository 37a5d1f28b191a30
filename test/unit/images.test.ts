// The pure parts of issue 24's images: source versions and when a source is read (scene-images.ts), the
// signed performer links (image-links.ts), actor photos in decideEdit() and in the edit's parameters, the
// image route with fakes, and the Plex simulator's reading of `actor[i].tag.thumb`.
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/core/config.js';
import { performerImageHandler, type PerformerImagePorts } from '../../src/dashboard/handlers/performer-image.js';
import { RateLimiter } from '../../src/dashboard/rate-limit.js';
import { encodeEdit } from '../../src/plex/edits.js';
import { parseEditParams } from '../../src/sim/plex.js';
import {
  isOurPhotoUrl,
  performerImageSig,
  performerImageSigValid,
  performerImageVersion,
  performerPhotoUrl,
} from '../../src/sync/image-links.js';
import { actorPhotoUrls, desiredState } from '../../src/sync/mapping.js';
import { decideEdit } from '../../src/sync/ownership.js';
import { imageHash, imageToRead, imageVersion } from '../../src/sync/scene-images.js';
import { item, scene } from '../helpers/scene.js';

const BASE = 'https://s2p.example:3000';
const SECRET = 'a'.repeat(64);
const JPEG = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]);

describe('image versions and reads (scene-images.ts)', () => {
  const v = '/scene/12/screenshot?t=1700000000';
  it("a poster's version carries its style (a new POSTER_STYLE reads the source again); a background's and a plain poster's do not", () => {
    expect(imageVersion(v, 'screenshot')).toBe(v);
    expect(imageVersion(v, 'full')).toBe(v);
    expect(imageVersion(v, 'crop')).toBe(`${v}#crop`);
    expect(imageVersion(null, 'crop')).toBeNull();
    const bytes = Buffer.from('source');
    expect(imageHash(bytes, 'screenshot')).toBe(imageHash(bytes, 'full'));
    expect(new Set(['screenshot', 'crop', 'letterbox'].map((s) => imageHash(bytes, s as 'crop'))).size).toBe(3);
  });

  it('a source is read unless its version, the recorded image and the lock all hold', () => {
    const record = { poster: 'abc', posterVersion: v };
    const at = { source: v, entry: v };
    expect(imageToRead('poster', at, record, true)).toBe(false);
    expect(imageToRead('poster', at, record, false)).toBe(true);
    expect(imageToRead('poster', { source: v, entry: `${v}#crop` }, record, true)).toBe(true);
    expect(imageToRead('poster', { source: null, entry: null }, record, true)).toBe(true);
    expect(imageToRead('poster', at, { posterVersion: v }, true)).toBe(true);
    // The background has entries of its own.
    expect(imageToRead('background', at, record, true)).toBe(true);
    expect(imageToRead('background', at, { background: 'abc', backgroundVersion: v }, true)).toBe(false);
  });

  it('a version found to be no image is not read again for either image; a new version is', () => {
    expect(imageToRead('poster', { source: v, entry: `${v}#letterbox` }, { noPosterVersion: v }, false)).toBe(false);
    expect(imageToRead('background', { source: v, entry: v }, { noPosterVersion: v }, false)).toBe(false);
    const next = '/scene/12/screenshot?t=1700000099';
    expect(imageToRead('background', { source: next, entry: next }, { noPosterVersion: v }, false)).toBe(true);
  });
});

describe('performer links (image-links.ts)', () => {
  it("a performer's own image has a version (Stash's `t`); the default silhouette and a path without `t` have none", () => {
    expect(performerImageVersion('http://stash/performer/4/image?t=1700000000')).toBe('1700000000');
    expect(performerImageVersion('http://stash/performer/4/image?t=1700000000&default=true')).toBeNull();
    expect(performerImageVersion('http://stash/performer/4/image')).toBeNull();
    expect(performerImageVersion(null)).toBeNull();
  });

  it('the URL carries the id, the version and a signature of both, nothing else; the signature is checked in full', () => {
    const url = performerPhotoUrl(BASE, SECRET, '4', '1700000000');
    expect(url).toBe(`${BASE}/images/performer/4?v=1700000000&sig=${performerImageSig(SECRET, '4', '1700000000')}`);
    expect(url).not.toContain(SECRET);
    const sig = performerImageSig(SECRET, '4', '1700000000');
    expect(performerImageSigValid(SECRET, '4', '1700000000', sig)).toBe(true);
    expect(performerImageSigValid(SECRET, '5', '1700000000', sig)).toBe(false);
    expect(performerImageSigValid(SECRET, '4', '1700000001', sig)).toBe(false);
    expect(performerImageSigValid('b'.repeat(64), '4', '1700000000', sig)).toBe(false);
    expect(performerImageSigValid(SECRET, '4', '1700000000', sig.slice(0, 31))).toBe(false);
    expect(isOurPhotoUrl(BASE, url)).toBe(true);
    expect(isOurPhotoUrl(BASE, 'https://metadata-static.plex.tv/people/x.jpg')).toBe(false);
  });

  it('actor names as the actor list cleans them; a performer without an image of its own is absent', () => {
    const photos = actorPhotoUrls(
      [
        { id: '1', name: ' Alice ', image_path: 'http://stash/performer/1/image?t=10' },
        { id: '2', name: 'Bob', image_path: 'http://stash/performer/2/image?t=11&default=true' },
        { id: '3', name: 'alice', image_path: 'http://stash/performer/3/image?t=12' },
      ],
      BASE,
      SECRET,
    );
    expect(photos).toEqual({ Alice: performerPhotoUrl(BASE, SECRET, '1', '10') });
  });
});

describe('decide: actor photos', () => {
  const settings = { ...parseConfig({}, { plex: false, stash: false }).sync, imageBaseUrl: BASE, editBudget: 8000 };
  const performers = [
    { id: '1', name: 'Alice', image_path: 'http://stash/performer/1/image?t=10' },
    { id: '2', name: 'Bob', image_path: 'http://stash/performer/2/image?t=11&default=true' },
  ];
  const desired = desiredState(scene({ performers }), { baseUrl: BASE, secret: SECRET });
  const alice = performerPhotoUrl(BASE, SECRET, '1', '10');

  it('an actor list stash2plex manages: the photo travels with the whole list, beside its tag', () => {
    const d = decideEdit(desired, item(), { actors: 'x' }, settings);
    expect(d.edit.tags.actor).toEqual({ set: ['Alice', 'Bob'], remove: [], thumbs: { Alice: alice } });
    const params = encodeEdit(d.edit);
    expect(params.get('actor[0].tag.tag')).toBe('Alice');
    expect(params.get('actor[0].tag.thumb')).toBe(alice);
    expect(params.has('actor[1].tag.thumb')).toBe(false);
  });

  it('unchanged: nothing sent; a photo stash2plex set whose performer lost the image is cleared; a photo of another source stays', () => {
    expect(decideEdit(desired, item({ actorThumbs: { Alice: alice } }), {}, settings).edit.tags.actor).toBeUndefined();
    const noImage = desiredState(
      scene({ performers: [{ ...performers[0], image_path: `${performers[0].image_path}&default=true` }, performers[1]] }),
      {
        baseUrl: BASE,
        secret: SECRET,
      },
    );
    const shown = item({ actorThumbs: { Alice: alice, Bob: 'https://metadata-static.plex.tv/people/bob.jpg' } });
    expect(decideEdit(noImage, shown, {}, settings).edit.tags.actor?.thumbs).toEqual({ Alice: '' });
  });

  it('not without actorphotos in SYNC_FIELDS, nor on an actor list a person owns (PRESERVE_PLEX_EDITS)', () => {
    const off = { ...settings, fields: settings.fields.filter((f) => f !== 'actorphotos') };
    expect(decideEdit(desired, item(), {}, off).edit.tags.actor).toBeUndefined();
    const theirs = item({ tags: { genre: ['Tag1', 'Tag2'], actor: ['Someone'], collection: [] } });
    const preserved = decideEdit(desired, theirs, { actors: 'not-this' }, { ...settings, preservePlexEdits: true });
    expect(preserved.preserved).toContain('actors');
    expect(preserved.edit.tags.actor).toBeUndefined();
  });
});

describe('GET /images/performer/:id (handler)', () => {
  const sig = performerImageSig(SECRET, '4', '1700000000');
  const ports = (over: Partial<PerformerImagePorts> = {}): PerformerImagePorts => ({
    imageSecret: () => Promise.resolve(SECRET),
    fetchPerformerImage: () => Promise.resolve({ bytes: JPEG, contentType: 'image/jpeg' }),
    imageRateLimit: new RateLimiter({ ratePerSec: 1, burst: 100 }),
    ...over,
  });
  const get = (p: PerformerImagePorts, query: Record<string, string>, id = '4', ifNoneMatch?: string) =>
    performerImageHandler(p)({ query, params: { id }, remote: '10.0.0.9', ifNoneMatch });

  it('a signed link: the bytes, immutable, with an ETag of the version (304 to it without asking Stash)', async () => {
    const reply = await get(ports(), { v: '1700000000', sig });
    expect(reply).toMatchObject({ status: 200, type: 'image/jpeg', bytes: JPEG });
    expect('headers' in reply && reply.headers?.['Cache-Control']).toMatch(/immutable/);
    let asked = 0;
    const counting = ports({ fetchPerformerImage: () => (asked++, Promise.resolve({ bytes: JPEG, contentType: 'image/jpeg' })) });
    expect((await get(counting, { v: '1700000000', sig }, '4', '"performer-4-1700000000"')).status).toBe(304);
    expect(asked).toBe(0);
  });

  it('403 for a wrong, missing or malformed signature, another id or version; 429 past the rate; 502 for what is no raster image', async () => {
    expect((await get(ports(), { v: '1700000000', sig: sig.replace(/^./, sig[0] === '0' ? '1' : '0') })).status).toBe(403);
    expect((await get(ports(), { v: '1700000000' })).status).toBe(403);
    expect((await get(ports(), { v: '1700000000', sig: 'x' })).status).toBe(403);
    expect((await get(ports(), { v: '1700000000', sig }, '5')).status).toBe(403);
    expect((await get(ports(), { v: '1700000001', sig })).status).toBe(403);
    const limited = ports({ imageRateLimit: new RateLimiter({ ratePerSec: 0.001, burst: 2 }) });
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await get(limited, { v: '1700000000', sig })).status);
    expect(statuses).toEqual([200, 200, 429]);
    const svg = ports({ fetchPerformerImage: () => Promise.resolve({ bytes: Buffer.from('<svg/>'), contentType: 'image/svg+xml' }) });
    expect((await get(svg, { v: '1700000000', sig })).status).toBe(502);
  });
});

describe("the Plex simulator's actor thumbs", () => {
  it('takes `actor[i].tag.thumb` beside its tag only', () => {
    expect(parseEditParams(new URLSearchParams({ 'actor[0].tag.tag': 'A', 'actor[0].tag.thumb': 'http://x/a.jpg' }))).toHaveLength(2);
    expect(() => parseEditParams(new URLSearchParams({ 'actor[1].tag.thumb': 'http://x/a.jpg' }))).toThrow(/without its tag/);
  });
});

describe('decide: actor photos within PLEX_MAX_URL_BYTES', () => {
  it('the photos that fit one request with the list go, the rest is noted as cut', () => {
    const performers = Array.from({ length: 40 }, (_, i) => ({
      id: String(i + 1),
      name: `Actor ${i + 1}`,
      image_path: `http://s/performer/${i + 1}/image?t=9`,
    }));
    const desired = desiredState(scene({ performers }), { baseUrl: BASE, secret: SECRET });
    const settings = { ...parseConfig({}, { plex: false, stash: false }).sync, imageBaseUrl: BASE, editBudget: 2000 };
    const d = decideEdit(desired, item({ tags: { genre: ['Tag1', 'Tag2'], actor: [], collection: [] } }), {}, settings);
    const sent = Object.keys(d.edit.tags.actor?.thumbs ?? {});
    expect(sent.length).toBeGreaterThan(0);
    expect(sent.length).toBeLessThan(40);
    expect(encodeEdit({ scalars: {}, tags: { actor: d.edit.tags.actor } }).toString().length).toBeLessThanOrEqual(2000);
    expect(d.cut).toContain(`actorphotos: 40 → ${sent.length} (PLEX_MAX_URL_BYTES)`);
  });
});
