// One scene sync: read Stash fresh, find the Plex item, diff, send only what differs.
import { createHash } from 'node:crypto';
import { SyncError } from '../core/errors.js';
import { desiredState, diff, isEmptyEdit, type SyncMode } from './mapping.js';
import { posterFrom } from './poster.js';
import type { FolderScanner } from './scan-missing.js';
import type { PlexEdit, PlexItem, Screenshot, StashScene } from '../model/types.js';

/** What the processor needs of the Plex client (src/plex/client.ts). */
export interface PlexPort {
  /** `size`: the file's bytes in Stash, for the base-name fallback (docs/MATCHING.md). */
  resolveItem(stashPath: string, size?: number | null): Promise<{ ratingKey: string; sectionKey: string }>;
  getItem(ratingKey: string): Promise<PlexItem>;
  applyEdit(sectionKey: string, ratingKey: string, edit: PlexEdit): Promise<number>;
  uploadPoster(sectionKey: string, ratingKey: string, bytes: Buffer, contentType: string): Promise<void>;
}

/** What the processor needs of the Stash client (src/stash-api/client.ts). */
export interface StashPort {
  findScene(id: string): Promise<StashScene | null>;
  fetchScreenshot(url: string): Promise<Screenshot>;
}

/** The poster each Plex item last got (SHA-256 of its bytes), by ratingKey (src/sync/poster-hashes.ts). */
export interface PosterHashes {
  get(ratingKey: string): Promise<string | null>;
  set(ratingKey: string, hash: string): Promise<void>;
}

export interface SyncDeps {
  plex: PlexPort;
  stash: StashPort;
  posterHashes: PosterHashes;
  mode: SyncMode;
  poster: boolean;
  collectionFromStudio: boolean;
  /** PLEX_SCAN_MISSING: asks Plex to scan the folders of a scene it does not hold (absent: no scan). */
  scanMissing?: FolderScanner;
  /** PLEX_NOT_FOUND: 'retry' (default) throws PlexNotFound; 'skip' completes as skipped ("not in Plex"). */
  notFound?: 'retry' | 'skip';
}

export interface SyncResult {
  /** null when the scene was skipped (PLEX_NOT_FOUND=skip). */
  ratingKey: string | null;
  /** Plex edit requests sent (0 for an unchanged scene). */
  editRequests: number;
  posterUploaded: boolean;
  /** Why the screenshot was not uploaded (not JPEG/PNG/WebP, too large), when it was not. */
  posterSkipped?: string;
  /** Why nothing was synced ("not in Plex"), when the job completed without a Plex item. */
  skipped?: string;
}

export const NOT_IN_PLEX = 'not in Plex';

/** Tries each of the scene's files (a scene may have several): the first Plex knows wins. */
async function resolveScene(scene: StashScene, plex: PlexPort) {
  if (scene.files.length === 0) throw new SyncError('PlexNotFound', `scene ${scene.id} has no file`);
  let notFound: unknown;
  for (const file of scene.files) {
    try {
      return await plex.resolveItem(file.path, file.size ?? null);
    } catch (err) {
      if (!(err instanceof SyncError && err.type === 'PlexNotFound')) throw err;
      notFound = err;
    }
  }
  throw notFound;
}

/** Not in Plex: ask for a scan of its folders, then retry (throw) or complete as skipped (null). */
async function whenNotFound(scene: StashScene, deps: SyncDeps, err: unknown): Promise<null> {
  if (!(err instanceof SyncError && err.type === 'PlexNotFound')) throw err;
  await deps.scanMissing?.(scene.files.map((f) => f.path));
  if (deps.notFound === 'skip') return null;
  throw err;
}

export async function syncScene(sceneId: string, deps: SyncDeps): Promise<SyncResult> {
  const scene = await deps.stash.findScene(sceneId);
  if (!scene) throw new SyncError('StashSceneMissing', `scene ${sceneId} does not exist in Stash`);
  const found = await resolveScene(scene, deps.plex).catch((err: unknown) => whenNotFound(scene, deps, err));
  if (!found) return { ratingKey: null, editRequests: 0, posterUploaded: false, skipped: NOT_IN_PLEX };
  const { ratingKey, sectionKey } = found;
  const current = await deps.plex.getItem(ratingKey);
  const desired = desiredState(scene, { collectionFromStudio: deps.collectionFromStudio });
  const edit = diff(desired, current, deps.mode);
  const editRequests = isEmptyEdit(edit) ? 0 : await deps.plex.applyEdit(sectionKey, ratingKey, edit);

  if (!deps.poster || !desired.posterUrl) return { ratingKey, editRequests, posterUploaded: false };
  const poster = posterFrom(await deps.stash.fetchScreenshot(desired.posterUrl));
  // No upload and no lock: Plex keeps whatever poster it has.
  if ('skipped' in poster) return { ratingKey, editRequests, posterUploaded: false, posterSkipped: poster.skipped };
  const hash = createHash('sha256').update(poster.bytes).digest('hex');
  // Upload only when the image changed (or the lock was lost), remembered per Plex item.
  const posterUploaded = (await deps.posterHashes.get(ratingKey)) !== hash || !current.locked.includes('thumb');
  if (posterUploaded) {
    await deps.plex.uploadPoster(sectionKey, ratingKey, poster.bytes, poster.contentType);
    await deps.posterHashes.set(ratingKey, hash);
  }
  return { ratingKey, editRequests, posterUploaded };
}
