// A token Plex rejects, as pure policy: why the supervisor holds the queue, what a token check does to
// that, and whether a worker holds or fails a job that met a 401/403. No Redis, no clock of its own.
//
// The supervisor holds the queue for either of two reasons, independently: Plex is down (breaker OPEN)
// or Plex rejects the token (confirmed by the supervisor's own authenticated check). It resumes only
// when neither applies, and only queues it paused itself (an operator's pause stays).
import type { BreakerStateName } from './breaker.js';

export const PAUSE_REASONS = ['plex down', 'token rejected', 'stash key rejected', 'stash down'] as const;
export type PauseReason = (typeof PAUSE_REASONS)[number];

export interface HoldState {
  breaker: BreakerStateName;
  tokenRejected: boolean;
  /** Stash answered 401/403 to the supervisor's own check with STASH_API_KEY (./stash-health.ts). */
  stashKeyRejected?: boolean;
  /** Stash did not answer the supervisor's check: an outage of Stash, jobs wait. */
  stashDown?: boolean;
}

/** Why the supervisor keeps the queue paused now; empty when it may run. */
export function pauseReasons(holdState: HoldState): PauseReason[] {
  const reasons: PauseReason[] = [];
  if (holdState.breaker === 'OPEN') reasons.push('plex down');
  if (holdState.tokenRejected) reasons.push('token rejected');
  if (holdState.stashKeyRejected) reasons.push('stash key rejected');
  if (holdState.stashDown) reasons.push('stash down');
  return reasons;
}

/** The outcome of one authenticated request with the token (GET /library/sections). */
export type TokenCheck = 'accepted' | 'rejected' | 'unreachable';

export interface TokenCheckEffect {
  tokenRejected: boolean;
  /** What to do to the queues the supervisor steers. */
  queue: 'pause' | 'resume' | 'keep';
}

/**
 * What a token check does. Rejected: flag it and pause (again, should someone have resumed meanwhile).
 * Accepted after a rejection: clear it and resume unless Plex is also down. Unreachable says nothing
 * about the token: the probes deal with Plex being down.
 */
export function afterTokenCheck(check: TokenCheck, holdState: HoldState): TokenCheckEffect {
  if (check === 'unreachable') return { tokenRejected: holdState.tokenRejected, queue: 'keep' };
  if (check === 'rejected') return { tokenRejected: true, queue: 'pause' };
  const wasRejected = holdState.tokenRejected;
  const clear = pauseReasons({ ...holdState, tokenRejected: false }).length === 0;
  return { tokenRejected: false, queue: wasRejected && clear ? 'resume' : 'keep' };
}

/** A token check that threw: Plex rejected the token (PlexAuthError), or did not answer usably. */
export function failedTokenCheck(err: unknown): Exclude<TokenCheck, 'accepted'> {
  return (err as { type?: string } | null)?.type === 'PlexAuthError' ? 'rejected' : 'unreachable';
}

/** What the supervisor does after a token check: the effect, and what else follows from it. */
export interface TokenCheckPlan extends TokenCheckEffect {
  /** Store the verdict, dated when the check began (workers compare their 401s with it). */
  record: boolean;
  /** What to log: the token rejected, or accepted again after a rejection. */
  note: 'rejected' | 'accepted again' | null;
  /** Check PLEX_LIBRARIES against Plex's sections too (the token works). */
  checkLibraries: boolean;
}

/**
 * afterTokenCheck, and the rest: an unreachable Plex changes nothing and stores nothing (the probes
 * deal with it); an answer stores the verdict, and an accepted token has the libraries checked.
 */
export function tokenCheckPlan(check: TokenCheck, holdState: HoldState): TokenCheckPlan {
  const effect = afterTokenCheck(check, holdState);
  if (check === 'unreachable') return { ...effect, record: false, note: null, checkLibraries: false };
  const note = effect.tokenRejected ? 'rejected' : holdState.tokenRejected ? 'accepted again' : null;
  return { ...effect, record: true, note, checkLibraries: check === 'accepted' };
}

/**
 * Whether the token is due for a check: while a worker met a 401/403 since the last check (suspect) or
 * while the token stands rejected (to notice when it works again), at most once per `recheckMs` since
 * the last attempt. Not while Plex is down: the check could not answer, and recovery checks anyway.
 */
export function tokenCheckDue(
  holdState: HoldState & { suspect: boolean; lastAttemptAt: number | null; recheckMs: number },
  now: number,
): boolean {
  if ((!holdState.suspect && !holdState.tokenRejected) || holdState.breaker === 'OPEN') return false;
  return holdState.lastAttemptAt === null || now - holdState.lastAttemptAt >= holdState.recheckMs;
}

/** What a worker knows of the supervisor (read through the gate, src/resilience/gate.ts). */
export interface GateState {
  /** A supervisor leader is alive or the breaker is OPEN/HALF_OPEN: it judges outages and the token. */
  holding: boolean;
  tokenRejected: boolean;
  /** When the last token check started (supervisor clock), or null. */
  tokenCheckedAt: number | null;
  /** The supervisor checks Stash (it has STASH_URL and has checked once): it judges Stash's faults too. */
  stashWatched?: boolean;
  stashKeyRejected?: boolean;
  stashDown?: boolean;
  /** When the last Stash check that Stash answered began, or null. */
  stashCheckedAt?: number | null;
}

/**
 * A job met PlexAuthError: hold it (no attempt spent) or fail it for good.
 * - No supervisor to ask: fail, as any permanent error.
 * - The supervisor confirms the token is rejected: hold (the queue is paused meanwhile).
 * - A token check started after this job's previous 401 and Plex accepted the token, yet the job still
 *   meets a 401: it is about this item (a permission), so fail.
 * - Otherwise the supervisor has not judged yet: hold, and remember when this 401 happened.
 */
export function authErrorAction(gate: GateState | null, previousAuthErrorAt: number | null): 'hold' | 'fail' {
  if (!gate?.holding) return 'fail';
  if (gate.tokenRejected) return 'hold';
  if (previousAuthErrorAt !== null && gate.tokenCheckedAt !== null && gate.tokenCheckedAt > previousAuthErrorAt) return 'fail';
  return 'hold';
}

/**
 * A job met StashAuthError or StashUnavailable: hold it (no attempt spent) or let the usual policy act.
 * As authErrorAction, with the supervisor's Stash check: held while Stash stands rejected or down, or
 * until a check made after this job's previous such failure found Stash well (then it is about this
 * scene). No supervisor watching Stash: today's policy (a 401 fails, an unreachable Stash retries).
 */
export function stashErrorAction(gate: GateState | null, previousAt: number | null): 'hold' | 'fail' {
  if (!gate?.holding || !gate.stashWatched) return 'fail';
  if (gate.stashKeyRejected || gate.stashDown) return 'hold';
  const checkedAt = gate.stashCheckedAt ?? null;
  if (previousAt !== null && checkedAt !== null && checkedAt > previousAt) return 'fail';
  return 'hold';
}
