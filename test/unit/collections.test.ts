// The pure choice of a scene's Plex collections (src/sync/collections.ts) and its settings (src/core/config.ts).
import { describe, expect, it } from 'vitest';
import { parseConfig, type CollectionSettings } from '../../src/core/config.js';
import {
  collectionSummaryAction,
  collectionTags,
  collectionTitles,
  collectionVersion,
  ownImage,
  sceneCollections,
} from '../../src/sync/collections.js';
import { valueHash } from '../../src/sync/ownership.js';
import { desiredState } from '../../src/sync/mapping.js';
import { scene } from '../helpers/scene.js';

const settings = (over: Partial<CollectionSettings> = {}): CollectionSettings => ({
  sources: ['groups'],
  tags: [],
  tagParent: null,
  performersMin: 0,
  prune: false,
  ...over,
});

const rich = scene({
  groups: [
    { id: '3', name: 'Saga Part 1', synopsis: 'The first part.\r\nOf three.', front_image_path: 'http://stash/group/3/frontimage?t=100' },
    { id: '4', name: 'No Cover', synopsis: null, front_image_path: 'http://stash/group/4/frontimage?t=100&default=true' },
  ],
  studio: {
    id: '1',
    name: 'Studio X',
    details: 'A studio.',
    image_path: 'http://stash/studio/1/image?t=50',
    parent_studio: { id: '9', name: 'Network', details: null, image_path: 'http://stash/studio/9/image?t=5&default=true' },
  },
  tags: [
    { id: '11', name: 'Series A', description: 'About A', image_path: 'http://stash/tag/11/image?t=1', parents: [{ name: 'Series' }] },
    { id: '12', name: 'Outdoor', description: null, image_path: null, parents: [] },
    { id: '13', name: 'Named', description: '', image_path: null, parents: [{ name: 'Other' }] },
  ],
  performers: [
    { id: '21', name: 'Alice', image_path: 'http://stash/performer/21/image?t=2', scene_count: 12 },
    { id: '22', name: 'Bob', image_path: null, scene_count: 3 },
  ],
});

describe('sceneCollections', () => {
  it('groups alone by default: each group a collection with its synopsis and front image (a placeholder is no image)', () => {
    expect(sceneCollections(rich, settings())).toEqual([
      {
        title: 'Saga Part 1',
        kind: 'group',
        sourceId: '3',
        summary: 'The first part.\nOf three.',
        image: 'http://stash/group/3/frontimage?t=100',
      },
      { title: 'No Cover', kind: 'group', sourceId: '4', summary: '', image: null },
    ]);
  });

  it('studio and parent studio when named, with their details and image', () => {
    const out = sceneCollections(rich, settings({ sources: ['studio', 'parentstudio'] }));
    expect(out).toEqual([
      { title: 'Studio X', kind: 'studio', sourceId: '1', summary: 'A studio.', image: 'http://stash/studio/1/image?t=50' },
      { title: 'Network', kind: 'parentstudio', sourceId: '9', summary: '', image: null },
    ]);
  });

  it('COLLECTION_TAGS by name (any case) and `*` for the tags under COLLECTION_TAG_PARENT', () => {
    expect(collectionTags(rich.tags, { tags: ['outdoor'], tagParent: null }).map((t) => t.name)).toEqual(['Outdoor']);
    expect(collectionTags(rich.tags, { tags: ['*'], tagParent: 'series' }).map((t) => t.name)).toEqual(['Series A']);
    expect(collectionTags(rich.tags, { tags: ['*'], tagParent: null })).toEqual([]);
    const out = sceneCollections(rich, settings({ sources: [], tags: ['*', 'Named'], tagParent: 'Series' }));
    expect(out).toEqual([
      { title: 'Series A', kind: 'tag', sourceId: '11', summary: 'About A', image: 'http://stash/tag/11/image?t=1' },
      { title: 'Named', kind: 'tag', sourceId: '13', summary: '', image: null },
    ]);
  });

  it('performers with at least COLLECTION_PERFORMERS_MIN scenes (0: none)', () => {
    expect(sceneCollections(rich, settings({ sources: [], performersMin: 0 }))).toEqual([]);
    expect(sceneCollections(rich, settings({ sources: [], performersMin: 10 })).map((c) => c.title)).toEqual(['Alice']);
    expect(sceneCollections(rich, settings({ sources: [], performersMin: 3 })).map((c) => c.title)).toEqual(['Alice', 'Bob']);
  });

  it('one collection per name (the first wins), cleaned like tags; nothing from a scene without any', () => {
    const twin = scene({ groups: [{ id: '5', name: ' Studio  X ', synopsis: 'g', front_image_path: null }] });
    const out = sceneCollections(twin, settings({ sources: ['groups', 'studio'] }));
    expect(out).toEqual([{ title: 'Studio X', kind: 'group', sourceId: '5', summary: 'g', image: null }]);
    expect(sceneCollections(scene({ studio: null, groups: [] }), settings({ sources: ['groups', 'studio'] }))).toEqual([]);
  });

  it('without settings: the studio collection alone, as before COLLECTION_SOURCES; desiredState lists the titles', () => {
    expect(collectionTitles(rich)).toEqual(['Studio X']);
    expect(desiredState(rich).tags.collection).toEqual(['Studio X']);
    expect(
      desiredState(rich, undefined, { contentRating: 'XXX', labelTags: [], collections: collectionTitles(rich, settings()) }).tags
        .collection,
    ).toEqual(['Saga Part 1', 'No Cover']);
  });

  it('ownImage leaves out Stash placeholders and nothing', () => {
    expect(ownImage('http://stash/tag/1/image?t=1&default=true')).toBeNull();
    expect(ownImage(null)).toBeNull();
    expect(ownImage('/group/1/frontimage?t=3')).toBe('/group/1/frontimage?t=3');
  });
});

describe('collection settings', () => {
  const base = { STASH_URL: 'http://stash:9999', PLEX_URL: 'http://plex:32400', PLEX_TOKEN: 't' };

  it('groups on by default (SYNC_FIELDS names collection), the rest off, no pruning', () => {
    const c = parseConfig(base);
    expect(c.sync.fields).toContain('collection');
    expect(c.sync.collections).toEqual({ sources: ['groups'], tags: [], tagParent: null, performersMin: 0, prune: false });
  });

  it('reads every setting; SYNC_STUDIO_COLLECTION=true adds the studio; none turns the sources off', () => {
    const c = parseConfig({
      ...base,
      COLLECTION_SOURCES: 'groups,parentstudio',
      COLLECTION_TAGS: '*, Favourites',
      COLLECTION_TAG_PARENT: 'Series',
      COLLECTION_PERFORMERS_MIN: '20',
      COLLECTION_PRUNE: 'true',
      SYNC_STUDIO_COLLECTION: 'true',
    });
    expect(c.sync.collections).toEqual({
      sources: ['groups', 'parentstudio', 'studio'],
      tags: ['*', 'Favourites'],
      tagParent: 'Series',
      performersMin: 20,
      prune: true,
    });
    expect(parseConfig({ ...base, COLLECTION_SOURCES: 'none' }).sync.collections?.sources).toEqual([]);
    expect(() => parseConfig({ ...base, COLLECTION_SOURCES: 'movies' })).toThrow(/COLLECTION_SOURCES/);
  });
});

describe('a collection summary, by the ownership rules', () => {
  const view = (over: Partial<Parameters<typeof collectionSummaryAction>[0]> = {}) => ({
    want: 'from Stash',
    have: '',
    locked: false,
    recorded: undefined,
    preservePlexEdits: false,
    ...over,
  });
  const action = (over: Partial<Parameters<typeof collectionSummaryAction>[0]> = {}) => collectionSummaryAction(view(over), valueHash);

  it('fills an empty summary, keeps an equal locked one, never blanks one it did not set', () => {
    expect(action()).toBe('send');
    expect(action({ have: 'from Stash', locked: true })).toBe('keep');
    expect(action({ have: 'from Stash', locked: false })).toBe('send'); // sent to lock it
    expect(action({ want: '', have: 'made in Plex' })).toBe('skip');
  });

  it('follows Stash over its own value; with PRESERVE_PLEX_EDITS leaves one changed in Plex or locked there', () => {
    const recorded = valueHash('old synopsis');
    expect(action({ have: 'old synopsis', locked: true, recorded })).toBe('send');
    expect(action({ have: 'edited in Plex', locked: true, recorded })).toBe('send');
    expect(action({ have: 'edited in Plex', locked: true, recorded, preservePlexEdits: true })).toBe('preserved');
    expect(action({ have: 'a person set it', locked: true, preservePlexEdits: true })).toBe('preserved');
    expect(action({ have: 'old synopsis', locked: true, recorded, preservePlexEdits: true })).toBe('send');
    // An edit whose answer was lost is still stash2plex's.
    expect(action({ have: 'meant', locked: true, recorded, intent: valueHash('meant'), preservePlexEdits: true })).toBe('send');
  });

  it('a version moves with the title, summary or image version; none while the image version is unsettled', () => {
    const hash = (v: string[]) => v.join('|');
    const group = sceneCollections(rich, settings())[0];
    expect(collectionVersion(group, '/group/3/frontimage?t=100', hash)).toBe(
      'group|Saga Part 1|The first part.\nOf three.|/group/3/frontimage?t=100',
    );
    expect(collectionVersion(group, null, hash)).toBeNull();
    expect(collectionVersion({ ...group, image: null }, null, hash)).toBe('group|Saga Part 1|The first part.\nOf three.|');
  });
});
