// Leader-only reconciliation: after each outage (RECONCILE_AFTER_OUTAGE) and at a checkpoint every
// RECONCILE_INTERVAL_MS, re-sync the scenes Stash changed, so a lost hook event is late, never lost.
import type { Queue } from 'bullmq';
import type { ErrorStrategies } from '../errors.js';
import type { Logger } from '../log.js';
import type { RedisConnection } from '../redis.js';
import type { FencedOp } from '../resilience/lease.js';
import type { Outage } from '../resilience/outages.js';
import type { SyncJobData } from '../sync/job.js';
import { reconcileWindow, type StashWindowPort } from '../sync/reconcile.js';

export interface ReconcilerOptions {
  stash: StashWindowPort;
  queue: Queue<SyncJobData>;
  strategies: ErrorStrategies;
  redis: RedisConnection;
  checkpointKey: string;
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

  /** Scenes updated since the stored high-water mark; the mark moves to this run's start. */
  private async checkpoint(startedAt: number) {
    const stored = Number(await this.opts.redis.get(this.opts.checkpointKey));
    if (Number.isFinite(stored) && stored > 0 && stored <= startedAt) {
      await reconcileWindow({ ...this.opts, since: stored });
    } else {
      // First run (or an unreadable mark): nothing to catch up from; Sync All does the first full sync.
      this.opts.log.info('reconciliation checkpoint set; changes from now on are caught up every interval');
    }
    await this.opts.write([{ cmd: 'SET', key: this.opts.checkpointKey, args: [String(startedAt)] }]);
  }
}
