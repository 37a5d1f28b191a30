// Fixtures of the pure mapping and ownership tests: a Stash scene and the Plex item it was synced to.
import type { PlexItem, StashScene } from '../../src/model/types.js';

export const scene = (over: Partial<StashScene> = {}): StashScene => ({
  id: '7',
  title: 'A Title',
  code: null,
  details: 'Line one\r\nLine two',
  director: null,
  urls: [],
  date: '2024-02-29',
  rating100: 85,
  organized: false,
  updated_at: '2026-01-01T00:00:00Z',
  studio: { id: '1', name: 'Studio X', parent_studio: null },
  performers: [{ name: 'Alice' }, { name: 'Bob' }],
  tags: [{ name: 'Tag1' }, { name: 'tag1' }, { name: ' Tag2 ' }],
  files: [{ path: '/media/x/clip.one.mp4', basename: 'clip.one.mp4' }],
  stash_ids: [],
  paths: { screenshot: 'http://stash/scene/7/screenshot' },
  ...over,
});

export const item = (over: Partial<PlexItem> = {}): PlexItem => ({
  ratingKey: '100',
  sectionKey: '1',
  title: 'A Title',
  summary: 'Line one\nLine two',
  studio: 'Studio X',
  originallyAvailableAt: '2024-02-29',
  userRating: 8.5,
  tags: { genre: ['Tag1', 'Tag2'], actor: ['Alice', 'Bob'], collection: [] },
  files: ['/media/x/clip.one.mp4'],
  locked: ['title', 'summary', 'studio', 'originallyAvailableAt', 'genre', 'actor'],
  ...over,
});
