import { describe, expect, it } from 'vitest';
import { cleanTags, cleanText, desiredState, diff, isEmptyEdit, LIMITS } from '../../src/sync/mapping.js';
import type { PlexItem, StashScene } from '../../src/model/types.js';

const scene = (over: Partial<StashScene> = {}): StashScene => ({
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
  paths: { screenshot: 'http://stash/scene/7/screenshot' },
  ...over,
});

const item = (over: Partial<PlexItem> = {}): PlexItem => ({
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

describe('cleanText', () => {
  it('removes control characters, collapses whitespace on one line, keeps newlines in summaries', () => {
    expect(cleanText('a\u0000b\u0007 \t c\u009f', 50)).toBe('ab c');
    expect(cleanText(' x\r\ny\tz ', 50, true)).toBe('x\ny z');
    expect(cleanText(null, 5)).toBe('');
  });
  it('bounds length without splitting a surrogate pair', () => {
    expect(cleanText('a'.repeat(300), LIMITS.title)).toHaveLength(255);
    const s = 'ab😀';
    expect(cleanText(s, 3)).toBe('ab');
    expect(cleanText('x\uD800y', 10)).toBe('xy');
  });
  it('de-duplicates tags case-insensitively and bounds the list', () => {
    expect(cleanTags(['A', 'a', '', null, ' B '])).toEqual(['A', 'B']);
    expect(cleanTags(Array.from({ length: 500 }, (_, i) => `t${i}`))).toHaveLength(LIMITS.tagsPerField);
  });
});

describe('desiredState', () => {
  it('maps every field', () => {
    const d = desiredState(scene(), { collectionFromStudio: true });
    expect(d.scalars).toEqual({ title: 'A Title', summary: 'Line one\nLine two', studio: 'Studio X', originallyAvailableAt: '2024-02-29' });
    expect(d.tags).toEqual({ genre: ['Tag1', 'Tag2'], actor: ['Alice', 'Bob'], collection: ['Studio X'] });
    expect(d.userRating).toBe(8.5);
    expect(d.posterUrl).toBe('http://stash/scene/7/screenshot');
  });
  it('falls back to the file name for an untitled scene; clears what Stash lacks', () => {
    const d = desiredState(scene({ title: '  ', studio: null, date: '2023-02-30', rating100: null, details: null }), {
      collectionFromStudio: false,
    });
    expect(d.scalars).toEqual({ title: 'clip.one', summary: '', studio: '', originallyAvailableAt: '' });
    expect(d.userRating).toBeNull();
    expect(d.tags.collection).toBeUndefined();
  });
});

describe('diff', () => {
  const opts = { collectionFromStudio: false };
  it('is empty for an unchanged, locked item', () => {
    expect(isEmptyEdit(diff(desiredState(scene(), opts), item(), 'mirror'))).toBe(true);
  });
  it('sends only what differs', () => {
    const e = diff(desiredState(scene({ title: 'New' }), opts), item(), 'mirror');
    expect(e).toEqual({ scalars: { title: 'New' }, tags: {} });
  });
  it('locks a field whose value already matches but is not locked', () => {
    const e = diff(desiredState(scene(), opts), item({ locked: ['title', 'summary', 'studio', 'originallyAvailableAt', 'genre'] }), 'mirror');
    expect(e.tags).toEqual({ actor: { set: ['Alice', 'Bob'], remove: [] } });
  });
  it('mirror removes tags Stash no longer has; merge keeps them', () => {
    const current = item({ tags: { genre: ['Tag1', 'Tag2', 'Old'], actor: ['Alice', 'Bob'], collection: [] } });
    const desired = desiredState(scene(), opts);
    expect(diff(desired, current, 'mirror').tags).toEqual({ genre: { set: ['Tag1', 'Tag2'], remove: ['Old'] } });
    expect(diff(desired, current, 'merge').tags).toEqual({});
    const more = desiredState(scene({ tags: [{ name: 'Tag1' }, { name: 'New' }] }), opts);
    expect(diff(more, current, 'merge').tags).toEqual({ genre: { set: ['Tag1', 'Tag2', 'Old', 'New'], remove: [] } });
  });
  it('sets, changes and clears the user rating', () => {
    expect(diff(desiredState(scene({ rating100: 40 }), opts), item(), 'mirror').userRating).toBe(4);
    expect(diff(desiredState(scene({ rating100: null }), opts), item(), 'mirror').userRating).toBeNull();
    expect(diff(desiredState(scene({ rating100: null }), opts), item({ userRating: null }), 'mirror').userRating).toBeUndefined();
  });
});
