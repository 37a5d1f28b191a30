// Stash as the supervisor sees it, as pure policy (no I/O, the clock passed in): when to check it, and
// what a check's answer does. A key Stash rejects holds the queue like a rejected Plex token
// (./token.ts): reason "stash key rejected", no job fails for it, resumed once Stash accepts the key.
// Stash not answering is an outage of Stash: reason "stash down", jobs wait; resumed when it answers.
import { pauseReasons, type HoldState } from './token.js';

/** The outcome of one `version { version }` query with STASH_API_KEY. */
export type StashCheck = 'accepted' | 'rejected' | 'unreachable';

/** A check that threw: Stash refused the key (StashAuthError), or did not answer usably. */
export function failedStashCheck(err: unknown): Exclude<StashCheck, 'accepted'> {
  return (err as { type?: string } | null)?.type === 'StashAuthError' ? 'rejected' : 'unreachable';
}

export interface StashCheckPlan {
  stashKeyRejected: boolean;
  stashDown: boolean;
  queue: 'pause' | 'resume' | 'keep';
  /** What to log: a fault begins, or ends. Null: nothing new. */
  note: 'rejected' | 'down' | 'accepted again' | 'answers again' | null;
}

/**
 * - rejected: flag it (Stash answered, so it is not down) and pause (again, should someone have resumed).
 * - unreachable: down, pause; the key's verdict stays what it was (an unanswered check says nothing of it).
 * - accepted: clear both; resume when one of them held the queue and no other reason remains.
 */
export function stashCheckPlan(check: StashCheck, holdState: HoldState): StashCheckPlan {
  const wasRejected = holdState.stashKeyRejected === true;
  const wasDown = holdState.stashDown === true;
  if (check === 'rejected') return { stashKeyRejected: true, stashDown: false, queue: 'pause', note: wasRejected ? null : 'rejected' };
  if (check === 'unreachable') return { stashKeyRejected: wasRejected, stashDown: true, queue: 'pause', note: wasDown ? null : 'down' };
  const free = pauseReasons({ ...holdState, stashKeyRejected: false, stashDown: false }).length === 0;
  const note = wasRejected ? 'accepted again' : wasDown ? 'answers again' : null;
  return { stashKeyRejected: false, stashDown: false, queue: (wasRejected || wasDown) && free ? 'resume' : 'keep', note };
}

/**
 * Whether Stash is due for a check: at once the first time; every `recheckMs` (HEALTH_TOKEN_RECHECK_MS)
 * while workers met a Stash fault since the last check (suspect) or while Stash stands rejected or down;
 * otherwise every `everyMs` (HEALTH_CLOSED_INTERVAL_MS; 0: only when suspect), to keep the status fresh.
 */
export function stashCheckDue(
  checkState: { suspect: boolean; held: boolean; lastAttemptAt: number | null; recheckMs: number; everyMs: number },
  now: number,
): boolean {
  if (checkState.lastAttemptAt === null) return true;
  const since = now - checkState.lastAttemptAt;
  if (checkState.suspect || checkState.held) return since >= checkState.recheckMs;
  return checkState.everyMs > 0 && since >= checkState.everyMs;
}
