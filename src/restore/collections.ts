// A restore of the Plex collections stash2plex wrote to (a restore of everything only: a collection is
// shared by many scenes): for each collection noted in `origCollections`, the plan of
// ./collection-plan.ts sent to it, then its ownership record and originals forgotten, so a later sync
// of it starts as a first one would. A dry run reads and plans only.
import { stopIfAborted, SyncError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { Keys, RedisConnection } from '../core/redis.js';
import type { PlexPoster } from '../model/types.js';
import type { PlexCollection } from '../plex/client.js';
import { collectionsWithOriginals, forgetCollectionOriginals, readOriginals } from '../sync/originals.js';
import { forgetOwnership, readOwnership } from '../sync/ownership-store.js';
import { itemErrorOrThrow } from './item-errors.js';
import { planCollectionRestore, type CollectionField, type CollectionRestorePlan } from './collection-plan.js';

/** What a collection's restore needs of the Plex client (src/plex/client.ts). */
export interface CollectionRestorePort {
  collection(ratingKey: string): Promise<PlexCollection>;
  posters(ratingKey: string): Promise<PlexPoster[]>;
  selectPoster(ratingKey: string, posterKey: string): Promise<void>;
  editCollection(sectionKey: string, ratingKey: string, fields: { summary?: string }, unlock?: readonly string[]): Promise<void>;
}

export interface CollectionRestoreDeps {
  redis: RedisConnection;
  keys: Pick<Keys, 'own' | 'orig' | 'origCollections'>;
  plex: CollectionRestorePort;
  log?: Pick<Logger, 'info' | 'warn'>;
}

export interface CollectionRestore {
  ratingKey: string;
  /** Its title in Plex (null: not read, it is gone or nothing was kept). */
  title: string | null;
  restored: CollectionField[];
  neverWritten: CollectionField[];
  plexChanged: CollectionField[];
  notes: string[];
  /** Why it could not be restored (gone from Plex, Plex refused the edit). */
  error?: string;
}

/** The collections of a restore of everything (`--json`: `collections`). */
export interface CollectionsRestoreSummary {
  /** Collections with kept originals. */
  examined: number;
  /** Collections with a field put back, or already as Plex had it (a dry run: would be). */
  restored: number;
  /** Collections with a field changed in Plex since stash2plex wrote it: that field left as it is. */
  plexChanged: number;
  /** Collections that could not be restored (see each one's `error`). */
  failed: number;
  /** The first COLLECTIONS_LISTED, each with its fields by outcome. */
  listed: CollectionRestore[];
}

/** Most collections the summary details. */
export const COLLECTIONS_LISTED = 100;

/** Sends the plan: the poster's selection first (it may lock), then the summary and the locks to release. */
async function putBack(plex: CollectionRestorePort, collection: PlexCollection, plan: CollectionRestorePlan): Promise<void> {
  if (plan.selectPoster) await plex.selectPoster(collection.ratingKey, plan.selectPoster);
  if (plan.summary === undefined && plan.unlock.length === 0) return;
  if (!collection.sectionKey)
    throw new SyncError('PlexBadRequest', `Plex did not say which library collection ${collection.ratingKey} is in`);
  await plex.editCollection(
    collection.sectionKey,
    collection.ratingKey,
    plan.summary === undefined ? {} : { summary: plan.summary },
    plan.unlock,
  );
}

const forget = (deps: CollectionRestoreDeps, ratingKey: string) =>
  Promise.all([forgetOwnership(deps.redis, deps.keys, ratingKey), forgetCollectionOriginals(deps.redis, deps.keys, ratingKey)]);

async function restoreCollection(deps: CollectionRestoreDeps, ratingKey: string, dryRun: boolean): Promise<CollectionRestore> {
  const kept = await readOriginals(deps.redis, deps.keys, ratingKey);
  const out: CollectionRestore = { ratingKey, title: null, restored: [], neverWritten: [], plexChanged: [], notes: [] };
  out.notes = kept.damaged.map((f) => `${f}: the kept value is unreadable`);
  if (Object.keys(kept.originals).length === 0) {
    // Nothing to put back (only an upload's SHA-1, or unreadable entries): the note goes.
    if (!dryRun) await forgetCollectionOriginals(deps.redis, deps.keys, ratingKey);
    return { ...out, neverWritten: ['summary', 'poster'] };
  }
  const [record, collection] = await Promise.all([readOwnership(deps.redis, deps.keys, ratingKey), deps.plex.collection(ratingKey)]);
  const posters = kept.originals.poster ? (collection.thumb ? await deps.plex.posters(ratingKey) : []) : null;
  const plan = planCollectionRestore({ kept, record, collection, posters });
  Object.assign(out, { title: collection.title, restored: plan.restored, neverWritten: plan.neverWritten, plexChanged: plan.plexChanged });
  out.notes.push(...plan.notes);
  if (dryRun) return out;
  await putBack(deps.plex, collection, plan);
  await forget(deps, ratingKey);
  deps.log?.info(
    { ratingKey, restored: plan.restored, plexChanged: plan.plexChanged },
    `restore: collection "${collection.title}" (${ratingKey}) restored`,
  );
  return out;
}

/** A collection gone or that refused the edit: reported, and the run goes on; an outage stops it. */
async function restoreOrReport(deps: CollectionRestoreDeps, ratingKey: string, dryRun: boolean): Promise<CollectionRestore> {
  try {
    return await restoreCollection(deps, ratingKey, dryRun);
  } catch (thrown) {
    const err = itemErrorOrThrow(thrown);
    // A collection Plex no longer has (deleted in Plex): what was kept of it can never be put back.
    if (!dryRun && err.type === 'PlexNotFound') await forget(deps, ratingKey);
    return { ratingKey, title: null, restored: [], neverWritten: [], plexChanged: [], notes: [], error: err.reason };
  }
}

/** Every collection with kept originals, restored (a dry run: planned). */
export async function restoreCollections(
  deps: CollectionRestoreDeps,
  opts: { dryRun: boolean; signal?: AbortSignal },
): Promise<CollectionsRestoreSummary> {
  const summary: CollectionsRestoreSummary = { examined: 0, restored: 0, plexChanged: 0, failed: 0, listed: [] };
  const seen = new Set<string>();
  for await (const ratingKeys of collectionsWithOriginals(deps.redis, deps.keys)) {
    for (const ratingKey of ratingKeys) {
      if (seen.has(ratingKey)) continue; // SSCAN may answer a member twice
      seen.add(ratingKey);
      stopIfAborted(opts.signal, `after ${summary.examined} collections`);
      const c = await restoreOrReport(deps, ratingKey, opts.dryRun);
      summary.examined++;
      if (c.restored.length > 0) summary.restored++;
      if (c.plexChanged.length > 0) summary.plexChanged++;
      if (c.error !== undefined) summary.failed++;
      if (summary.listed.length < COLLECTIONS_LISTED) summary.listed.push(c);
    }
  }
  return summary;
}
