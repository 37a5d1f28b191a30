// The supervisor's control loop: the imperative shell around the pure breaker, ramp and probe schedule.
// Only the lease holder acts; every write is fenced by the lease; all state lives in Redis, so a standby
// (or a restarted leader) carries on exactly where the last one was.
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Queue } from 'bullmq';
import type { Config } from '../core/config.js';
import { SyncError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { Keys, RedisConnection } from '../core/redis.js';
import { stepAll, type BreakerEvent, type BreakerState, type BreakerStateName, type BreakerTransition } from '../resilience/breaker.js';
import { LeaderLease, type FencedOp } from '../resilience/lease.js';
import { closeOutage, endOutageRamp, upsertOutage, type Outage } from '../resilience/outages.js';
import { nextProbeDelay, probeStreak } from '../resilience/probe-schedule.js';
import {
  rampErrorRate,
  rampFinished,
  rampLimit,
  RAMP_STEP_MS,
  steadyLimit,
  TRIAL_LIMIT,
  updateBackoff,
  type RampState,
  type RateLimit,
} from '../resilience/ramp.js';
import { foldSignals, lastSignalId, readSignals } from '../resilience/signals.js';
import { afterTokenCheck, pauseReasons, tokenCheckDue, type TokenCheck } from '../resilience/token.js';
import { planStep, takeoverEffects, transitionEffects, type Effect, type HoldView, type StepPlan } from '../resilience/transition-effects.js';
import { libraryProblems, type PlexSection } from '../plex/paths.js';
import { libraryCheckWrite } from './library-check.js';
import { QueueControl } from './queue-control.js';
import { healthWrite, type HealthRecord } from '../resilience/health-record.js';
import { breakerWrites, countOutageJobs, outageJobsAdd, outageJobsClear, outagesWrite, rampWrites, readSnapshot, transitionWrites, type SupervisorSnapshot } from '../resilience/store.js';

/** What the supervisor needs of Plex: the unauthenticated probe, the token check, the sections (PLEX_LIBRARIES check). */
export interface PlexHealthPort {
  identity(timeoutMs?: number): Promise<{ latencyMs: number }>;
  checkToken(): Promise<void>;
  sections?(): Promise<PlexSection[]>;
}

export interface ProbeResult {
  ok: boolean;
  latencyMs: number | null;
  error: string | null;
  at: number;
}

export interface SupervisorOptions {
  config: Config;
  log: Logger;
  redis: RedisConnection;
  keys: Keys;
  queues: Queue[];
  plex: PlexHealthPort;
  id?: string;
  leaseTtlMs?: number;
  tickMs?: number;
  now?: () => number;
  random?: () => number;
  /** Called after each outage ends (reconciliation hooks in here). */
  onRecovered?: (outage: Outage) => void;
  /** Called at the end of every leader tick, with the breaker's state (leader-only background work such as reconciliation). */
  onLeaderTick?: (now: number, breaker: BreakerStateName) => void;
}

/** What a plan's effects returned, for its announcement. */
interface Done {
  paused: string[];
  resumed: string[];
  jobsAffected: number;
}

export class Supervisor {
  readonly id: string;
  private readonly lease: LeaderLease;
  private readonly control: QueueControl;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly tickMs: number;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private ticking: Promise<void> | undefined;

  // Leader-only view of the state, loaded from Redis when leadership is gained.
  private leader = false;
  private state: SupervisorSnapshot | undefined;
  private lastRenew = 0;
  private nextProbeAt = 0;
  private probeFailuresInARow = 0;
  private outcomes: { at: number; ok: boolean }[] = [];
  private appliedLimit: string | undefined;
  private lastRampEval = 0;
  /** A worker met PlexAuthError since the last token check. */
  private tokenSuspect = false;
  /** When this leader last began a token check (answered or not), for the recheck interval. */
  private tokenCheckStartedAt: number | null = null;
  /** The PLEX_LIBRARIES problems last logged, so a recheck that finds the same says nothing new. */
  private loggedLibraryProblems = '';

  constructor(private readonly opts: SupervisorOptions) {
    this.id = opts.id ?? `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;
    this.lease = new LeaderLease(opts.redis, opts.keys.leader, this.id, opts.leaseTtlMs);
    this.control = new QueueControl(opts.queues, this.lease, opts.keys, opts.redis);
    this.now = opts.now ?? Date.now;
    this.random = opts.random ?? Math.random;
    this.tickMs = opts.tickMs ?? 250;
  }

  get isLeader(): boolean {
    return this.leader;
  }

  async start(): Promise<void> {
    this.running = true;
    const loop = async () => {
      if (!this.running) return;
      this.ticking = this.tick().catch((err) => this.opts.log.warn({ err: (err as Error).message }, 'supervisor tick failed'));
      await this.ticking;
      if (this.running) this.timer = setTimeout(loop, this.leader ? this.tickMs : Math.min(1_000, this.lease.ttlMs / 3));
    };
    await loop();
  }

  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    await this.ticking;
    if (this.leader) await this.lease.release().catch(() => undefined);
    this.leader = false;
  }

  /** One pass: keep or gain the lease, consume signals, probe when due, act on transitions, steer the ramp. */
  async tick(): Promise<void> {
    const now = this.now();
    if (!(await this.holdLease(now))) return;
    const snap = this.state!;
    const events: BreakerEvent[] = [];

    // Passive signals from the workers, in order.
    const signals = await readSignals(this.opts.redis, this.opts.keys.signals, snap.signalCursor || '0-0', 2_000);
    const fold = foldSignals(signals, this.opts.config.errorStrategies);
    events.push(...fold.events);
    this.outcomes.push(...fold.outcomes);
    const affected = fold.affectedJobs;
    if (signals.length) snap.signalCursor = signals.at(-1)!.id;
    // Workers meeting 401/403: find out whether the token itself is rejected (and while it is, whether
    // it works again).
    if (fold.authSuspect) this.tokenSuspect = true;
    await this.recheckTokenIfDue(now);
    const windowStart = now - this.opts.config.ramp.errorWindowMs;
    this.outcomes = this.outcomes.filter((o) => o.at > windowStart);

    // Active probe when due.
    if (now >= this.nextProbeAt) {
      const probe = await this.probe();
      events.push(probe.ok ? { type: 'success', source: 'probe' } : { type: 'failure', source: 'probe', error: probe.error ?? 'probe failed', at: probe.at });
    }

    const before = snap.breaker;
    const { state: after, transitions } = stepAll(before, events, this.opts.config.breaker, now);
    snap.breaker = after;
    const plan = planStep({
      before,
      after,
      transitions,
      ramp: snap.ramp,
      outages: snap.outages,
      affectedJobs: affected.length,
      historySize: this.opts.config.outageHistorySize,
      now,
      newOutageId: () => `${now.toString(36)}-${randomUUID().slice(0, 4)}`,
    });
    if (plan.pauseFirst) await this.control.pause();
    if (!(await this.persist(this.stepWrites(plan, affected)))) return;
    for (const t of transitions) await this.perform(transitionEffects(t, this.holdView()), now, t);
    if (transitions.length) this.scheduleProbe(now);
    await this.steerRamp(now);
    this.opts.onLeaderTick?.(now, snap.breaker.state);
  }

  /** A write fenced by this supervisor's lease (for leader-only helpers). */
  write(ops: FencedOp[]): Promise<boolean> {
    return this.lease.write(ops);
  }

  private async holdLease(now: number): Promise<boolean> {
    if (this.leader && now - this.lastRenew < this.lease.ttlMs / 3) return true;
    const r = await this.lease.tryAcquire();
    this.lastRenew = now;
    if (r === 'held-by-other') {
      if (this.leader) this.opts.log.warn({ id: this.id }, 'lost the supervisor lease: standing by');
      this.leader = false;
      return false;
    }
    if (r === 'replaced-corrupt') this.opts.log.warn('the supervisor lease had no expiry (stale or corrupt): taken over');
    if (!this.leader) await this.becomeLeader(now);
    return true;
  }

  /** Loads the state left by the previous leader and makes the queues match it. */
  private async becomeLeader(now: number) {
    const { breakerStored: _stored, ...snap } = await readSnapshot(this.opts.redis, this.opts.keys, now);
    for (const w of snap.warnings) this.opts.log.warn(`${w}; using a safe state`);
    if (!snap.signalCursor) snap.signalCursor = (await lastSignalId(this.opts.redis, this.opts.keys.signals)) ?? '0-0';
    this.state = snap;
    this.leader = true;
    this.appliedLimit = undefined;
    this.probeFailuresInARow = 0;
    this.nextProbeAt = now; // probe at once: the new leader wants a fresh view
    this.opts.log.info({ id: this.id, state: snap.breaker.state, ramp: !!snap.ramp }, 'became the supervisor leader');
    // Replace what could not be read with the safe state, breaker and ramp together.
    if (snap.warnings.length) await this.persist(this.rampWrites(snap.ramp));
    await this.perform(takeoverEffects(this.holdView()), now);
  }

  /** The breaker's one fenced batch: the outage's job set, the ramp and the outage history of `plan`. */
  private stepWrites(plan: StepPlan, affected: string[]): FencedOp[] {
    const k = this.opts.keys;
    const ops: FencedOp[] = [];
    if (plan.outageJobs === 'add') ops.push(outageJobsAdd(k, affected));
    else if (plan.outageJobs === 'clear') ops.push(outageJobsClear(k));
    if (plan.ramp !== undefined) ops.push(...this.rampWrites(plan.ramp));
    if (plan.outages) {
      this.state!.outages = plan.outages;
      ops.push(outagesWrite(k, plan.outages));
    }
    return ops;
  }

  /** Performs a plan of transition-effects.ts, in order (`t`: the transition it is for, if any). */
  private async perform(effects: readonly Effect[], now: number, t?: BreakerTransition): Promise<void> {
    const done: Done = { paused: [], resumed: [], jobsAffected: 0 };
    for (const e of effects) {
      if (e.do === 'record') await this.record(t!);
      else if (e.do === 'pause') done.paused = await this.control.pause();
      else if (e.do === 'addHeldJobs') await this.addHeldJobs();
      else if (e.do === 'setLimit') await this.applyLimit(e.limit);
      else if (e.do === 'resume') done.resumed = await this.control.resume();
      else if (e.do === 'closeOutage') {
        done.jobsAffected = await this.countAffected();
        if (e.outage) await this.saveOutage(closeOutage(e.outage, now, done.jobsAffected));
      } else if (e.do === 'clearOutageJobs') await this.lease.write([outageJobsClear(this.opts.keys)]);
      else if (e.do === 'announce') this.announce(t!, done);
      else if (e.do === 'checkToken') await this.checkToken();
      else this.opts.onRecovered?.(closeOutage(e.outage, now, done.jobsAffected));
    }
  }

  private holdView(): HoldView {
    const snap = this.state!;
    return { breaker: snap.breaker.state, tokenRejected: snap.health.tokenRejected, outages: snap.outages };
  }

  /** Writes breaker (with the signal cursor) and ramp, plus `extra`, in one fenced batch. */
  private async persist(extra: FencedOp[]): Promise<boolean> {
    const snap = this.state!;
    const k = this.opts.keys;
    const ok = await this.lease.write([...breakerWrites(k, snap.breaker, snap.signalCursor), ...extra]);
    if (!ok) {
      this.opts.log.warn('write refused: this supervisor no longer holds the lease');
      this.leader = false;
    }
    return ok;
  }

  /** The writes that store `ramp` (none: the key deleted) and make it the leader's view. */
  private rampWrites(ramp: RampState | null): FencedOp[] {
    this.state!.ramp = ramp;
    return rampWrites(this.opts.keys, ramp);
  }

  private async saveRamp(ramp: RampState | null): Promise<boolean> {
    return this.lease.write(this.rampWrites(ramp));
  }

  private async saveOutage(outage: Outage): Promise<boolean> {
    const snap = this.state!;
    snap.outages = upsertOutage(snap.outages, outage, this.opts.config.outageHistorySize);
    return this.lease.write([outagesWrite(this.opts.keys, snap.outages)]);
  }

  /** Appends `t` to the stored transitions and logs it. */
  private async record(t: BreakerTransition) {
    await this.lease.write(transitionWrites(this.opts.keys, t));
    const level = t.to === 'OPEN' ? 'error' : 'warn';
    this.opts.log[level]({ from: t.from, to: t.to, reason: t.reason }, `breaker ${t.from} → ${t.to}: ${t.reason}`);
  }

  /** What transition `t` meant for the queue, once its effects are done. */
  private announce(t: BreakerTransition, done: Done) {
    const log = this.opts.log;
    if (t.to === 'OPEN') log.error({ paused: done.paused }, 'Plex is DOWN: queue paused until it recovers');
    else if (t.to === 'HALF_OPEN') log.warn({ resumed: done.resumed }, 'Plex answers again: trial at one job per second');
    else {
      const recovery = this.state!.breaker.recoveries;
      log.info({ recovery, jobsAffected: done.jobsAffected }, `Plex is back online (recovery #${recovery})`);
    }
  }

  /** Distinct jobs held back: those that failed an outage-class attempt, plus those waiting in the paused queue. */
  private async countAffected(): Promise<number> {
    await this.addHeldJobs();
    return countOutageJobs(this.opts.redis, this.opts.keys);
  }

  /** Adds the jobs waiting in the paused queue to the outage's set, in pages. */
  private async addHeldJobs(): Promise<void> {
    const k = this.opts.keys;
    for (const q of this.opts.queues) {
      for (const state of ['waiting', 'prioritized', 'delayed'] as const) {
        for (let start = 0; ; start += 1000) {
          const jobs = await q.getRanges([state], start, start + 999, true);
          if (!jobs.length) break;
          await this.lease.write([outageJobsAdd(k, jobs)]);
          if (jobs.length < 1000) break;
        }
      }
    }
  }

  private async applyLimit(limit: RateLimit | null) {
    const sig = limit ? `${limit.max}/${limit.duration}` : 'none';
    if (sig === this.appliedLimit) return;
    const trialSig = `${TRIAL_LIMIT.max}/${TRIAL_LIMIT.duration}`;
    await this.control.setRateLimit(limit);
    // The trial's last one-second window would hold the ramp's first jobs back: the ramp starts now.
    if (this.appliedLimit === trialSig) await this.control.endRateWindow();
    this.appliedLimit = sig;
  }

  /** Re-evaluates the ramp once a step: rate from the schedule (mid-step), halved while errors are high. */
  private async steerRamp(now: number) {
    const snap = this.state!;
    if (snap.breaker.state !== 'CLOSED' || now - this.lastRampEval < RAMP_STEP_MS) return;
    this.lastRampEval = now;
    const { ramp: settings, errorThreshold, errorWindowMs } = { ramp: this.opts.config.ramp, ...this.opts.config.ramp };
    if (!snap.ramp) {
      if (this.appliedLimit === undefined) await this.applyLimit(steadyLimit(this.opts.config.plex.maxRate));
      return;
    }
    if (rampFinished(snap.ramp, settings, now)) {
      await this.applyLimit(steadyLimit(this.opts.config.plex.maxRate));
      await this.saveRamp(null);
      const last = snap.outages.find((o) => o.endedAt !== null && o.rampEndedAt === null);
      if (last) await this.saveOutage(endOutageRamp(last, now));
      this.opts.log.info('ramp finished, normal rate');
      return;
    }
    const ramp = updateBackoff(snap.ramp, rampErrorRate(snap.ramp, this.outcomes, errorWindowMs, now), errorThreshold, now);
    if (ramp !== snap.ramp) {
      await this.saveRamp(ramp);
      this.opts.log.warn({ backoff: ramp.backoff }, ramp.backoff ? 'errors during the ramp: rate halved' : 'errors fell: ramp rate restored');
    }
    await this.applyLimit(rampLimit(ramp, settings, now + RAMP_STEP_MS / 2));
  }

  private scheduleProbe(now: number) {
    const delay = nextProbeDelay({
      state: this.state!.breaker.state,
      failuresInARow: this.probeFailuresInARow,
      settings: this.opts.config.health,
      random: this.random(),
    });
    this.nextProbeAt = delay === null ? Number.POSITIVE_INFINITY : now + delay;
  }

  /** GET /identity now; records the result (also the entry point of the manual probe). */
  async probe(): Promise<ProbeResult> {
    const at = this.now();
    let result: ProbeResult;
    try {
      const { latencyMs } = await this.opts.plex.identity(this.opts.config.health.timeoutMs);
      result = { ok: true, latencyMs, error: null, at };
    } catch (err) {
      result = { ok: false, latencyMs: null, error: err instanceof SyncError ? err.reason : (err as Error).message, at };
    }
    this.probeFailuresInARow = probeStreak(this.probeFailuresInARow, result.ok);
    if (this.leader) {
      this.scheduleProbe(this.now());
      await this.saveHealth({ lastProbeAt: at, ok: result.ok, latencyMs: result.latencyMs, error: result.error });
    }
    return result;
  }

  /**
   * The authenticated check (at start, after each recovery, and when due: see tokenCheckDue). A token
   * Plex rejects is no outage, but it holds the queue like one (reason "token rejected") until it works.
   */
  async checkToken(): Promise<void> {
    const startedAt = this.now(); // workers compare their 401s with when the check began
    this.tokenCheckStartedAt = startedAt;
    let check: TokenCheck = 'accepted';
    try {
      await this.opts.plex.checkToken();
    } catch (err) {
      check = (err as { type?: string }).type === 'PlexAuthError' ? 'rejected' : 'unreachable';
    }
    const snap = this.state!;
    const effect = afterTokenCheck(check, { breaker: snap.breaker.state, tokenRejected: snap.health.tokenRejected });
    if (check === 'unreachable') return; // the probes deal with that
    if (effect.tokenRejected) {
      this.opts.log.error('Plex rejected the token (PLEX_TOKEN): queue paused (token rejected) until Plex accepts it; no job fails for it');
    } else if (snap.health.tokenRejected) this.opts.log.info('Plex accepts the token again');
    if (effect.queue === 'pause') await this.control.pause(); // before the flag shows, as with OPEN
    await this.saveHealth({ tokenRejected: effect.tokenRejected, tokenCheckedAt: startedAt });
    if (effect.queue === 'resume') await this.resumeUnlessHeld();
    if (check === 'accepted') await this.checkLibraries(startedAt);
  }

  /**
   * PLEX_LIBRARIES against the sections Plex answers with (whenever the token check passes: at start, after
   * each recovery): a missing title or a library of another type is logged as an error and stored for the
   * status page. Never an exit: Plex may be down at start, and a library may be added later.
   */
  private async checkLibraries(at: number): Promise<void> {
    if (!this.opts.plex.sections) return;
    let problems: string[];
    try {
      problems = libraryProblems(await this.opts.plex.sections(), this.opts.config.plex.libraries);
    } catch {
      return; // the probes deal with an unreachable Plex
    }
    const text = problems.join('\n');
    if (text !== this.loggedLibraryProblems) for (const p of problems) this.opts.log.error(p);
    this.loggedLibraryProblems = text;
    await this.lease.write([libraryCheckWrite(this.opts.keys, at, problems)]);
  }

  private async recheckTokenIfDue(now: number): Promise<void> {
    const snap = this.state!;
    const due = tokenCheckDue(
      {
        breaker: snap.breaker.state,
        tokenRejected: snap.health.tokenRejected,
        suspect: this.tokenSuspect,
        lastAttemptAt: this.tokenCheckStartedAt ?? snap.health.tokenCheckedAt,
        recheckMs: this.opts.config.health.tokenRecheckMs,
      },
      now,
    );
    if (!due) return;
    this.tokenSuspect = false;
    await this.checkToken();
  }

  /** Resumes the queues the supervisor paused, unless a reason to hold them remains (Plex down, token rejected). */
  private async resumeUnlessHeld(): Promise<string[]> {
    const snap = this.state!;
    if (pauseReasons({ breaker: snap.breaker.state, tokenRejected: snap.health.tokenRejected }).length) return [];
    return this.control.resume();
  }

  private async saveHealth(patch: Partial<HealthRecord>) {
    const snap = this.state!;
    snap.health = { ...snap.health, ...patch, nextProbeAt: Number.isFinite(this.nextProbeAt) ? this.nextProbeAt : null };
    await this.lease.write([healthWrite(this.opts.keys, snap.health)]);
  }

  /** For tests and the status API: the leader's current view. */
  snapshot(): Readonly<SupervisorSnapshot> | undefined {
    return this.state;
  }

  breakerState(): BreakerState | undefined {
    return this.state?.breaker;
  }
}
