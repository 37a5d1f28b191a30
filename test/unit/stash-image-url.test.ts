// Where stash2plex reads an image URL Stash gave (pure): Stash writes its own base URL (external_host,
// X-Forwarded-Prefix) into every URL it returns.
import { describe, expect, it } from 'vitest';
import { stashImageUrl } from '../../src/stash-api/client.js';

describe('stashImageUrl', () => {
  const at = (url: string, base: string) => stashImageUrl(url, base).href;

  it('a Stash image route is read from STASH_URL, its prefix kept, with the query as given', () => {
    // external_host set: another origin.
    expect(at('https://stash.example.com/scene/12/screenshot?t=1700000000', 'http://10.0.0.5:9999')).toBe(
      'http://10.0.0.5:9999/scene/12/screenshot?t=1700000000',
    );
    // external_host plus X-Forwarded-Prefix, or external_host with a path: the base's prefix replaces it.
    expect(at('https://stash.example.com/stash/scene/12/screenshot?t=1', 'http://stash:9999')).toBe(
      'http://stash:9999/scene/12/screenshot?t=1',
    );
    expect(at('https://stash.example.com/scene/12/screenshot?t=1', 'https://proxy.lan/stash')).toBe(
      'https://proxy.lan/stash/scene/12/screenshot?t=1',
    );
    // external_host written with a trailing slash: Stash's URL has a double slash.
    expect(at('https://stash.example.com//scene/12/screenshot?t=1', 'http://stash:9999')).toBe('http://stash:9999/scene/12/screenshot?t=1');
    // Stash's other image routes.
    for (const route of [
      '/performer/3/image?t=1',
      '/studio/4/image',
      '/tag/5/image?t=2',
      '/group/6/frontimage?t=3',
      '/movie/6/backimage',
      '/image/7/thumbnail?t=4',
      '/gallery/8/cover?t=5',
      '/scene/9/scene_marker/10/screenshot',
    ]) {
      expect(at(`https://ext.example.com${route}`, 'http://stash:9999')).toBe(`http://stash:9999${route}`);
    }
    // A relative URL and the usual case (no external_host) come out the same.
    expect(at('/scene/12/screenshot?t=1', 'http://stash:9999')).toBe('http://stash:9999/scene/12/screenshot?t=1');
    expect(at('http://stash:9999/scene/12/screenshot?t=1', 'http://stash:9999')).toBe('http://stash:9999/scene/12/screenshot?t=1');
  });

  it('anything else stays where it points (and gets no credentials there)', () => {
    for (const url of [
      'https://cdn.example.com/covers/12.jpg',
      'https://ext.example.com/scene/12/screenshot/extra',
      'https://ext.example.com/scene/abc/screenshot',
    ]) {
      expect(at(url, 'http://stash:9999')).toBe(url);
    }
    expect(() => stashImageUrl('http://', 'http://stash:9999')).toThrow();
  });
});
