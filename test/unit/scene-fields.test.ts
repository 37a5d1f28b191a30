// The fields of issue 24 in the pure parts: the mapping (leading article, first line, label selection,
// content rating), the switches folded into SYNC_FIELDS, decideEdit on them, and explain's rows.
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/core/config.js';
import { fieldRows } from '../../src/explain/fields.js';
import { encodeEdit } from '../../src/plex/edits.js';
import { desiredState, firstLine, labelsOf, sortTitle } from '../../src/sync/mapping.js';
import { decideEdit, type OwnershipSettings } from '../../src/sync/ownership.js';
import { item, scene } from '../helpers/scene.js';

const base = { PLEX_URL: 'http://plex:32400', PLEX_TOKEN: 'tok-123456', STASH_URL: 'http://stash:9999' };
const settings = (over: Partial<OwnershipSettings> = {}): OwnershipSettings => ({
  mode: 'mirror',
  fields: ['contentrating', 'originaltitle', 'sorttitle', 'tagline', 'labels'],
  preservePlexEdits: false,
  maxTags: 200,
  ...over,
});

describe('sortTitle', () => {
  it('drops a leading The, A or An (any case) before a word', () => {
    expect(sortTitle('The Long Night')).toBe('Long Night');
    expect(sortTitle('a  Day Out')).toBe('Day Out');
    expect(sortTitle('AN Evening')).toBe('Evening');
  });
  it('is empty when the title has no leading article: Plex sorts by the title itself', () => {
    expect(sortTitle('Theatre Night')).toBe('');
    expect(sortTitle('Another Day')).toBe('');
    expect(sortTitle('The')).toBe('');
    expect(sortTitle('A.B.C.')).toBe('');
    expect(sortTitle('Night, The')).toBe('');
    expect(sortTitle('')).toBe('');
  });
});

describe('firstLine', () => {
  it('is the first non-empty line, cleaned and bounded', () => {
    expect(firstLine('\r\n  \n  First\tline  \r\nSecond')).toBe('First line');
    expect(firstLine('Only')).toBe('Only');
    expect(firstLine('x'.repeat(400))).toHaveLength(255);
    expect(firstLine(null)).toBe('');
    expect(firstLine(' \n ')).toBe('');
  });
});

describe('labelsOf', () => {
  it("keeps the scene's tags named in LABEL_TAGS, case-insensitively, in the scene's spelling, once", () => {
    const tags = [{ name: 'Favourite' }, { name: 'outdoor' }, { name: '4k' }, { name: 'favourite' }];
    expect(labelsOf(tags, ['4K', 'FAVOURITE', 'Missing'])).toEqual(['Favourite', '4k']);
    expect(labelsOf(tags, [])).toEqual([]);
  });
});

describe('desiredState: the later fields', () => {
  it('maps content rating, studio code, sort title, tagline and labels', () => {
    const d = desiredState(
      scene({ title: 'The Scene', code: ' ABC-1 ', details: 'Tag\nRest', tags: [{ name: 'Pick' }, { name: 'Other' }] }),
      undefined,
      { contentRating: 'R', labelTags: ['pick'] },
    );
    expect(d.scalars).toMatchObject({ contentRating: 'R', originalTitle: 'ABC-1', titleSort: 'Scene', tagline: 'Tag' });
    expect(d.tags.label).toEqual(['Pick']);
  });
  it('without settings: CONTENT_RATING’s default and no labels', () => {
    const d = desiredState(scene({ tags: [{ name: 'Pick' }] }));
    expect(d.scalars.contentRating).toBe('XXX');
    expect(d.tags.label).toEqual([]);
  });
});

describe('the switches folded into SYNC_FIELDS', () => {
  it('contentrating and originaltitle on by default; sorttitle, tagline, labels off', () => {
    const c = parseConfig(base);
    expect(c.sync.fields).toEqual(expect.arrayContaining(['contentrating', 'originaltitle']));
    for (const off of ['sorttitle', 'tagline', 'labels']) expect(c.sync.fields).not.toContain(off);
    expect(c.sync.contentRating).toBe('XXX');
  });
  it('CONTENT_RATING set empty leaves Plex’s alone: the field is out of SYNC_FIELDS (unset: the default)', () => {
    const c = parseConfig({ ...base, CONTENT_RATING: '  ' });
    expect(c.sync.fields).not.toContain('contentrating');
    expect(c.sync.contentRating).toBe('');
    expect(parseConfig({ ...base, CONTENT_RATING: 'NC-17' }).sync.contentRating).toBe('NC-17');
    expect(() => parseConfig({ ...base, CONTENT_RATING: 'x'.repeat(65) })).toThrow(/CONTENT_RATING/);
  });
  it('TAGLINE_FROM_DETAILS=true adds tagline, a LABEL_TAGS naming a tag adds labels', () => {
    const c = parseConfig({ ...base, SYNC_FIELDS: 'title', TAGLINE_FROM_DETAILS: 'true', LABEL_TAGS: 'A, B' });
    expect(c.sync.fields).toEqual(['title', 'tagline', 'labels']);
    expect(c.sync.labelTags).toEqual(['A', 'B']);
    expect(parseConfig({ ...base, SYNC_FIELDS: 'title', LABEL_TAGS: ' , ' }).sync.fields).toEqual(['title']);
  });
});

describe('decideEdit on the later fields', () => {
  const desired = desiredState(scene({ title: 'The Scene', code: 'C-1', tags: [{ name: 'Pick' }] }), undefined, {
    contentRating: 'XXX',
    labelTags: ['Pick'],
  });
  it('sets and locks each, with the real parameter names', () => {
    const d = decideEdit(desired, item({ title: 'The Scene' }), {}, settings());
    expect(d.edit.scalars).toEqual({ contentRating: 'XXX', originalTitle: 'C-1', titleSort: 'Scene', tagline: 'Line one' });
    expect(d.edit.tags).toEqual({ label: { set: ['Pick'], remove: [] } });
    const params = Object.fromEntries(encodeEdit(d.edit));
    expect(params).toMatchObject({
      'contentRating.value': 'XXX',
      'contentRating.locked': '1',
      'originalTitle.value': 'C-1',
      'titleSort.value': 'Scene',
      'tagline.value': 'Line one',
      'tagline.locked': '1',
      'label[0].tag.tag': 'Pick',
      'label.locked': '1',
    });
    expect(Object.keys(d.owned).sort()).toEqual(['contentrating', 'labels', 'originaltitle', 'sorttitle', 'tagline']);
  });
  it('sends nothing for what Plex shows locked; clears what it set; never blanks what it never set', () => {
    const synced = item({
      title: 'The Scene',
      contentRating: 'XXX',
      originalTitle: 'C-1',
      titleSort: 'Scene',
      tagline: 'Line one',
      tags: { genre: [], actor: [], collection: [], label: ['Pick'] },
      locked: ['contentRating', 'originalTitle', 'titleSort', 'tagline', 'label'],
    });
    const record = decideEdit(desired, synced, {}, settings()).owned;
    expect(decideEdit(desired, synced, record, settings()).edit).toEqual({ scalars: {}, tags: {} });
    const bare = desiredState(scene({ title: 'Scene', code: null, details: null, tags: [] }), undefined, {
      contentRating: 'XXX',
      labelTags: ['Pick'],
    });
    const cleared = decideEdit(bare, synced, record, settings()).edit;
    expect(cleared.scalars).toEqual({ originalTitle: '', titleSort: '', tagline: '' });
    expect(cleared.tags).toEqual({ label: { set: [], remove: ['Pick'] } });
    const agents = item({ originalTitle: 'Agent', tagline: 'Agent line', tags: { genre: [], actor: [], collection: [], label: ['Kept'] } });
    const untouched = decideEdit(bare, agents, {}, settings({ fields: ['originaltitle', 'tagline', 'labels'] }));
    expect(untouched.edit).toEqual({ scalars: {}, tags: {} });
    expect(untouched.fields.tagline).toMatchObject({ action: 'skip' });
  });
  it('labels: only those LABEL_TAGS names are managed; any other label stays, in mirror mode too', () => {
    const current = item({ tags: { genre: [], actor: [], collection: [], label: ['Overlay', 'pick', 'Old'] } });
    const scoped = settings({ fields: ['labels'], labelTags: ['Pick', 'Old'] });
    expect(decideEdit(desired, current, {}, scoped).edit.tags).toEqual({ label: { set: ['Overlay', 'Pick'], remove: ['pick', 'Old'] } });
    const none = desiredState(scene({ tags: [] }), undefined, { contentRating: 'XXX', labelTags: ['Pick', 'Old'] });
    const shown = item({ tags: { genre: [], actor: [], collection: [], label: ['Overlay', 'Pick'] }, locked: ['label'] });
    const record = decideEdit(desired, shown, {}, scoped).owned;
    expect(decideEdit(none, shown, record, scoped).edit.tags).toEqual({ label: { set: ['Overlay'], remove: ['Pick'] } });
  });
  it('out of SYNC_FIELDS (CONTENT_RATING set empty): forgotten, its lock released while Plex shows its value', () => {
    const synced = item({ contentRating: 'XXX', locked: ['contentRating'] });
    const record = decideEdit(desired, synced, {}, settings({ fields: ['contentrating'] })).owned;
    const d = decideEdit(desired, synced, record, settings({ fields: [] }));
    expect(d.edit).toEqual({ scalars: {}, tags: {}, unlock: ['contentRating'] });
    expect(d.released).toEqual(['contentrating']);
  });
});

describe('explain rows', () => {
  it('show what Stash has, what Plex shows, the lock and the action of each later field', () => {
    const desired = desiredState(scene({ title: 'The Scene', code: 'C-1', tags: [{ name: 'Pick' }] }), undefined, {
      contentRating: 'XXX',
      labelTags: ['Pick'],
    });
    const current = item({ contentRating: 'R', locked: ['contentRating'] });
    const decided = decideEdit(desired, current, {}, settings()).fields;
    const rows = fieldRows({ fields: settings().fields, desired, matched: { current, record: {}, decided }, stoppedBy: null });
    const byField = Object.fromEntries(rows.map((r) => [r.field, r]));
    expect(byField.contentrating).toMatchObject({ stash: 'XXX', plex: 'R', locked: true, action: 'set' });
    expect(byField.originaltitle).toMatchObject({ stash: 'C-1', plex: '', locked: false, action: 'set' });
    expect(byField.sorttitle).toMatchObject({ stash: 'Scene', action: 'set' });
    expect(byField.tagline).toMatchObject({ stash: 'Line one', action: 'set' });
    expect(byField.labels).toMatchObject({ stash: ['Pick'], plex: [], action: 'set' });
  });
});
