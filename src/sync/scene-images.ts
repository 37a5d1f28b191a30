// A scene's two images on its Plex item: the poster (POSTER_STYLE, from POSTER_FROM's source) and the
// background (the screenshot, full frame). Each is uploaded only when its source changed: the ownership
// record keeps the source's version (the `t` of Stash's URL, with the poster's style) and a hash of the
// source bytes, so an unchanged screenshot costs no read, no processing and no upload. Both read the
// same screenshot at most once per sync.
import type { Config } from '../core/config.js';
import type { Keys, RedisConnection } from '../core/redis.js';
import type { PlexItem, PlexPoster, Screenshot } from '../model/types.js';
import { prepareImage, type ImageShape, type PreparedImage, type SkippedImage } from './artwork.js';
import { ARTWORK, keepPosterOriginal, type ArtworkField } from './originals.js';
import { screenshotVersion, valueHash, VERSION_ENTRY, type OwnershipRecord } from './ownership.js';
import { writeOwnership } from './ownership-store.js';
import { NO_POSTER_AT_VERSION, posterFrom } from './poster.js';

/** What the image sync needs of the Plex client (src/plex/client.ts). */
export interface ImagePlexPort {
  uploadPoster(sectionKey: string, ratingKey: string, bytes: Buffer, contentType: string): Promise<void>;
  uploadArt(sectionKey: string, ratingKey: string, bytes: Buffer, contentType: string): Promise<void>;
  posters(ratingKey: string): Promise<PlexPoster[]>;
  arts(ratingKey: string): Promise<PlexPoster[]>;
}

export interface SceneImageDeps {
  plex: ImagePlexPort;
  stash: { fetchScreenshot(url: string): Promise<Screenshot> };
  redis: RedisConnection;
  keys: Pick<Keys, 'own' | 'orig'>;
  sync: Pick<Config['sync'], 'fields' | 'posterStyle'>;
  /** POSTER_MAX_BYTES: the largest upload made (the source read is bounded by the Stash client). */
  maxBytes: number;
}

export interface SceneImageSources {
  /** The scene's screenshot URL (Stash's `paths.screenshot`), null when it has none. */
  screenshot: string | null;
  /** The poster's source when it is not the screenshot (POSTER_FROM=group: the group's front image). */
  poster?: string | null;
}

export interface ImageOutcome {
  posterUploaded: boolean;
  /** Why the poster was not uploaded (not an image, too large), when it was not. */
  posterSkipped?: string;
  /** Present (true) when the background was uploaded. */
  backgroundUploaded?: true;
  backgroundSkipped?: string;
}

interface Slot {
  field: ArtworkField;
  url: string;
  shape: ImageShape;
}

/**
 * Pure: the record's version entry of an image made of a source at `sourceVersion` (screenshotVersion):
 * with the poster's style when it is not `screenshot` (a new POSTER_STYLE reads the source again); null
 * when the source has no settled version (then it is read every time).
 */
export function imageVersion(sourceVersion: string | null, shape: ImageShape): string | null {
  return sourceVersion === null || shape === 'screenshot' || shape === 'full' ? sourceVersion : `${sourceVersion}#${shape}`;
}

/** Pure: the hash the record keeps of an image: of the source bytes, with the shape made of them (the poster's style). */
export function imageHash(source: Uint8Array, shape: ImageShape): string {
  return shape === 'screenshot' || shape === 'full' ? valueHash(source) : valueHash(Buffer.concat([source, Buffer.from(`\0${shape}`)]));
}

/**
 * Pure: whether an image's source must be read: not when its version is the one read last time, the
 * image stash2plex uploaded is recorded and Plex still holds its lock; nor when the source at this
 * version was no image (Stash's placeholder, `noPosterVersion`: nothing to upload). A new version is read.
 */
export function imageToRead(
  field: ArtworkField,
  version: { source: string | null; entry: string | null },
  record: OwnershipRecord,
  locked: boolean,
): boolean {
  if (version.source === null || version.entry === null) return true;
  if (record.noPosterVersion === version.source) return false;
  return record[VERSION_ENTRY[field]] !== version.entry || record[field] === undefined || !locked;
}

/** The source as read and the upload made of it, or why there is none (posterFrom's notes first: they name Stash's placeholder). */
async function madeImage(
  read: Screenshot,
  shape: ImageShape,
  maxBytes: number,
): Promise<SkippedImage | { source: Buffer; prepared: PreparedImage }> {
  const source = posterFrom(read);
  if ('skipped' in source) return source;
  const prepared = await prepareImage(source.bytes, shape, maxBytes);
  return 'skipped' in prepared ? prepared : { source: source.bytes, prepared };
}

/** One image: read (unless its version says nothing changed), made into its shape, uploaded when it differs. */
async function syncImage(
  deps: SceneImageDeps,
  target: { ratingKey: string; sectionKey: string },
  slot: Slot,
  ctx: { record: OwnershipRecord; current: PlexItem; read: (url: string) => Promise<Screenshot> },
): Promise<{ uploaded: boolean; skipped?: string }> {
  const { record, current } = ctx;
  const sourceVersion = screenshotVersion(slot.url, Date.now());
  const version = imageVersion(sourceVersion, slot.shape);
  const locked = current.locked.includes(ARTWORK[slot.field].lock);
  if (!imageToRead(slot.field, { source: sourceVersion, entry: version }, record, locked)) {
    return { uploaded: false, ...(sourceVersion === record.noPosterVersion ? { skipped: NO_POSTER_AT_VERSION } : {}) };
  }
  const made = await madeImage(await ctx.read(slot.url), slot.shape, deps.maxBytes);
  // No upload and no lock: Plex keeps whatever it has. Bytes that are no image stay so at this version.
  if ('skipped' in made) {
    if (made.byBytes && sourceVersion !== null)
      await writeOwnership(deps.redis, deps.keys, target.ratingKey, { noPosterVersion: sourceVersion });
    return { uploaded: false, skipped: made.skipped };
  }
  const { source, prepared } = made;
  const hash = imageHash(source, slot.shape);
  const seen: OwnershipRecord = version === null ? {} : { [VERSION_ENTRY[slot.field]]: version };
  if (locked && record[slot.field] === hash) {
    if (record[VERSION_ENTRY[slot.field]] !== version) await writeOwnership(deps.redis, deps.keys, target.ratingKey, seen);
    return { uploaded: false };
  }
  await keepPosterOriginal(deps, target.ratingKey, current, record, prepared.bytes, slot.field);
  const upload = slot.field === 'poster' ? deps.plex.uploadPoster.bind(deps.plex) : deps.plex.uploadArt.bind(deps.plex);
  await upload(target.sectionKey, target.ratingKey, prepared.bytes, prepared.contentType);
  await writeOwnership(deps.redis, deps.keys, target.ratingKey, { [slot.field]: hash, ...seen });
  return { uploaded: true };
}

/** The poster and the background of one item, each when SYNC_FIELDS lists it and its source exists. */
export async function syncSceneImages(
  deps: SceneImageDeps,
  target: { ratingKey: string; sectionKey: string },
  sources: SceneImageSources,
  record: OwnershipRecord,
  current: PlexItem,
): Promise<ImageOutcome> {
  const reads = new Map<string, Promise<Screenshot>>();
  const read = (url: string) => {
    if (!reads.has(url)) reads.set(url, deps.stash.fetchScreenshot(url));
    return reads.get(url)!;
  };
  const ctx = { record, current, read };
  const out: ImageOutcome = { posterUploaded: false };
  const posterUrl = sources.poster ?? sources.screenshot;
  if (deps.sync.fields.includes('poster') && posterUrl) {
    const r = await syncImage(deps, target, { field: 'poster', url: posterUrl, shape: deps.sync.posterStyle }, ctx);
    out.posterUploaded = r.uploaded;
    if (r.skipped) out.posterSkipped = r.skipped;
  }
  if (deps.sync.fields.includes('background') && sources.screenshot) {
    const r = await syncImage(deps, target, { field: 'background', url: sources.screenshot, shape: 'full' }, ctx);
    if (r.uploaded) out.backgroundUploaded = true;
    if (r.skipped) out.backgroundSkipped = r.skipped;
  }
  return out;
}
