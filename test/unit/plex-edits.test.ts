import { describe, expect, it } from 'vitest';
import { decodeTagList, encodeEdit, encodeTagList, parseItem, PlexResponseError } from '../../src/plex/edits.js';
import { parseIdentity, parseListingPage, parseMetadataList, parseSections } from '../../src/plex/schemas.js';

describe('encodeEdit', () => {
  it('sends nothing for an empty edit (a rating alone is a separate call)', () => {
    expect(encodeEdit({ scalars: {}, tags: {} }).toString()).toBe('');
    expect(encodeEdit({ scalars: {}, tags: {}, userRating: 7 }).toString()).toBe('');
  });

  it('sets and locks every scalar given, clearing with an empty value', () => {
    const q = encodeEdit({ scalars: { title: 'A & B', summary: '', originallyAvailableAt: '2024-02-29' }, tags: {} });
    expect(q.toString()).toBe(
      'title.value=A+%26+B&title.locked=1&summary.value=&summary.locked=1&originallyAvailableAt.value=2024-02-29&originallyAvailableAt.locked=1',
    );
  });

  it('sends the full tag list indexed, the extras as a comma list of encoded tags, and a lock', () => {
    const q = encodeEdit({ scalars: {}, tags: { genre: { set: ['A', 'B'], remove: ['C,D', 'E'] } } });
    // Hand-checked: 'C,D' → 'C%2CD' (tag encoded) → joined 'C%2CD,E' → query-encoded once more.
    expect(q.toString()).toBe('genre%5B0%5D.tag.tag=A&genre%5B1%5D.tag.tag=B&genre%5B%5D.tag.tag-=C%252CD%2CE&genre.locked=1');
    expect(q.get('genre[].tag.tag-')).toBe('C%2CD,E');
  });

  it('keeps a tag containing a comma whole on both sides', () => {
    const q = encodeEdit({ scalars: {}, tags: { collection: { set: ['Smith, John'], remove: ['Doe, Jane', '100% + more'] } } });
    const wire = new URLSearchParams(q.toString()); // what the server decodes
    expect(wire.get('collection[0].tag.tag')).toBe('Smith, John');
    expect(decodeTagList(wire.get('collection[].tag.tag-')!)).toEqual(['Doe, Jane', '100% + more']);
  });

  it('names actors `actor` and handles removal-only edits', () => {
    const q = encodeEdit({ scalars: {}, tags: { actor: { set: [], remove: ['Bob'] } } });
    expect([...q.keys()]).toEqual(['actor[].tag.tag-', 'actor.locked']);
    const r = encodeEdit({ scalars: {}, tags: { actor: { set: ['Alice'], remove: [] } } });
    expect(r.toString()).toBe('actor%5B0%5D.tag.tag=Alice&actor.locked=1');
  });

  it('releases the locks of `unlock` instead of setting them, alone or with a value', () => {
    const only = encodeEdit({ scalars: {}, tags: {}, unlock: ['summary', 'genre', 'thumb'] });
    expect(only.toString()).toBe('summary.locked=0&genre.locked=0&thumb.locked=0');
    const put = encodeEdit({
      scalars: { title: 'Agent title' },
      tags: { genre: { set: ['Drama'], remove: [] } },
      unlock: ['title', 'genre'],
    });
    expect(put.getAll('title.locked')).toEqual(['0']);
    expect(put.getAll('genre.locked')).toEqual(['0']);
    expect(put.get('title.value')).toBe('Agent title');
  });

  it('round-trips unusual tags through encodeTagList/decodeTagList', () => {
    const tags = ['a,b', 'ü', '%41', ' sp ace ', 'x/y'];
    expect(decodeTagList(encodeTagList(tags))).toEqual(tags);
    expect(decodeTagList('')).toEqual([]);
  });
});

const full = {
  MediaContainer: {
    size: 1,
    Metadata: [
      {
        ratingKey: '1001',
        key: '/library/metadata/1001',
        type: 'movie',
        title: 'Clip',
        summary: 'Text',
        studio: 'Studio',
        originallyAvailableAt: '2024-01-02',
        contentRating: 'XXX',
        originalTitle: 'ABC-123',
        titleSort: 'Clip, The',
        tagline: 'One line',
        userRating: 8.5,
        librarySectionID: 3,
        Genre: [
          { id: 1, tag: 'G1' },
          { id: 2, tag: 'G2' },
        ],
        Role: [{ id: 3, tag: 'Alice', role: '' }],
        Collection: [{ id: 4, tag: 'C' }],
        Label: [{ id: 5, tag: 'L' }],
        Media: [
          {
            id: 1,
            Part: [
              { id: 1, key: '/p/1', file: '/m/a.mp4' },
              { id: 2, key: '/p/2', file: '/m/a2.mp4' },
            ],
          },
          { id: 2, Part: [{ id: 3, key: '/p/3', file: '/m/b.mkv' }] },
        ],
        Field: [
          { name: 'title', locked: true },
          { name: 'genre', locked: true },
          { name: 'thumb', locked: false },
        ],
      },
    ],
  },
};

describe('parseItem', () => {
  it('reads the full item', () => {
    expect(parseItem(full, '9')).toEqual({
      ratingKey: '1001',
      sectionKey: '3',
      title: 'Clip',
      summary: 'Text',
      studio: 'Studio',
      originallyAvailableAt: '2024-01-02',
      contentRating: 'XXX',
      originalTitle: 'ABC-123',
      titleSort: 'Clip, The',
      tagline: 'One line',
      userRating: 8.5,
      tags: { genre: ['G1', 'G2'], actor: ['Alice'], collection: ['C'], label: ['L'] },
      files: ['/m/a.mp4', '/m/a2.mp4', '/m/b.mkv'],
      locked: ['title', 'genre'],
    });
  });

  it('defaults missing fields and arrays, and uses the given section when Plex does not say', () => {
    const item = parseItem({ MediaContainer: { Metadata: [{ ratingKey: 7, title: 300 }] } }, '2');
    expect(item).toEqual({
      ratingKey: '7',
      sectionKey: '2',
      title: '300',
      summary: '',
      studio: '',
      originallyAvailableAt: '',
      contentRating: '',
      originalTitle: '',
      titleSort: '',
      tagline: '',
      userRating: null,
      tags: { genre: [], actor: [], collection: [], label: [] },
      files: [],
      locked: [],
    });
  });

  it('throws PlexResponseError missing / malformed (the answer) / malformed-item (the item, its field named)', () => {
    expect(() => parseItem({ MediaContainer: { size: 0 } })).toThrow(expect.objectContaining({ kind: 'missing' }));
    expect(() => parseItem({ nope: 1 })).toThrow(expect.objectContaining({ kind: 'malformed' }));
    expect(() => parseItem({ MediaContainer: { Metadata: 'x' } })).toThrow(expect.objectContaining({ kind: 'malformed' }));
    expect(() => parseItem({ MediaContainer: { Metadata: [{ ratingKey: '1', Genre: [{ nottag: 1 }] }] } })).toThrow(
      expect.objectContaining({ kind: 'malformed-item', message: expect.stringMatching(/^Genre\.0\.tag: /) as string }),
    );
    expect(() => parseItem({ MediaContainer: { Metadata: [{ ratingKey: '1', userRating: '8.0' }] } })).toThrow(
      expect.objectContaining({ kind: 'malformed-item', message: expect.stringMatching(/^userRating: .*expected number/) as string }),
    );
    expect(() => parseItem({ nope: 1 })).toThrow(PlexResponseError);
  });

  it('takes librarySectionID from the container when the item lacks it, before the section passed in', () => {
    expect(parseItem({ MediaContainer: { librarySectionID: 4, Metadata: [{ ratingKey: '1' }] } }, '2').sectionKey).toBe('4');
    expect(
      parseItem({ MediaContainer: { librarySectionID: 4, Metadata: [{ ratingKey: '1', librarySectionID: 5 }] } }, '2').sectionKey,
    ).toBe('5');
  });
});

describe('parseMetadataList / parseListingPage: items judged one by one', () => {
  const page = {
    MediaContainer: {
      totalSize: 40,
      librarySectionID: 3,
      Metadata: [
        { ratingKey: '1', title: 'Good', Media: [{ Part: [{ file: '/m/1.mp4', size: 10 }] }] },
        { ratingKey: '2', userRating: '8.0', Genre: 'x', Media: [{ Part: [{ file: '/m/2.mp4' }] }] },
        { ratingKey: 3, Media: [{ Part: [{ file: 42 }] }] },
        { ratingKey: { nested: true }, title: 'No key' },
        { ratingKey: '5', librarySectionID: '9' },
      ],
    },
  };

  it('a read: a bad item is set apart with its key and the field at fault; the rest are read; the count includes it', () => {
    const list = parseMetadataList(page);
    expect(list.items.map((m) => [m.ratingKey, m.librarySectionID])).toEqual([
      ['1', '3'],
      ['5', '9'],
    ]);
    expect(list.bad).toEqual([
      { ratingKey: '2', reason: expect.stringMatching(/^userRating: .*expected number, received string/) as string },
      { ratingKey: '3', reason: expect.stringMatching(/^Media\.0\.Part\.0\.file: /) as string },
      { ratingKey: null, reason: expect.stringMatching(/^ratingKey: /) as string },
    ]);
    expect(list).toMatchObject({ listed: 5, totalSize: 40 });
  });

  it("a listing judges only what a listing reads (key, section, files): a bad rating or genre list is its full read's problem", () => {
    const list = parseListingPage(page);
    expect(list.items.map((m) => m.ratingKey)).toEqual(['1', '2', '5']);
    expect(list.items[1]).toMatchObject({ userRating: undefined, Genre: [], librarySectionID: '3' });
    expect(list.bad.map((b) => b.ratingKey)).toEqual(['3', null]);
    expect(list.listed).toBe(5);
  });

  it('a container that is not one stays a problem of the whole answer', () => {
    expect(() => parseMetadataList({ MediaContainer: { Metadata: { ratingKey: '1' } } })).toThrow(
      expect.objectContaining({ kind: 'malformed' }),
    );
    expect(() => parseListingPage('<html>')).toThrow(expect.objectContaining({ kind: 'malformed' }));
  });
});

describe('parseSections / parseIdentity', () => {
  it('reads sections with their locations', () => {
    const json = {
      MediaContainer: {
        Directory: [
          {
            key: '1',
            type: 'movie',
            title: 'Movies',
            Location: [
              { id: 1, path: '/m' },
              { id: 2, path: '/n' },
            ],
          },
          { key: 2, type: 'show', title: 'TV' },
        ],
      },
    };
    expect(parseSections(json)).toEqual([
      { key: '1', type: 'movie', title: 'Movies', locations: ['/m', '/n'] },
      { key: '2', type: 'show', title: 'TV', locations: [] },
    ]);
    expect(parseSections({ MediaContainer: { size: 0 } })).toEqual([]);
  });
  it('reads the identity', () => {
    expect(parseIdentity({ MediaContainer: { size: 0, claimed: true, machineIdentifier: 'abc', version: '1.41' } })).toEqual({
      machineIdentifier: 'abc',
      version: '1.41',
    });
  });
});
