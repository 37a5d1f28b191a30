// The recovery ramp as pure functions: after HALF_OPEN → CLOSED the allowed rate grows linearly from
// RAMP_INITIAL_RATE to RAMP_TARGET_RATE over RAMP_DURATION_MS, halved while the window error rate is too
// high. The rate depends only on the stored `startedAt` and `now`, so a supervisor restarted mid-ramp
// continues where the previous one was. The ramp judges only its own outcomes: those at or after
// `judgedFrom` (its start, then each restore), never the failures of the outage that just ended.
import { CLOCK_SKEW_TOLERANCE_MS, parseTime, type BreakerTransition } from './breaker.js';

export type RampState = {
  /** When the ramp began (the HALF_OPEN → CLOSED transition), epoch ms. */
  startedAt: number;
  /** True while the rate is halved because of the error rate. */
  backoff: boolean;
  /** When the current backoff began; null when not backing off. */
  backoffSince: number | null;
  /**
   * Outcomes before this are not the ramp's to judge: the start, then each restore. Without it the
   * failures of the outage that just ended (still inside RAMP_ERROR_WINDOW_MS) halve a clean ramp.
   */
  judgedFrom: number;
};

export type RampSettings = { initialRate: number; targetRate: number; durationMs: number };

/** A BullMQ global rate limit: at most `max` jobs per `duration` ms. */
export type RateLimit = { max: number; duration: number };

export function startRamp(now: number): RampState {
  return { startedAt: now, backoff: false, backoffSince: null, judgedFrom: now };
}

/**
 * The ramp after the breaker's transitions of one step: each close (→ CLOSED) starts a new ramp, a new
 * outage (CLOSED → OPEN) ends the running one. Returns the very same value when nothing changes, so the
 * caller writes the ramp with the breaker in one step only when it must.
 */
export function rampAfter(ramp: RampState | null, transitions: readonly BreakerTransition[], now: number): RampState | null {
  let next = ramp;
  for (const t of transitions) {
    if (t.to === 'CLOSED') next = startRamp(now);
    else if (t.to === 'OPEN' && t.from === 'CLOSED') next = null;
  }
  return next;
}

function elapsed(ramp: RampState, now: number): number {
  return Math.max(0, now - ramp.startedAt); // a startedAt in the future counts as now
}

/** jobs/s the schedule allows at `now` (before any backoff): linear, clamped to [initial, target]. */
export function allowedRate(ramp: RampState, settings: RampSettings, now: number): number {
  const { initialRate, targetRate, durationMs } = settings;
  if (!(durationMs > 0)) return targetRate;
  const fraction = Math.min(1, elapsed(ramp, now) / durationMs);
  return initialRate + (targetRate - initialRate) * fraction;
}

/** allowedRate, halved while backing off. This is the rate to enforce. */
export function effectiveRate(ramp: RampState, settings: RampSettings, now: number): number {
  const rate = allowedRate(ramp, settings, now);
  return ramp.backoff ? rate / 2 : rate;
}

/** True once `durationMs` has passed since `startedAt`: remove the limit (or set PLEX_MAX_RATE). */
export function rampFinished(ramp: RampState, settings: RampSettings, now: number): boolean {
  return elapsed(ramp, now) >= Math.max(0, settings.durationMs);
}

/**
 * Backoff with hysteresis: starts when `errorRate` > `threshold`, ends when it is < `threshold / 3`
 * (or 0, so a threshold of 0 can still recover) or when the errors have stopped (`calm`, see
 * errorsStopped); in between the state is kept. Returns the very same object when nothing changes. The
 * halving is a single halving, not repeated per call. A restore starts a fresh judgement (`judgedFrom` =
 * now): the errors that caused the backoff are not counted twice.
 */
export function updateBackoff(ramp: RampState, errorRate: number, threshold: number, now: number, calm = false): RampState {
  if (!ramp.backoff && errorRate > threshold) return { ...ramp, backoff: true, backoffSince: now };
  if (ramp.backoff && (errorRate < threshold / 3 || errorRate === 0 || calm))
    return { ...ramp, backoff: false, backoffSince: null, judgedFrom: now };
  return ramp;
}

/**
 * Whether a halved ramp has seen no outage-class error for `restoreAfterMs` (RAMP_RESTORE_AFTER_MS):
 * counted from the later of the halving and the ramp's last failure. Without it a halved ramp waited
 * for a whole error window of successes at half rate. 0 turns it off; false while not backing off.
 */
export function errorsStopped(
  ramp: RampState,
  outcomes: readonly { at: number; ok: boolean }[],
  restoreAfterMs: number,
  now: number,
): boolean {
  if (!ramp.backoff || !(restoreAfterMs > 0)) return false;
  let quietSince = ramp.backoffSince ?? ramp.judgedFrom;
  for (const o of outcomes) if (!o.ok && o.at >= ramp.judgedFrom && o.at > quietSince) quietSince = o.at;
  return now - quietSince >= restoreAfterMs;
}

/**
 * Share of failed outcomes among those in the window (now − windowMs, now] and at or after `since`; 0
 * when there are none. Outcomes stamped after `now` (a worker's clock slightly ahead) count as current.
 */
export function errorRate(outcomes: readonly { at: number; ok: boolean }[], windowMs: number, now: number, since = -Infinity): number {
  let total = 0;
  let failed = 0;
  for (const o of outcomes) {
    if (o.at <= now - windowMs || o.at < since) continue;
    total++;
    if (!o.ok) failed++;
  }
  return total === 0 ? 0 : failed / total;
}

/**
 * The global rate limit for `rate` jobs/s: one job per ceil(1000 / rate) ms, so never more than one job
 * of burst and never above `rate`. Non-positive or non-finite rates give the slowest limit of one job
 * per hour (never "unlimited" by accident); the duration is at least 1 ms.
 */
export function rateLimitFor(rate: number): RateLimit {
  if (!(rate > 0) || !Number.isFinite(rate)) {
    return { max: 1, duration: rate === Infinity ? 1 : 3_600_000 };
  }
  return { max: 1, duration: Math.max(1, Math.ceil(1000 / rate)) };
}

/** The trial limit while HALF_OPEN: one job per second. */
export const TRIAL_LIMIT: RateLimit = { max: 1, duration: 1000 };

/** The error rate the ramp judges itself by: its own outcomes (from `judgedFrom`) within the window. */
export function rampErrorRate(ramp: RampState, outcomes: readonly { at: number; ok: boolean }[], windowMs: number, now: number): number {
  return errorRate(outcomes, windowMs, now, ramp.judgedFrom);
}

/**
 * How often the supervisor re-evaluates the ramp. The limit it sets holds for a whole step, so it is the
 * rate at the step's middle: the step's mean is then the schedule's, instead of lagging half a step.
 */
export const RAMP_STEP_MS = 1_000;

/** The limit during the ramp at `now` (effective rate, backoff included). */
export function rampLimit(ramp: RampState, settings: RampSettings, now: number): RateLimit {
  return rateLimitFor(effectiveRate(ramp, settings, now));
}

/** The steady-state limit after the ramp: PLEX_MAX_RATE's, or null (no limit) when unset. */
export function steadyLimit(maxRate: number | null): RateLimit | null {
  return maxRate === null ? null : rateLimitFor(maxRate);
}

export function serializeRamp(ramp: RampState): Record<string, string> {
  return {
    startedAt: String(ramp.startedAt),
    backoff: ramp.backoff ? '1' : '0',
    backoffSince: ramp.backoffSince === null ? '' : String(ramp.backoffSince),
    judgedFrom: String(ramp.judgedFrom),
  };
}

/**
 * The stored hash → a ramp, never throwing. Missing (null or `{}`): null (no ramp running), no warning.
 * Unreadable `startedAt`, or one more than CLOCK_SKEW_TOLERANCE_MS in the future: restarted at `now`
 * (the cautious choice: from the initial rate) with a warning. A slightly future one is clamped to now.
 * Unreadable backoff fields: backing off (the cautious choice; it ends as soon as the error rate is low),
 * with a warning. `judgedFrom` missing (a ramp stored by an older version) or unreadable: `startedAt`;
 * it is kept within [startedAt, now].
 */
export function parseRamp(raw: Record<string, string> | null | undefined, now: number): { ramp: RampState | null; warning: string | null } {
  if (!raw || typeof raw !== 'object' || Object.keys(raw).length === 0) return { ramp: null, warning: null };
  const startedAt = parseTime(raw.startedAt);
  if (startedAt === undefined) {
    return {
      ramp: startRamp(now),
      warning: `stored ramp unreadable (startedAt=${JSON.stringify(String(raw.startedAt ?? '')).slice(0, 40)}): restarted now`,
    };
  }
  if (startedAt > now + CLOCK_SKEW_TOLERANCE_MS) {
    return { ramp: startRamp(now), warning: `stored ramp starts in the future (${startedAt}): restarted now` };
  }
  const start = Math.min(startedAt, now);
  const judgedFrom = Math.min(Math.max(parseTime(raw.judgedFrom) ?? start, start), now);
  const ramp: RampState = { startedAt: start, backoff: false, backoffSince: null, judgedFrom };
  const b = raw.backoff;
  if (b === undefined || b === '' || b === '0' || b === 'false') return { ramp, warning: null };
  const since = raw.backoffSince ? parseTime(raw.backoffSince) : undefined;
  const sinceOk = since !== undefined && since <= now + CLOCK_SKEW_TOLERANCE_MS;
  const backingOff: RampState = { ...ramp, backoff: true, backoffSince: sinceOk ? Math.min(since, now) : now };
  if ((b === '1' || b === 'true') && sinceOk) return { ramp: backingOff, warning: null };
  return {
    ramp: backingOff,
    warning: `stored ramp backoff unreadable (backoff=${JSON.stringify(b).slice(0, 20)}, backoffSince=${JSON.stringify(raw.backoffSince ?? '').slice(0, 20)}): backing off from now`,
  };
}
