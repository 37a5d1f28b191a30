// The path cache's stored form (src/plex/path-cache.ts), written and read by its one unit.
import { describe, expect, it } from 'vitest';
import { cacheValue, parseCacheEntry } from '../../src/plex/path-cache.js';

describe('path cache entries', () => {
  it('an exact match is stored as its ratingKey alone, and reads back as the path itself', () => {
    expect(cacheValue('42', undefined, 1_000)).toBe('42');
    expect(parseCacheEntry(cacheValue('42', undefined, 1_000), '/plex/a.mp4')).toEqual({
      ratingKey: '42',
      file: '/plex/a.mp4',
      via: 'path',
      cachedAt: 0,
    });
  });

  it('a fallback match keeps the Plex file it stands for and when it was cached', () => {
    const stored = cacheValue('7', '/other/A.MP4', 1_700_000_000_000);
    expect(stored).toBe('7\t/other/A.MP4\t1700000000000');
    expect(parseCacheEntry(stored, '/plex/a.mp4')).toEqual({
      ratingKey: '7',
      file: '/other/A.MP4',
      via: 'fallback',
      cachedAt: 1_700_000_000_000,
    });
  });

  it('an older fallback entry without a time, or with a bad one, reads as cached at 0 (looked for again after any scan)', () => {
    expect(parseCacheEntry('7\t/other/a.mp4', '/plex/a.mp4')).toMatchObject({ via: 'fallback', cachedAt: 0 });
    expect(parseCacheEntry('7\t/other/a.mp4\tsoon', '/plex/a.mp4')).toMatchObject({ via: 'fallback', cachedAt: 0 });
  });
});
