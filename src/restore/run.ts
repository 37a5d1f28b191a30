// A restore run: for each scene (named, or every scene whose item has kept originals), the plan of
// ./plan.ts sent to its Plex item, the scene excluded from sync, and the item's ownership record and
// originals forgotten, so a later resume starts as a first sync would. A restore of every scene then
// restores the collections stash2plex wrote to (./collections.ts). A dry run reads and plans only.
import { SYNC_FIELD_NAMES, type SyncField } from '../core/config.js';
import { stopIfAborted, SyncError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { Keys, RedisConnection } from '../core/redis.js';
import type { PlexEdit, PlexItem, PlexPoster } from '../model/types.js';
import { isEmptyEdit } from '../sync/mapping.js';
import { forgetOriginals, haveOriginals, readOriginals } from '../sync/originals.js';
import { forgetOwnership, readOwnership } from '../sync/ownership-store.js';
import { readSceneItem, sceneItemPages } from '../sync/scene-item.js';
import { excludeScene, includeScenes, readExclusion } from '../sync/sync-exclusions.js';
import { restoreCollections, type CollectionRestorePort, type CollectionsRestoreSummary } from './collections.js';
import { itemErrorOrThrow } from './item-errors.js';
import { planRestore, type RestorePlan } from './plan.js';

/** What a restore needs of the Plex client (src/plex/client.ts). */
export interface RestorePlexPort extends CollectionRestorePort {
  getItem(ratingKey: string): Promise<PlexItem>;
  posters(ratingKey: string): Promise<PlexPoster[]>;
  selectPoster(ratingKey: string, posterKey: string): Promise<void>;
  arts(ratingKey: string): Promise<PlexPoster[]>;
  selectArt(ratingKey: string, artKey: string): Promise<void>;
  applyEdit(sectionKey: string, ratingKey: string, edit: PlexEdit): Promise<number>;
}

export interface RestoreDeps {
  redis: RedisConnection;
  keys: Pick<Keys, 'own' | 'orig' | 'origCollections' | 'syncExcluded' | 'plexSceneItem'>;
  plex: RestorePlexPort;
  now?: () => number;
  log?: Pick<Logger, 'info' | 'warn'>;
}

/** Which scenes: those named, or every scene whose Plex item has kept originals. */
export type RestoreScope = { sceneIds: readonly string[] } | { all: true };

/** How far a restore is: scenes examined, and restored (or that would be, in a dry run). */
export interface RestoreProgress {
  examined: number;
  restored: number;
}

export interface RestoreOptions {
  scope: RestoreScope;
  dryRun: boolean;
  onProgress?: (p: RestoreProgress) => void;
  /** Stops the run before its next scene once fired (the Stash task that asked for it went away). */
  signal?: AbortSignal;
}

export interface SceneRestore {
  sceneId: string;
  /** The Plex item it last synced to (null: never synced). */
  ratingKey: string | null;
  restored: SyncField[];
  neverWritten: SyncField[];
  plexChanged: SyncField[];
  notes: string[];
  /** Excluded from sync by this run (a dry run: would be). */
  excluded: boolean;
  /** Why it could not be restored (its item is gone, Plex refused the edit). */
  error?: string;
}

/** `npm run restore -- --json`: the contract's keys, then extras (scenes, failed, durationMs). */
export interface RestoreSummary {
  /** Scenes with at least one field put back (a dry run: would be). */
  restored: number;
  /** Fields put back, or already as Plex had them. */
  fields: number;
  /** Scenes excluded from sync: every scene with kept originals whose restore went through. */
  excluded: number;
  /** Fields left: nothing kept (never written), or changed in Plex since stash2plex wrote them. */
  skipped: { neverWritten: number; plexChanged: number };
  dryRun: boolean;
  /** Scenes examined (named, or found with kept originals). */
  examined: number;
  /** The first SCENES_LISTED scenes, each with its fields by outcome. */
  scenes: SceneRestore[];
  /** Scenes that could not be restored (see each scene's `error`). */
  failed: number;
  durationMs: number;
  /** A restore of every scene (`--all`): the collections stash2plex wrote to; absent for chosen scenes. */
  collections?: CollectionsRestoreSummary;
}

/** Most scenes the summary details. */
export const SCENES_LISTED = 100;
/** The exclusion's reason: shown on the status page and in a skipped job's result. */
export const RESTORED = 'restored';

const nothingKept = (sceneId: string, ratingKey: string | null, notes: string[] = []): SceneRestore => ({
  sceneId,
  ratingKey,
  restored: [],
  neverWritten: [],
  plexChanged: [],
  notes,
  excluded: false,
});

/** Sends the plan: the poster and background selections first (they may lock), then the values and locks. */
async function putBack(plex: RestorePlexPort, item: PlexItem, plan: RestorePlan): Promise<void> {
  if (plan.selectPoster) await plex.selectPoster(item.ratingKey, plan.selectPoster);
  if (plan.selectArt) await plex.selectArt(item.ratingKey, plan.selectArt);
  if (isEmptyEdit(plan.edit)) return;
  if (!item.sectionKey) throw new SyncError('PlexBadRequest', `Plex did not say which library item ${item.ratingKey} is in`);
  await plex.applyEdit(item.sectionKey, item.ratingKey, plan.edit);
}

/**
 * One scene. The exclusion is written just before the put-back (a sync starting meanwhile would undo it)
 * and withdrawn if the put-back fails; the ownership record and originals are forgotten once it is done.
 */
async function restoreScene(deps: RestoreDeps, sceneId: string, dryRun: boolean): Promise<SceneRestore> {
  const { redis, keys: k } = deps;
  const ratingKey = await readSceneItem(redis, k, sceneId);
  if (!ratingKey) return { ...nothingKept(sceneId, null), neverWritten: [...SYNC_FIELD_NAMES] };
  const kept = await readOriginals(redis, k, ratingKey);
  const damaged = kept.damaged.map((f) => `${f}: the kept value is unreadable`);
  if (Object.keys(kept.originals).length === 0) return { ...nothingKept(sceneId, ratingKey, damaged), neverWritten: [...SYNC_FIELD_NAMES] };
  const [record, item] = await Promise.all([readOwnership(redis, k, ratingKey), deps.plex.getItem(ratingKey)]);
  const posters = kept.originals.poster ? (item.thumb ? await deps.plex.posters(ratingKey) : []) : null;
  const arts = kept.originals.background ? (item.art ? await deps.plex.arts(ratingKey) : []) : null;
  const plan = planRestore({ kept, record, item, posters, arts });
  const out: SceneRestore = {
    sceneId,
    ratingKey,
    restored: plan.restored,
    neverWritten: plan.neverWritten,
    plexChanged: plan.plexChanged,
    notes: [...damaged, ...plan.notes],
    excluded: true,
  };
  if (dryRun) return out;
  const wasExcluded = (await readExclusion(redis, k, sceneId)) !== null;
  await excludeScene(redis, k, sceneId, { at: (deps.now ?? Date.now)(), why: RESTORED, ratingKey });
  try {
    await putBack(deps.plex, item, plan);
  } catch (err) {
    if (!wasExcluded) await includeScenes(redis, k, [sceneId]);
    throw err;
  }
  await Promise.all([forgetOwnership(redis, k, ratingKey), forgetOriginals(redis, k, ratingKey)]);
  deps.log?.info(
    { sceneId, ratingKey, restored: plan.restored, plexChanged: plan.plexChanged },
    `restore: scene ${sceneId} (item ${ratingKey}) restored`,
  );
  return out;
}

/** A scene whose item is gone or refused the edit: reported, and the run goes on; an outage stops it. */
async function restoreOrReport(deps: RestoreDeps, sceneId: string, dryRun: boolean): Promise<SceneRestore> {
  try {
    return await restoreScene(deps, sceneId, dryRun);
  } catch (thrown) {
    const err = itemErrorOrThrow(thrown);
    const ratingKey = await readSceneItem(deps.redis, deps.keys, sceneId);
    // An item Plex no longer has: what was kept of it can never be put back.
    if (!dryRun && ratingKey && err.type === 'PlexNotFound')
      await Promise.all([forgetOwnership(deps.redis, deps.keys, ratingKey), forgetOriginals(deps.redis, deps.keys, ratingKey)]);
    return { ...nothingKept(sceneId, ratingKey), error: err.reason };
  }
}

/** Every scene whose last item has kept originals, a page of scene hints at a time. */
async function* scenesWithOriginals(deps: RestoreDeps): AsyncGenerator<string[]> {
  for await (const pairs of sceneItemPages(deps.redis, deps.keys)) {
    const kept = await haveOriginals(
      deps.redis,
      deps.keys,
      pairs.map(([, ratingKey]) => ratingKey),
    );
    const ids = pairs.filter((_, i) => kept[i]).map(([sceneId]) => sceneId);
    if (ids.length > 0) yield ids;
  }
}

async function* scopeScenes(deps: RestoreDeps, scope: RestoreScope): AsyncGenerator<string[]> {
  if ('all' in scope) yield* scenesWithOriginals(deps);
  else yield [...new Set(scope.sceneIds)];
}

export async function restoreScenes(deps: RestoreDeps, opts: RestoreOptions): Promise<RestoreSummary> {
  const started = performance.now();
  const summary: RestoreSummary = {
    restored: 0,
    fields: 0,
    excluded: 0,
    skipped: { neverWritten: 0, plexChanged: 0 },
    dryRun: opts.dryRun,
    examined: 0,
    scenes: [],
    failed: 0,
    durationMs: 0,
  };
  for await (const ids of scopeScenes(deps, opts.scope)) {
    for (const sceneId of ids) {
      stopIfAborted(opts.signal, `after ${summary.examined} scenes`);
      const s = await restoreOrReport(deps, sceneId, opts.dryRun);
      summary.examined++;
      if (s.restored.length > 0) summary.restored++;
      if (s.excluded) summary.excluded++;
      if (s.error !== undefined) summary.failed++;
      summary.fields += s.restored.length;
      summary.skipped.neverWritten += s.neverWritten.length;
      summary.skipped.plexChanged += s.plexChanged.length;
      if (summary.scenes.length < SCENES_LISTED) summary.scenes.push(s);
      opts.onProgress?.({ examined: summary.examined, restored: summary.restored });
    }
  }
  // Collections are shared by many scenes: only a restore of everything puts them back.
  if ('all' in opts.scope) summary.collections = await restoreCollections(deps, opts);
  summary.durationMs = Math.round(performance.now() - started);
  return summary;
}
