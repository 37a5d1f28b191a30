// A line that repeats while a fault lasts, thinned out (pure, the clock passed in): said when it starts,
// again at most once every `everyMs` while it lasts (with how long and how many times it happened
// meanwhile), and once more when it stops. Used for every dependency a process waits for
// (./dependency-report.ts).

export interface ThrottleState {
  /** The line of the fault going on, or null when none. */
  line: string | null;
  /** When the fault began (the first line of a run of faults). */
  since: number | null;
  /** When its line was last said. */
  saidAt: number | null;
  /** How many times it happened since it was last said. */
  unsaid: number;
}

export const QUIET: ThrottleState = { line: null, since: null, saidAt: null, unsaid: 0 };

/** What to say now: a fault begins (or becomes another), still lasts, or is over. */
export type ThrottledLine =
  | { kind: 'failing'; line: string }
  | { kind: 'still'; line: string; forMs: number; times: number }
  | { kind: 'recovered'; line: string; forMs: number };

/** The default period of the reminder while a fault lasts. */
export const REPEAT_EVERY_MS = 30_000;

/**
 * One observation: `current` is the fault's line now, or null when all is well. Answers the next state
 * and what to say (null: nothing). A changed line is said at once; the time since the first fault is kept.
 */
export function throttleStep(
  state: ThrottleState,
  current: string | null,
  now: number,
  everyMs = REPEAT_EVERY_MS,
): { state: ThrottleState; say: ThrottledLine | null } {
  if (current === null) {
    if (state.line === null) return { state, say: null };
    return { state: QUIET, say: { kind: 'recovered', line: state.line, forMs: Math.max(0, now - (state.since ?? now)) } };
  }
  if (state.line === null || state.line !== current) {
    return { state: { line: current, since: state.since ?? now, saidAt: now, unsaid: 0 }, say: { kind: 'failing', line: current } };
  }
  const times = state.unsaid + 1;
  if (state.saidAt !== null && now - state.saidAt < everyMs) return { state: { ...state, unsaid: times }, say: null };
  return {
    state: { ...state, saidAt: now, unsaid: 0 },
    say: { kind: 'still', line: current, forMs: Math.max(0, now - (state.since ?? now)), times },
  };
}
