import { describe, expect, it } from 'vitest';
import {
  TRIAL_LIMIT,
  allowedRate,
  effectiveRate,
  errorRate,
  parseRamp,
  rampAfter,
  rampErrorRate,
  rampFinished,
  rampLimit,
  rateLimitFor,
  serializeRamp,
  startRamp,
  steadyLimit,
  updateBackoff,
  RAMP_STEP_MS,
  type RampSettings,
} from '../../src/resilience/ramp.js';
import type { BreakerStateName } from '../../src/resilience/breaker.js';

const T0 = 1_700_000_000_000;
const s: RampSettings = { initialRate: 5, targetRate: 20, durationMs: 300_000 };

describe('ramp schedule', () => {
  it('is linear from the initial to the target rate', () => {
    const r = startRamp(T0);
    expect(allowedRate(r, s, T0)).toBe(5);
    expect(allowedRate(r, s, T0 + 60_000)).toBe(8);
    expect(allowedRate(r, s, T0 + 150_000)).toBe(12.5);
    expect(allowedRate(r, s, T0 + 300_000)).toBe(20);
  });

  it('is clamped after the end and treats a start in the future as now', () => {
    const r = startRamp(T0);
    expect(allowedRate(r, s, T0 + 10_000_000)).toBe(20);
    expect(allowedRate(startRamp(T0 + 50_000), s, T0)).toBe(5);
  });

  it('finishes exactly at the duration', () => {
    const r = startRamp(T0);
    expect(rampFinished(r, s, T0)).toBe(false);
    expect(rampFinished(r, s, T0 + 299_999)).toBe(false);
    expect(rampFinished(r, s, T0 + 300_000)).toBe(true);
    expect(rampFinished(startRamp(T0 + 400_000), s, T0 + 300_000)).toBe(false);
  });

  it('a zero duration goes straight to the target and is finished at once', () => {
    const z = { ...s, durationMs: 0 };
    expect(allowedRate(startRamp(T0), z, T0)).toBe(20);
    expect(rampFinished(startRamp(T0), z, T0)).toBe(true);
  });

  it('a supervisor restarted mid-ramp continues from the stored startedAt', () => {
    const before = startRamp(T0);
    const stored = serializeRamp(before);
    const now = T0 + 120_000;
    const { ramp: after, warning } = parseRamp(stored, now);
    expect(warning).toBeNull();
    expect(after).toEqual(before);
    expect(allowedRate(after!, s, now)).toBe(allowedRate(before, s, now));
    expect(allowedRate(after!, s, now)).toBe(11);
    expect(rampLimit(after!, s, now)).toEqual({ max: 1, duration: 91 });
  });
});

describe('ramp backoff', () => {
  it('halves while the error rate is above the threshold and restores below a third of it', () => {
    let r = startRamp(T0);
    const now = T0 + 150_000; // allowed 12.5
    r = updateBackoff(r, 0.3, 0.3, now); // equal: not above
    expect(r.backoff).toBe(false);
    r = updateBackoff(r, 0.31, 0.3, now);
    expect(r).toEqual({ startedAt: T0, backoff: true, backoffSince: now, judgedFrom: T0 });
    expect(effectiveRate(r, s, now)).toBe(6.25);
    // hysteresis: between threshold/3 and threshold the backoff stays
    for (const e of [0.5, 0.2, 0.1]) {
      const same = updateBackoff(r, e, 0.3, now + 1000);
      expect(same, String(e)).toBe(r);
    }
    // a single halving, not one per call
    expect(effectiveRate(updateBackoff(r, 0.9, 0.3, now + 2000), s, now)).toBe(6.25);
    const restored = updateBackoff(r, 0.09, 0.3, now + 5000);
    expect(restored).toEqual({ startedAt: T0, backoff: false, backoffSince: null, judgedFrom: now + 5000 });
    expect(effectiveRate(restored, s, now)).toBe(12.5);
  });

  it('keeps the ramp growing while backing off', () => {
    const r = updateBackoff(startRamp(T0), 1, 0.3, T0);
    expect(effectiveRate(r, s, T0)).toBe(2.5);
    expect(effectiveRate(r, s, T0 + 300_000)).toBe(10);
  });

  it('with a threshold of 0, any error backs off and an error-free window restores', () => {
    const r = updateBackoff(startRamp(T0), 0.01, 0, T0);
    expect(r.backoff).toBe(true);
    expect(updateBackoff(r, 0, 0, T0 + 1).backoff).toBe(false);
  });
});

describe('the ramp judges its own outcomes only', () => {
  const failedOutage = [T0 - 9_000, T0 - 8_500, T0 - 8_000, T0 - 100].map((at) => ({ at, ok: false }));
  it('ignores the failures of the outage that just ended, although they are in the window', () => {
    const r = startRamp(T0);
    const now = T0 + 1_000;
    const outcomes = [...failedOutage, { at: T0, ok: true }, { at: T0 + 500, ok: true }];
    expect(errorRate(outcomes, 60_000, now)).toBe(4 / 6); // what the whole window says
    expect(rampErrorRate(r, outcomes, 60_000, now)).toBe(0);
    expect(updateBackoff(r, rampErrorRate(r, outcomes, 60_000, now), 0.3, now)).toBe(r); // no backoff
    expect(rampErrorRate(r, failedOutage, 60_000, now)).toBe(0); // no outcome of its own yet
  });
  it('counts its own failures from its start on', () => {
    const r = startRamp(T0);
    const outcomes = [...failedOutage, { at: T0, ok: false }, { at: T0 + 200, ok: true }];
    expect(rampErrorRate(r, outcomes, 60_000, T0 + 1_000)).toBe(1 / 2);
    expect(updateBackoff(r, rampErrorRate(r, outcomes, 60_000, T0 + 1_000), 0.3, T0 + 1_000).backoff).toBe(true);
  });
  it('judges afresh after a restore: the errors that caused the backoff are not counted twice', () => {
    const own = [
      { at: T0 + 1_000, ok: false },
      { at: T0 + 1_100, ok: false },
    ];
    let r = updateBackoff(startRamp(T0), rampErrorRate(startRamp(T0), own, 60_000, T0 + 2_000), 0.3, T0 + 2_000);
    expect(r.backoff).toBe(true);
    const later = [...own, ...Array.from({ length: 60 }, (_, i) => ({ at: T0 + 3_000 + i * 100, ok: true }))];
    r = updateBackoff(r, rampErrorRate(r, later, 60_000, T0 + 9_000), 0.3, T0 + 9_000); // 2/62 < 0.1
    expect(r).toMatchObject({ backoff: false, judgedFrom: T0 + 9_000 });
    // One failure among the next two outcomes is the new judgement, not 3/64 of the old window.
    const next = [...later, { at: T0 + 9_100, ok: false }, { at: T0 + 9_200, ok: true }];
    expect(rampErrorRate(r, next, 60_000, T0 + 10_000)).toBe(1 / 2);
  });
  it('still drops outcomes older than the window', () => {
    const r = startRamp(T0);
    expect(
      rampErrorRate(
        r,
        [
          { at: T0 + 1_000, ok: false },
          { at: T0 + 70_000, ok: true },
        ],
        60_000,
        T0 + 70_000,
      ),
    ).toBe(0);
  });
});

describe('the ramp after the breaker moved', () => {
  const t = (from: BreakerStateName, to: BreakerStateName) => ({ from, to, reason: 'test', at: T0 });
  it('starts with each close and is the very same value when nothing concerns it', () => {
    expect(rampAfter(null, [t('OPEN', 'HALF_OPEN'), t('HALF_OPEN', 'CLOSED')], T0)).toEqual(startRamp(T0));
    const running = startRamp(T0 - 5_000);
    expect(rampAfter(running, [], T0)).toBe(running);
    expect(rampAfter(null, [t('OPEN', 'HALF_OPEN')], T0)).toBeNull();
    expect(rampAfter(null, [t('HALF_OPEN', 'OPEN')], T0)).toBeNull();
  });
  it('ends with a new outage (CLOSED → OPEN)', () => {
    expect(rampAfter(startRamp(T0 - 5_000), [t('CLOSED', 'OPEN')], T0)).toBeNull();
  });
});

describe('errorRate', () => {
  const now = T0 + 100_000;
  it('counts outcomes in (now − window, now]', () => {
    const outcomes = [
      { at: now - 60_000, ok: false }, // on the edge: out
      { at: now - 59_999, ok: false },
      { at: now - 1000, ok: true },
      { at: now, ok: true },
      { at: now + 500, ok: false }, // clock skew: counts as current
    ];
    expect(errorRate(outcomes, 60_000, now)).toBe(2 / 4);
  });
  it('is 0 for an empty window', () => {
    expect(errorRate([], 60_000, now)).toBe(0);
    expect(errorRate([{ at: now - 100_000, ok: false }], 60_000, now)).toBe(0);
  });
  it('is 1 when everything failed', () => {
    expect(errorRate([{ at: now, ok: false }], 60_000, now)).toBe(1);
  });
});

describe('rate limits', () => {
  it('one job per ceil(1000 / rate) ms: never more than one job of burst', () => {
    expect(rateLimitFor(5)).toEqual({ max: 1, duration: 200 });
    expect(rateLimitFor(20)).toEqual({ max: 1, duration: 50 });
    expect(rateLimitFor(3)).toEqual({ max: 1, duration: 334 }); // 2.994/s, not above 3
    expect(rateLimitFor(0.5)).toEqual({ max: 1, duration: 2000 });
    expect(rateLimitFor(5000)).toEqual({ max: 1, duration: 1 });
  });
  it('never produces a zero or unbounded duration', () => {
    expect(rateLimitFor(0)).toEqual({ max: 1, duration: 3_600_000 });
    expect(rateLimitFor(-1)).toEqual({ max: 1, duration: 3_600_000 });
    expect(rateLimitFor(Number.NaN)).toEqual({ max: 1, duration: 3_600_000 });
    expect(rateLimitFor(Infinity)).toEqual({ max: 1, duration: 1 });
  });
  it('the trial limit is one job per second', () => {
    expect(TRIAL_LIMIT).toEqual(rateLimitFor(1));
  });
  it('steady state: PLEX_MAX_RATE or no limit', () => {
    expect(steadyLimit(null)).toBeNull();
    expect(steadyLimit(10)).toEqual({ max: 1, duration: 100 });
  });
  it('the limit of a step is the rate at its middle (RAMP_STEP_MS), so it does not lag the schedule', () => {
    const r = startRamp(T0);
    const fast = { initialRate: 5, targetRate: 15, durationMs: 10_000 }; // +1 job/s each second
    expect(RAMP_STEP_MS).toBe(1_000);
    expect(rampLimit(r, fast, T0 + RAMP_STEP_MS / 2)).toEqual(rateLimitFor(5.5));
  });
  it('the ramp limit follows the effective rate', () => {
    const r = startRamp(T0);
    expect(rampLimit(r, s, T0)).toEqual({ max: 1, duration: 200 });
    expect(rampLimit(updateBackoff(r, 1, 0.3, T0), s, T0)).toEqual({ max: 1, duration: 400 });
  });
});

describe('ramp storage', () => {
  const now = T0 + 10_000;
  it('round-trips, backoff included', () => {
    const r = updateBackoff(startRamp(T0), 1, 0.3, T0 + 5000);
    expect(serializeRamp(r)).toEqual({ startedAt: String(T0), backoff: '1', backoffSince: String(T0 + 5000), judgedFrom: String(T0) });
    expect(parseRamp(serializeRamp(r), now)).toEqual({ ramp: r, warning: null });
    expect(parseRamp(serializeRamp(startRamp(T0)), now)).toEqual({ ramp: startRamp(T0), warning: null });
  });
  it('judges from the start a ramp stored without judgedFrom (an older version), and keeps it within [start, now]', () => {
    const old = { startedAt: String(T0), backoff: '0', backoffSince: '' };
    expect(parseRamp(old, now)).toEqual({ ramp: startRamp(T0), warning: null });
    expect(parseRamp({ ...old, judgedFrom: 'x' }, now).ramp?.judgedFrom).toBe(T0);
    expect(parseRamp({ ...old, judgedFrom: String(T0 - 1) }, now).ramp?.judgedFrom).toBe(T0);
    expect(parseRamp({ ...old, judgedFrom: String(now + 1_000) }, now).ramp?.judgedFrom).toBe(now);
    expect(parseRamp({ ...old, judgedFrom: String(T0 + 2_000) }, now).ramp?.judgedFrom).toBe(T0 + 2_000);
  });
  it('reads a missing ramp as none, without a warning', () => {
    expect(parseRamp(null, now)).toEqual({ ramp: null, warning: null });
    expect(parseRamp({}, now)).toEqual({ ramp: null, warning: null });
  });
  it('restarts an unreadable or future ramp at now, with a warning', () => {
    const bad: Record<string, string>[] = [{ startedAt: 'soon' }, { startedAt: '' }, { backoff: '1' }, { startedAt: String(now + 60_000) }];
    for (const raw of bad) {
      const r = parseRamp(raw, now);
      expect(r.ramp, JSON.stringify(raw)).toEqual(startRamp(now));
      expect(r.warning, JSON.stringify(raw)).toMatch(/restarted now/);
    }
  });
  it('clamps a start slightly in the future (clock skew) without a warning', () => {
    expect(parseRamp({ startedAt: String(now + 1000), backoff: '0', backoffSince: '' }, now)).toEqual({
      ramp: startRamp(now),
      warning: null,
    });
  });
  it('unreadable backoff fields: backing off from now, with a warning', () => {
    const r = parseRamp({ startedAt: String(T0), backoff: 'maybe', backoffSince: '' }, now);
    expect(r.ramp).toEqual({ startedAt: T0, backoff: true, backoffSince: now, judgedFrom: T0 });
    expect(r.warning).toMatch(/backoff/);
    const r2 = parseRamp({ startedAt: String(T0), backoff: '1', backoffSince: 'x' }, now);
    expect(r2.ramp).toEqual({ startedAt: T0, backoff: true, backoffSince: now, judgedFrom: T0 });
    expect(r2.warning).not.toBeNull();
  });
});
