// The poster's verdict for `npm run explain`, by the sync's own rules (src/sync/ownership.ts
// screenshotVersion, screenshotToRead, posterWanted; src/sync/poster.ts posterFrom): the screenshot is
// read (a GET from Stash) only when the sync would read it.
import type { PlexItem } from '../model/types.js';
import {
  posterWanted,
  screenshotToRead,
  screenshotVersion,
  valueHash,
  type FieldVerdict,
  type OwnershipRecord,
} from '../sync/ownership.js';
import { posterFrom } from '../sync/poster.js';
import type { StashPort } from '../sync/processor.js';

export async function posterVerdict(
  stash: Pick<StashPort, 'fetchScreenshot'>,
  url: string | null,
  record: OwnershipRecord,
  current: PlexItem,
  nowMs: number,
): Promise<FieldVerdict> {
  if (!url) return { action: 'skip', why: 'Stash has no screenshot for the scene' };
  const version = screenshotVersion(url, nowMs);
  const locked = current.locked.includes('thumb');
  if (!screenshotToRead(version, record, locked)) {
    return version === record.noPosterVersion
      ? { action: 'skip', why: 'at this version the screenshot was no poster (not JPEG, PNG or WebP): not read again' }
      : { action: 'keep', why: 'the screenshot has not changed since stash2plex uploaded it, and Plex keeps it locked' };
  }
  const poster = posterFrom(await stash.fetchScreenshot(url));
  if ('skipped' in poster) return { action: 'skip', why: poster.skipped };
  if (!posterWanted(valueHash(poster.bytes), record, locked))
    return { action: 'keep', why: 'the same image stash2plex last uploaded, locked' };
  const why =
    record.poster === undefined ? 'never uploaded' : locked ? 'the screenshot changed since the last upload' : 'Plex lost the lock';
  return { action: 'set', why: `upload the screenshot: ${why}` };
}
