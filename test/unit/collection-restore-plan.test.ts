// The restore's plan for one Plex collection (src/restore/collection-plan.ts): its summary and poster put
// back, with their locks, while Plex still shows what stash2plex set; left when a person changed them
// since; nothing when nothing was kept, or what was kept is unreadable.
import { describe, expect, it } from 'vitest';
import type { PlexPoster } from '../../src/model/types.js';
import { planCollectionRestore, type CollectionRestoreInput } from '../../src/restore/collection-plan.js';
import { parseOriginals, POSTER_UPLOAD_FIELD, type KeptOriginal } from '../../src/sync/originals.js';
import { valueHash, type OwnershipRecord } from '../../src/sync/ownership.js';

const keep = (value: KeptOriginal['value'], locked: boolean): string => JSON.stringify({ value, locked });
const OURS_SHA1 = 'a'.repeat(40);
const OURS = `upload://posters/${OURS_SHA1}`;
const THEIRS = `upload://posters/${'b'.repeat(40)}`;
const posters = (selected: string, ...more: string[]): PlexPoster[] =>
  [selected, ...more].map((ratingKey) => ({ ratingKey, selected: ratingKey === selected, provider: null }));

/** A collection as Plex shows it after stash2plex synced it: the studio's details and logo, both locked. */
function synced(over: Partial<CollectionRestoreInput['collection']> = {}): CollectionRestoreInput['collection'] {
  return { summary: 'From Stash', locked: ['summary', 'thumb'], thumb: '/library/metadata/9/thumb/1', ...over };
}
/** The ownership record after that sync. */
const record: OwnershipRecord = { summary: valueHash('From Stash'), poster: 'c'.repeat(16) };

/** A person's own collection: their summary and poster, both locked. */
const theirs = (extra: Record<string, string> = {}) =>
  parseOriginals({ summary: keep('My words', true), poster: keep(THEIRS, true), [POSTER_UPLOAD_FIELD]: OURS_SHA1, ...extra });

describe('planCollectionRestore', () => {
  it("a person's summary and poster, locked, come back locked while Plex shows stash2plex's", () => {
    const plan = planCollectionRestore({ kept: theirs(), record, collection: synced(), posters: posters(OURS, THEIRS) });
    expect(plan).toEqual({
      summary: 'My words',
      unlock: [],
      selectPoster: THEIRS,
      restored: ['summary', 'poster'],
      neverWritten: [],
      plexChanged: [],
      notes: [],
    });
  });

  it('an empty, unlocked summary and no poster: the summary emptied and unlocked, the upload stays unlocked', () => {
    const kept = parseOriginals({ summary: keep('', false), poster: keep(null, false), [POSTER_UPLOAD_FIELD]: OURS_SHA1 });
    const plan = planCollectionRestore({ kept, record, collection: synced(), posters: posters(OURS) });
    expect(plan).toMatchObject({ summary: '', unlock: ['summary', 'thumb'], selectPoster: null, restored: ['summary', 'poster'] });
    expect(plan.notes).toEqual(['poster: Plex had none; the uploaded one stays (unlocked) until Plex picks another']);
  });

  it('changed in Plex since stash2plex wrote it: left as it is (plexChanged), nothing sent', () => {
    const changed = synced({ summary: 'Edited in Plex later' });
    const plan = planCollectionRestore({
      kept: theirs(),
      record,
      collection: changed,
      posters: posters(`upload://posters/${'d'.repeat(40)}`),
    });
    expect(plan).toMatchObject({ unlock: [], selectPoster: null, restored: [], plexChanged: ['summary', 'poster'] });
    expect(plan.summary).toBeUndefined();
  });

  it("still stash2plex's by its intent (an answer lost after Plex applied the edit): put back", () => {
    const intentOnly: OwnershipRecord = { 'summary:intent': valueHash('From Stash') };
    const plan = planCollectionRestore({ kept: theirs(), record: intentOnly, collection: synced(), posters: posters(OURS, THEIRS) });
    expect(plan).toMatchObject({ summary: 'My words', restored: ['summary', 'poster'] });
  });

  it('already as it was: nothing sent; a lost lock alone goes back with the value', () => {
    const asBefore = synced({ summary: 'My words', locked: ['summary', 'thumb'] });
    const same = planCollectionRestore({ kept: theirs(), record, collection: asBefore, posters: posters(THEIRS, OURS) });
    expect(same).toMatchObject({ unlock: [], selectPoster: null, restored: ['summary', 'poster'], plexChanged: [] });
    expect(same.summary).toBeUndefined();

    const unlocked = synced({ summary: 'My words', locked: ['thumb'] });
    const ours: OwnershipRecord = { summary: valueHash('My words') };
    const lockOnly = planCollectionRestore({ kept: theirs(), record: ours, collection: unlocked, posters: posters(THEIRS) });
    expect(lockOnly).toMatchObject({ summary: 'My words', unlock: [], restored: ['summary', 'poster'] });
  });

  it('never written: nothing kept, nothing sent', () => {
    const plan = planCollectionRestore({ kept: parseOriginals({}), record, collection: synced(), posters: null });
    expect(plan).toEqual({ unlock: [], selectPoster: null, restored: [], neverWritten: ['summary', 'poster'], plexChanged: [], notes: [] });
  });

  it('a damaged kept value is not put back; a poster no longer offered is left', () => {
    const damaged = parseOriginals({ summary: keep(['not', 'text'], true), poster: keep(7, true) });
    const plan = planCollectionRestore({ kept: damaged, record, collection: synced(), posters: posters(OURS) });
    expect(plan).toMatchObject({ unlock: [], selectPoster: null, neverWritten: ['summary', 'poster'] });
    expect(plan.notes).toEqual(['summary: the kept value is unreadable', 'poster: the kept value is unreadable']);
    expect(parseOriginals({ summary: '{not json' }).damaged).toEqual(['summary']);

    const gone = planCollectionRestore({ kept: theirs(), record, collection: synced(), posters: posters(OURS) });
    expect(gone).toMatchObject({ selectPoster: null, restored: ['summary'], plexChanged: ['poster'] });
    expect(gone.notes).toEqual(['poster: the one Plex had is no longer among its posters']);
  });
});
