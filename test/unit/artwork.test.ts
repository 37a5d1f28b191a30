// The image pipeline (src/sync/artwork.ts) with real sharp: each shape's output checked by decoding it.
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { posterBox, prepareImage, type PreparedImage } from '../../src/sync/artwork.js';

const frame = (width: number, height: number, format: 'png' | 'jpeg' = 'png') =>
  sharp({ create: { width, height, channels: 3, background: { r: 200, g: 20, b: 20 } } })
    [format]()
    .toBuffer();

const prepared = async (...args: Parameters<typeof prepareImage>): Promise<PreparedImage> => {
  const out = await prepareImage(...args);
  if ('skipped' in out) throw new Error(out.skipped);
  return out;
};

describe('posterBox', () => {
  it.each([
    ['crop', 1920, 1080, 720, 1080],
    ['letterbox', 1920, 1080, 1000, 1500],
    ['crop', 640, 360, 240, 360],
    ['letterbox', 640, 360, 640, 960],
    ['crop', 400, 1000, 400, 600],
    ['letterbox', 400, 1000, 666, 999],
  ] as const)('%s of %i×%i is %i×%i (2:3)', (style, w, h, bw, bh) => {
    const box = posterBox(style, w, h);
    expect(box).toEqual({ width: bw, height: bh });
    expect(box.width * 3).toBe(box.height * 2);
  });
});

describe('prepareImage', () => {
  it('crop and letterbox make 2:3 JPEGs; letterbox keeps the whole frame between black bars', async () => {
    const source = await frame(1280, 720);
    for (const style of ['crop', 'letterbox'] as const) {
      const out = await prepared(source, style, 10_000_000);
      const meta = await sharp(out.bytes).metadata();
      expect([meta.format, out.contentType]).toEqual(['jpeg', 'image/jpeg']);
      expect(meta.width * 3).toBe(meta.height * 2);
      expect([out.width, out.height]).toEqual([meta.width, meta.height]);
    }
    const boxed = await prepared(source, 'letterbox', 10_000_000);
    const { data, info } = await sharp(boxed.bytes).raw().toBuffer({ resolveWithObject: true });
    const pixel = (x: number, y: number) => [...data.subarray((y * info.width + x) * 3, (y * info.width + x) * 3 + 3)];
    expect(pixel(10, 10).every((c) => c < 20)).toBe(true); // a bar
    expect(pixel(info.width / 2, info.height / 2)[0]).toBeGreaterThan(150); // the frame
  });

  it('full: a JPEG source as it is, any other re-encoded as a JPEG of the same size', async () => {
    const jpeg = await frame(640, 360, 'jpeg');
    expect((await prepared(jpeg, 'full', 10_000_000)).bytes).toBe(jpeg);
    const fromPng = await prepared(await frame(640, 360), 'full', 10_000_000);
    expect((await sharp(fromPng.bytes).metadata()).format).toBe('jpeg');
    expect([fromPng.width, fromPng.height]).toEqual([640, 360]);
  });

  it('screenshot: the bytes as they are (PNG stays PNG)', async () => {
    const png = await frame(320, 180);
    const out = await prepared(png, 'screenshot', 10_000_000);
    expect([out.bytes, out.contentType]).toEqual([png, 'image/png']);
  });

  it('no image (an SVG placeholder), or one that does not decode, is skipped for its bytes; one too large for POSTER_MAX_BYTES is not', async () => {
    expect(await prepareImage(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>'), 'crop', 1e7)).toMatchObject({ byBytes: true });
    const broken = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(64)]);
    const undecodable = await prepareImage(broken, 'crop', 1e7);
    expect(undecodable).toMatchObject({ byBytes: true });
    expect('skipped' in undecodable && undecodable.skipped).toMatch(/could not be decoded/);
    const tooLarge = await prepareImage(await frame(1280, 720), 'letterbox', 2000);
    expect(tooLarge).toMatchObject({ byBytes: false });
    expect('skipped' in tooLarge && tooLarge.skipped).toMatch(/POSTER_MAX_BYTES/);
  });
});
