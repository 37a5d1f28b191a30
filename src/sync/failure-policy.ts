// What a failed sync attempt leads to, as pure policy: hold (wait for the supervisor, no attempt spent),
// retry (an attempt spent, backoff per error type) or give up (the failed set). The worker
// (src/sync/worker.ts) reads the gate only when `gateMatters`, and performs the decision.
import { backoffDelay, ERROR_CLASS, isOutage, parseFailedReason, type ErrorStrategies, type ErrorType } from '../core/errors.js';
import { authErrorAction, stashErrorAction, type GateState } from '../resilience/token.js';

/** Bound on held retries, so one item Plex keeps answering 5xx for cannot loop forever. */
export const MAX_HELD_STARTS = 50;

export type FailureDecision = 'hold' | 'retry' | 'give-up';

export interface FailedAttempt {
  type: ErrorType;
  /** BullMQ's counts before this attempt ends: attempts spent, and starts (held ones included). */
  attemptsMade: number;
  attemptsStarted: number;
  /** What the gate said (null: no gate, or not asked: see gateMatters). */
  gate: GateState | null;
  /** For a PlexAuthError (or a Stash fault): when this job last met one before (null: the first time, or not recorded). */
  previousAuthErrorAt: number | null;
}

/** Stash's faults the supervisor judges (its own check of Stash): a rejected key, Stash not answering. */
export const isStashFault = (type: ErrorType) => type === 'StashAuthError' || type === 'StashUnavailable';

/** Whether the supervisor's view decides this failure: outage-class errors, 401/403 and Stash's faults, while holds remain. */
export function gateMatters(type: ErrorType, attemptsStarted: number): boolean {
  return attemptsStarted <= MAX_HELD_STARTS && (isOutage(type) || type === 'PlexAuthError' || isStashFault(type));
}

/**
 * Whether to record this failure with the gate, and as whose: a Plex 401/403 (it tells a rejected token
 * from a per-item refusal), a Stash fault while the supervisor watches Stash; null: not recorded.
 */
export function recordsAuthError(type: ErrorType, gate: GateState): 'plex' | 'stash' | null {
  if (!gate.holding) return null;
  if (type === 'PlexAuthError') return 'plex';
  return isStashFault(type) && gate.stashWatched ? 'stash' : null;
}

/**
 * - hold: an outage-class error while the supervisor holds (it judges outages; the queue is paused once
 *   it has), a 401/403 authErrorAction holds, or a Stash fault stashErrorAction holds; at most
 *   MAX_HELD_STARTS starts.
 * - give up: a permanent error type, or the type's last attempt (ERROR_STRATEGIES).
 * - retry: otherwise, after the type's backoff (retryDelay).
 */
export function failureDecision(failedAttempt: FailedAttempt, strategies: ErrorStrategies): FailureDecision {
  if (failedAttempt.gate && gateMatters(failedAttempt.type, failedAttempt.attemptsStarted)) {
    const held =
      failedAttempt.type === 'PlexAuthError'
        ? authErrorAction(failedAttempt.gate, failedAttempt.previousAuthErrorAt) === 'hold'
        : isStashFault(failedAttempt.type)
          ? stashErrorAction(failedAttempt.gate, failedAttempt.previousAuthErrorAt) === 'hold'
          : failedAttempt.gate.holding;
    if (held) return 'hold';
  }
  if (ERROR_CLASS[failedAttempt.type] === 'permanent' || failedAttempt.attemptsMade + 1 >= strategies[failedAttempt.type].attempts)
    return 'give-up';
  return 'retry';
}

/** The backoff before a retry: per the type carried by the error's message (`Type: …`). */
export function retryDelay(strategies: ErrorStrategies, attemptsMade: number, err: Error | undefined, random: number): number {
  const type = parseFailedReason(err?.message) ?? 'StashUnavailable';
  return backoffDelay(strategies[type], attemptsMade, random);
}

/** Whether a job BullMQ reports failed now sits in the failed set (no further attempt). */
export function landedInFailedSet(errorName: string, attemptsMade: number, attempts: number | undefined): boolean {
  return errorName !== 'DelayedError' && (errorName === 'UnrecoverableError' || attemptsMade >= (attempts ?? 1));
}
