// Per-attempt outcome signals: workers append (emitSignal), the supervisor consumes (readSignals) and
// folds them into breaker events and the ramp's outcomes (foldSignals, pure). The stream
// (keys().signals) is written and read only here.
import { ERROR_CLASS, isErrorType, type ErrorStrategies, type ErrorType } from '../core/errors.js';
import type { RedisConnection } from '../core/redis.js';
import { parseTime, type BreakerEvent } from './breaker.js';

export type Outcome = 'ok' | ErrorType;

/**
 * One stream entry. A readable one is as emitSignal wrote it: `at` a whole epoch ms, `outcome` 'ok' or
 * an error type. Any other entry (a missing or unknown outcome, an unreadable time) is unreadable: its
 * outcome is null and it counts as neither a success nor a failure; the cursor still moves past it.
 */
export type Signal =
  { id: string; at: number; outcome: Outcome; jobId: string | null } | { id: string; at: null; outcome: null; jobId: null };

/** Signals kept in the stream: enough for minutes of traffic, small enough to never matter. */
const SIGNALS_MAXLEN = 20_000;

export async function emitSignal(redis: RedisConnection, key: string, outcome: Outcome, jobId: string | null, now = Date.now()) {
  await redis.xadd(key, 'MAXLEN', '~', String(SIGNALS_MAXLEN), '*', 'at', String(now), 'outcome', outcome, 'jobId', jobId ?? '');
}

/** A stream entry's fields → a signal, checked against what emitSignal writes. */
export function parseSignal(id: string, flat: string[]): Signal {
  const m = new Map<string, string>();
  for (let i = 0; i + 1 < flat.length; i += 2) m.set(flat[i], flat[i + 1]);
  const outcome = m.get('outcome');
  const at = parseTime(m.get('at'));
  if (at === undefined || outcome === undefined || (outcome !== 'ok' && !isErrorType(outcome)))
    return { id, at: null, outcome: null, jobId: null };
  return { id, at, outcome, jobId: m.get('jobId') || null };
}

/** Signals after `afterId` (exclusive), oldest first, at most `count`. */
export async function readSignals(redis: RedisConnection, key: string, afterId: string, count = 1000): Promise<Signal[]> {
  const rows = (await redis.xrange(key, `(${afterId}`, '+', 'COUNT', count)) as [string, string[]][];
  return rows.map(([id, flat]) => parseSignal(id, flat));
}

/** The id of the newest signal; null when the stream is empty or missing. */
export async function lastSignalId(redis: RedisConnection, key: string): Promise<string | null> {
  const last = (await redis.xrevrange(key, '+', '-', 'COUNT', 1)) as [string, string[]][];
  return last[0]?.[0] ?? null;
}

/** What a batch of signals means for the supervisor. */
export interface SignalFold {
  /** Breaker events, in order: every success, and the outage-class failures that count toward the breaker. */
  events: BreakerEvent[];
  /** Successes and outage-class failures with their times: the ramp judges its error rate by them. */
  outcomes: { at: number; ok: boolean }[];
  /** Jobs whose attempt failed with an outage-class error (they join the outage's job set). */
  affectedJobs: string[];
  /** A worker met a 401/403: whether the token itself is rejected is to be found out. */
  authSuspect: boolean;
  /** A worker met a Stash fault (a 401/403, no answer): whether Stash itself is down or refuses the key is to be found out. */
  stashSuspect: boolean;
}

/** Pure: signals (oldest first) → breaker events, the ramp's outcomes, the affected jobs. Unreadable signals count for nothing. */
export function foldSignals(signals: readonly Signal[], strategies: ErrorStrategies): SignalFold {
  const fold: SignalFold = { events: [], outcomes: [], affectedJobs: [], authSuspect: false, stashSuspect: false };
  for (const s of signals) {
    if (s.outcome === null) continue;
    if (s.outcome === 'PlexAuthError') fold.authSuspect = true;
    if (s.outcome === 'StashAuthError' || s.outcome === 'StashUnavailable') fold.stashSuspect = true;
    if (s.outcome === 'ok') {
      fold.events.push({ type: 'success', source: 'job', at: s.at });
      fold.outcomes.push({ at: s.at, ok: true });
    } else if (ERROR_CLASS[s.outcome] === 'outage') {
      fold.outcomes.push({ at: s.at, ok: false });
      if (strategies[s.outcome].countsTowardBreaker) fold.events.push({ type: 'failure', source: 'job', error: s.outcome, at: s.at });
      if (s.jobId) fold.affectedJobs.push(s.jobId);
    }
  }
  return fold;
}
