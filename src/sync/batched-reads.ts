// The processor's reads, coalesced (READ_BATCH): the scene reads of the jobs running at the same moment
// become one findScenes(ids) request, their Plex item reads (a cached ratingKey's verification included)
// one `GET /library/metadata/{k1},{k2},…`. Each job still gets its own answer or its own error, of the
// same types as a single read: the processor stays one scene at a time.
import { Batcher } from '../core/batcher.js';
import type { SyncError } from '../core/errors.js';
import { ITEMS_PER_REQUEST, itemKeyCost } from '../plex/items.js';
import type { StashClient } from '../stash-api/client.js';
import type { PlexItem, StashScene } from '../model/types.js';
import type { PlexPort, StashPort } from './processor.js';

export interface ReadBatchOptions {
  /** Most keys per request: READ_BATCH, at most the worker's concurrency (1: every job reads alone). */
  maxKeys: number;
  /** How long a batch not full waits for more keys after its first (default READ_BATCH_WINDOW_MS). */
  windowMs?: number;
}

/**
 * Jobs started together fall into two groups a round trip apart (one reading Stash while the other reads
 * Plex); waiting up to 20 ms (at most half the last round trip: Batcher) lets them meet in one batch, and
 * a batch leaves at once when it is full. Measured in bench/library.ts: batches of 32 rather than ~15, at
 * the same throughput; a job alone waits at most 20 ms per read.
 */
export const READ_BATCH_WINDOW_MS = 20;

/** Most scenes per findScenes request: a page of Stash's, far below its 1000. */
export const SCENE_BATCH_MAX_IDS = 100;

/** What the coalesced reads need of the Plex client, beyond the processor's port: the batched read and its URL budget (src/plex/items.ts). */
export interface BatchablePlexPort extends PlexPort {
  readItems(ratingKeys: readonly string[]): Promise<Map<string, PlexItem | SyncError>>;
  readonly itemBatchBudget: number;
}

export function batchedPlex(plex: BatchablePlexPort, opts: ReadBatchOptions): PlexPort {
  if (opts.maxKeys <= 1) return plex;
  const items = new Batcher<string, PlexItem>((keys) => plex.readItems(keys), {
    maxKeys: Math.min(opts.maxKeys, ITEMS_PER_REQUEST),
    maxCost: plex.itemBatchBudget,
    cost: itemKeyCost,
    windowMs: opts.windowMs ?? READ_BATCH_WINDOW_MS,
  });
  const read = (ratingKey: string) => items.load(ratingKey);
  return {
    resolveItem: (stashPath, size, opts) => plex.resolveItem(stashPath, size, { ...opts, read: opts?.read ?? read }),
    getItem: read,
    applyEdit: (sectionKey, ratingKey, edit) => plex.applyEdit(sectionKey, ratingKey, edit),
    editBudget: (sectionKey, ratingKey) => plex.editBudget(sectionKey, ratingKey),
    uploadPoster: (sectionKey, ratingKey, bytes, contentType) => plex.uploadPoster(sectionKey, ratingKey, bytes, contentType),
    plexPathOf: (stashPath) => plex.plexPathOf(stashPath),
    posters: (ratingKey) => plex.posters(ratingKey),
    uploadArt: (sectionKey, ratingKey, bytes, contentType) => plex.uploadArt(sectionKey, ratingKey, bytes, contentType),
    arts: (ratingKey) => plex.arts(ratingKey),
    confirmGone: (ratingKey, plexFile) => plex.confirmGone(ratingKey, plexFile),
  };
}

export function batchedStash(stash: StashClient, opts: ReadBatchOptions): StashPort {
  if (opts.maxKeys <= 1) return stash;
  const scenes = new Batcher<string, StashScene | null>((ids) => stash.findScenes(ids), {
    maxKeys: Math.min(opts.maxKeys, SCENE_BATCH_MAX_IDS),
    windowMs: opts.windowMs ?? READ_BATCH_WINDOW_MS,
  });
  return {
    findScene: (id) => scenes.load(id),
    fetchScreenshot: (url) => stash.fetchScreenshot(url),
    groupCover: (sceneId) => stash.groupCover(sceneId),
    scenesWithFileNamed: (basename) => stash.scenesWithFileNamed(basename),
  };
}
