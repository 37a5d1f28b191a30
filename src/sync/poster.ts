// Which screenshots may become a Plex poster, judged by their bytes: a proxy may mislabel the type, and
// for a scene without a cover Stash answers 200 with its built-in SVG placeholder (stashapp/stash
// internal/manager/running_streams.go, ServeScreenshot → static scene/scene.svg), which is no poster.
import type { Screenshot } from '../model/types.js';

export type PosterType = 'image/jpeg' | 'image/png' | 'image/webp';

const startsWith = (bytes: Uint8Array, at: number, magic: readonly number[]) =>
  bytes.length >= at + magic.length && magic.every((b, i) => bytes[at + i] === b);

const ascii = (s: string) => [...s].map((c) => c.charCodeAt(0));

/** The raster type the bytes are (JPEG, PNG or WebP by magic number), or null for anything else. */
export function posterType(bytes: Uint8Array): PosterType | null {
  if (startsWith(bytes, 0, [0xff, 0xd8, 0xff])) return 'image/jpeg';
  if (startsWith(bytes, 0, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'image/png';
  if (startsWith(bytes, 0, ascii('RIFF')) && startsWith(bytes, 8, ascii('WEBP'))) return 'image/webp';
  return null;
}

/**
 * A screenshot to upload (with the type its bytes show), or the note saying why there is none. `byBytes`:
 * the bytes themselves are no poster, so the same version of the screenshot never will be (worth
 * remembering); a screenshot skipped unread (over POSTER_MAX_BYTES, a setting that may change) is not.
 */
export function posterFrom(shot: Screenshot): { bytes: Buffer; contentType: PosterType } | { skipped: string; byBytes: boolean } {
  if ('skipped' in shot) return { skipped: shot.skipped, byBytes: false };
  const type = posterType(shot.bytes);
  if (type) return { bytes: shot.bytes, contentType: type };
  const svg = shot.contentType === 'image/svg+xml' ? ": Stash's placeholder for a scene without a cover" : '';
  return {
    skipped: `screenshot not uploaded: not JPEG, PNG or WebP (${shot.contentType || 'no type'}, ${shot.bytes.length} bytes)${svg}`,
    byBytes: true,
  };
}

/** The note of a sync that did not read the screenshot because its version was found to be no poster. */
export const NO_POSTER_AT_VERSION = 'screenshot not read: at this version it was not JPEG, PNG or WebP (a scene without a cover?)';
