// Reconcile Library: every Stash scene and its Plex item, page by page, put in the gap classes of
// ./library-gaps.ts, and (unless a dry run) the scenes a sync would fix queued. Never the whole library
// in memory: a page of scenes (1000) at a time, and the Plex side in Redis.
//
// Finding the items cheaply, per page: the path cache first (one HMGET; the entries the workers wrote,
// verified against the item read), then, for what it does not know, the run's index of the allowed
// libraries' files in Redis (./library-index.ts: listing pages of 1000, 100 requests for 100 000 items,
// checked whole before every lookup). The index is built only when the cache misses, so a library the
// workers have synced costs no listing. Items are read ITEMS_PER_REQUEST to a request
// (`GET /library/metadata/{k1},{k2},…`), a few requests at a time.
import { randomUUID } from 'node:crypto';
import { ReconcileIndexLost, stopIfAborted } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { Keys, RedisConnection } from '../core/redis.js';
import type { PlexItem, StashScene } from '../model/types.js';
import { normalisePlexPath } from '../plex/paths.js';
import {
  classifyScene,
  emptyReport,
  indexLostMessage,
  movedSinceSync,
  tallyScene,
  type GapSettings,
  type LibraryReport,
} from './library-gaps.js';
import { LibraryIndex, type Candidate, type IndexPlexPort } from './library-index.js';
import { readItemOwnership } from './processor.js';
import { readSceneItems } from './scene-item.js';

/** What the walk needs of the Stash client (src/stash-api/client.ts). */
export interface LibraryStashPort {
  scenePages(perPage?: number): AsyncIterable<{ count: number; scenes: StashScene[] }>;
}

/** What the walk needs of the Plex client (PlexClient): the path cache (path-cache.ts), items.ts getItems, locations.ts covers. */
export interface LibraryPlexPort extends IndexPlexPort {
  cachedMatches(stashPaths: readonly string[]): Promise<({ ratingKey: string; file: string } | null)[]>;
  /** For each Plex file, whether a sync found a Stash file at exactly that path (PlexClient.syncedPaths). */
  syncedPaths(plexFiles: readonly string[]): Promise<boolean[]>;
  getItems(ratingKeys: readonly string[]): Promise<Map<string, PlexItem>>;
  covers(stashPath: string): Promise<boolean>;
}

export interface LibraryProgress {
  scanned: number;
  /** Scenes in Stash, as its last page said (they may come and go during the walk). */
  total: number;
  /** Jobs added to the sync queue so far (not the scenes whose job was already waiting). */
  queued: number;
  /** Inbox entries written so far (the Stash task: the workers queue them). */
  sentToInbox: number;
}

/** What became of scene ids handed on: jobs really added to the sync queue, or inbox entries written. */
export interface Handoff {
  queued: number;
  sentToInbox: number;
}

export interface LibraryReconcileDeps {
  stash: LibraryStashPort;
  plex: LibraryPlexPort;
  redis: RedisConnection;
  keys: Pick<Keys, 'own' | 'reconcileIndex' | 'plexSceneItem' | 'plexCollectionTitles'>;
  settings: GapSettings;
  /** Queues scene ids for a sync (bulk priority, deduplicated) and says how many were added; absent: a dry run. */
  enqueue?: (sceneIds: string[]) => Promise<Handoff>;
  onProgress?: (p: LibraryProgress) => void;
  log?: Pick<Logger, 'info' | 'warn'>;
  now?: () => number;
  /** Stash page size (default and most 1000). */
  perPage?: number;
  /** Stops the walk before the next page once fired (the Stash task that asked for it went away). */
  signal?: AbortSignal;
  /** Item reads in flight at once (default 4, each of up to ITEMS_PER_REQUEST items). */
  itemConcurrency?: number;
  /** Keys of one item read (default 100, ITEMS_PER_REQUEST: one request each; getItems splits a larger one). */
  itemsPerRequest?: number;
}

/** Runs `fn` over `items`, at most `limit` at once. */
async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const run = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, run));
  return out;
}

const holds = (item: PlexItem | undefined, file: string): item is PlexItem =>
  !!item && item.files.some((f) => normalisePlexPath(f) === file);

/** The items of a page's candidates: ITEMS_PER_REQUEST keys a request, a few requests at once. */
async function readItems(deps: LibraryReconcileDeps, candidates: readonly (Candidate | null)[]): Promise<Map<string, PlexItem>> {
  const keys = [...new Set(candidates.filter((c): c is Candidate => c !== null).map((c) => c.ratingKey))];
  const per = deps.itemsPerRequest ?? 100;
  const chunks = Array.from({ length: Math.ceil(keys.length / per) }, (_, i) => keys.slice(i * per, (i + 1) * per));
  const maps = await mapLimit(chunks, deps.itemConcurrency ?? 4, (chunk) => deps.plex.getItems(chunk));
  return new Map(maps.flatMap((m) => [...m]));
}

/**
 * An index candidate found by base name that a moved file left behind is not taken, as a sync does not
 * take it (PlexClient's ResolveOptions.lastSyncedTo, docs/MATCHING.md): the item the scene last synced to
 * (`hints`), holding the file at a path where a sync found a Stash file exactly (PlexClient.syncedPaths).
 */
async function withoutLeftBehind(
  deps: LibraryReconcileDeps,
  scenes: readonly StashScene[],
  hints: readonly (string | null)[],
  looked: Awaited<ReturnType<LibraryIndex['lookup']>>,
) {
  const suspects = looked
    .map((l, n) => {
      const c = l.candidate;
      return c && c.ratingKey === hints[n] && !scenes[n].files.some((f) => deps.plex.plexPathOf(f.path) === c.file) ? n : null;
    })
    .filter((n): n is number => n !== null);
  if (suspects.length === 0) return looked;
  const synced = await deps.plex.syncedPaths(suspects.map((n) => looked[n].candidate!.file));
  const dropped = new Set(suspects.filter((_, k) => synced[k]));
  return looked.map((l, n) => (dropped.has(n) ? { candidate: null, ambiguous: false } : l));
}

/** Each scene's item (or null), without one whether it is ambiguous, and whether its file moved since its last sync. */
async function resolvePage(deps: LibraryReconcileDeps, index: LibraryIndex, scenes: readonly StashScene[]) {
  if (scenes.length === 0) return [];
  const [cached, hints] = await Promise.all([
    deps.plex.cachedMatches(scenes.flatMap((s) => s.files.map((f) => f.path))),
    readSceneItems(
      deps.redis,
      deps.keys,
      scenes.map((s) => s.id),
    ),
  ]);
  let at = 0;
  const perScene = scenes.map((s) => cached.slice(at, (at += s.files.length)));
  const fromCache = perScene.map((mine) => mine.find((c) => c !== null) ?? null);
  const items = await readItems(deps, fromCache);
  const out = fromCache.map((c, i) => ({
    item: c && holds(items.get(c.ratingKey), c.file) ? items.get(c.ratingKey)! : null,
    ambiguous: false,
    moved: movedSinceSync(hints[i] ?? null, perScene[i]),
  }));
  const missing = scenes.flatMap((s, i) => (out[i].item ? [] : [i]));
  if (missing.length === 0) return out;
  const lookedFor = missing.map((i) => scenes[i]);
  const looked = await withoutLeftBehind(
    deps,
    lookedFor,
    missing.map((i) => hints[i] ?? null),
    await index.lookup(lookedFor),
  );
  const more = await readItems(
    deps,
    looked.map((l) => l.candidate),
  );
  missing.forEach((i, n) => {
    const { candidate, ambiguous } = looked[n];
    const item = candidate ? more.get(candidate.ratingKey) : undefined;
    out[i] = { ...out[i], item: candidate && holds(item, candidate.file) ? item : null, ambiguous };
  });
  return out;
}

/** Classifies one page into the report; returns the ids to queue. */
async function classifyPage(
  deps: LibraryReconcileDeps,
  index: LibraryIndex,
  scenes: readonly StashScene[],
  report: LibraryReport,
): Promise<string[]> {
  const resolved = await resolvePage(deps, index, scenes);
  const owned = await Promise.all(
    resolved.map(({ item }) =>
      item ? readItemOwnership({ ...deps, sync: deps.settings }, item, item, [], true) : Promise.resolve({ record: {} }),
    ),
  );
  const toQueue: string[] = [];
  for (const [i, scene] of scenes.entries()) {
    const { item, ambiguous, moved } = resolved[i];
    // Only asked when it could matter: the scan is the fix of a scene Plex does not hold.
    const scannable = !item && !ambiguous && deps.settings.scanMissing && (await anyCovered(deps, scene));
    const gaps = classifyScene({ scene, item, ...owned[i], scannable, moved }, deps.settings);
    tallyScene(report, scene.id, gaps);
    if (gaps.queue) toQueue.push(scene.id);
  }
  return toQueue;
}

async function anyCovered(deps: LibraryReconcileDeps, scene: StashScene): Promise<boolean> {
  for (const f of scene.files) if (await deps.plex.covers(f.path)) return true;
  return false;
}

/** The walk: every page of Stash's scenes, classified, the fixable ones queued (not in a dry run). */
export async function reconcileLibrary(deps: LibraryReconcileDeps): Promise<LibraryReport> {
  const now = deps.now ?? Date.now;
  const started = now();
  const report = emptyReport(!deps.enqueue, started);
  const index = new LibraryIndex({ plex: deps.plex, redis: deps.redis, keyPrefix: deps.keys.reconcileIndex, log: deps.log }, randomUUID());
  let total = 0;
  try {
    for await (const { count, scenes } of deps.stash.scenePages(deps.perPage)) {
      total = Math.max(count, report.scanned + scenes.length);
      stopIfAborted(deps.signal, `after ${report.scanned} of ${total} scenes`);
      const ids = await classifyPage(deps, index, scenes, report);
      if (deps.enqueue && ids.length > 0) {
        const handed = await deps.enqueue(ids);
        report.queued += handed.queued;
        report.sentToInbox += handed.sentToInbox;
      }
      deps.onProgress?.({ scanned: report.scanned, total, queued: report.queued, sentToInbox: report.sentToInbox });
    }
  } catch (err) {
    // The page being classified when the index was lost counts neither as read nor as queued.
    if (err instanceof ReconcileIndexLost) throw new ReconcileIndexLost(indexLostMessage(report, total), { cause: err });
    throw err;
  } finally {
    await index.drop().catch(() => undefined);
  }
  report.finishedAt = now();
  report.durationMs = report.finishedAt - started;
  return report;
}
