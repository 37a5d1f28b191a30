// The shapes of a requeue: what it is asked (options) and what it reports (summary, progress).
import type { ErrorType } from '../core/errors.js';
import type { BreakerStateName } from '../resilience/breaker.js';
import type { Window } from './select.js';

export interface RequeueOptions {
  /** Report what a real run would do; move nothing. Required, so a caller (dashboard) always decides. */
  dryRun: boolean;
  /** `latest` (default), `all` or an outage id. */
  outage?: string;
  /** ISO time, epoch ms or a duration back from now (`2h`); replaces `outage`. */
  since?: string | number;
  until?: string | number;
  /** Error type names; default: the types whose strategy has requeueByDefault (PlexServerDown). */
  errors?: readonly string[];
  /** Adds PlexTemporaryError and PlexNotFound. */
  includeOptional?: boolean;
  /** At most this many jobs requeued (or, dry run / refused, that would be). */
  limit?: number | null;
  /** Move jobs even while the breaker is not CLOSED. */
  force?: boolean;
  /** Jobs moved per second at most (default 50). */
  rate?: number;
  /** Grace margin around each window (default 2000 ms, the contract's). */
  graceMs?: number;
  /** A job requeued this often already stays (default 3). */
  maxRequeues?: number;
  /** Failed-set entries read per page (default 500). */
  pageSize?: number;
}

/** A job left in the failed set because it was requeued `maxRequeues` times already. */
export interface LeftJob {
  id: string;
  sceneId: string | null;
  requeues: number;
  failedReason: string | null;
}

/**
 * The contract's summary (`scanned`, `matched`, `requeued`, `skipped.{alreadyQueued, errorType,
 * outsideWindow, breakerNotClosed}`, `jobIds`) plus extra keys:
 * - `skipped.tooManyRequeues` and `tooManyRequeues` (the jobs, at most 1000 listed): matched jobs left
 *   because they were requeued `maxRequeues` (3) times already;
 * - `dryRun`, `breaker` (state at the start), `refused` (why nothing was moved, or null), `windows`,
 *   `errorTypes`, `limitReached`, `durationMs`.
 * Invariants: scanned = matched + skipped.errorType + skipped.outsideWindow;
 * matched = requeued + alreadyQueued + breakerNotClosed + tooManyRequeues. With `dryRun`, `requeued` and
 * `jobIds` are what a real run would move. `scanned` counts jobs outside every window by their score
 * without loading them.
 */
export interface RequeueSummary {
  scanned: number;
  matched: number;
  requeued: number;
  skipped: { alreadyQueued: number; errorType: number; outsideWindow: number; breakerNotClosed: number; tooManyRequeues: number };
  jobIds: string[];
  tooManyRequeues: LeftJob[];
  dryRun: boolean;
  breaker: BreakerStateName;
  refused: string | null;
  windows: Window[];
  errorTypes: ErrorType[];
  limitReached: boolean;
  durationMs: number;
}

export interface RequeueProgress {
  /** Failed jobs whose failure time lies in a window (an estimate taken at the start). */
  inWindow: number;
  /** Of those, examined so far. */
  examined: number;
  requeued: number;
}
