// The image pipeline: a source image (a Stash screenshot, a group's front cover, a studio's or tag's
// image) → what is uploaded to Plex, processed with sharp (libvips) in the worker. One entry point,
// `prepareImage(source, shape, maxBytes)`, for every caller (scene posters and backgrounds here,
// collection artwork elsewhere); the upload itself is the Plex client's (`uploadPoster`, `uploadArt`).
import type { PosterStyle } from '../core/config.js';
import { posterType, type PosterType } from './poster.js';

/**
 * What an image is made into: a poster style (POSTER_STYLE: `screenshot` as it is, `crop` the centre
 * 2:3, `letterbox` the whole frame on a 2:3 canvas with bars) or `full`, the whole frame as a JPEG (a
 * background: Plex shows art full screen, 16:9 is what it expects).
 */
export type ImageShape = PosterStyle | 'full';

export interface PreparedImage {
  bytes: Buffer;
  contentType: PosterType;
  /** The upload's size in pixels; null for bytes passed on as they are (not decoded). */
  width: number | null;
  height: number | null;
}

/** Why an image is not uploaded; `byBytes`: the source bytes themselves are no image (so the same version never will be). */
export interface SkippedImage {
  skipped: string;
  byBytes: boolean;
}

/** The largest poster made by `crop` and `letterbox` (Plex's own posters are 1000×1500): never enlarged. */
export const POSTER_MAX_WIDTH = 1000;
/** JPEG quality of every image made here. */
const JPEG_QUALITY = 85;
/** Decoding refuses a source of more pixels than this (a decompression bomb), as sharp's `limitInputPixels`. */
const MAX_INPUT_PIXELS = 100_000_000;

/** Pure: the 2:3 box (even width, height = width × 3/2) a poster of a `width`×`height` source gets, within POSTER_MAX_WIDTH. */
export function posterBox(style: 'crop' | 'letterbox', width: number, height: number): { width: number; height: number } {
  // crop: the largest 2:3 box inside the frame; letterbox: the frame's width on a taller canvas (a portrait frame: its height).
  const inside = Math.min(width, Math.floor((height * 2) / 3));
  const around = width * 3 >= height * 2 ? width : Math.ceil((height * 2) / 3);
  let w = Math.min(style === 'crop' ? inside : around, POSTER_MAX_WIDTH);
  w -= w % 2;
  w = Math.max(w, 2);
  return { width: w, height: (w * 3) / 2 };
}

const notAnImage = (bytes: Buffer): SkippedImage => ({
  skipped: `not uploaded: not JPEG, PNG or WebP (${bytes.length} bytes)`,
  byBytes: true,
});

/**
 * The upload made of `source` in `shape`: `screenshot` uploads the bytes as they are (JPEG, PNG or WebP,
 * as before POSTER_STYLE existed, so their hash and Plex's name of the upload stay the same); `full`
 * uploads a JPEG source as it is and re-encodes any other as JPEG; `crop` and `letterbox` make a 2:3 JPEG
 * (bars black). An upload over `maxBytes` (POSTER_MAX_BYTES) is skipped, as is a source sharp cannot decode.
 */
export async function prepareImage(source: Buffer, shape: ImageShape, maxBytes: number): Promise<PreparedImage | SkippedImage> {
  const type = posterType(source);
  if (!type) return notAnImage(source);
  let prepared: PreparedImage;
  try {
    prepared = await transform(source, type, shape);
  } catch (err) {
    return { skipped: `not uploaded: the image could not be decoded (${err instanceof Error ? err.message : String(err)})`, byBytes: true };
  }
  if (prepared.bytes.length > maxBytes) {
    return {
      skipped: `not uploaded: ${prepared.bytes.length} bytes once made into ${shape} exceed ${maxBytes} (POSTER_MAX_BYTES)`,
      byBytes: false,
    };
  }
  return prepared;
}

async function transform(source: Buffer, type: PosterType, shape: ImageShape): Promise<PreparedImage> {
  // As they are, not even decoded: no processing where none is asked for.
  if (shape === 'screenshot' || (shape === 'full' && type === 'image/jpeg'))
    return { bytes: source, contentType: type, width: null, height: null };
  // Loaded on first use: the plugin's tasks bundle reaches this module (Explain Scene) but never decodes
  // an image, and sharp's module code cannot run there (no import.meta.url in a CommonJS bundle).
  const { default: sharp } = await import('sharp');
  const image = sharp(source, { limitInputPixels: MAX_INPUT_PIXELS }).autoOrient();
  if (shape === 'full') {
    const { data, info } = await image.jpeg({ quality: JPEG_QUALITY }).toBuffer({ resolveWithObject: true });
    return { bytes: data, contentType: 'image/jpeg', width: info.width, height: info.height };
  }
  const { autoOrient } = await image.metadata();
  const box = posterBox(shape, autoOrient.width, autoOrient.height);
  const fit = shape === 'crop' ? 'cover' : 'contain';
  const { data, info } = await image
    .resize({ ...box, fit, position: 'centre', background: { r: 0, g: 0, b: 0, alpha: 1 } })
    .flatten({ background: { r: 0, g: 0, b: 0 } })
    .jpeg({ quality: JPEG_QUALITY })
    .toBuffer({ resolveWithObject: true });
  return { bytes: data, contentType: 'image/jpeg', width: info.width, height: info.height };
}
