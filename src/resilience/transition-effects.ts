// What the breaker's transitions trigger, as pure policy: the records written with the breaker in one
// fenced step (ramp, outage history, the outage's job set), and the actions each transition asks of the
// supervisor (pause, trial limit, resume, outage close, token check). The supervisor
// (src/supervisor/supervisor.ts) performs the plans; nothing here touches Redis or a clock.
import type { BreakerState, BreakerStateName, BreakerTransition } from './breaker.js';
import { endOutageRamp, openOutage, upsertOutage, type Outage } from './outages.js';
import { rampAfter, TRIAL_LIMIT, type RampState, type RateLimit } from './ramp.js';
import { pauseReasons, type HoldState } from './token.js';

export interface StepInput {
  /** The breaker before and after this tick's events, and the transitions on the way. */
  before: BreakerState;
  after: BreakerState;
  transitions: readonly BreakerTransition[];
  ramp: RampState | null;
  outages: readonly Outage[];
  /** Jobs whose outage-class failure was among this tick's signals. */
  affectedJobs: number;
  historySize: number;
  now: number;
  /** An id for the outage a CLOSED → OPEN opens (only called then). */
  newOutageId: () => string;
}

/** What is written together with the breaker, in its one fenced batch. */
export interface StepPlan {
  /** The ramp to store (null: delete it); absent when it does not change. */
  ramp?: RampState | null;
  /** The outage history to store; absent when it does not change. */
  outages?: Outage[];
  /** The outage's job set: add this tick's affected jobs, clear it, or leave it. */
  outageJobs: 'add' | 'clear' | 'keep';
  /** Pause the queues before the write, so no reader ever sees OPEN with the queue running. */
  pauseFirst: boolean;
}

/**
 * One tick's writes. A close starts a ramp and a new outage ends the last one's (rampAfter): the ramp is
 * written with the breaker, so a reader never sees CLOSED without it. CLOSED → OPEN records a new outage
 * in the same write (never OPEN without its outage), after ending the previous outage's ramp. Affected
 * jobs count toward the outage while one is building or running; a failure streak that never became an
 * outage clears the set when it ends.
 */
export function planStep(stepInput: StepInput): StepPlan {
  const plan: StepPlan = { outageJobs: 'keep', pauseFirst: stepInput.transitions.some((t) => t.to === 'OPEN') };
  const streak = stepInput.after.state !== 'CLOSED' || stepInput.after.consecutiveFailures > 0;
  if (stepInput.affectedJobs > 0 && (streak || stepInput.transitions.length > 0)) plan.outageJobs = 'add';
  else if (!streak && stepInput.before.consecutiveFailures > 0 && !stepInput.transitions.length) plan.outageJobs = 'clear';
  const ramp = rampAfter(stepInput.ramp, stepInput.transitions, stepInput.now);
  if (ramp !== stepInput.ramp) plan.ramp = ramp;
  const opening = stepInput.transitions.find((t) => t.from === 'CLOSED' && t.to === 'OPEN');
  if (opening) plan.outages = withNewOutage(stepInput, opening);
  return plan;
}

/** The history after CLOSED → OPEN: the last outage's ramp ends, the new outage is recorded. */
function withNewOutage(s: StepInput, t: BreakerTransition): Outage[] {
  let outages = [...s.outages];
  const last = outages.find((o) => o.endedAt !== null && o.rampEndedAt === null);
  if (last) outages = upsertOutage(outages, endOutageRamp(last, s.now), s.historySize);
  const opened = openOutage({
    id: s.newOutageId(),
    startedAt: s.after.streakStartedAt ?? s.now,
    detectedAt: s.now,
    trigger: t.source === 'probe' ? 'probe' : 'failures',
    firstError: s.after.firstError,
  });
  return upsertOutage(outages, opened, s.historySize);
}

/** One action of the supervisor, performed in order. */
export type Effect =
  /** Append the transition to the stored list and log it. */
  | { do: 'record' }
  | { do: 'pause' }
  /** Add the jobs waiting in the paused queue to the outage's job set (before a trial lets them run). */
  | { do: 'addHeldJobs' }
  | { do: 'setLimit'; limit: RateLimit }
  /** Resume the queues the supervisor paused (planned only when no pause reason remains). */
  | { do: 'resume' }
  /** Count the outage's jobs and store `outage` closed with that count (null: only count them). */
  | { do: 'closeOutage'; outage: Outage | null }
  | { do: 'clearOutageJobs' }
  /** Run now the delayed jobs of the outage's job set (no backoff outlives the outage that caused it). */
  | { do: 'promoteHeld' }
  /** Log what the transition means for the queue. */
  | { do: 'announce' }
  | { do: 'checkToken' }
  /** Tell the listener (reconciliation) that `outage` ended. */
  | { do: 'notifyRecovered'; outage: Outage };

/** What the supervisor holds: the breaker as it stands after the tick, the token and Stash verdicts. */
export interface HoldView extends HoldState {
  breaker: BreakerStateName;
  outages: readonly Outage[];
}

const resumeIfFree = (v: HoldView): Effect[] => (pauseReasons(v).length ? [] : [{ do: 'resume' }]);

/**
 * The actions of one transition, given the state after the whole tick (a close followed by a re-open
 * in the same tick does not resume).
 * - → OPEN: pause (already paused before the write; again, should someone have resumed meanwhile).
 * - → HALF_OPEN: the held jobs join the outage, the trial limit, resume unless the token holds the queue,
 *   and the jobs the outage delayed run now (under the trial limit).
 * - → CLOSED: the running outage closes with its job count, the jobs it delayed run now, the set is
 *   cleared, resume unless held, then the token is checked (recovery) and the listener told. The ramp
 *   was written with the breaker.
 */
export function transitionEffects(breakerTransition: BreakerTransition, holdView: HoldView): Effect[] {
  if (breakerTransition.to === 'OPEN') return [{ do: 'record' }, { do: 'pause' }, { do: 'announce' }];
  if (breakerTransition.to === 'HALF_OPEN') {
    return [
      { do: 'record' },
      { do: 'addHeldJobs' },
      { do: 'setLimit', limit: TRIAL_LIMIT },
      ...resumeIfFree(holdView),
      { do: 'promoteHeld' },
      { do: 'announce' },
    ];
  }
  const current = holdView.outages.find((o) => o.endedAt === null) ?? null;
  return [
    { do: 'record' },
    { do: 'closeOutage', outage: current },
    { do: 'promoteHeld' },
    { do: 'clearOutageJobs' },
    ...resumeIfFree(holdView),
    { do: 'announce' },
    { do: 'checkToken' },
    ...(current ? [{ do: 'notifyRecovered', outage: current } as const] : []),
  ];
}

/**
 * What a new leader does to make the queues match the state it found: pause while Plex is down or the
 * token rejected; the trial limit while HALF_OPEN; while CLOSED, close an outage a leader that died
 * between closing the breaker and resuming left open, resume unless the token holds, check the token.
 */
export function takeoverEffects(holdView: HoldView): Effect[] {
  const effects: Effect[] = [];
  if (pauseReasons(holdView).length) effects.push({ do: 'pause' });
  if (holdView.breaker === 'HALF_OPEN') effects.push({ do: 'setLimit', limit: TRIAL_LIMIT });
  else if (holdView.breaker === 'CLOSED') {
    const open = holdView.outages.find((o) => o.endedAt === null);
    if (open) effects.push({ do: 'closeOutage', outage: open }, { do: 'promoteHeld' }, { do: 'clearOutageJobs' });
    effects.push(...resumeIfFree(holdView), { do: 'checkToken' });
  }
  return effects;
}
