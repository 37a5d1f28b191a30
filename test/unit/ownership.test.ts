// The pure decision "what to send" (src/sync/ownership.ts) and the quality gate (src/sync/readiness.ts).
import { describe, expect, it } from 'vitest';
import { SYNC_FIELD_NAMES, type SyncField } from '../../src/core/config.js';
import { desiredState, isEmptyEdit } from '../../src/sync/mapping.js';
import {
  carriedRecord,
  confirmation,
  decideEdit,
  ownershipChanges,
  screenshotVersion,
  valueHash,
  type OwnershipRecord,
  type OwnershipSettings,
} from '../../src/sync/ownership.js';
import { unmetRequirements } from '../../src/sync/readiness.js';
import { editUnits, fitScalar, fitTags, requestBytes } from '../../src/plex/edit-split.js';
import { item, scene } from '../helpers/scene.js';

/** The fields these tests are about; those of issue 24 (content rating, original and sort title, tagline, labels) have test/unit/scene-fields.test.ts. */
const LATER: SyncField[] = ['collection', 'contentrating', 'originaltitle', 'sorttitle', 'tagline', 'labels'];
const ALL: SyncField[] = SYNC_FIELD_NAMES.filter((f) => !LATER.includes(f));
const settings = (over: Partial<OwnershipSettings> = {}): OwnershipSettings => ({
  mode: 'mirror',
  fields: ALL,
  preservePlexEdits: false,
  maxTags: 200,
  ...over,
});
/** The record after a sync of `scene()` onto `item()`. */
const ownedAll = (): OwnershipRecord => decideEdit(desiredState(scene()), item(), {}, settings()).owned;

describe('decideEdit: fields stash2plex owns follow Stash', () => {
  it('is empty for an unchanged, locked item, and records what it owns', () => {
    const d = decideEdit(desiredState(scene()), item(), {}, settings());
    expect(isEmptyEdit(d.edit)).toBe(true);
    expect(Object.keys(d.owned).sort()).toEqual(['actors', 'date', 'genres', 'rating', 'studio', 'summary', 'title']);
    expect(d.owned.title).toBe(valueHash('A Title'));
  });
  it('sends only what differs', () => {
    expect(decideEdit(desiredState(scene({ title: 'New' })), item(), ownedAll(), settings()).edit).toEqual({
      scalars: { title: 'New' },
      tags: {},
    });
  });
  it('locks a field whose value already matches but is not locked', () => {
    const e = decideEdit(
      desiredState(scene()),
      item({ locked: ['title', 'summary', 'studio', 'originallyAvailableAt', 'genre'] }),
      ownedAll(),
      settings(),
    ).edit;
    expect(e.tags).toEqual({ actor: { set: ['Alice', 'Bob'], remove: [] } });
  });
  it('clears an owned field down to empty: summary, studio, date, rating, tags', () => {
    const empty = scene({ details: null, studio: null, date: null, rating100: null, tags: [], performers: [] });
    const e = decideEdit(desiredState(empty), item(), ownedAll(), settings()).edit;
    expect(e.scalars).toEqual({ summary: '', studio: '', originallyAvailableAt: '' });
    expect(e.tags).toEqual({ genre: { set: [], remove: ['Tag1', 'Tag2'] }, actor: { set: [], remove: ['Alice', 'Bob'] } });
    expect(e.userRating).toBeNull();
  });
  it('mirror removes tags Stash no longer has; merge keeps them', () => {
    const current = item({ tags: { genre: ['Tag1', 'Tag2', 'Old'], actor: ['Alice', 'Bob'], collection: [] } });
    const desired = desiredState(scene());
    expect(decideEdit(desired, current, ownedAll(), settings()).edit.tags).toEqual({ genre: { set: ['Tag1', 'Tag2'], remove: ['Old'] } });
    expect(decideEdit(desired, current, ownedAll(), settings({ mode: 'merge' })).edit.tags).toEqual({});
    const more = desiredState(scene({ tags: [{ name: 'Tag1' }, { name: 'New' }] }));
    expect(decideEdit(more, current, ownedAll(), settings({ mode: 'merge' })).edit.tags).toEqual({
      genre: { set: ['Tag1', 'Tag2', 'Old', 'New'], remove: [] },
    });
  });
  it('sets and changes the user rating', () => {
    expect(decideEdit(desiredState(scene({ rating100: 40 })), item(), ownedAll(), settings()).edit.userRating).toBe(4);
    expect(
      decideEdit(desiredState(scene({ rating100: null })), item({ userRating: null }), ownedAll(), settings()).edit.userRating,
    ).toBeUndefined();
  });
});

describe('decideEdit: fields stash2plex never set', () => {
  const agent = item({
    title: 'clip.one',
    summary: 'From the agent',
    userRating: 7,
    tags: { genre: ['Agent'], actor: [], collection: [] },
    locked: [],
  });
  const scanned = scene({ title: null, details: null, date: null, rating100: null, studio: null, tags: [], performers: [] });
  it('are never blanked: a just-scanned scene sets the title alone (and locks it)', () => {
    const d = decideEdit(desiredState(scanned), agent, {}, settings());
    expect(d.edit).toEqual({ scalars: { title: 'clip.one' }, tags: {} });
    expect(Object.keys(d.owned)).toEqual(['title']);
  });
  it('are filled when Stash has a value', () => {
    const d = decideEdit(desiredState(scanned), agent, {}, settings());
    expect(decideEdit(desiredState(scene({ details: 'Mine' })), agent, d.owned, settings()).edit.scalars.summary).toBe('Mine');
  });
});

describe('decideEdit: PRESERVE_PLEX_EDITS', () => {
  it('leaves a value changed in Plex since stash2plex set it, and names it', () => {
    const edited = item({ title: 'Renamed in Plex' });
    const d = decideEdit(
      desiredState(scene({ title: 'New in Stash', details: 'New details' })),
      edited,
      ownedAll(),
      settings({ preservePlexEdits: true }),
    );
    expect(d.edit.scalars).toEqual({ summary: 'New details' });
    expect(d.preserved).toEqual(['title']);
    expect(d.owned.title).toBeUndefined(); // the record keeps the old hash: still preserved next time
  });
  it('off: the Plex edit is overwritten', () => {
    const d = decideEdit(desiredState(scene({ title: 'New in Stash' })), item({ title: 'Renamed in Plex' }), ownedAll(), settings());
    expect(d.edit.scalars.title).toBe('New in Stash');
    expect(d.preserved).toEqual([]);
  });
});

describe('decideEdit: SYNC_FIELDS and MAX_TAGS', () => {
  it('a field not listed is neither sent nor recorded', () => {
    const { title, genres } = ownedAll();
    const d = decideEdit(
      desiredState(scene({ title: 'New', details: 'Other', rating100: 10 })),
      item(),
      { title, genres },
      settings({ fields: ['title', 'genres'] }),
    );
    expect(d.edit).toEqual({ scalars: { title: 'New' }, tags: {} });
    expect(Object.keys(d.owned).sort()).toEqual(['genres', 'title']);
    expect(d.released).toEqual([]);
  });
  it('collection: the studio as a collection, only when listed', () => {
    expect(decideEdit(desiredState(scene()), item(), {}, settings()).edit.tags.collection).toBeUndefined();
    expect(decideEdit(desiredState(scene()), item(), {}, settings({ fields: ['collection'] })).edit.tags.collection).toEqual({
      set: ['Studio X'],
      remove: [],
    });
  });
  it('cuts a list to MAX_TAGS and says so', () => {
    const many = scene({ tags: Array.from({ length: 5 }, (_, i) => ({ name: `t${i}` })) });
    const d = decideEdit(desiredState(many), item(), ownedAll(), settings({ maxTags: 3 }));
    expect(d.edit.tags.genre?.set).toEqual(['t0', 't1', 't2']);
    expect(d.cut).toEqual(['genres: 5 → 3']);
  });
});

describe('decideEdit: a value too long for one edit request (PLEX_MAX_URL_BYTES)', () => {
  const budget = 2_000;
  const long = 'Ünïcödé détails 😀 '.repeat(300);
  const many = Array.from({ length: 150 }, (_, i) => ({ name: `Ünïcödé tag ${i}` }));

  it('a summary is cut to what fits alone; what is sent is what is recorded, and the next sync sends nothing', () => {
    const full = desiredState(scene({ details: long })).scalars.summary;
    const d = decideEdit(desiredState(scene({ details: long })), item(), ownedAll(), settings({ editBudget: budget }));
    const sent = d.edit.scalars.summary!;
    expect(sent).toBe(fitScalar('summary', full, budget));
    expect(sent.endsWith('…') && full.startsWith(sent.slice(0, -1))).toBe(true);
    expect(d.intents['summary:intent']).toBe(valueHash(sent));
    expect(d.owned.summary).toBe(valueHash(sent));
    expect(d.cut).toEqual([`summary: ${[...full].length} → ${[...sent].length - 1} characters (PLEX_MAX_URL_BYTES)`]);
    // Plex now shows the cut summary, locked: nothing to send, no cut reported again, nothing taken for a person's edit.
    const again = decideEdit(
      desiredState(scene({ details: long })),
      item({ summary: sent }),
      { ...ownedAll(), ...d.owned },
      settings({ editBudget: budget, preservePlexEdits: true }),
    );
    expect(isEmptyEdit(again.edit)).toBe(true);
    expect(again.cut).toEqual([]);
    expect(again.preserved).toEqual([]);
  });

  it('what fits alone is sent whole, however long the edit is in all', () => {
    const names = many.map((t) => t.name);
    const listAlone = requestBytes(editUnits({ scalars: {}, tags: { genre: { set: names, remove: [] } } }));
    const d = decideEdit(
      desiredState(scene({ details: long.slice(0, 200), tags: many })),
      item(),
      ownedAll(),
      settings({ editBudget: listAlone }),
    );
    expect(requestBytes(editUnits(d.edit))).toBeGreaterThan(listAlone);
    expect(d.edit.scalars.summary).toBe(long.slice(0, 200).trim());
    expect(d.edit.tags.genre?.set).toEqual(names);
    expect(d.cut).toEqual([]);
  });

  it('mirror: a tag list is cut to its longest start that fits, the rest leaves Plex; the next sync sends nothing', () => {
    const d = decideEdit(desiredState(scene({ tags: many })), item(), ownedAll(), settings({ editBudget: budget }));
    const sent = d.edit.tags.genre!.set;
    expect(sent).toEqual(
      fitTags(
        'genre',
        many.map((t) => t.name),
        budget,
      ),
    );
    expect(sent.length).toBeLessThan(150);
    expect(d.edit.tags.genre!.remove).toEqual(['Tag1', 'Tag2']);
    expect(d.cut).toEqual([`genres: 150 → ${sent.length} (PLEX_MAX_URL_BYTES)`]);
    const after = item({ tags: { genre: sent, actor: ['Alice', 'Bob'], collection: [] } });
    const again = decideEdit(desiredState(scene({ tags: many })), after, { ...ownedAll(), ...d.owned }, settings({ editBudget: budget }));
    expect(isEmptyEdit(again.edit)).toBe(true);
    expect(again.cut).toEqual([]);
  });

  it("merge: Plex's own tags are never cut; what fits after them is added", () => {
    const plexOwn = Array.from({ length: 20 }, (_, i) => `Plex tag ${i}`);
    const d = decideEdit(
      desiredState(scene({ tags: many })),
      item({ tags: { genre: plexOwn, actor: ['Alice', 'Bob'], collection: [] } }),
      ownedAll(),
      settings({ mode: 'merge', editBudget: budget }),
    );
    const sent = d.edit.tags.genre!.set;
    expect(sent.slice(0, 20)).toEqual(plexOwn);
    expect(sent.length).toBeGreaterThan(20);
    expect(sent.length).toBeLessThan(170);
    const full = Array.from({ length: 200 }, (_, i) => `Plex tag ${i}`);
    const none = decideEdit(
      desiredState(scene({ tags: many })),
      item({ tags: { genre: full, actor: ['Alice', 'Bob'], collection: [] } }),
      ownedAll(),
      settings({ mode: 'merge', editBudget: budget }),
    );
    expect(none.edit.tags.genre).toBeUndefined();
    expect(none.cut).toEqual(["genres: nothing added, Plex's 200 fill PLEX_MAX_URL_BYTES"]);
  });
});

describe('unmetRequirements (SYNC_REQUIRE)', () => {
  const bare = scene({ title: ' ', details: null, date: null, studio: null, performers: [], tags: [] });
  it('metadata: any of title, details, date, studio, performers, tags', () => {
    expect(unmetRequirements(bare, ['metadata'])).toEqual([
      { requirement: 'metadata', why: 'no title, details, date, studio, performers or tags' },
    ]);
    expect(unmetRequirements({ ...bare, tags: [{ name: 'x' }] }, ['metadata'])).toEqual([]);
  });
  it('organized and stashid; none lets everything through', () => {
    expect(unmetRequirements(scene(), ['organized', 'stashid']).map((u) => u.why)).toEqual(['not organized', 'no StashBox id']);
    expect(
      unmetRequirements(scene({ organized: true, stash_ids: [{ endpoint: 'https://stashdb.org/graphql', stash_id: 'abc' }] }), [
        'organized',
        'stashid',
      ]),
    ).toEqual([]);
    expect(unmetRequirements(bare, [])).toEqual([]);
  });
});

describe('screenshotVersion', () => {
  const url = 'http://stash:9999/scene/12/screenshot?t=1700000000';
  it("is the URL's path and `t`, once `t` is settled by our clock", () => {
    expect(screenshotVersion(url, 1_700_000_010_000)).toBe('/scene/12/screenshot?t=1700000000');
    expect(screenshotVersion('http://proxy/scene/12/screenshot?t=1700000000', 1_700_000_010_000)).toBe('/scene/12/screenshot?t=1700000000');
  });
  it('is null (read every time) without `t`, or within two seconds of `t`: a cover set in that second has the same `t`', () => {
    expect(screenshotVersion('http://stash:9999/scene/12/screenshot', 1_700_000_010_000)).toBeNull();
    expect(screenshotVersion(url, 1_700_000_001_500)).toBeNull();
  });
});

describe('ownershipChanges', () => {
  it('keeps only the entries the stored record does not already hold', () => {
    expect(ownershipChanges({ title: 'a', summary: 'b' }, { title: 'a', summary: 'c', genres: 'd' })).toEqual({
      summary: 'c',
      genres: 'd',
    });
    expect(ownershipChanges({ title: 'a' }, { title: 'a' })).toEqual({});
    expect(ownershipChanges({}, { title: 'a' })).toEqual({ title: 'a' });
  });
});

describe('decideEdit: an answer that was lost is not a user edit (intents)', () => {
  const preserve = settings({ preservePlexEdits: true });
  it('records an intent for each field it sends, and none for a field left as it is', () => {
    const d = decideEdit(desiredState(scene({ title: 'New' })), item(), ownedAll(), preserve);
    expect(d.intents).toEqual({ 'title:intent': valueHash('New') });
    expect(d.owned.title).toBe(valueHash('New'));
  });
  it("Plex showing the value of an edit whose answer was lost is stash2plex's: a later Stash change arrives", () => {
    // The record still says "Old" (the confirmation never came); the intent says "Applied"; Plex shows "Applied".
    const record = { ...ownedAll(), title: valueHash('Old'), 'title:intent': valueHash('Applied') };
    const d = decideEdit(desiredState(scene({ title: 'Later' })), item({ title: 'Applied' }), record, preserve);
    expect(d.preserved).toEqual([]);
    expect(d.edit.scalars.title).toBe('Later');
  });
  it("Plex showing what Stash wants is stash2plex's, whatever the record says", () => {
    const record = { ...ownedAll(), title: valueHash('Old') };
    const d = decideEdit(desiredState(scene({ title: 'Wanted' })), item({ title: 'Wanted' }), record, preserve);
    expect(d.preserved).toEqual([]);
    expect(d.owned.title).toBe(valueHash('Wanted'));
  });
  it("a value that is neither the record, the intent nor what Stash wants is still a person's", () => {
    const record = { ...ownedAll(), 'title:intent': valueHash('Meant') };
    const d = decideEdit(desiredState(scene({ title: 'Later' })), item({ title: 'Typed in Plex' }), record, preserve);
    expect(d.preserved).toEqual(['title']);
    expect(d.edit.scalars.title).toBeUndefined();
  });
});

describe('decideEdit: a locked field a person typed is theirs (PRESERVE_PLEX_EDITS)', () => {
  const unset = item({ title: 'Typed in Plex', summary: 'Agent summary', locked: ['title'] });
  it('a field stash2plex never set that Plex shows locked is never filled', () => {
    const d = decideEdit(desiredState(scene()), unset, {}, settings({ preservePlexEdits: true }));
    expect(d.preserved).toContain('title');
    expect(d.edit.scalars.title).toBeUndefined();
    expect(d.owned.title).toBeUndefined();
    // An unlocked field it never set (an agent's value) is filled as before.
    expect(d.edit.scalars.summary).toBe('Line one\nLine two');
  });
  it('without PRESERVE_PLEX_EDITS it is filled as before', () => {
    expect(decideEdit(desiredState(scene()), unset, {}, settings()).edit.scalars.title).toBe('A Title');
  });
  it('locked and already equal to what Stash wants: owned, nothing sent', () => {
    const d = decideEdit(desiredState(scene()), item({ locked: ['title'] }), {}, settings({ preservePlexEdits: true }));
    expect(d.preserved).toEqual([]);
    expect(d.owned.title).toBe(valueHash('A Title'));
    expect(d.edit.scalars.title).toBeUndefined();
  });
});

describe('decideEdit: a field dropped from SYNC_FIELDS', () => {
  it("is released once: its lock too while Plex still shows stash2plex's value", () => {
    const record = ownedAll();
    const d = decideEdit(desiredState(scene()), item(), record, settings({ fields: ['title', 'genres'] }));
    expect(d.released.sort()).toEqual(['actors', 'date', 'rating', 'studio', 'summary']);
    expect(d.edit.unlock?.sort()).toEqual(['actor', 'originallyAvailableAt', 'studio', 'summary']);
    expect(isEmptyEdit(d.edit)).toBe(false);
  });
  it('keeps the lock of a value a person changed since (only the record entry goes)', () => {
    const d = decideEdit(desiredState(scene()), item({ summary: 'Typed in Plex' }), ownedAll(), settings({ fields: ['title', 'genres'] }));
    expect(d.released).toContain('summary');
    expect(d.edit.unlock).not.toContain('summary');
  });
  it('the poster: thumb unlocked when stash2plex had uploaded one', () => {
    const d = decideEdit(
      desiredState(scene()),
      item({ locked: ['thumb'] }),
      { poster: 'abc', posterVersion: '/x?t=1' },
      settings({ fields: ['title'] }),
    );
    expect(d.released).toEqual(['poster']);
    expect(d.edit.unlock).toEqual(['thumb']);
  });
  it('once the record lost the field, nothing is released again', () => {
    const { title } = ownedAll();
    const d = decideEdit(desiredState(scene()), item(), { title }, settings({ fields: ['title'] }));
    expect(d.released).toEqual([]);
    expect(d.edit.unlock).toBeUndefined();
  });
});

describe('confirmation and carriedRecord', () => {
  it("confirms the owned changes, settles every intent and drops the released fields (the poster's version with it)", () => {
    const record: OwnershipRecord = {
      title: 'h1',
      'summary:intent': 'h9',
      poster: 'p',
      posterVersion: 'v',
      noPosterVersion: 'w',
      studio: 's',
    };
    const c = confirmation(record, { owned: { title: 'h2', studio: 's' }, intents: { 'title:intent': 'h2' }, released: ['poster'] });
    expect(c.set).toEqual({ title: 'h2' });
    expect(c.drop.sort()).toEqual(['noPosterVersion', 'poster', 'posterVersion', 'summary:intent', 'title:intent']);
  });
  it('an unchanged scene confirms nothing', () => {
    expect(confirmation({ title: 'h1' }, { owned: { title: 'h1' }, intents: {}, released: [] })).toEqual({ set: {}, drop: [] });
  });
  it('carries the values as intents, not as confirmed ones, and not the poster', () => {
    expect(carriedRecord({ title: 'h1', 'summary:intent': 'h2', poster: 'p', posterVersion: 'v' })).toEqual({
      'title:intent': 'h1',
      'summary:intent': 'h2',
    });
  });
});
