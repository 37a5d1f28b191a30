// An image's verdict (poster or background) for `npm run explain`, by the sync's own rules
// (src/sync/scene-images.ts imageVersion, imageToRead, imageHash; src/sync/poster.ts posterFrom): the
// screenshot is read (a GET from Stash) only when the sync would read it.
import type { PlexItem } from '../model/types.js';
import type { ImageShape } from '../sync/artwork.js';
import { ARTWORK, type ArtworkField } from '../sync/originals.js';
import { screenshotVersion, type FieldVerdict, type OwnershipRecord } from '../sync/ownership.js';
import { posterFrom } from '../sync/poster.js';
import type { StashPort } from '../sync/processor.js';
import { imageHash, imageToRead, imageVersion } from '../sync/scene-images.js';

export interface ImageToExplain {
  field: ArtworkField;
  shape: ImageShape;
  /** The source: the scene's screenshot (or a group's cover for a poster). */
  url: string | null;
}

export async function imageVerdict(
  stash: Pick<StashPort, 'fetchScreenshot'>,
  image: ImageToExplain,
  record: OwnershipRecord,
  current: PlexItem,
  nowMs: number,
): Promise<FieldVerdict> {
  if (!image.url) return { action: 'skip', why: 'Stash has no image for the scene' };
  const source = screenshotVersion(image.url, nowMs);
  const locked = current.locked.includes(ARTWORK[image.field].lock);
  if (!imageToRead(image.field, { source, entry: imageVersion(source, image.shape) }, record, locked)) {
    return source === record.noPosterVersion
      ? { action: 'skip', why: 'at this version the image was none (not JPEG, PNG or WebP): not read again' }
      : { action: 'keep', why: 'the image has not changed since stash2plex uploaded it, and Plex keeps it locked' };
  }
  const read = posterFrom(await stash.fetchScreenshot(image.url));
  if ('skipped' in read) return { action: 'skip', why: read.skipped };
  if (locked && record[image.field] === imageHash(read.bytes, image.shape))
    return { action: 'keep', why: 'the same image stash2plex last uploaded, locked' };
  const why =
    record[image.field] === undefined ? 'never uploaded' : locked ? 'the image changed since the last upload' : 'Plex lost the lock';
  return { action: 'set', why: `upload the ${image.field}: ${why}` };
}
