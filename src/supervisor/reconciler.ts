// Leader-only reconciliation: after each outage (RECONCILE_AFTER_OUTAGE) and at a checkpoint every
// RECONCILE_INTERVAL_MS, re-sync the scenes Stash changed, so a lost hook event is late, never lost.
// A checkpoint also catches renamed performers, studios and tags (a rename does not touch the scenes'
// updated_at): each one changed since the mark becomes a fan-out inbox entry, as its hook would have.
// The mark is Stash's own high-water mark (the newest updated_at it returned, as it wrote it), never our
// clock: a Stash clock behind or ahead of ours, or in another zone, cannot hide a change. The mark's own
// second is walked again until a walk has seen it complete (markSettled): otherwise the newest change of
// a quiet library (a tag of 20 000 scenes renamed) would be fanned out again at every checkpoint.
import type { Queue } from 'bullmq';
import type { ErrorStrategies, SyncError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { RedisConnection } from '../core/redis.js';
import type { BreakerStateName } from '../resilience/breaker.js';
import type { FencedOp } from '../resilience/lease.js';
import type { Outage } from '../resilience/outages.js';
import { encodeFanoutEntry, FANOUT_RELATIONS, type FanoutRelation, type SyncJobData } from '../model/inbox-item.js';
import { formatStashTime, type StashClock, type StashWindow } from '../stash-api/client.js';
import { reconcileWindow, type StashWindowPort } from '../sync/reconcile.js';
import { readString } from '../resilience/tolerant-read.js';

/** What a checkpoint needs of the Stash client besides the scene window. */
export interface StashCheckpointPort extends StashWindowPort {
  relationsUpdatedIn(kind: FanoutRelation, window: StashWindow, clock: StashClock, perPage?: number): AsyncGenerator<string[]>;
}

/**
 * The stored checkpoint as a window start: Stash's own time text (RFC 3339, since this version), or
 * the epoch ms earlier versions stored (our clock then: moved onto Stash's by the measured skew); null
 * when absent or unreadable (then with a warning in `warnings`).
 */
export function checkpointSince(stored: string | null, warnings: string[] = []): string | number | null {
  if (stored === null) return null;
  const text = stored.trim();
  if (/^\d{1,15}$/.test(text) && Number(text) > 0) return Number(text);
  if (Number.isFinite(Date.parse(text)) && /T\d{2}:\d{2}/.test(text)) return text;
  warnings.push(`stored reconciliation checkpoint unreadable (${JSON.stringify(text.slice(0, 40))}): ignored`);
  return null;
}

/**
 * How long after a second Stash may still commit a change stamped with it (the stamp is taken before the
 * write's transaction commits; a bulk edit of many scenes is one transaction).
 */
export const MARK_SETTLE_MS = 60_000;

/**
 * Whether a walk that began after the clock read (`readAt`, our clock) saw the mark's second complete:
 * Stash's clock, at its lowest estimate (StashClock.aheadMs.min), was then past that second by
 * MARK_SETTLE_MS. Without a measured skew (no `Date` header) never: the second is walked every time.
 */
export function markSettled(mark: string, clock: Pick<StashClock, 'aheadMs'>, readAt: number): boolean {
  const at = Date.parse(mark);
  if (!clock.aheadMs || !Number.isFinite(at)) return false;
  return readAt + clock.aheadMs.min >= Math.floor(at / 1000) * 1000 + 1000 + MARK_SETTLE_MS;
}

/**
 * Where a checkpoint's walk starts: the stored mark, its own second included (a change in it may have
 * come after Stash reported the mark), or, once a walk saw that second complete (`settled` is the mark),
 * the next second, written as Stash writes times (its zone's offset).
 */
export function checkpointStart(since: string | number, settled: string | null, offsetMinutes: number): string | number {
  if (typeof since !== 'string' || settled !== since || !Number.isFinite(Date.parse(since))) return since;
  return formatStashTime(Date.parse(since) + 1000, offsetMinutes);
}

/**
 * What the leader's tick starts: an outage's window first, then a checkpoint when due; nothing while one
 * runs, nor while the breaker is not CLOSED. The queue is held then, so a reconciliation's jobs could only
 * wait, counted among the outage's (jobsAffected) though no outage held them back; nothing is lost by
 * waiting: the checkpoint's mark does not move, and each outage's own window runs once it has ended.
 */
export function nextReconciliation(input: {
  busy: boolean;
  breaker: BreakerStateName;
  windowsPending: number;
  intervalMs: number;
  now: number;
  nextCheckpointAt: number;
}): 'window' | 'checkpoint' | null {
  if (input.busy || input.breaker !== 'CLOSED') return null;
  if (input.windowsPending > 0) return 'window';
  return input.intervalMs > 0 && input.now >= input.nextCheckpointAt ? 'checkpoint' : null;
}

export interface ReconcilerOptions {
  stash: StashCheckpointPort;
  queue: Queue<SyncJobData>;
  strategies: ErrorStrategies;
  redis: RedisConnection;
  checkpointKey: string;
  /** The mark a walk saw complete (keys().reconcileSettled): the next walk starts after its second. */
  settledKey: string;
  /** The inbox stream (keys().inbox): renames found at a checkpoint are XADDed there as fan-outs. */
  inboxKey: string;
  intervalMs: number;
  afterOutage: boolean;
  write: (ops: FencedOp[]) => Promise<boolean>;
  log: Logger;
  /** Told of a failure that is Stash's (unreachable, key rejected): one line naming the setting, throttled. */
  onStashFault?: (err: SyncError) => void;
}

export class Reconciler {
  private busy: Promise<void> | undefined;
  private nextCheckpointAt = 0; // at start
  private pendingWindows: { since: number; why: string }[] = [];

  constructor(private readonly opts: ReconcilerOptions) {}

  /** Called by the leader's loop with the breaker's state; starts at most one reconciliation at a time, in the background. */
  tick(now: number, breaker: BreakerStateName): void {
    const next = nextReconciliation({
      busy: this.busy !== undefined,
      breaker,
      windowsPending: this.pendingWindows.length,
      intervalMs: this.opts.intervalMs,
      now,
      nextCheckpointAt: this.nextCheckpointAt,
    });
    if (next === 'window') {
      const window = this.pendingWindows.shift()!;
      this.busy = this.run(() => this.window(window.since, window.why));
    } else if (next === 'checkpoint') {
      this.nextCheckpointAt = now + this.opts.intervalMs;
      this.busy = this.run(() => this.checkpoint());
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
      .catch((err) => {
        const type = (err as { type?: unknown }).type;
        if (this.opts.onStashFault && (type === 'StashUnavailable' || type === 'StashAuthError')) this.opts.onStashFault(err as SyncError);
        else this.opts.log.warn({ err: (err as Error).message }, 'reconciliation failed; retried at the next checkpoint');
      })
      .finally(() => (this.busy = undefined));
  }

  private async window(since: number, why: string) {
    const clock = await this.opts.stash.clock();
    const r = await reconcileWindow({ ...this.opts, window: { since }, clock });
    this.opts.log.info(
      { why, scenes: r.scenes, queued: r.queued },
      `reconciled ${why}: ${r.scenes} scene(s) changed, ${r.queued} queued for a re-sync`,
    );
  }

  /**
   * Scenes, then performers, studios, tags and groups updated since the stored mark; the mark moves to the
   * newest change Stash reported before the walk, so anything written during or after it is newer.
   * The walk runs even when that newest change is still the mark: a change in the mark's own second
   * (or, after a DST fall-back, one that sorts below it as text) does not move it. It starts after the
   * mark's second once a walk saw that second complete (checkpointStart, markSettled).
   */
  private async checkpoint() {
    const warnings: string[] = [];
    const stored = await readString(this.opts.redis, this.opts.checkpointKey, 'reconciliation checkpoint', warnings);
    const settled = await readString(this.opts.redis, this.opts.settledKey, 'settled reconciliation checkpoint', warnings);
    const clock = await this.opts.stash.clock();
    const readAt = Date.now();
    const since = checkpointSince(stored, warnings);
    for (const w of warnings) this.opts.log.warn(`${w}; rewritten at this checkpoint`);
    if (since === null) {
      // First run (or an unreadable mark): nothing to catch up from; Sync All does the first full sync.
      this.opts.log.info('reconciliation checkpoint set; changes from now on are caught up every interval');
    } else {
      const start = checkpointStart(since, settled, clock.offsetMinutes);
      await reconcileWindow({ ...this.opts, window: { since: start }, clock });
      await this.relations(start, clock);
    }
    // An empty library: the epoch, so the first scenes it gets are all caught up.
    const mark = clock.newest ?? formatStashTime(0, clock.offsetMinutes);
    const nowSettled = since !== null && markSettled(mark, clock, readAt) ? mark : null;
    const ops: FencedOp[] = [];
    if (mark !== stored) ops.push({ cmd: 'SET', key: this.opts.checkpointKey, args: [mark] });
    if (nowSettled !== settled)
      ops.push(
        nowSettled ? { cmd: 'SET', key: this.opts.settledKey, args: [nowSettled] } : { cmd: 'DEL', key: this.opts.settledKey, args: [] },
      );
    if (ops.length > 0) await this.opts.write(ops);
  }

  /** One fan-out inbox entry per performer, studio, tag and group changed since `since`. */
  private async relations(since: string | number, clock: StashClock) {
    const counts: Record<string, number> = {};
    for (const relation of FANOUT_RELATIONS) {
      counts[relation] = 0;
      for await (const ids of this.opts.stash.relationsUpdatedIn(relation, { since }, clock)) {
        const now = Date.now();
        const pipeline = this.opts.redis.pipeline();
        for (const id of ids)
          pipeline.xadd(
            this.opts.inboxKey,
            '*',
            ...encodeFanoutEntry({ relation, id, event: `reconcile:${relation}-updated`, enqueuedAt: now }),
          );
        const results = await pipeline.exec();
        const failed = results?.find(([err]) => err);
        if (failed) throw failed[0]!;
        counts[relation] += ids.length;
      }
    }
    const total = Object.values(counts).reduce((a, b) => a + b, 0);
    this.opts.log.info({ since: String(since), ...counts }, `reconciliation queued ${total} performer/studio/tag/group fan-out(s)`);
  }
}
