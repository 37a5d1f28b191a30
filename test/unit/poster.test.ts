// Which bytes may become a Plex poster: JPEG, PNG and WebP by magic number, whatever the label says.
import { describe, expect, it } from 'vitest';
import { scenePng, STASH_SCENE_PLACEHOLDER_SVG } from '../../src/sim/stash.js';
import { posterFrom, posterType } from '../../src/sync/poster.js';

const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 0x4a, 0x46]);
const webp = Buffer.concat([Buffer.from('RIFF'), Buffer.from([0x24, 0, 0, 0]), Buffer.from('WEBPVP8 ')]);

describe('posterType', () => {
  it('knows JPEG, PNG and WebP by their first bytes', () => {
    expect(posterType(jpeg)).toBe('image/jpeg');
    expect(posterType(scenePng('1'))).toBe('image/png');
    expect(posterType(webp)).toBe('image/webp');
  });

  it('refuses SVG, HTML, GIF, a RIFF that is not WebP, truncated magic and nothing', () => {
    expect(posterType(STASH_SCENE_PLACEHOLDER_SVG)).toBeNull();
    expect(posterType(Buffer.from('<!doctype html><title>Login</title>'))).toBeNull();
    expect(posterType(Buffer.from('GIF89a\x01\x00'))).toBeNull();
    expect(posterType(Buffer.concat([Buffer.from('RIFF'), Buffer.alloc(4), Buffer.from('WAVE')]))).toBeNull();
    expect(posterType(Buffer.from([0x89, 0x50, 0x4e, 0x47]))).toBeNull();
    expect(posterType(Buffer.alloc(0))).toBeNull();
  });
});

describe('posterFrom', () => {
  it('uploads with the type the bytes show, not the label', () => {
    expect(posterFrom({ bytes: jpeg, contentType: 'image/png' })).toEqual({ bytes: jpeg, contentType: 'image/jpeg' });
  });

  it("skips Stash's SVG placeholder with a note naming it", () => {
    const out = posterFrom({ bytes: STASH_SCENE_PLACEHOLDER_SVG, contentType: 'image/svg+xml' });
    expect(out).toEqual({
      skipped: expect.stringMatching(/not JPEG, PNG or WebP \(image\/svg\+xml, \d+ bytes\).*without a cover/) as string,
      byBytes: true,
    });
  });

  it('skips an SVG labelled as PNG, and passes a skip on (not judged by its bytes: not worth remembering)', () => {
    expect(posterFrom({ bytes: STASH_SCENE_PLACEHOLDER_SVG, contentType: 'image/png' })).toMatchObject({
      skipped: expect.any(String) as string,
      byBytes: true,
    });
    expect(posterFrom({ skipped: 'too large' })).toEqual({ skipped: 'too large', byBytes: false });
  });
});
