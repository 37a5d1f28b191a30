// Steering the recovery ramp (pure): when it is evaluated, what a step, a backoff, a restore and the end
// of the ramp ask of the supervisor, and when a limit is applied again.
import { describe, expect, it } from 'vitest';
import type { BreakerStateName } from '../../src/resilience/breaker.js';
import { closeOutage, openOutage } from '../../src/resilience/outages.js';
import { RAMP_STEP_MS, rampLimit, startRamp, steadyLimit, TRIAL_LIMIT, type RampState } from '../../src/resilience/ramp.js';
import { keepOutcomes, limitChange, limitSignature, steerRamp, type RampSteeringInput } from '../../src/resilience/ramp-steering.js';

const T0 = 1_700_000_000_000;
const settings = { initialRate: 5, targetRate: 20, durationMs: 300_000, errorThreshold: 0.5, errorWindowMs: 60_000, restoreAfterMs: 0 };

function input(over: Partial<RampSteeringInput> = {}): RampSteeringInput {
  return {
    breaker: 'CLOSED',
    ramp: startRamp(T0),
    outages: [],
    outcomes: [],
    limitApplied: true,
    lastEvalAt: 0,
    settings,
    maxRate: null,
    now: T0 + 10_000,
    ...over,
  };
}

const failures = (n: number, at: number) => Array.from({ length: n }, (_, i) => ({ at: at + i, ok: false }));
const successes = (n: number, at: number) => Array.from({ length: n }, (_, i) => ({ at: at + i, ok: true }));

describe('steerRamp', () => {
  it('waits a whole step between evaluations, and while the breaker is not CLOSED', () => {
    expect(steerRamp(input({ lastEvalAt: T0 + 10_000 - RAMP_STEP_MS + 1 }))).toBeNull();
    expect(steerRamp(input({ lastEvalAt: T0 + 10_000 - RAMP_STEP_MS }))).not.toBeNull();
    for (const breaker of ['OPEN', 'HALF_OPEN'] as BreakerStateName[]) expect(steerRamp(input({ breaker }))).toBeNull();
  });

  it('without a ramp: the steady limit once for a new leader, then nothing', () => {
    expect(steerRamp(input({ ramp: null, limitApplied: false, maxRate: 10 }))).toEqual({ limit: steadyLimit(10) });
    expect(steerRamp(input({ ramp: null, limitApplied: false, maxRate: null }))).toEqual({ limit: null });
    expect(steerRamp(input({ ramp: null, limitApplied: true, maxRate: 10 }))).toEqual({});
  });

  it('during the ramp: the limit of the schedule at the middle of the coming step, the ramp unchanged', () => {
    const now = T0 + 60_000;
    expect(steerRamp(input({ now }))).toEqual({ limit: rampLimit(startRamp(T0), settings, now + RAMP_STEP_MS / 2) });
  });

  it('halves the rate when its own error rate is above the threshold, and says so', () => {
    const now = T0 + 30_000;
    const plan = steerRamp(input({ now, outcomes: [...failures(6, T0 + 20_000), ...successes(4, T0 + 21_000)] }))!;
    const backingOff: RampState = { ...startRamp(T0), backoff: true, backoffSince: now };
    expect(plan).toEqual({ ramp: backingOff, limit: rampLimit(backingOff, settings, now + RAMP_STEP_MS / 2), note: 'halved' });
    const unhalved = rampLimit(startRamp(T0), settings, now + RAMP_STEP_MS / 2).duration;
    expect(plan.limit!.duration).toBeGreaterThanOrEqual(2 * unhalved - 1); // one job per ceil(1000 / rate) ms
  });

  it('never judges the outcomes before the ramp began (the outage that just ended)', () => {
    expect(steerRamp(input({ outcomes: failures(50, T0 - 5_000) }))!.note).toBeUndefined();
  });

  it('restores the rate once errors fall below a third of the threshold', () => {
    const now = T0 + 40_000;
    const halved: RampState = { ...startRamp(T0), backoff: true, backoffSince: T0 + 30_000 };
    const plan = steerRamp(input({ now, ramp: halved, outcomes: successes(10, T0 + 35_000) }))!;
    expect(plan.note).toBe('restored');
    expect(plan.ramp).toEqual({ ...halved, backoff: false, backoffSince: null, judgedFrom: now });
  });

  it('restores the rate once the errors stopped for RAMP_RESTORE_AFTER_MS, though the window still holds them', () => {
    const quiet = { ...settings, restoreAfterMs: 5_000 };
    const halved: RampState = { ...startRamp(T0), backoff: true, backoffSince: T0 + 10_000 };
    // 20 failures then 5 successes: the window's error rate (0.8) is far above the threshold
    const outcomes = [...failures(20, T0 + 9_000), ...successes(5, T0 + 12_000)];
    const lastFailure = T0 + 9_019;
    const at = (now: number) => steerRamp(input({ now, ramp: halved, outcomes, settings: quiet }))!;
    expect(at(lastFailure + 999 + 1_000).note).toBeUndefined(); // 4 s after the halving (later than the last failure)
    expect(at(T0 + 10_000 + 4_999).note).toBeUndefined();
    const plan = at(T0 + 15_000);
    expect(plan.note).toBe('restored');
    expect(plan.ramp).toEqual({ ...halved, backoff: false, backoffSince: null, judgedFrom: T0 + 15_000 });
    // a failure after the halving moves the quiet time's start
    const later = [...outcomes, { at: T0 + 13_000, ok: false }];
    expect(steerRamp(input({ now: T0 + 17_999, ramp: halved, outcomes: later, settings: quiet }))!.note).toBeUndefined();
    expect(steerRamp(input({ now: T0 + 18_000, ramp: halved, outcomes: later, settings: quiet }))!.note).toBe('restored');
    // 0 turns the rule off: only the error rate restores
    expect(steerRamp(input({ now: T0 + 59_000, ramp: halved, outcomes, settings: { ...quiet, restoreAfterMs: 0 } }))!.note).toBeUndefined();
  });

  it('at its end: the steady limit, the ramp removed, the last closed outage marked with the ramp end', () => {
    const now = T0 + settings.durationMs;
    const ended = closeOutage(
      openOutage({ id: 'a', startedAt: T0 - 60_000, detectedAt: T0 - 50_000, trigger: 'probe', firstError: null }),
      T0,
      3,
    );
    expect(steerRamp(input({ now, maxRate: 10, outages: [ended] }))).toEqual({
      limit: steadyLimit(10),
      ramp: null,
      outage: { ...ended, rampEndedAt: now },
      note: 'finished',
    });
    expect(steerRamp(input({ now, outages: [{ ...ended, rampEndedAt: T0 + 1 }] }))).toEqual({ limit: null, ramp: null, note: 'finished' });
  });
});

describe('limitChange', () => {
  it('is null for the limit in force, else its signature', () => {
    expect(limitChange('1/200', { max: 1, duration: 200 })).toBeNull();
    expect(limitChange('none', null)).toBeNull();
    expect(limitChange(undefined, null)).toEqual({ signature: 'none', endWindow: false });
    expect(limitChange('1/200', { max: 1, duration: 100 })).toEqual({ signature: '1/100', endWindow: false });
  });

  it('ends the rate window when the trial limit gives way (its last second would hold the ramp back)', () => {
    expect(limitChange(limitSignature(TRIAL_LIMIT), { max: 1, duration: 200 })).toEqual({ signature: '1/200', endWindow: true });
    expect(limitChange(limitSignature(TRIAL_LIMIT), null)).toEqual({ signature: 'none', endWindow: true });
  });
});

describe('keepOutcomes', () => {
  it('keeps only what is inside the error window', () => {
    const now = T0 + 100_000;
    const outcomes = [
      { at: now - 60_000, ok: false },
      { at: now - 59_999, ok: true },
      { at: now + 5, ok: true },
    ];
    expect(keepOutcomes(outcomes, 60_000, now)).toEqual(outcomes.slice(1));
  });
});
