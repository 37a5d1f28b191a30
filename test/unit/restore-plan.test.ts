// The restore's pure parts: what is kept before a first write (src/sync/originals.ts), how an exclusion
// reads back (src/sync/sync-exclusions.ts), and the plan per field (src/restore/plan.ts): put back while
// Plex still shows stash2plex's value, left when a person changed it, nothing when nothing was kept.
import { describe, expect, it } from 'vitest';
import type { PlexItem, PlexPoster } from '../../src/model/types.js';
import { planRestore } from '../../src/restore/plan.js';
import {
  fieldsOfEdit,
  keptPoster,
  originalsOfEdit,
  parseOriginals,
  POSTER_UPLOAD_FIELD,
  type KeptOriginal,
  type StoredOriginals,
} from '../../src/sync/originals.js';
import { plexValueHash, valueHash, type OwnershipRecord } from '../../src/sync/ownership.js';
import { excludedReason, parseExclusion } from '../../src/sync/sync-exclusions.js';

/** An item as Plex shows it after stash2plex synced it (values from Stash, locked). */
function item(over: Partial<PlexItem> = {}): PlexItem {
  return {
    ratingKey: '7',
    sectionKey: '1',
    title: 'Stash Title',
    summary: 'Stash details',
    studio: '',
    originallyAvailableAt: '',
    userRating: 8,
    tags: { genre: ['stash-tag'], actor: [], collection: [] },
    files: ['/v/a.mp4'],
    locked: ['title', 'summary', 'genre'],
    ...over,
  };
}

const keep = (value: KeptOriginal['value'], locked = false): string => JSON.stringify({ value, locked });
/** What the agent had before stash2plex's first sync, as the processor keeps it. */
function agentKept(extra: Record<string, string> = {}): StoredOriginals {
  return parseOriginals({
    title: keep('Agent Title'),
    summary: keep('Agent summary'),
    genres: keep(['Drama', 'Agent Genre']),
    rating: keep(null),
    ...extra,
  });
}
/** The ownership record after that sync: the hashes of what Plex shows now. */
const ours = (
  i: PlexItem,
  fields: ('title' | 'summary' | 'genres' | 'rating' | 'studio')[] = ['title', 'summary', 'genres', 'rating'],
): OwnershipRecord => Object.fromEntries(fields.map((f) => [f, plexValueHash(f, i)!]));

describe('planRestore', () => {
  it('puts back what the agent had, unlocked as it was; the fields never written are named', () => {
    const now = item();
    const plan = planRestore({ kept: agentKept(), record: ours(now), item: now, posters: null });
    expect(plan.edit).toEqual({
      scalars: { title: 'Agent Title', summary: 'Agent summary' },
      tags: { genre: { set: ['Drama', 'Agent Genre'], remove: ['stash-tag'] } },
      userRating: null,
      unlock: ['title', 'summary', 'genre'],
    });
    expect(plan.restored).toEqual(['title', 'summary', 'genres', 'rating']);
    expect(plan.neverWritten).toEqual([
      'studio',
      'date',
      'actors',
      'poster',
      'collection',
      'background',
      'actorphotos',
      'contentrating',
      'originaltitle',
      'sorttitle',
      'tagline',
      'labels',
    ]);
    expect(plan.plexChanged).toEqual([]);
    expect(plan.selectPoster).toBeNull();
  });

  it("a value whose edit Plex applied unanswered (the record's intent) is still stash2plex's: put back", () => {
    const synced = item();
    const record: OwnershipRecord = { ...ours(synced), title: valueHash('Older'), 'title:intent': plexValueHash('title', synced)! };
    const plan = planRestore({ kept: agentKept(), record, item: synced, posters: null });
    expect(plan.plexChanged).toEqual([]);
    expect(plan.edit.scalars.title).toBe('Agent Title');
  });

  it('a field changed in Plex since stash2plex wrote it is left untouched and named plexChanged', () => {
    const synced = item();
    const record = ours(synced);
    const edited = item({ title: 'Typed in Plex' });
    const plan = planRestore({ kept: agentKept(), record, item: edited, posters: null });
    expect(plan.plexChanged).toEqual(['title']);
    expect(plan.edit.scalars).not.toHaveProperty('title');
    expect(plan.edit.unlock).not.toContain('title');
    expect(plan.restored).toEqual(['summary', 'genres', 'rating']);
  });

  it('without an ownership entry (the first edit never went through) a differing value counts as changed in Plex', () => {
    const now = item();
    const plan = planRestore({ kept: agentKept(), record: {}, item: now, posters: null });
    expect(plan.plexChanged).toEqual(['title', 'summary', 'genres', 'rating']);
    expect(plan.edit).toEqual({ scalars: {}, tags: {} });
  });

  it('a value already as kept with its lock: nothing sent; one only locked by stash2plex: the lock released alone', () => {
    const now = item({
      title: 'Agent Title',
      summary: 'Agent summary',
      locked: ['summary'],
      userRating: null,
      tags: { genre: ['Agent Genre', 'Drama'], actor: [], collection: [] },
    });
    const plan = planRestore({ kept: agentKept(), record: ours(now), item: now, posters: null });
    expect(plan.restored).toEqual(['title', 'summary', 'genres', 'rating']);
    expect(plan.edit).toEqual({ scalars: {}, tags: {}, unlock: ['summary'] });
  });

  it('a field that was locked before stash2plex wrote it is put back locked (its value sent, no unlock)', () => {
    const now = item({ studio: 'Stash Studio', locked: ['studio'] });
    const plan = planRestore({
      kept: parseOriginals({ studio: keep('Agent Studio', true) }),
      record: ours(now, ['studio']),
      item: now,
      posters: null,
    });
    expect(plan.edit).toEqual({ scalars: { studio: 'Agent Studio' }, tags: {} });
    expect(plan.restored).toEqual(['studio']);
  });

  it('a kept value of the wrong shape is not put back (neverWritten, with a note)', () => {
    const now = item();
    const plan = planRestore({ kept: parseOriginals({ title: keep(['not', 'text']) }), record: ours(now), item: now, posters: null });
    expect(plan.neverWritten).toContain('title');
    expect(plan.notes).toEqual(['title: the kept value is unreadable']);
    expect(plan.edit).toEqual({ scalars: {}, tags: {} });
  });
});

describe('planRestore: the poster', () => {
  const AGENT = 'metadata://posters/tv.plex.agents.movie_abc';
  const sha1 = 'a'.repeat(40);
  const UPLOAD = `upload://posters/${sha1}`;
  const posters = (selected: string, ...more: string[]): PlexPoster[] =>
    [AGENT, UPLOAD, ...more].map((ratingKey) => ({ ratingKey, selected: ratingKey === selected, provider: null }));
  const kept = (value: string | null) => parseOriginals({ poster: keep(value), [POSTER_UPLOAD_FIELD]: sha1 });
  const shows = (over: Partial<PlexItem> = {}) => item({ thumb: '/library/metadata/7/thumb/9', locked: ['thumb'], ...over });

  it("Plex still shows stash2plex's upload: the agent's poster is selected again, then unlocked", () => {
    const plan = planRestore({ kept: kept(AGENT), record: {}, item: shows(), posters: posters(UPLOAD) });
    expect(plan.selectPoster).toBe(AGENT);
    expect(plan.edit.unlock).toEqual(['thumb']);
    expect(plan.restored).toEqual(['poster']);
  });

  it('a poster someone chose in Plex since, or an upload that is not ours, is left (plexChanged)', () => {
    const other = 'upload://posters/' + 'b'.repeat(40);
    for (const selected of [other, 'https://image.tmdb.org/p.jpg']) {
      const plan = planRestore({
        kept: kept(AGENT),
        record: {},
        item: shows(),
        posters: posters(selected, other, 'https://image.tmdb.org/p.jpg'),
      });
      expect(plan.plexChanged).toEqual(['poster']);
      expect(plan.selectPoster).toBeNull();
      expect(plan.edit.unlock).toBeUndefined();
    }
  });

  it('the original no longer offered by Plex: left, with a note; none before: unlocked only, with a note', () => {
    const gone = planRestore({ kept: kept('metadata://posters/gone'), record: {}, item: shows(), posters: posters(UPLOAD) });
    expect(gone.plexChanged).toEqual(['poster']);
    expect(gone.notes).toEqual(['poster: the one Plex had is no longer among its posters']);
    const none = planRestore({ kept: kept(null), record: {}, item: shows(), posters: posters(UPLOAD) });
    expect(none).toMatchObject({ restored: ['poster'], selectPoster: null, edit: { unlock: ['thumb'] } });
    expect(none.notes).toEqual(['poster: Plex had none; the uploaded one stays (unlocked) until Plex picks another']);
  });

  it('already the original, unlocked: nothing to do', () => {
    const plan = planRestore({ kept: kept(AGENT), record: {}, item: shows({ locked: [] }), posters: posters(AGENT) });
    expect(plan).toMatchObject({ restored: ['poster'], selectPoster: null, edit: { scalars: {}, tags: {} } });
    expect(plan.edit.unlock).toBeUndefined();
  });
});

describe('originals', () => {
  it('an edit writes the fields of its values, its rating and its unlocks', () => {
    expect(
      fieldsOfEdit({
        scalars: { originallyAvailableAt: '2024-01-01' },
        tags: { actor: { set: [], remove: [] } },
        userRating: 3,
        unlock: ['thumb', 'title'],
      }),
    ).toEqual(['date', 'actors', 'rating', 'title']);
  });

  it('keeps text, tag lists in Plex order and locks; skips fields the ownership record holds', () => {
    const now = item({ tags: { genre: ['b', 'a'], actor: [], collection: [] }, locked: ['genre'] });
    const entries = originalsOfEdit(
      now,
      { scalars: { title: 'x', summary: 'y' }, tags: { genre: { set: ['c'], remove: ['a', 'b'] } } },
      { summary: valueHash('y') },
    );
    expect(entries).toEqual({ title: keep('Stash Title'), genres: keep(['b', 'a'], true) });
  });

  it('the poster kept is the selected one, or none when the item shows no poster', () => {
    const list: PlexPoster[] = [
      { ratingKey: 'a', selected: false, provider: null },
      { ratingKey: 'b', selected: true, provider: null },
    ];
    expect(keptPoster(item({ thumb: '/t' }), list)).toEqual({ value: 'b', locked: false });
    expect(keptPoster(item({ locked: ['thumb'] }), [])).toEqual({ value: null, locked: true });
  });

  it('reads back what it kept; damaged entries are named and left out', () => {
    const r = parseOriginals({
      title: keep('T'),
      summary: '{oops',
      genres: JSON.stringify({ value: 1, extra: true }),
      nonsense: keep('x'),
      [POSTER_UPLOAD_FIELD]: 'f'.repeat(40),
    });
    expect(r).toEqual({
      originals: { title: { value: 'T', locked: false } },
      posterUpload: 'f'.repeat(40),
      damaged: ['summary', 'genres', 'nonsense'],
    });
  });
});

describe('exclusions', () => {
  it('read back; a damaged record still excludes, and the skipped reason says how to come back', () => {
    expect(parseExclusion(JSON.stringify({ at: 5, why: 'restored', ratingKey: '7' }))).toEqual({ at: 5, why: 'restored', ratingKey: '7' });
    expect(parseExclusion('garbage')).toEqual({ at: 0, why: 'unreadable record', ratingKey: null });
    expect(excludedReason('12', { at: 5, why: 'restored', ratingKey: '7' })).toBe(
      'excluded from sync (restored): npm run restore -- --resume --scene 12, or "Sync again" on the status page, brings it back',
    );
  });
});
