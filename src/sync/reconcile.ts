// Re-sync what Stash changed in a time window (after an outage, at each checkpoint, on demand): page by
// page, as bulk-priority jobs. Deduplication keeps repeated windows cheap, and an unchanged scene costs
// no Plex edit, so reconciling too much is harmless while reconciling too little would lose a change.
import type { Queue } from 'bullmq';
import type { ErrorStrategies } from '../errors.js';
import type { Logger } from '../log.js';
import type { SyncJobData } from './job.js';
import { enqueueSyncBulk } from './queue.js';

/** What reconciliation needs of the Stash client. */
export interface StashWindowPort {
  scenesUpdatedSince(since: Date, until?: Date, perPage?: number): AsyncGenerator<string[]>;
}

/** Margin subtracted from every window start, for clock skew between Stash and stash2plex. */
export const RECONCILE_SKEW_MARGIN_MS = 60_000;

export interface ReconcileResult {
  scenes: number;
  pages: number;
}

export async function reconcileWindow(opts: {
  stash: StashWindowPort;
  queue: Queue<SyncJobData>;
  strategies: ErrorStrategies;
  since: number;
  until?: number;
  log?: Logger;
  onPage?: (done: number) => void;
}): Promise<ReconcileResult> {
  const since = new Date(Math.max(0, opts.since - RECONCILE_SKEW_MARGIN_MS));
  const until = opts.until === undefined ? undefined : new Date(opts.until);
  let scenes = 0;
  let pages = 0;
  for await (const ids of opts.stash.scenesUpdatedSince(since, until)) {
    const now = Date.now();
    await enqueueSyncBulk(opts.queue, ids.map((sceneId) => ({ sceneId, reason: 'reconcile' as const, enqueuedAt: now })), opts.strategies);
    scenes += ids.length;
    pages++;
    opts.onPage?.(scenes);
  }
  opts.log?.info({ since: since.toISOString(), until: until?.toISOString() ?? 'now', scenes, pages }, `reconciliation enqueued ${scenes} scene(s)`);
  return { scenes, pages };
}
