// What each breaker transition triggers, decided without Redis: the writes made with the breaker (ramp,
// outage record, the outage's job set), the actions of each transition, and a new leader's takeover.
import { describe, expect, it } from 'vitest';
import { initialBreaker, stepAll, type BreakerEvent, type BreakerState, type BreakerTransition } from '../../src/resilience/breaker.js';
import { closeOutage, openOutage, type Outage } from '../../src/resilience/outages.js';
import { startRamp, TRIAL_LIMIT } from '../../src/resilience/ramp.js';
import { planStep, takeoverEffects, transitionEffects, type StepInput } from '../../src/resilience/transition-effects.js';

const T0 = 1_700_000_000_000;
const SETTINGS = { failureThreshold: 3, recoveryTimeoutMs: 1_000, trialCalls: 2, trialErrorRate: 0.2 };
const fail = (at = T0): BreakerEvent => ({ type: 'failure', source: 'job', error: 'PlexServerDown: ECONNREFUSED', at });
const ok = (source: 'job' | 'probe' = 'job'): BreakerEvent => ({ type: 'success', source });

/** The input of one tick that feeds `events` to `before` at `now`. */
function tick(before: BreakerState, events: BreakerEvent[], now: number, rest: Partial<StepInput> = {}): StepInput {
  const { state: after, transitions } = stepAll(before, events, SETTINGS, now);
  return { before, after, transitions, ramp: null, outages: [], affectedJobs: 0, historySize: 10, now, newOutageId: () => 'new', ...rest };
}

const open = (id: string, at: number): Outage => openOutage({ id, startedAt: at, detectedAt: at, trigger: 'failures', firstError: 'e' });
const t = (from: BreakerTransition['from'], to: BreakerTransition['to']): BreakerTransition => ({ from, to, reason: 'r', at: T0 });

describe('planStep: the writes made with the breaker', () => {
  it('a quiet tick writes nothing but the breaker', () => {
    expect(planStep(tick(initialBreaker(T0), [ok()], T0 + 10))).toEqual({ outageJobs: 'keep', pauseFirst: false });
  });

  it('CLOSED → OPEN pauses first, records a new outage dated from the streak, ends the last ramp (and the ramp)', () => {
    const closedEarlier = { ...closeOutage(open('old', T0 - 60_000), T0 - 50_000, 3) };
    const now = T0 + 2_000;
    const plan = planStep(
      tick(initialBreaker(T0), [fail(T0 + 500), fail(T0 + 900), fail(T0 + 1_000)], now, {
        ramp: startRamp(T0 - 50_000),
        outages: [closedEarlier],
        affectedJobs: 3,
      }),
    );
    expect(plan.pauseFirst).toBe(true);
    expect(plan.outageJobs).toBe('add');
    expect(plan.ramp).toBeNull();
    expect(plan.outages?.map((o) => [o.id, o.startedAt, o.detectedAt, o.endedAt, o.trigger, o.rampEndedAt])).toEqual([
      ['new', T0 + 500, now, null, 'failures', null],
      ['old', T0 - 60_000, T0 - 60_000, T0 - 50_000, 'failures', now],
    ]);
  });

  it('an outage a probe opened says so', () => {
    const { state: before } = stepAll(initialBreaker(T0), [fail(), fail()], SETTINGS, T0);
    const plan = planStep(tick(before, [{ type: 'failure', source: 'probe', error: 'PlexServerDown: x' }], T0 + 5));
    expect(plan.outages?.[0]?.trigger).toBe('probe');
  });

  it('HALF_OPEN → CLOSED starts the ramp in the same write; the outage stays for the close action', () => {
    const openState = stepAll(initialBreaker(T0), [fail(), fail(), fail()], SETTINGS, T0).state;
    const half = stepAll(openState, [ok('probe')], SETTINGS, T0 + 2_000).state;
    expect(half.state).toBe('HALF_OPEN');
    const plan = planStep(tick(half, [ok(), ok()], T0 + 3_000, { outages: [open('o', T0)] }));
    expect(plan.ramp).toEqual(startRamp(T0 + 3_000));
    expect(plan.outages).toBeUndefined();
    expect(plan.pauseFirst).toBe(false);
  });

  it('affected jobs join the set while a streak builds, and a streak that never became an outage clears it', () => {
    const building = planStep(tick(initialBreaker(T0), [fail()], T0 + 1, { affectedJobs: 1 }));
    expect(building.outageJobs).toBe('add');
    const streak = stepAll(initialBreaker(T0), [fail()], SETTINGS, T0).state;
    expect(planStep(tick(streak, [ok()], T0 + 2)).outageJobs).toBe('clear');
    // affected jobs with no streak left and no transition: nothing to count them toward (they are not added)
    expect(planStep(tick(streak, [ok()], T0 + 2, { affectedJobs: 2 })).outageJobs).toBe('clear');
    expect(planStep(tick(initialBreaker(T0), [ok()], T0 + 2, { affectedJobs: 2 })).outageJobs).toBe('keep');
  });

  it('a ramp that does not change is not written', () => {
    const ramp = startRamp(T0);
    expect('ramp' in planStep(tick(initialBreaker(T0), [ok()], T0 + 5, { ramp }))).toBe(false);
  });
});

describe('transitionEffects: what each transition asks of the supervisor', () => {
  const view = { breaker: 'CLOSED' as const, tokenRejected: false, outages: [] as Outage[] };

  it('→ OPEN: record, pause, announce', () => {
    expect(transitionEffects(t('CLOSED', 'OPEN'), { ...view, breaker: 'OPEN' }).map((e) => e.do)).toEqual(['record', 'pause', 'announce']);
  });

  it('→ HALF_OPEN: held jobs counted, the trial limit, resume unless the token holds the queue, the delayed ones run now', () => {
    const free = transitionEffects(t('OPEN', 'HALF_OPEN'), { ...view, breaker: 'HALF_OPEN' });
    expect(free).toEqual([
      { do: 'record' },
      { do: 'addHeldJobs' },
      { do: 'setLimit', limit: TRIAL_LIMIT },
      { do: 'resume' },
      { do: 'promoteHeld' },
      { do: 'announce' },
    ]);
    const held = transitionEffects(t('OPEN', 'HALF_OPEN'), { ...view, breaker: 'HALF_OPEN', tokenRejected: true });
    expect(held.map((e) => e.do)).not.toContain('resume');
  });

  it('→ CLOSED: the running outage closed, its delayed jobs run now, its set cleared, resume, announce, token check, listener told', () => {
    const current = open('o', T0);
    const effects = transitionEffects(t('HALF_OPEN', 'CLOSED'), { ...view, outages: [current, closeOutage(open('p', T0 - 9), T0 - 5, 1)] });
    expect(effects).toEqual([
      { do: 'record' },
      { do: 'closeOutage', outage: current },
      { do: 'promoteHeld' },
      { do: 'clearOutageJobs' },
      { do: 'resume' },
      { do: 'announce' },
      { do: 'checkToken' },
      { do: 'notifyRecovered', outage: current },
    ]);
  });

  it('→ CLOSED with no outage running still counts (for the announcement), and tells no listener', () => {
    const effects = transitionEffects(t('HALF_OPEN', 'CLOSED'), view);
    expect(effects).toContainEqual({ do: 'closeOutage', outage: null });
    expect(effects.map((e) => e.do)).not.toContain('notifyRecovered');
  });

  it('a close followed by a re-open in the same tick does not resume (the state after the tick decides)', () => {
    expect(transitionEffects(t('HALF_OPEN', 'CLOSED'), { ...view, breaker: 'OPEN' }).map((e) => e.do)).not.toContain('resume');
    expect(transitionEffects(t('HALF_OPEN', 'CLOSED'), { ...view, tokenRejected: true }).map((e) => e.do)).not.toContain('resume');
  });
});

describe('takeoverEffects: a new leader makes the queues match the state', () => {
  const view = { tokenRejected: false, outages: [] as Outage[] };

  it('OPEN: pause only', () => {
    expect(takeoverEffects({ ...view, breaker: 'OPEN' })).toEqual([{ do: 'pause' }]);
  });

  it('HALF_OPEN: the trial limit (and a pause while the token is rejected)', () => {
    expect(takeoverEffects({ ...view, breaker: 'HALF_OPEN' })).toEqual([{ do: 'setLimit', limit: TRIAL_LIMIT }]);
    expect(takeoverEffects({ ...view, breaker: 'HALF_OPEN', tokenRejected: true })).toEqual([
      { do: 'pause' },
      { do: 'setLimit', limit: TRIAL_LIMIT },
    ]);
  });

  it('CLOSED: close an outage left open, resume unless the token holds, check the token', () => {
    const left = open('o', T0);
    expect(takeoverEffects({ ...view, breaker: 'CLOSED', outages: [left] })).toEqual([
      { do: 'closeOutage', outage: left },
      { do: 'promoteHeld' },
      { do: 'clearOutageJobs' },
      { do: 'resume' },
      { do: 'checkToken' },
    ]);
    expect(takeoverEffects({ ...view, breaker: 'CLOSED', tokenRejected: true })).toEqual([{ do: 'pause' }, { do: 'checkToken' }]);
  });
});
