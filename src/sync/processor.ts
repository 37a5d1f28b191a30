// One scene sync: read Stash fresh, check the quality gate, find the Plex item, check that the item is
// this scene's (claims.ts), decide with the ownership record what to send, record it as intended, send
// only that, then confirm what is now ours.
import type { Config, SyncField } from '../core/config.js';
import { SyncError } from '../core/errors.js';
import type { Keys, RedisConnection } from '../core/redis.js';
import type { PlexEdit, DesiredPlexState, PlexItem, PlexPoster, Screenshot, StashScene } from '../model/types.js';
import type { ResolvedItem, ResolveOptions } from '../plex/resolver.js';
import type { BreakerGate } from '../resilience/gate.js';
import type { StashSceneFiles } from '../stash-api/client.js';
import { conflictReason } from './claims.js';
import { desiredState, isEmptyEdit, type PhotoLinks } from './mapping.js';
import { aroundCollectionEdit, type CollectionPlexPort } from './collection-items.js';
import { ownImage, sceneCollections } from './collections.js';
import { ourCollectionTitles } from './collection-titles.js';
import { checkMatch, forgetClaim, releaseScene } from './match-check.js';
import { decideEdit, type OwnershipRecord } from './ownership.js';
import { carryOwnership, confirmOwnership, forgetOwnership, readOwnership, recordIntents } from './ownership-store.js';
import { forgetOriginals, keepOriginals, originalsOfEdit } from './originals.js';
import { syncSceneImages } from './scene-images.js';
import { forgetSceneItem, readSceneItem, rememberSceneItem } from './scene-item.js';
import { excludedReason, readExclusion } from './sync-exclusions.js';
import type { FolderScanner } from './scan-missing.js';
import { unmetRequirements } from './readiness.js';

/**
 * What the processor needs of the Plex client (the PlexClient facade, src/plex/client.ts): resolver.ts
 * (resolveItem, confirmGone), items.ts (getItem), editor.ts (applyEdit, editBudget), posters.ts
 * (uploadPoster, posters), locations.ts (plexPathOf).
 */
export interface PlexPort {
  /** `size`: the file's bytes in Stash, for the base-name fallback (docs/MATCHING.md); `opts.read`: how to read an item while resolving. */
  resolveItem(stashPath: string, size: number | null, opts?: ResolveOptions): Promise<ResolvedItem>;
  getItem(ratingKey: string): Promise<PlexItem>;
  applyEdit(sectionKey: string, ratingKey: string, edit: PlexEdit): Promise<number>;
  /** The bytes of query one edit request of the item may carry (PLEX_MAX_URL_BYTES): what decideEdit() cuts a value to. */
  editBudget(sectionKey: string, ratingKey: string): number;
  uploadPoster(sectionKey: string, ratingKey: string, bytes: Buffer, contentType: string): Promise<void>;
  /** Uploads the item's background (src/sync/scene-images.ts). */
  uploadArt(sectionKey: string, ratingKey: string, bytes: Buffer, contentType: string): Promise<void>;
  /** A Stash file's path as Plex would hold it (PATH_MAP applied). */
  plexPathOf(stashPath: string): string;
  /** The item's posters: read before the first upload, to keep the one Plex had selected (src/sync/originals.ts). */
  posters(ratingKey: string): Promise<PlexPoster[]>;
  /** The item's backgrounds: read before the first upload, as the posters. */
  arts(ratingKey: string): Promise<PlexPoster[]>;
  /** Whether an item is proven gone: the section holding `plexFile` answers a listing, and a second read of the key is still 404. */
  confirmGone(ratingKey: string, plexFile: string): Promise<boolean>;
}

/** What the processor needs of the Stash client (src/stash-api/client.ts). */
export interface StashPort {
  findScene(id: string): Promise<StashScene | null>;
  fetchScreenshot(url: string): Promise<Screenshot>;
  /** POSTER_FROM=group: the front image URL of the first group of the scene that has one (null: none). */
  groupCover?(sceneId: string): Promise<string | null>;
  scenesWithFileNamed(basename: string): Promise<StashSceneFiles[]>;
}

export interface SyncDeps {
  plex: PlexPort;
  stash: StashPort;
  redis: RedisConnection;
  keys: Pick<
    Keys,
    'own' | 'syncSkipped' | 'plexSceneItem' | 'plexItemScene' | 'plexConflicts' | 'orig' | 'syncExcluded' | 'plexCollectionTitles'
  >;
  /** Mode, SYNC_FIELDS, SYNC_REQUIRE, PRESERVE_PLEX_EDITS, MAX_TAGS, POSTER_STYLE, POSTER_FROM, DASHBOARD_PUBLIC_URL. */
  sync: Config['sync'];
  /** POSTER_MAX_BYTES: the largest image uploaded (default 20 MiB). */
  posterMaxBytes?: number;
  /** The secret actor photo links are signed with (src/sync/image-links.ts imageSecret); absent: no actor photos. */
  imageSecret?: () => Promise<string>;
  /** PLEX_SCAN_MISSING: asks Plex to scan the folders of a scene it does not hold (absent: no scan). */
  scanMissing?: FolderScanner;
  /** PLEX_NOT_FOUND: 'retry' (default) throws PlexNotFound; 'skip' completes as skipped ("not in Plex"). */
  notFound?: 'retry' | 'skip';
  /** Nothing is forgotten while the breaker is not CLOSED (absent: no breaker, always CLOSED). */
  gate?: Pick<BreakerGate, 'breakerClosed'>;
  /** Collection artwork and text, renames and COLLECTION_PRUNE (src/sync/collection-items.ts); absent: membership alone. */
  collections?: { plex: CollectionPlexPort; keys: Pick<Keys, 'plexCollections' | 'plexCollectionsCreated' | 'origCollections'> };
  now?: () => number;
}

export interface SyncedResult {
  ratingKey: string;
  /** Plex edit requests sent (0 for an unchanged scene). */
  editRequests: number;
  posterUploaded: boolean;
  /** Why the screenshot was not uploaded (not JPEG/PNG/WebP, too large), when it was not. */
  posterSkipped?: string;
  /** Present (true) when the background was uploaded. */
  backgroundUploaded?: true;
  /** Why the background was not uploaded, when it was not. */
  backgroundSkipped?: string;
  /** Fields left alone because they were changed in Plex since stash2plex set them (PRESERVE_PLEX_EDITS). */
  preserved?: SyncField[];
  /** Lists cut to MAX_TAGS, e.g. "genres: 250 → 200", and values cut to fit one edit request (PLEX_MAX_URL_BYTES). */
  cut?: string[];
}

/** A scene SYNC_REQUIRE holds back: no Plex request was made. */
export interface SkippedResult {
  skipped: string;
}

export type SyncResult = SyncedResult | SkippedResult;

export const NOT_IN_PLEX = 'not in Plex';

/** The item a scene last synced to (keys.plexSceneItem), its read already under way. */
export interface PrefetchedItem {
  ratingKey: string;
  item: Promise<PlexItem>;
}

/**
 * Starts reading the item the scene last synced to while its Stash read is under way: an unchanged scene
 * then costs one round trip, not two. Never rejects; the read's own error surfaces only if resolution
 * asks for that item (it is the one it would have read), and a stale hint costs one key of a read.
 */
async function prefetchItem(deps: SyncDeps, sceneId: string): Promise<PrefetchedItem | null> {
  const ratingKey = await readSceneItem(deps.redis, deps.keys, sceneId).catch(() => null);
  if (!ratingKey) return null;
  const item = deps.plex.getItem(ratingKey);
  item.catch(() => undefined);
  return { ratingKey, item };
}

/** What one sync learnt of items proven gone (so that none is proven twice), and how it forgets them. */
interface GoneItems {
  proven: Set<string>;
  onGone: (ratingKey: string, replacedBy: string | null) => Promise<void>;
}

/**
 * An item proven gone (PlexClient.confirmGone): its record moves to the item that replaced it, or is
 * forgotten; its claim goes, and so does the scene's hint when it named that item and nothing replaced
 * it. Never while the breaker is not CLOSED: answers then prove nothing.
 */
function goneItems(deps: SyncDeps, sceneId: string, hint: PrefetchedItem | null): GoneItems {
  const proven = new Set<string>();
  const onGone = async (ratingKey: string, replacedBy: string | null): Promise<void> => {
    if (deps.gate && !(await deps.gate.breakerClosed())) return;
    proven.add(ratingKey);
    if (replacedBy) await carryOwnership(deps.redis, deps.keys, ratingKey, replacedBy);
    else await forgetOwnership(deps.redis, deps.keys, ratingKey);
    // What Plex had before stash2plex wrote to that item is no use on another: a successor keeps its own.
    await forgetOriginals(deps.redis, deps.keys, ratingKey);
    await forgetClaim(deps, ratingKey);
    if (!replacedBy && hint?.ratingKey === ratingKey) await forgetSceneItem(deps.redis, deps.keys, sceneId);
  };
  return { proven, onGone };
}

/**
 * The scene resolved to another item than the one it last synced to (its hint): Stash moved or renamed
 * its file, and Plex holds it as a new item. The old item is left as it is while Plex still has it; once
 * it is proven gone (its read was 404, and confirmGone agrees), its record moves to the new item as
 * intents and its claim goes, exactly as for an item replaced at the same path (docs/ARCHITECTURE.md,
 * "Ownership").
 */
async function leftBehind(
  deps: SyncDeps,
  gone: GoneItems,
  hint: PrefetchedItem | null,
  target: ResolvedItem,
  plexFile: string,
): Promise<void> {
  if (!hint || hint.ratingKey === target.ratingKey || gone.proven.has(hint.ratingKey)) return;
  const missing = await hint.item.then(
    () => false,
    (err: unknown) => err instanceof SyncError && err.type === 'PlexNotFound',
  );
  if (missing && (await deps.plex.confirmGone(hint.ratingKey, plexFile))) await gone.onGone(hint.ratingKey, target.ratingKey);
}

/**
 * Tries each of the scene's files (a scene may have several): the first Plex knows wins; a file Plex does
 * not hold is told to `onMiss` and the next is tried. Throws the last PlexNotFound when none is held.
 */
export async function resolveScene(
  scene: StashScene,
  plex: Pick<PlexPort, 'resolveItem'>,
  opts: ResolveOptions,
  onMiss?: (path: string, err: SyncError) => void,
): Promise<{ target: ResolvedItem; file: StashScene['files'][number] }> {
  if (scene.files.length === 0) throw new SyncError('PlexNotFound', `scene ${scene.id} has no file`);
  let notFound: unknown;
  for (const file of scene.files) {
    try {
      return { target: await plex.resolveItem(file.path, file.size ?? null, opts), file };
    } catch (err) {
      if (!(err instanceof SyncError && err.type === 'PlexNotFound')) throw err;
      onMiss?.(file.path, err);
      notFound = err;
    }
  }
  throw notFound;
}

/** The reader of items while resolving: the prefetched item for its key, else a fresh read. */
const readerOf = (deps: SyncDeps, prefetched: PrefetchedItem | null) =>
  prefetched ? (k: string) => (k === prefetched.ratingKey ? prefetched.item : deps.plex.getItem(k)) : undefined;

/** Not in Plex: ask for a scan of its folders, then retry (throw) or complete as skipped (null). */
async function whenNotFound(scene: StashScene, deps: SyncDeps, err: unknown): Promise<null> {
  if (!(err instanceof SyncError && err.type === 'PlexNotFound')) throw err;
  await deps.scanMissing?.(scene.files.map((f) => f.path));
  if (deps.notFound === 'skip') return null;
  throw err;
}

/** A scene Stash no longer has: its hint, claim and conflict go (its item's ownership stays with the item). */
async function sceneMissing(deps: SyncDeps, sceneId: string): Promise<never> {
  const ratingKey = await readSceneItem(deps.redis, deps.keys, sceneId).catch(() => null);
  await releaseScene(deps, sceneId, ratingKey).catch(() => undefined);
  await forgetSceneItem(deps.redis, deps.keys, sceneId).catch(() => undefined);
  throw new SyncError('StashSceneMissing', `scene ${sceneId} does not exist in Stash`);
}

/**
 * The edit and the ownership record: what `decideEdit` sends is recorded as intended first, then sent, then
 * confirmed, so an answer lost after Plex applied the edit (or a worker killed in between) leaves the
 * value recognised as stash2plex's on the next attempt.
 */
async function applyDecision(deps: SyncDeps, target: ResolvedItem, current: PlexItem, desired: DesiredPlexState, owned: ItemOwnership) {
  const { ratingKey, sectionKey } = target;
  const { record, ourCollections } = owned;
  const editBudget = deps.plex.editBudget(sectionKey, ratingKey);
  const decision = decideEdit(desired, current, record, { ...deps.sync, editBudget, ourCollections });
  let editRequests = 0;
  if (!isEmptyEdit(decision.edit)) {
    await keepOriginals(deps.redis, deps.keys, ratingKey, originalsOfEdit(current, decision.edit, record));
    await recordIntents(deps.redis, deps.keys, ratingKey, decision.intents);
    editRequests = await deps.plex.applyEdit(sectionKey, ratingKey, decision.edit);
  }
  await confirmOwnership(deps.redis, deps.keys, ratingKey, record, decision);
  const { preserved, cut } = decision;
  const collections = decision.edit.tags.collection;
  return {
    editRequests,
    notes: { ...(preserved.length ? { preserved } : {}), ...(cut.length ? { cut } : {}) },
    // What the edit did to the item's collections (src/sync/collection-items.ts looks at those alone).
    collections: { sent: collections?.set ?? [], left: collections?.remove ?? [] },
  };
}

/** What stash2plex owns of the item: its ownership record, and the collections it may take the item out of. */
export interface ItemOwnership {
  record: OwnershipRecord;
  ourCollections: Set<string> | undefined;
}

/**
 * Both reads at once (back to back on the connection, one round trip's wait). A sync records the
 * collections it is about to send (ourCollectionTitles); explain only looks (`readOnly`).
 */
export async function readItemOwnership(
  deps: Pick<SyncDeps, 'redis' | 'sync'> & { keys: Pick<Keys, 'own' | 'plexCollectionTitles'> },
  item: { ratingKey: string; sectionKey: string },
  current: PlexItem,
  wanted: readonly string[],
  readOnly = false,
): Promise<ItemOwnership> {
  const titles = { current: current.tags.collection ?? [], wanted };
  const [record, ourCollections] = await Promise.all([
    readOwnership(deps.redis, deps.keys, item.ratingKey),
    deps.sync.fields.includes('collection') ? ourCollectionTitles(deps.redis, deps.keys, item.sectionKey, titles, !readOnly) : undefined,
  ]);
  return { record, ourCollections };
}

export async function syncScene(sceneId: string, deps: SyncDeps): Promise<SyncResult> {
  const excluded = await readExclusion(deps.redis, deps.keys, sceneId);
  if (excluded) return { skipped: excludedReason(sceneId, excluded) };
  const prefetched = prefetchItem(deps, sceneId);
  const scene = await deps.stash.findScene(sceneId);
  if (!scene) return sceneMissing(deps, sceneId);
  const unmet = unmetRequirements(scene, deps.sync.require);
  if (unmet.length > 0) {
    await Promise.all(unmet.map((u) => deps.redis.hincrby(deps.keys.syncSkipped, u.requirement, 1)));
    return { skipped: `not ready: ${unmet.map((u) => u.why).join('; ')}` };
  }
  const hint = await prefetched;
  const gone = goneItems(deps, sceneId, hint);
  const resolveOpts = { read: readerOf(deps, hint), onGone: gone.onGone, lastSyncedTo: hint?.ratingKey };
  const resolved = await resolveScene(scene, deps.plex, resolveOpts).catch((err: unknown) => whenNotFound(scene, deps, err));
  if (!resolved) return { skipped: NOT_IN_PLEX };
  const { target, file } = resolved;
  const { ratingKey } = target;
  const current = target.item ?? (await deps.plex.getItem(ratingKey));
  const matchDeps = {
    ...deps,
    plexPathOf: (p: string) => deps.plex.plexPathOf(p),
    scenesWithFileNamed: (n: string) => deps.stash.scenesWithFileNamed(n),
  };
  const conflict = await checkMatch(matchDeps, scene, target, file, current, (deps.now ?? Date.now)());
  if (conflict) return { skipped: conflictReason(conflict) };
  if (hint?.ratingKey !== ratingKey) {
    await leftBehind(deps, gone, hint, target, deps.plex.plexPathOf(file.path));
    await rememberSceneItem(deps.redis, deps.keys, sceneId, ratingKey).catch(() => undefined);
  }
  const wanted = sceneCollections(scene, deps.sync.collections);
  const desired = desiredState(scene, await photoLinks(deps), { ...deps.sync, collections: wanted.map((c) => c.title) });
  const owned = await readItemOwnership(deps, target, current, desired.tags.collection ?? []);
  const { record } = owned;
  const edit = () => applyDecision(deps, target, current, desired, owned);
  const collections = collectionDeps(deps);
  const { editRequests, notes } = collections ? await aroundCollectionEdit(collections, target, wanted, current, edit) : await edit();
  const images = await syncSceneImages(
    { ...deps, maxBytes: deps.posterMaxBytes ?? DEFAULT_POSTER_MAX_BYTES },
    target,
    { screenshot: desired.posterUrl, poster: await posterSource(deps, scene) },
    record,
    current,
  );
  return { ratingKey, editRequests, ...images, ...notes };
}

const DEFAULT_POSTER_MAX_BYTES = 20 * 1024 * 1024;

/** What the collections around the edit need, when SYNC_FIELDS has `collection` and the worker gave the collections' port. */
function collectionDeps(deps: SyncDeps) {
  const { collections, sync } = deps;
  if (!collections || !sync.fields.includes('collection') || !sync.collections) return null;
  return {
    plex: collections.plex,
    stash: deps.stash,
    redis: deps.redis,
    keys: { own: deps.keys.own, orig: deps.keys.orig, ...collections.keys },
    settings: sync.collections,
    preservePlexEdits: sync.preservePlexEdits,
    maxBytes: deps.posterMaxBytes ?? DEFAULT_POSTER_MAX_BYTES,
    now: deps.now,
  };
}

/** What actor photos need, when they are wanted (SYNC_FIELDS `actorphotos`, DASHBOARD_PUBLIC_URL, a secret). */
async function photoLinks(deps: SyncDeps): Promise<PhotoLinks | undefined> {
  const baseUrl = deps.sync.imageBaseUrl;
  if (!deps.sync.fields.includes('actorphotos') || !baseUrl || !deps.imageSecret) return undefined;
  return { baseUrl, secret: await deps.imageSecret() };
}

/**
 * POSTER_FROM=group: the front image of the first of the scene's groups that has one (null: the
 * screenshot), from the scene as read (its groups come with it), else asked of Stash.
 */
async function posterSource(deps: SyncDeps, scene: StashScene): Promise<string | null> {
  if (deps.sync.posterFrom !== 'group' || !deps.sync.fields.includes('poster')) return null;
  if (scene.groups) return scene.groups.map((g) => ownImage(g.front_image_path)).find((url) => url !== null) ?? null;
  return deps.stash.groupCover ? deps.stash.groupCover(scene.id) : null;
}
