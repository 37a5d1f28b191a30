// Steering the recovery ramp, as pure policy: once a step (RAMP_STEP_MS) while the breaker is CLOSED,
// what the supervisor does to the rate limit and the stored ramp. The schedule itself (rate at a time,
// backoff with hysteresis) is ./ramp.ts; the supervisor (src/supervisor/ramp-control.ts) performs the
// plan. No Redis, no clock of its own.
import type { BreakerStateName } from './breaker.js';
import { endOutageRamp, type Outage } from './outages.js';
import {
  errorsStopped,
  RAMP_STEP_MS,
  rampErrorRate,
  rampFinished,
  rampLimit,
  steadyLimit,
  TRIAL_LIMIT,
  updateBackoff,
  type RampSettings,
  type RampState,
  type RateLimit,
} from './ramp.js';

export interface RampSteeringInput {
  breaker: BreakerStateName;
  ramp: RampState | null;
  outages: readonly Outage[];
  /** Successes and outage-class failures of job attempts (the ramp judges its error rate by them). */
  outcomes: readonly { at: number; ok: boolean }[];
  /** Whether this leader has applied a limit yet (a new leader has not). */
  limitApplied: boolean;
  /** When the ramp was last evaluated (0: never). */
  lastEvalAt: number;
  settings: RampSettings & { errorThreshold: number; errorWindowMs: number; restoreAfterMs: number };
  /** PLEX_MAX_RATE (null: no steady limit). */
  maxRate: number | null;
  now: number;
}

/** What one evaluation asks of the supervisor; null when it is not due (or the breaker is not CLOSED). */
export interface RampPlan {
  /** The limit to apply (absent: leave the one in force). */
  limit?: RateLimit | null;
  /** The ramp to store (null: it finished, the key goes); absent when it does not change. */
  ramp?: RampState | null;
  /** The outage whose ramp just ended, to store. */
  outage?: Outage;
  /** What to log: the ramp finished, its rate halved, or restored. */
  note?: 'finished' | 'halved' | 'restored';
}

/**
 * One evaluation, at most once a step and only while CLOSED.
 * - No ramp: the steady limit (PLEX_MAX_RATE's, or none), set once by a new leader.
 * - The ramp's duration has passed: the steady limit, the ramp removed, the last outage's ramp ended.
 * - Otherwise: backoff updated from the ramp's own error rate (halved above the threshold, restored
 *   below a third of it or once the errors stopped for `restoreAfterMs`), and the limit of the
 *   schedule's rate at the middle of the coming step.
 */
export function steerRamp(rampSteeringInput: RampSteeringInput): RampPlan | null {
  if (rampSteeringInput.breaker !== 'CLOSED' || rampSteeringInput.now - rampSteeringInput.lastEvalAt < RAMP_STEP_MS) return null;
  const steady = steadyLimit(rampSteeringInput.maxRate);
  if (!rampSteeringInput.ramp) return rampSteeringInput.limitApplied ? {} : { limit: steady };
  if (rampFinished(rampSteeringInput.ramp, rampSteeringInput.settings, rampSteeringInput.now)) {
    const last = rampSteeringInput.outages.find((o) => o.endedAt !== null && o.rampEndedAt === null);
    return { limit: steady, ramp: null, ...(last ? { outage: endOutageRamp(last, rampSteeringInput.now) } : {}), note: 'finished' };
  }
  const rate = rampErrorRate(
    rampSteeringInput.ramp,
    rampSteeringInput.outcomes,
    rampSteeringInput.settings.errorWindowMs,
    rampSteeringInput.now,
  );
  const calm = errorsStopped(
    rampSteeringInput.ramp,
    rampSteeringInput.outcomes,
    rampSteeringInput.settings.restoreAfterMs,
    rampSteeringInput.now,
  );
  const ramp = updateBackoff(rampSteeringInput.ramp, rate, rampSteeringInput.settings.errorThreshold, rampSteeringInput.now, calm);
  const limit = rampLimit(ramp, rampSteeringInput.settings, rampSteeringInput.now + RAMP_STEP_MS / 2);
  if (ramp === rampSteeringInput.ramp) return { limit };
  return { limit, ramp, note: ramp.backoff ? 'halved' : 'restored' };
}

/** A limit as compared with the one in force ('none': no limit). */
export function limitSignature(limit: RateLimit | null): string {
  return limit ? `${limit.max}/${limit.duration}` : 'none';
}

/**
 * Whether setting `limit` changes anything, given the signature of the one in force (undefined: none
 * set by this leader yet); null when it does not. Leaving the trial limit also ends its rate window:
 * the trial's last one-second window would hold the ramp's first jobs back.
 */
export function limitChange(applied: string | undefined, limit: RateLimit | null): { signature: string; endWindow: boolean } | null {
  const signature = limitSignature(limit);
  if (signature === applied) return null;
  return { signature, endWindow: applied === limitSignature(TRIAL_LIMIT) };
}

/** The ramp's outcomes still inside its error window at `now` (older ones can never count again). */
export function keepOutcomes<T extends { at: number }>(outcomes: readonly T[], errorWindowMs: number, now: number): T[] {
  return outcomes.filter((o) => o.at > now - errorWindowMs);
}
