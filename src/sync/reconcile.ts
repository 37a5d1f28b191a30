// Re-sync what Stash changed in a time window (after an outage, at each checkpoint, on demand): page by
// page, as bulk-priority jobs. Deduplication keeps repeated windows cheap, and an unchanged scene costs
// no Plex edit, so reconciling too much is harmless while reconciling too little would lose a change.
// Stash is asked wide and in its own zone (updatedAtCriterion), and only the scenes whose updated_at lies
// in the window itself come back (stashWindowRange, src/stash-api/client.ts).
import type { Queue } from 'bullmq';
import type { ErrorStrategies } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { StashClock, StashWindow } from '../stash-api/client.js';
import type { SyncJobData } from '../model/inbox-item.js';
import { enqueueSyncBulkCounted } from './queue.js';

/** What reconciliation needs of the Stash client. */
export interface StashWindowPort {
  /** Where Stash's clock stands (its zone, its newest change): asked at the start of every run. */
  clock(): Promise<StashClock>;
  scenesUpdatedIn(window: StashWindow, clock: StashClock, perPage?: number): AsyncGenerator<string[]>;
}

export interface ReconcileResult {
  /** Scenes Stash changed in the window. */
  scenes: number;
  pages: number;
  /** Jobs added for them: a scene whose job still waits is not queued twice. */
  queued: number;
}

export async function reconcileWindow(opts: {
  stash: StashWindowPort;
  queue: Queue<SyncJobData>;
  strategies: ErrorStrategies;
  window: StashWindow;
  clock: StashClock;
  log?: Logger;
  onPage?: (done: number) => void;
}): Promise<ReconcileResult> {
  let scenes = 0;
  let pages = 0;
  let queued = 0;
  for await (const ids of opts.stash.scenesUpdatedIn(opts.window, opts.clock)) {
    const now = Date.now();
    queued += await enqueueSyncBulkCounted(
      opts.queue,
      ids.map((sceneId) => ({ sceneId, reason: 'reconcile' as const, enqueuedAt: now })),
      opts.strategies,
    );
    scenes += ids.length;
    pages++;
    opts.onPage?.(scenes);
  }
  const { since, until } = opts.window;
  opts.log?.info(
    { since: String(since), until: until === undefined ? 'now' : String(until), zone: opts.clock.offsetMinutes, scenes, pages, queued },
    `reconciliation: ${scenes} scene(s) changed, ${queued} queued${queued < scenes ? ` (${scenes - queued} already waiting)` : ''}`,
  );
  return { scenes, pages, queued };
}
