// Leader-only reconciliation: after each outage (RECONCILE_AFTER_OUTAGE) and at a checkpoint every
// RECONCILE_INTERVAL_MS, re-sync the scenes Stash changed, so a lost hook event is late, never lost.
// A checkpoint also catches renamed performers, studios and tags (a rename does not touch the scenes'
// updated_at): each one changed since the mark becomes a fan-out inbox entry, as its hook would have.
import type { Queue } from 'bullmq';
import type { ErrorStrategies } from '../errors.js';
import type { Logger } from '../log.js';
import type { RedisConnection } from '../redis.js';
import type { FencedOp } from '../resilience/lease.js';
import type { Outage } from '../resilience/outages.js';
import { encodeFanoutEntry } from '../sync/inbox.js';
import { FANOUT_RELATIONS, type FanoutRelation, type SyncJobData } from '../sync/job.js';
import { RECONCILE_SKEW_MARGIN_MS, reconcileWindow, type StashWindowPort } from '../sync/reconcile.js';
import { readCheckpoint } from './store.js';

/** What a checkpoint needs of the Stash client besides the scene window. */
export interface StashCheckpointPort extends StashWindowPort {
  relationsUpdatedSince(kind: FanoutRelation, since: Date, perPage?: number): AsyncGenerator<string[]>;
}

export interface ReconcilerOptions {
  stash: StashCheckpointPort;
  queue: Queue<SyncJobData>;
  strategies: ErrorStrategies;
  redis: RedisConnection;
  checkpointKey: string;
  /** The inbox stream (keys().inbox): renames found at a checkpoint are XADDed there as fan-outs. */
  inboxKey: string;
  intervalMs: number;
  afterOutage: boolean;
  write: (ops: FencedOp[]) => Promise<boolean>;
  log: Logger;
}

export class Reconciler {
  private busy: Promise<void> | undefined;
  private nextCheckpointAt = 0; // at start
  private pendingWindows: { since: number; why: string }[] = [];

  constructor(private readonly opts: ReconcilerOptions) {}

  /** Called by the leader's loop; starts at most one reconciliation at a time, in the background. */
  tick(now: number): void {
    if (this.busy) return;
    const window = this.pendingWindows.shift();
    if (window) {
      this.busy = this.run(() => this.window(window.since, window.why));
    } else if (this.opts.intervalMs > 0 && now >= this.nextCheckpointAt) {
      this.nextCheckpointAt = now + this.opts.intervalMs;
      this.busy = this.run(() => this.checkpoint(now));
    }
  }

  /** The outage's window, from its start to now. */
  outageEnded(outage: Outage): void {
    if (this.opts.afterOutage) this.pendingWindows.push({ since: outage.startedAt, why: `outage ${outage.id}` });
  }

  async idle(): Promise<void> {
    while (this.busy) await this.busy;
  }

  private run(fn: () => Promise<void>): Promise<void> {
    return fn()
      .catch((err) => this.opts.log.warn({ err: (err as Error).message }, 'reconciliation failed; retried at the next checkpoint'))
      .finally(() => (this.busy = undefined));
  }

  private async window(since: number, why: string) {
    const r = await reconcileWindow({ ...this.opts, since });
    this.opts.log.info({ why, scenes: r.scenes }, `reconciled ${why}: ${r.scenes} scene(s) re-synced`);
  }

  /**
   * Scenes, then performers, studios and tags updated since the stored high-water mark; the mark
   * moves to this run's start.
   */
  private async checkpoint(startedAt: number) {
    const warnings: string[] = [];
    const stored = await readCheckpoint(this.opts.redis, this.opts.checkpointKey, warnings);
    for (const w of warnings) this.opts.log.warn(`${w}; rewritten at this checkpoint`);
    if (stored !== null && stored <= startedAt) {
      await reconcileWindow({ ...this.opts, since: stored });
      await this.relations(stored);
    } else {
      // First run (or an unreadable mark): nothing to catch up from; Sync All does the first full sync.
      this.opts.log.info('reconciliation checkpoint set; changes from now on are caught up every interval');
    }
    await this.opts.write([{ cmd: 'SET', key: this.opts.checkpointKey, args: [String(startedAt)] }]);
  }

  /** One fan-out inbox entry per performer, studio and tag changed since `since` (minus the skew margin). */
  private async relations(since: number) {
    const from = new Date(Math.max(0, since - RECONCILE_SKEW_MARGIN_MS));
    const counts: Record<string, number> = {};
    for (const relation of FANOUT_RELATIONS) {
      counts[relation] = 0;
      for await (const ids of this.opts.stash.relationsUpdatedSince(relation, from)) {
        const now = Date.now();
        const pipeline = this.opts.redis.pipeline();
        for (const id of ids) pipeline.xadd(this.opts.inboxKey, '*', ...encodeFanoutEntry({ relation, id, event: `reconcile:${relation}-updated`, enqueuedAt: now }));
        const results = await pipeline.exec();
        const failed = results?.find(([err]) => err);
        if (failed) throw failed[0]!;
        counts[relation] += ids.length;
      }
    }
    const total = Object.values(counts).reduce((a, b) => a + b, 0);
    this.opts.log.info({ since: from.toISOString(), ...counts }, `reconciliation queued ${total} performer/studio/tag fan-out(s)`);
  }
}
