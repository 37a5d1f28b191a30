// The circuit breaker as a pure state machine: (state, event, settings, now) → (state, transition).
// No Redis, no timers: the supervisor feeds it outcome signals and probe results in order, stores the
// result (serializeBreaker) and acts on the transition (pause, trial limit, ramp, outage record).
//
//   CLOSED    --failureThreshold consecutive outage-class failures (jobs or probes)-->  OPEN
//   OPEN      --probe success at least recoveryTimeoutMs after openedAt-------------->  HALF_OPEN
//   HALF_OPEN --trialCalls trial outcomes, outage-class error rate < trialErrorRate-->  CLOSED
//   HALF_OPEN --the trial's error rate can no longer end under trialErrorRate-------->  OPEN
//   HALF_OPEN --a probe failure (Plex does not even answer /identity)---------------->  OPEN
//
// HALF_OPEN is judged on a trial, as Resilience4j judges it (permittedNumberOfCallsInHalfOpenState
// calls, then their failure rate against failureRateThreshold), not on one call as opossum's halfOpen
// does: one lucky write closed the breaker while Plex still failed half of them.

export type BreakerStateName = 'CLOSED' | 'OPEN' | 'HALF_OPEN';
export const BREAKER_STATES: readonly BreakerStateName[] = ['CLOSED', 'OPEN', 'HALF_OPEN'];

export type BreakerState = {
  state: BreakerStateName;
  /** When the current state began (epoch ms). */
  since: number;
  /** Outage-class failures in a row while CLOSED (the count that opens the breaker); 0 after a close. */
  consecutiveFailures: number;
  /** When the breaker last opened (re-opening from HALF_OPEN moves it); null while CLOSED. */
  openedAt: number | null;
  /** First failure of the current streak (the outage's `startedAt`); null when there is no streak. */
  streakStartedAt: number | null;
  /** Error of that first failure (the outage's `firstError`). */
  firstError: string | null;
  /** Trial outcomes (job successes and outage-class job failures) counted in the current HALF_OPEN period. */
  trialCalls: number;
  /** Of those, the outage-class failures. */
  trialFailures: number;
  /** When the trial last counted a job's outcome; null before the first (a starved trial is timed from `since`). */
  trialJobAt: number | null;
  /** HALF_OPEN → CLOSED transitions so far (completed recoveries). */
  recoveries: number;
};

export type BreakerSettings = {
  failureThreshold: number;
  recoveryTimeoutMs: number;
  /** Trial outcomes that decide a HALF_OPEN period (BREAKER_TRIAL_CALLS). */
  trialCalls: number;
  /** The trial closes the breaker when its outage-class error rate is under this (BREAKER_TRIAL_ERROR_RATE, in (0, 1]). */
  trialErrorRate: number;
};

export type EventSource = 'job' | 'probe';

/**
 * What the supervisor feeds the breaker, in the order it happened.
 * - `failure`: an outage-class failure (PlexServerDown, PlexTemporaryError) of a job attempt or a probe.
 *   `at` is when it happened (a signal's timestamp); it only dates the streak (outage `startedAt`) and
 *   is clamped to [state.since, now]. Defaults to `now`.
 * - `success`: a job attempt that reached Plex, or a probe that got an answer. `at` (a job's signal
 *   time) tells an attempt that ended before the trial began from one of the trial.
 * - A probe success counts as a trial outcome only when no job reaches the trial: with `idle` (every queue
 *   paused or empty, the shell's view), or when no job outcome came for TRIAL_STARVED_MS (no worker runs).
 *   Else HALF_OPEN would wait forever; with jobs coming, /identity answering says nothing of writes.
 * Other outcomes (permanent or transient errors) are not breaker events: don't feed them.
 */
export type BreakerEvent =
  | { type: 'failure'; source: EventSource; error: string; at?: number }
  | { type: 'success'; source: EventSource; at?: number; idle?: boolean };

export type BreakerTransition = {
  from: BreakerStateName;
  to: BreakerStateName;
  reason: string;
  at: number;
  /** The source of the event that caused it (CLOSED → OPEN by a probe: outage trigger 'probe'). */
  source?: EventSource;
  /**
   * HALF_OPEN → CLOSED: when the trial that passed began. Plex has been well since then (the trial proved
   * it), so the outage ends there: a trial's length is not counted as down time.
   */
  trialStartedAt?: number;
};

export type StepResult = { state: BreakerState; transition: BreakerTransition | null };

/** Longest stored error text kept (reason and firstError), so a huge message can't bloat Redis. */
export const MAX_ERROR_LENGTH = 300;

/**
 * A stored time this far in the future is accepted (clamped to now) rather than rejected: a new leader
 * on another host may run a little behind the one that wrote it.
 */
export const CLOCK_SKEW_TOLERANCE_MS = 5_000;

export function initialBreaker(now: number): BreakerState {
  return {
    state: 'CLOSED',
    since: now,
    consecutiveFailures: 0,
    openedAt: null,
    streakStartedAt: null,
    firstError: null,
    trialCalls: 0,
    trialFailures: 0,
    trialJobAt: null,
    recoveries: 0,
  };
}

function clip(error: string): string {
  return error.length > MAX_ERROR_LENGTH ? `${error.slice(0, MAX_ERROR_LENGTH - 1)}…` : error;
}

const atLeastOne = (n: number) => (Number.isFinite(n) && n >= 1 ? Math.floor(n) : 1);

/** The trial's error-rate bar: within (0, 1]; anything else reads as the default 0.2. */
export const DEFAULT_TRIAL_ERROR_RATE = 0.2;
const rateBar = (r: number) => (Number.isFinite(r) && r > 0 && r <= 1 ? r : DEFAULT_TRIAL_ERROR_RATE);

/**
 * What the trial's outcomes so far decide: 'close' once `calls` outcomes are in with an error rate under
 * the bar; 'reopen' as soon as the failures alone reach the bar over the whole trial (the rate can no
 * longer end under it, so sending the rest of the trial to a sick Plex would only hurt it); else 'wait'.
 */
export function trialVerdict(trialCalls: number, trialFailures: number, settings: Pick<BreakerSettings, 'trialCalls' | 'trialErrorRate'>) {
  const calls = atLeastOne(settings.trialCalls);
  const bar = rateBar(settings.trialErrorRate);
  if (trialFailures > 0 && trialFailures / calls >= bar) return 'reopen' as const;
  if (trialCalls >= calls) return 'close' as const;
  return 'wait' as const;
}

const pct = (n: number) => `${Math.round(n * 100)} %`;

/**
 * A trial with no job outcome for this long is starved (no worker runs, or every job is stuck): probes then
 * stand in for trial calls. Five slots of the trial's one job a second, and room for a slow attempt.
 */
export const TRIAL_STARVED_MS = 5_000;

/** Whether this probe success stands in for a trial call (see BreakerEvent). */
function probeCounts(state: BreakerState, idle: boolean | undefined, now: number): boolean {
  return idle === true || now - (state.trialJobAt ?? state.since) >= TRIAL_STARVED_MS;
}

/** CLOSED: a success resets the streak; a failure counts and the `failureThreshold`-th opens. */
function stepClosed(state: BreakerState, event: BreakerEvent, settings: BreakerSettings, now: number): StepResult {
  if (event.type === 'success') {
    if (state.consecutiveFailures === 0 && state.streakStartedAt === null && state.firstError === null) return { state, transition: null };
    return { state: { ...state, consecutiveFailures: 0, streakStartedAt: null, firstError: null }, transition: null };
  }
  const first = state.consecutiveFailures === 0 || state.streakStartedAt === null;
  const at = Math.min(now, Math.max(state.since, event.at ?? now));
  const counted: BreakerState = {
    ...state,
    consecutiveFailures: state.consecutiveFailures + 1,
    streakStartedAt: first ? at : state.streakStartedAt,
    firstError: first || state.firstError === null ? clip(event.error) : state.firstError,
  };
  if (counted.consecutiveFailures < atLeastOne(settings.failureThreshold)) return { state: counted, transition: null };
  return {
    state: { ...counted, state: 'OPEN', since: now, openedAt: now, trialCalls: 0, trialFailures: 0, trialJobAt: null },
    transition: {
      from: 'CLOSED',
      to: 'OPEN',
      reason: `${counted.consecutiveFailures} consecutive outage-class ${counted.consecutiveFailures === 1 ? 'failure' : 'failures'} (last: ${clip(event.error)})`,
      at: now,
      source: event.source,
    },
  };
}

/** HALF_OPEN → OPEN (new `openedAt`: the recovery timeout runs again; the outage's start and first error kept). */
function reopen(state: BreakerState, reason: string, source: EventSource, now: number, error?: string, at?: number): StepResult {
  return {
    state: {
      ...state,
      state: 'OPEN',
      since: now,
      openedAt: now,
      trialCalls: 0,
      trialFailures: 0,
      trialJobAt: null,
      streakStartedAt: state.streakStartedAt ?? Math.min(now, at ?? now),
      firstError: state.firstError ?? (error === undefined ? null : clip(error)),
    },
    transition: { from: 'HALF_OPEN', to: 'OPEN', reason, at: now, source },
  };
}

/** HALF_OPEN: a probe failure re-opens; a trial outcome counts, and the trial's verdict may close or re-open. */
function stepHalfOpen(state: BreakerState, event: BreakerEvent, settings: BreakerSettings, now: number): StepResult {
  if (event.type === 'failure' && event.source === 'probe') {
    return reopen(state, `probe failed in HALF_OPEN: ${clip(event.error)}`, 'probe', now, event.error, event.at);
  }
  // An attempt that ended before the trial began (a standby leader reading signals the last one left) is
  // not the trial's; a worker's clock may run up to CLOCK_SKEW_TOLERANCE_MS behind the supervisor's.
  if (event.source === 'job' && event.at !== undefined && event.at < state.since - CLOCK_SKEW_TOLERANCE_MS)
    return { state, transition: null };
  if (event.type === 'success' && event.source === 'probe' && !probeCounts(state, event.idle, now)) return { state, transition: null };
  const failed = event.type === 'failure';
  const counted: BreakerState = {
    ...state,
    trialCalls: state.trialCalls + 1,
    trialFailures: state.trialFailures + (failed ? 1 : 0),
    trialJobAt: event.source === 'job' ? now : state.trialJobAt,
  };
  const verdict = trialVerdict(counted.trialCalls, counted.trialFailures, settings);
  const tally = `${counted.trialFailures} of ${counted.trialCalls} trial ${counted.trialCalls === 1 ? 'call' : 'calls'} failed`;
  const bar = `${pct(rateBar(settings.trialErrorRate))} of ${atLeastOne(settings.trialCalls)}`;
  if (verdict === 'reopen') {
    const last = failed ? ` (last: ${clip(event.error)})` : '';
    return reopen(counted, `trial failed: ${tally}, ${bar} or more${last}`, event.source, now, failed ? event.error : undefined, event.at);
  }
  if (verdict === 'wait') return { state: counted, transition: null };
  return {
    state: { ...initialBreaker(now), recoveries: state.recoveries + 1 },
    transition: {
      from: 'HALF_OPEN',
      to: 'CLOSED',
      reason: `trial passed: ${tally}, under ${pct(rateBar(settings.trialErrorRate))}`,
      at: now,
      source: event.source,
      trialStartedAt: state.since,
    },
  };
}

/**
 * One event. Pure: when nothing changes the very same `state` object is returned (so the shell may skip
 * a write with `result.state === state`) and `transition` is null.
 *
 * - CLOSED: a success resets the streak; a failure counts (the first of a streak records
 *   `streakStartedAt` and `firstError`) and the `failureThreshold`-th opens the breaker.
 * - OPEN: failures change nothing (the outage is known), nor do job successes (the only way out is a
 *   probe, per contract). A probe success at least `recoveryTimeoutMs` after `openedAt` moves to
 *   HALF_OPEN; an earlier one changes nothing.
 * - HALF_OPEN: the trial. Each job outcome (after the trial began, clock skew allowed) counts, and a starved probe's
 *   success; after `trialCalls` of them an outage-class error rate under `trialErrorRate` closes
 *   (recoveries + 1, streak cleared). The breaker re-opens as soon as the failures alone reach that rate
 *   over the whole trial, and on a probe failure (new `openedAt`, so the recovery timeout runs again; the
 *   streak's start and first error are kept: it is the same outage).
 *
 * `consecutiveFailures` only counts while CLOSED; it keeps the count that opened the breaker until the
 * breaker closes again. The probe success that enters HALF_OPEN is not a trial outcome: the trial is
 * proven by what comes after it.
 */
export function step(state: BreakerState, event: BreakerEvent, settings: BreakerSettings, now: number): StepResult {
  switch (state.state) {
    case 'CLOSED':
      return stepClosed(state, event, settings, now);
    case 'OPEN': {
      if (event.type !== 'success' || event.source !== 'probe') return { state, transition: null };
      const openedAt = state.openedAt ?? state.since;
      const openFor = now - openedAt;
      if (openFor < settings.recoveryTimeoutMs) return { state, transition: null };
      return {
        state: { ...state, state: 'HALF_OPEN', since: now, openedAt, trialCalls: 0, trialFailures: 0, trialJobAt: null },
        transition: { from: 'OPEN', to: 'HALF_OPEN', reason: `probe succeeded after ${openFor} ms open`, at: now, source: 'probe' },
      };
    }
    case 'HALF_OPEN':
      return stepHalfOpen(state, event, settings, now);
  }
}

/** Folds several events in order; returns the final state and every transition on the way. */
export function stepAll(
  state: BreakerState,
  events: readonly BreakerEvent[],
  settings: BreakerSettings,
  now: number,
): { state: BreakerState; transitions: BreakerTransition[] } {
  const transitions: BreakerTransition[] = [];
  let s = state;
  for (const e of events) {
    const r = step(s, e, settings, now);
    s = r.state;
    if (r.transition) transitions.push(r.transition);
  }
  return { state: s, transitions };
}

/** A Redis hash of the state: every field a string, '' for null. */
export function serializeBreaker(breakerState: BreakerState): Record<string, string> {
  const n = (v: number | null) => (v === null ? '' : String(v));
  return {
    state: breakerState.state,
    since: String(breakerState.since),
    consecutiveFailures: String(breakerState.consecutiveFailures),
    openedAt: n(breakerState.openedAt),
    streakStartedAt: n(breakerState.streakStartedAt),
    firstError: breakerState.firstError ?? '',
    trialCalls: String(breakerState.trialCalls),
    trialFailures: String(breakerState.trialFailures),
    trialJobAt: n(breakerState.trialJobAt),
    recoveries: String(breakerState.recoveries),
  };
}

/** A stored epoch-ms time: a whole number ≥ 0 in decimal, else undefined. */
export function parseTime(raw: string | undefined): number | undefined {
  if (raw === undefined || !/^\d{1,16}$/.test(raw.trim())) return undefined;
  const n = Number(raw.trim());
  return Number.isSafeInteger(n) ? n : undefined;
}

/**
 * The stored hash → a state. Never throws. A missing state (null, or the `{}` HGETALL returns for a
 * missing key) is CLOSED without a warning. An unreadable one — unknown `state`, non-numeric `since`, or
 * `since` more than CLOCK_SKEW_TOLERANCE_MS in the future — is CLOSED with a warning: safe, never stuck
 * open. Unreadable secondary fields are repaired (counts → 0, OPEN/HALF_OPEN without `openedAt` →
 * `since`, times → clamped to now) with a warning, keeping the state itself.
 */
export function parseBreaker(raw: Record<string, string> | null | undefined, now: number): { state: BreakerState; warning: string | null } {
  if (!raw || typeof raw !== 'object' || Object.keys(raw).length === 0) return { state: initialBreaker(now), warning: null };
  const reset = (why: string) => ({ state: initialBreaker(now), warning: `stored breaker state unreadable (${why}): reset to CLOSED` });

  const name = raw.state;
  if (typeof name !== 'string' || !(BREAKER_STATES as readonly string[]).includes(name)) {
    return reset(`state=${JSON.stringify(String(name ?? '')).slice(0, 40)}`);
  }
  const since = parseTime(raw.since);
  if (since === undefined) return reset(`since=${JSON.stringify(String(raw.since ?? '')).slice(0, 40)}`);
  if (since > now + CLOCK_SKEW_TOLERANCE_MS) return reset(`since ${since} is in the future`);

  const repaired: string[] = [];
  const count = (field: string): number => {
    const v = raw[field];
    if (v === undefined || v === '') return 0;
    if (!/^\d{1,9}$/.test(v.trim())) {
      repaired.push(field);
      return 0;
    }
    return Number(v.trim());
  };
  const time = (field: string): number | null => {
    const v = raw[field];
    if (v === undefined || v === '') return null;
    const t = parseTime(v);
    if (t === undefined || t > now + CLOCK_SKEW_TOLERANCE_MS) {
      repaired.push(field);
      return null;
    }
    return Math.min(t, now);
  };

  const state = name as BreakerStateName;
  let openedAt = time('openedAt');
  if (state !== 'CLOSED' && openedAt === null) {
    if (!repaired.includes('openedAt')) repaired.push('openedAt');
    openedAt = Math.min(since, now);
  }
  const result: BreakerState = {
    state,
    since: Math.min(since, now),
    consecutiveFailures: count('consecutiveFailures'),
    openedAt,
    streakStartedAt: time('streakStartedAt'),
    firstError: typeof raw.firstError === 'string' && raw.firstError !== '' ? clip(raw.firstError) : null,
    trialCalls: count('trialCalls'),
    trialFailures: Math.min(count('trialFailures'), count('trialCalls')),
    trialJobAt: time('trialJobAt'),
    recoveries: count('recoveries'),
  };
  return {
    state: result,
    warning: repaired.length ? `stored breaker state had unreadable ${repaired.join(', ')}: repaired, kept ${state}` : null,
  };
}
