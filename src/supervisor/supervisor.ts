// The supervisor's control loop: the imperative shell around the pure breaker, ramp and probe schedule.
// Only the lease holder acts; every write is fenced by the lease; all state lives in Redis, so a standby
// (or a restarted leader) carries on exactly where the last one was. The leader's view and its writes
// are ./leader-state.ts, the rate limits ./ramp-control.ts, the token checks ./token-checker.ts.
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Queue } from 'bullmq';
import type { Config } from '../core/config.js';
import { probeIdentity, type IdentityReader, type ProbeResult } from '../plex/probe.js';
import { plexProblem } from '../core/dependency-check.js';
import type { DependencyReport } from '../core/dependency-report.js';
import type { Logger } from '../core/log.js';
import type { Keys, RedisConnection } from '../core/redis.js';
import { stepAll, type BreakerEvent, type BreakerState, type BreakerStateName, type BreakerTransition } from '../resilience/breaker.js';
import { LeaderLease, type FencedOp } from '../resilience/lease.js';
import { closeOutage, type Outage } from '../resilience/outages.js';
import { nextProbeDelay, probeStreak } from '../resilience/probe-schedule.js';
import { foldSignals, readSignals } from '../resilience/signals.js';
import { pauseReasons } from '../resilience/token.js';
import type { SupervisorSnapshot } from '../resilience/store.js';
import { planStep, takeoverEffects, transitionEffects, type Effect } from '../resilience/transition-effects.js';
import type { PlexSection } from '../plex/paths.js';
import { LeaderState } from './leader-state.js';
import { LibraryChecker } from './library-check.js';
import { QueueControl } from './queue-control.js';
import { RampControl } from './ramp-control.js';
import { TokenChecker } from './token-checker.js';
import { StashChecker } from './stash-checker.js';
import type { StashServerInfo } from '../stash-api/stash-version.js';

/** Least time between checks of a Stash that is well (no fault met since): they only keep the status card fresh. */
const STASH_WELL_CHECK_MS = 30_000;

/** The health record's Stash part when no supervisor checks Stash. */
const NO_STASH_VERDICT = {
  stashLastCheckAt: null,
  stashCheckedAt: null,
  stashReachable: null,
  stashKeyRejected: false,
  stashDown: false,
  stashVersion: null,
  stashError: null,
};

/** What the supervisor needs of Plex: the unauthenticated probe, the token check, the sections (PLEX_LIBRARIES check). */
export interface PlexHealthPort extends IdentityReader {
  checkToken(): Promise<void>;
  sections?(): Promise<PlexSection[]>;
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
  /** The process's dependency report: a failed probe is one line naming PLEX_URL from the first one, before the breaker opens. */
  report?: DependencyReport;
  /** Stash, when STASH_URL is set: checked like the token (./stash-checker.ts); its faults hold the queue. */
  stash?: { version: () => Promise<StashServerInfo>; url: string; apiKeySet: boolean };
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
  private readonly state: LeaderState;
  private readonly ramp: RampControl;
  private readonly token: TokenChecker;
  private readonly stash: StashChecker | null;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly tickMs: number;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private ticking: Promise<void> | undefined;
  private leader = false;
  private lastRenew = 0;
  private probeFailuresInARow = 0;

  constructor(private readonly opts: SupervisorOptions) {
    const { config, log, redis, keys, queues, plex } = opts;
    this.id = opts.id ?? `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;
    this.lease = new LeaderLease(redis, keys.leader, this.id, opts.leaseTtlMs);
    this.control = new QueueControl(queues, this.lease, keys, redis);
    this.state = new LeaderState({ redis, keys, lease: this.lease, queues, historySize: config.outageHistorySize });
    this.now = opts.now ?? Date.now;
    this.random = opts.random ?? Math.random;
    this.tickMs = opts.tickMs ?? 250;
    this.ramp = new RampControl({ control: this.control, state: this.state, config, log });
    const sections = plex.sections ? () => plex.sections!() : undefined;
    const libraries = new LibraryChecker({ sections, libraries: config.plex.libraries, keys, write: (ops) => this.lease.write(ops), log });
    const checkToken = () => plex.checkToken();
    this.token = new TokenChecker({
      checkToken,
      state: this.state,
      control: this.control,
      libraries,
      recheckMs: config.health.tokenRecheckMs,
      now: this.now,
      log,
    });
    const stash = opts.stash;
    this.stash = stash
      ? new StashChecker({
          version: stash.version,
          stash: { url: stash.url, apiKeySet: stash.apiKeySet },
          state: this.state,
          control: this.control,
          recheckMs: config.health.tokenRecheckMs,
          // A well Stash is looked at for the status card only: every 30 s at most often.
          everyMs: config.health.closedIntervalMs === 0 ? 0 : Math.max(config.health.closedIntervalMs, STASH_WELL_CHECK_MS),
          now: this.now,
          log,
          report: opts.report,
        })
      : null;
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
      if (this.running) this.timer = setTimeout(() => void loop(), this.leader ? this.tickMs : Math.min(1_000, this.lease.ttlMs / 3));
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
    const snap = this.state.snap!;
    // Passive signals from the workers, in order; then the token, when workers met 401/403 or it is due.
    const signals = await readSignals(this.opts.redis, this.opts.keys.signals, snap.signalCursor || '0-0', 2_000);
    const fold = foldSignals(signals, this.opts.config.errorStrategies);
    if (signals.length) snap.signalCursor = signals.at(-1)!.id;
    if (fold.authSuspect) this.token.markSuspect();
    await this.token.recheckIfDue(now);
    if (fold.stashSuspect) this.stash?.markSuspect();
    await this.stash?.checkIfDue(now);
    this.ramp.observe(fold.outcomes, now);
    const events: BreakerEvent[] = fold.events;
    if (now >= this.state.nextProbeAt) {
      const probe = await this.probe();
      // In HALF_OPEN a probe's success stands in for a trial call only when the queues give the trial nothing.
      const idle = probe.ok && snap.breaker.state === 'HALF_OPEN' ? await this.control.idle() : false;
      events.push(
        probe.ok
          ? { type: 'success', source: 'probe', idle }
          : { type: 'failure', source: 'probe', error: probe.error ?? 'probe failed', at: probe.at },
      );
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
      affectedJobs: fold.affectedJobs.length,
      historySize: this.opts.config.outageHistorySize,
      now,
      newOutageId: () => `${now.toString(36)}-${randomUUID().slice(0, 4)}`,
    });
    if (plan.pauseFirst) await this.control.pause(pauseReasons(this.state.hold()));
    if (!(await this.persist(this.state.stepWrites(plan, fold.affectedJobs)))) return;
    for (const t of transitions) await this.perform(transitionEffects(t, this.state.holdView()), now, t);
    if (transitions.length) this.scheduleProbe(now);
    else await this.holdWhileHeld();
    await this.ramp.steer(now);
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
    const snap = await this.state.load(now);
    for (const w of snap.warnings) this.opts.log.warn(`${w}; using a safe state`);
    this.leader = true;
    this.ramp.forgetApplied();
    this.probeFailuresInARow = 0;
    this.state.nextProbeAt = now; // probe at once: the new leader wants a fresh view
    this.stash?.forget(); // and checks Stash at once
    // A leader that does not check Stash (no STASH_URL) must not leave another's verdict holding jobs.
    if (!this.stash && snap.health.stashLastCheckAt !== null) await this.state.saveHealth(NO_STASH_VERDICT);
    this.opts.log.info({ id: this.id, state: snap.breaker.state, ramp: !!snap.ramp }, 'became the supervisor leader');
    // Replace what could not be read with the safe state, breaker and ramp together.
    if (snap.warnings.length) await this.persist(this.state.rampWrites(snap.ramp));
    await this.state.noteObservedSince(now);
    await this.perform(takeoverEffects(this.state.holdView()), now);
  }

  /** Performs a plan of transition-effects.ts, in order (`t`: the transition it is for, if any). */
  private async perform(effects: readonly Effect[], now: number, t?: BreakerTransition): Promise<void> {
    const done: Done = { paused: [], resumed: [], jobsAffected: 0 };
    const endedAt = t?.trialStartedAt ?? now; // the outage ends where the trial that closed the breaker began
    for (const e of effects) {
      if (e.do === 'record') await this.record(t!);
      else if (e.do === 'pause') done.paused = (await this.control.pause(pauseReasons(this.state.hold()))).paused;
      else if (e.do === 'addHeldJobs') await this.state.addHeldJobs();
      else if (e.do === 'setLimit') await this.ramp.applyLimit(e.limit);
      else if (e.do === 'resume') done.resumed = await this.control.resume();
      else if (e.do === 'closeOutage') {
        done.jobsAffected = await this.state.countAffected();
        if (e.outage) await this.state.saveOutage(closeOutage(e.outage, endedAt, done.jobsAffected));
      } else if (e.do === 'clearOutageJobs') await this.state.clearOutageJobs();
      else if (e.do === 'promoteHeld') await this.promoteHeld();
      else if (e.do === 'announce') this.announce(t!, done);
      else if (e.do === 'checkToken') await this.token.check();
      else this.opts.onRecovered?.(closeOutage(e.outage, endedAt, done.jobsAffected));
    }
  }

  /**
   * While a pause reason stands, the pause holds: a queue someone resumed behind the supervisor's back
   * (BullMQ's resume from a script, redis-cli; Bull Board's is refused) is paused again within a tick.
   */
  private async holdWhileHeld(): Promise<void> {
    const reasons = pauseReasons(this.state.hold());
    if (!reasons.length) return;
    const { pausedAgain } = await this.control.pause(reasons);
    if (pausedAgain.length)
      this.opts.log.warn({ queues: pausedAgain, reasons }, 'queue resumed while the supervisor holds it: paused again');
  }

  /** Runs now the delayed jobs the outage delayed (logged when there were any). */
  private async promoteHeld(): Promise<void> {
    const promoted = await this.state.promoteHeldJobs();
    if (promoted) this.opts.log.info({ promoted }, 'jobs the outage delayed run now');
  }

  /** Writes breaker (with the signal cursor) plus `extra` in one fenced batch; a refusal ends the leadership. */
  private async persist(extra: FencedOp[]): Promise<boolean> {
    const ok = await this.state.persist(extra);
    if (!ok) {
      this.opts.log.warn('write refused: this supervisor no longer holds the lease');
      this.leader = false;
    }
    return ok;
  }

  /** Appends `t` to the stored transitions and logs it. */
  private async record(t: BreakerTransition) {
    await this.state.record(t);
    const level = t.to === 'OPEN' ? 'error' : 'warn';
    this.opts.log[level]({ from: t.from, to: t.to, reason: t.reason }, `breaker ${t.from} → ${t.to}: ${t.reason}`);
  }

  /** What transition `t` meant for the queue, once its effects are done. */
  private announce(t: BreakerTransition, done: Done) {
    const log = this.opts.log;
    if (t.to === 'OPEN') log.error({ paused: done.paused }, 'Plex is DOWN: queue paused until it recovers');
    else if (t.to === 'HALF_OPEN') log.warn({ resumed: done.resumed }, 'Plex answers again: trial at one job per second');
    else {
      const recovery = this.state.snap!.breaker.recoveries;
      log.info({ recovery, jobsAffected: done.jobsAffected }, `Plex is back online (recovery #${recovery})`);
    }
  }

  private scheduleProbe(now: number) {
    const delay = nextProbeDelay({
      state: this.state.snap!.breaker.state,
      failuresInARow: this.probeFailuresInARow,
      settings: this.opts.config.health,
      random: this.random(),
    });
    this.state.nextProbeAt = delay === null ? Number.POSITIVE_INFINITY : now + delay;
  }

  /** GET /identity now; records the result (also the entry point of the manual probe). */
  async probe(): Promise<ProbeResult> {
    const result = await probeIdentity(this.opts.plex, this.opts.config.health.timeoutMs, this.now, (err) =>
      this.opts.report?.fail(plexProblem(err, this.opts.config.plex.url)),
    );
    const { at } = result;
    if (result.ok) this.opts.report?.ok('plex');
    this.probeFailuresInARow = probeStreak(this.probeFailuresInARow, result.ok);
    if (this.leader) {
      this.scheduleProbe(this.now());
      await this.state.saveHealth({ lastProbeAt: at, ok: result.ok, latencyMs: result.latencyMs, error: result.error });
    }
    return result;
  }

  /** The authenticated check (at start, after each recovery, and when due): see ./token-checker.ts. */
  checkToken(): Promise<void> {
    return this.token.check();
  }

  /** For tests and the status API: the leader's current view. */
  snapshot(): Readonly<SupervisorSnapshot> | undefined {
    return this.state.snap;
  }

  breakerState(): BreakerState | undefined {
    return this.state.snap?.breaker;
  }
}
