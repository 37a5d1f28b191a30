import { describe, expect, it } from 'vitest';
import { cleanTags, cleanText, desiredState, LIMITS } from '../../src/sync/mapping.js';
import { scene } from '../helpers/scene.js';

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
  it('de-duplicates tags case-insensitively (MAX_TAGS bounds the list later)', () => {
    expect(cleanTags(['A', 'a', '', null, ' B '])).toEqual(['A', 'B']);
    expect(cleanTags(Array.from({ length: 500 }, (_, i) => `t${i}`))).toHaveLength(500);
  });
});

describe('desiredState', () => {
  it('maps every field', () => {
    const d = desiredState(scene());
    expect(d.scalars).toEqual({
      title: 'A Title',
      summary: 'Line one\nLine two',
      studio: 'Studio X',
      originallyAvailableAt: '2024-02-29',
      contentRating: 'XXX',
      originalTitle: '',
      titleSort: 'Title',
      tagline: 'Line one',
    });
    expect(d.tags).toEqual({ genre: ['Tag1', 'Tag2'], actor: ['Alice', 'Bob'], collection: ['Studio X'], label: [] });
    expect(d.userRating).toBe(8.5);
    expect(d.posterUrl).toBe('http://stash/scene/7/screenshot');
  });
  it('falls back to the file name for an untitled scene; clears what Stash lacks', () => {
    const d = desiredState(scene({ title: '  ', studio: null, date: '2023-02-30', rating100: null, details: null }));
    expect(d.scalars).toMatchObject({ title: 'clip.one', summary: '', studio: '', originallyAvailableAt: '', titleSort: '', tagline: '' });
    expect(d.userRating).toBeNull();
    expect(d.tags.collection).toEqual([]);
  });
});
