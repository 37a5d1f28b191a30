// The leader's view of the stored state, and its fenced writes. Loaded from Redis when leadership is
// gained and changed only through the writers of src/resilience/store.ts and health-record.ts, so what
// the leader holds is what Redis holds; a write the lease refuses changes nothing in Redis.
import { Job, type Queue } from 'bullmq';
import type { Keys, RedisConnection } from '../core/redis.js';
import type { BreakerTransition } from '../resilience/breaker.js';
import { healthWrite, type HealthRecord } from '../resilience/health-record.js';
import type { FencedOp, LeaderLease } from '../resilience/lease.js';
import { upsertOutage, type Outage } from '../resilience/outages.js';
import type { RampState } from '../resilience/ramp.js';
import { lastSignalId } from '../resilience/signals.js';
import {
  breakerWrites,
  countOutageJobs,
  inOutageJobs,
  outageJobsAdd,
  outageJobsClear,
  outagesWrite,
  rampWrites,
  readSnapshot,
  transitionWrites,
  type SupervisorSnapshot,
} from '../resilience/store.js';
import type { HoldState } from '../resilience/token.js';
import type { HoldView, StepPlan } from '../resilience/transition-effects.js';

export interface LeaderStateDeps {
  redis: RedisConnection;
  keys: Keys;
  lease: LeaderLease;
  queues: readonly Queue[];
  /** OUTAGE_HISTORY_SIZE. */
  historySize: number;
}

/** Jobs read from a queue at a time when they join the outage's job set. */
const HELD_PAGE = 1000;

export class LeaderState {
  /** The leader's view (set by load). */
  snap: SupervisorSnapshot | undefined;
  /** When the next probe is due (stored with the health record). */
  nextProbeAt = 0;

  constructor(private readonly deps: LeaderStateDeps) {}

  private get view(): SupervisorSnapshot {
    if (!this.snap) throw new Error('the supervisor state is read only by a leader');
    return this.snap;
  }

  /** Reads the state the previous leader left; a missing cursor starts after the newest signal. */
  async load(now: number): Promise<SupervisorSnapshot> {
    const { breakerStored: _stored, ...snap } = await readSnapshot(this.deps.redis, this.deps.keys, now);
    if (!snap.signalCursor) snap.signalCursor = (await lastSignalId(this.deps.redis, this.deps.keys.signals)) ?? '0-0';
    this.snap = snap;
    return snap;
  }

  /** Why the queues are held: the breaker and the token verdict. */
  hold(): HoldState {
    const h = this.view.health;
    return {
      breaker: this.view.breaker.state,
      tokenRejected: h.tokenRejected,
      stashKeyRejected: h.stashKeyRejected,
      stashDown: h.stashDown,
    };
  }

  holdView(): HoldView {
    return { ...this.hold(), outages: this.view.outages };
  }

  /** Writes breaker (with the signal cursor) plus `extra` in one fenced batch; false when the lease refused. */
  persist(extra: FencedOp[]): Promise<boolean> {
    return this.deps.lease.write([...breakerWrites(this.deps.keys, this.view.breaker, this.view.signalCursor), ...extra]);
  }

  /** The writes that store `ramp` (null: none runs), made the leader's view. */
  rampWrites(ramp: RampState | null): FencedOp[] {
    this.view.ramp = ramp;
    return rampWrites(this.deps.keys, ramp);
  }

  /** The rest of the breaker's batch: the outage's job set, the ramp and the outage history of `plan`. */
  stepWrites(plan: StepPlan, affected: readonly string[]): FencedOp[] {
    const ops: FencedOp[] = [];
    if (plan.outageJobs === 'add') ops.push(outageJobsAdd(this.deps.keys, affected));
    else if (plan.outageJobs === 'clear') ops.push(outageJobsClear(this.deps.keys));
    if (plan.ramp !== undefined) ops.push(...this.rampWrites(plan.ramp));
    if (plan.outages) {
      this.view.outages = plan.outages;
      ops.push(outagesWrite(this.deps.keys, plan.outages, this.view.observedSince));
    }
    return ops;
  }

  /** Records when the time observed began, once (the first leadership of the installation; kept ever after). */
  async noteObservedSince(now: number): Promise<void> {
    const snap = this.view;
    if (snap.observedSince !== null) return;
    snap.observedSince = Math.min(now, ...snap.outages.map((o) => o.startedAt));
    await this.deps.lease.write([outagesWrite(this.deps.keys, snap.outages, snap.observedSince)]);
  }

  saveRamp(ramp: RampState | null): Promise<boolean> {
    return this.deps.lease.write(this.rampWrites(ramp));
  }

  /** Stores `outage` in the history (replacing the one with its id), capped. */
  saveOutage(outage: Outage): Promise<boolean> {
    this.view.outages = upsertOutage(this.view.outages, outage, this.deps.historySize);
    return this.deps.lease.write([outagesWrite(this.deps.keys, this.view.outages, this.view.observedSince)]);
  }

  /** Stores the health record changed by `patch`, with the next probe's time. */
  async saveHealth(patch: Partial<HealthRecord>): Promise<void> {
    const snap = this.view;
    snap.health = { ...snap.health, ...patch, nextProbeAt: Number.isFinite(this.nextProbeAt) ? this.nextProbeAt : null };
    await this.deps.lease.write([healthWrite(this.deps.keys, snap.health)]);
  }

  /** Appends `t` to the transition log. */
  async record(breakerTransition: BreakerTransition): Promise<void> {
    await this.deps.lease.write(transitionWrites(this.deps.keys, breakerTransition));
  }

  async clearOutageJobs(): Promise<void> {
    await this.deps.lease.write([outageJobsClear(this.deps.keys)]);
  }

  /** Adds the jobs waiting in the paused queues to the outage's job set, in pages. */
  async addHeldJobs(): Promise<void> {
    for (const q of this.deps.queues) {
      for (const state of ['waiting', 'prioritized', 'delayed'] as const) {
        for (let start = 0; ; start += HELD_PAGE) {
          const jobs = await q.getRanges([state], start, start + HELD_PAGE - 1, true);
          if (!jobs.length) break;
          await this.deps.lease.write([outageJobsAdd(this.deps.keys, jobs)]);
          if (jobs.length < HELD_PAGE) break;
        }
      }
    }
  }

  /**
   * Runs now the delayed jobs of the outage's job set: those an outage-class error delayed (a hold, or a
   * retry's backoff) must not wait past the outage that caused it. Other delayed jobs keep their delay.
   * Answers how many were promoted.
   */
  async promoteHeldJobs(): Promise<number> {
    let promoted = 0;
    for (const q of this.deps.queues) {
      const delayed: string[] = [];
      for (let start = 0; ; start += HELD_PAGE) {
        const ids = await q.getRanges(['delayed'], start, start + HELD_PAGE - 1, true);
        delayed.push(...ids);
        if (ids.length < HELD_PAGE) break;
      }
      for (let i = 0; i < delayed.length; i += HELD_PAGE) {
        const page = delayed.slice(i, i + HELD_PAGE);
        const held = await inOutageJobs(this.deps.redis, this.deps.keys, page);
        for (const id of page.filter((_, j) => held[j])) if (await promote(q, id)) promoted++;
      }
    }
    return promoted;
  }

  /** Distinct jobs held back: those that failed an outage-class attempt, plus those waiting in the paused queues. */
  async countAffected(): Promise<number> {
    await this.addHeldJobs();
    return countOutageJobs(this.deps.redis, this.deps.keys);
  }
}

/** BullMQ's promote of one delayed job; false when it is gone or no longer delayed (a worker or its delay took it first). */
async function promote(q: Queue, id: string): Promise<boolean> {
  const job = await Job.fromId(q, id);
  if (!job) return false;
  return job.promote().then(
    () => true,
    () => false,
  );
}
