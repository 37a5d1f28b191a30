// One scene sync: read Stash fresh, check the quality gate, find the Plex item, decide with the
// ownership record what to send, send only that, then record what is now ours.
import type { Config, SyncField } from '../core/config.js';
import { SyncError } from '../core/errors.js';
import type { Keys, RedisConnection } from '../core/redis.js';
import { desiredState, isEmptyEdit } from './mapping.js';
import { decide, ownershipChanges, posterWanted, screenshotToRead, screenshotVersion, valueHash, type OwnershipRecord } from './ownership.js';
import { forgetOwnership, readOwnership, writeOwnership } from './ownership-store.js';
import { keepOriginals, keepPosterOriginal, originalsOfEdit } from './originals.js';
import { excludedReason, readExclusion } from './sync-exclusions.js';
import { posterFrom } from './poster.js';
import type { FolderScanner } from './scan-missing.js';
import { unmetRequirements } from './readiness.js';
import type { PlexEdit, PlexItem, PlexPoster, Screenshot, StashScene } from '../model/types.js';

/** What the processor needs of the Plex client (src/plex/client.ts). */
export interface PlexPort {
  /** `size`: the file's bytes in Stash, for the base-name fallback (docs/MATCHING.md). */
  /** `item`: the item as read to verify a cached ratingKey, when it was (no need to read it again). */
  /** `read`: how to read an item while resolving (default: getItem); the processor's knows a prefetched one. */
  resolveItem(stashPath: string, size?: number | null, read?: (ratingKey: string) => Promise<PlexItem>): Promise<{ ratingKey: string; sectionKey: string; item?: PlexItem }>;
  getItem(ratingKey: string): Promise<PlexItem>;
  applyEdit(sectionKey: string, ratingKey: string, edit: PlexEdit): Promise<number>;
  uploadPoster(sectionKey: string, ratingKey: string, bytes: Buffer, contentType: string): Promise<void>;
  /** The item's posters: read before the first upload, to keep the one Plex had selected (src/sync/originals.ts). */
  posters(ratingKey: string): Promise<PlexPoster[]>;
}

/** What the processor needs of the Stash client (src/stash-api/client.ts). */
export interface StashPort {
  findScene(id: string): Promise<StashScene | null>;
  fetchScreenshot(url: string): Promise<Screenshot>;
}

export interface SyncDeps {
  plex: PlexPort;
  stash: StashPort;
  redis: RedisConnection;
  keys: Pick<Keys, 'own' | 'syncSkipped' | 'plexSceneItem' | 'orig' | 'syncExcluded'>;
  /** Mode, SYNC_FIELDS, SYNC_REQUIRE, PRESERVE_PLEX_EDITS, MAX_TAGS. */
  sync: Config['sync'];
  /** PLEX_SCAN_MISSING: asks Plex to scan the folders of a scene it does not hold (absent: no scan). */
  scanMissing?: FolderScanner;
  /** PLEX_NOT_FOUND: 'retry' (default) throws PlexNotFound; 'skip' completes as skipped ("not in Plex"). */
  notFound?: 'retry' | 'skip';
}

export interface SyncedResult {
  ratingKey: string;
  /** Plex edit requests sent (0 for an unchanged scene). */
  editRequests: number;
  posterUploaded: boolean;
  /** Why the screenshot was not uploaded (not JPEG/PNG/WebP, too large), when it was not. */
  posterSkipped?: string;
  /** Fields left alone because they were changed in Plex since stash2plex set them (PRESERVE_PLEX_EDITS). */
  preserved?: SyncField[];
  /** Lists cut to MAX_TAGS, e.g. "genres: 250 → 200". */
  cut?: string[];
}

/** A scene SYNC_REQUIRE holds back: no Plex request was made. */
export interface SkippedResult {
  skipped: string;
}

export type SyncResult = SyncedResult | SkippedResult;

export const NOT_IN_PLEX = 'not in Plex';

/** The item a scene last synced to (keys.plexSceneItem), its read already under way. */
interface PrefetchedItem {
  ratingKey: string;
  item: Promise<PlexItem>;
}

/**
 * Starts reading the item the scene last synced to while its Stash read is under way: an unchanged scene
 * then costs one round trip, not two. Never rejects; the read's own error surfaces only if resolution
 * asks for that item (it is the one it would have read), and a stale hint costs one key of a read.
 */
async function prefetchItem(deps: SyncDeps, sceneId: string): Promise<PrefetchedItem | null> {
  const ratingKey = await deps.redis.hget(deps.keys.plexSceneItem, sceneId).catch(() => null);
  if (!ratingKey) return null;
  const item = deps.plex.getItem(ratingKey);
  item.catch(() => undefined);
  return { ratingKey, item };
}

/** Tries each of the scene's files (a scene may have several): the first Plex knows wins. */
async function resolveScene(scene: StashScene, deps: SyncDeps, prefetched: PrefetchedItem | null) {
  if (scene.files.length === 0) throw new SyncError('PlexNotFound', `scene ${scene.id} has no file`);
  const read = prefetched ? (k: string) => (k === prefetched.ratingKey ? prefetched.item : deps.plex.getItem(k)) : undefined;
  let notFound: unknown;
  for (const file of scene.files) {
    try {
      return await deps.plex.resolveItem(file.path, file.size ?? null, read);
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

/** The scene's Plex item as it is now; a ratingKey that is gone takes its ownership record along. */
async function currentItem(deps: SyncDeps, ratingKey: string): Promise<PlexItem> {
  try {
    return await deps.plex.getItem(ratingKey);
  } catch (err) {
    if (err instanceof SyncError && err.type === 'PlexNotFound') await forgetOwnership(deps.redis, deps.keys, ratingKey);
    throw err;
  }
}

/**
 * Uploads the screenshot when it is a poster and differs from the one stash2plex last uploaded. The
 * screenshot is not even read while its URL's version is the one last seen and Plex keeps the lock.
 */
async function syncPoster(deps: SyncDeps, target: { ratingKey: string; sectionKey: string }, url: string, record: OwnershipRecord, current: PlexItem) {
  const version = screenshotVersion(url, Date.now());
  const locked = current.locked.includes('thumb');
  if (!screenshotToRead(version, record, locked)) return { posterUploaded: false };
  const poster = posterFrom(await deps.stash.fetchScreenshot(url));
  // No upload and no lock: Plex keeps whatever poster it has.
  if ('skipped' in poster) return { posterUploaded: false, posterSkipped: poster.skipped };
  const hash = valueHash(poster.bytes);
  const seen = version === null ? {} : { posterVersion: version };
  if (!posterWanted(hash, record, locked)) {
    if (record.posterVersion !== version) await writeOwnership(deps.redis, deps.keys, target.ratingKey, seen);
    return { posterUploaded: false };
  }
  await keepPosterOriginal(deps, target.ratingKey, current, record, poster.bytes);
  await deps.plex.uploadPoster(target.sectionKey, target.ratingKey, poster.bytes, poster.contentType);
  await writeOwnership(deps.redis, deps.keys, target.ratingKey, { poster: hash, ...seen });
  return { posterUploaded: true };
}

export async function syncScene(sceneId: string, deps: SyncDeps): Promise<SyncResult> {
  const excluded = await readExclusion(deps.redis, deps.keys, sceneId);
  if (excluded) return { skipped: excludedReason(sceneId, excluded) };
  const prefetched = prefetchItem(deps, sceneId);
  const scene = await deps.stash.findScene(sceneId);
  if (!scene) {
    await deps.redis.hdel(deps.keys.plexSceneItem, sceneId).catch(() => 0);
    throw new SyncError('StashSceneMissing', `scene ${sceneId} does not exist in Stash`);
  }
  const unmet = unmetRequirements(scene, deps.sync.require);
  if (unmet.length > 0) {
    await Promise.all(unmet.map((u) => deps.redis.hincrby(deps.keys.syncSkipped, u.requirement, 1)));
    return { skipped: `not ready: ${unmet.map((u) => u.why).join('; ')}` };
  }
  const hint = await prefetched;
  const target = await resolveScene(scene, deps, hint).catch((err: unknown) => whenNotFound(scene, deps, err));
  if (!target) return { skipped: NOT_IN_PLEX };
  const { ratingKey, sectionKey } = target;
  if (hint?.ratingKey !== ratingKey) await deps.redis.hset(deps.keys.plexSceneItem, { [sceneId]: ratingKey }).catch(() => 0);
  const current = target.item ?? (await currentItem(deps, ratingKey));
  const record = await readOwnership(deps.redis, deps.keys, ratingKey);
  const desired = desiredState(scene);
  const { edit, owned, preserved, cut } = decide(desired, current, record, deps.sync);
  await keepOriginals(deps.redis, deps.keys, ratingKey, originalsOfEdit(current, edit, record));
  const editRequests = isEmptyEdit(edit) ? 0 : await deps.plex.applyEdit(sectionKey, ratingKey, edit);
  await writeOwnership(deps.redis, deps.keys, ratingKey, ownershipChanges(record, owned));
  const notes = { ...(preserved.length ? { preserved } : {}), ...(cut.length ? { cut } : {}) };
  if (!deps.sync.fields.includes('poster') || !desired.posterUrl) return { ratingKey, editRequests, posterUploaded: false, ...notes };
  return { ratingKey, editRequests, ...(await syncPoster(deps, target, desired.posterUrl, record, current)), ...notes };
}
