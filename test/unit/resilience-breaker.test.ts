import { describe, expect, it } from 'vitest';
import {
  CLOCK_SKEW_TOLERANCE_MS,
  MAX_ERROR_LENGTH,
  initialBreaker,
  parseBreaker,
  serializeBreaker,
  step,
  stepAll,
  type BreakerEvent,
  type BreakerSettings,
  type BreakerState,
  trialVerdict,
  TRIAL_STARVED_MS,
} from '../../src/resilience/breaker.js';
import { rng } from '../helpers/rng.js';

const T0 = 1_700_000_000_000;
const settings: BreakerSettings = { failureThreshold: 5, recoveryTimeoutMs: 60_000, trialCalls: 10, trialErrorRate: 0.2 };
const fail = (source: 'job' | 'probe' = 'job', error = 'PlexServerDown: connect ECONNREFUSED', at?: number): BreakerEvent =>
  at === undefined ? { type: 'failure', source, error } : { type: 'failure', source, error, at };
const ok = (source: 'job' | 'probe' = 'job', idle = false): BreakerEvent => ({ type: 'success', source, idle });

/** A fake clock: every event one second after the previous one. */
function run(state: BreakerState, events: BreakerEvent[], s: BreakerSettings, start: number) {
  let now = start;
  let cur = state;
  const transitions = [];
  for (const e of events) {
    now += 1000;
    const r = step(cur, e, s, now);
    cur = r.state;
    if (r.transition) transitions.push(r.transition);
  }
  return { state: cur, transitions, now };
}

/** OPEN at T0 + 5 s after five job failures at T0 + 1..5 s. */
function opened(s: BreakerSettings = settings): BreakerState {
  const r = run(
    initialBreaker(T0),
    Array.from({ length: s.failureThreshold }, () => fail()),
    s,
    T0,
  );
  expect(r.state.state).toBe('OPEN');
  return r.state;
}

/** HALF_OPEN: opened, then a probe success exactly recoveryTimeoutMs after openedAt. */
function halfOpen(s: BreakerSettings = settings): BreakerState {
  const o = opened(s);
  const r = step(o, ok('probe'), s, o.openedAt! + s.recoveryTimeoutMs);
  expect(r.state.state).toBe('HALF_OPEN');
  return r.state;
}

describe('breaker: CLOSED', () => {
  it('starts CLOSED with empty counters', () => {
    expect(initialBreaker(T0)).toEqual({
      state: 'CLOSED',
      since: T0,
      consecutiveFailures: 0,
      openedAt: null,
      streakStartedAt: null,
      firstError: null,
      trialCalls: 0,
      trialFailures: 0,
      trialJobAt: null,
      recoveries: 0,
    });
  });

  it('stays CLOSED after 4 of 5 failures and opens exactly at the 5th', () => {
    const four = run(initialBreaker(T0), [fail(), fail(), fail(), fail()], settings, T0);
    expect(four.transitions).toEqual([]);
    expect(four.state.state).toBe('CLOSED');
    expect(four.state.consecutiveFailures).toBe(4);
    expect(four.state.streakStartedAt).toBe(T0 + 1000);

    const now = T0 + 5000;
    const fifth = step(four.state, fail('job', 'PlexTemporaryError: HTTP 503'), settings, now);
    expect(fifth.transition).toEqual({
      from: 'CLOSED',
      to: 'OPEN',
      reason: '5 consecutive outage-class failures (last: PlexTemporaryError: HTTP 503)',
      at: now,
      source: 'job',
    });
    expect(fifth.state).toEqual({
      state: 'OPEN',
      since: now,
      consecutiveFailures: 5,
      openedAt: now,
      streakStartedAt: T0 + 1000,
      firstError: 'PlexServerDown: connect ECONNREFUSED',
      trialCalls: 0,
      trialFailures: 0,
      trialJobAt: null,
      recoveries: 0,
    });
  });

  it('records the first failure of the streak, not later ones', () => {
    const r = run(initialBreaker(T0), [fail('probe', 'first'), fail('job', 'second')], settings, T0);
    expect(r.state.firstError).toBe('first');
    expect(r.state.streakStartedAt).toBe(T0 + 1000);
  });

  it('dates the streak by the event time, clamped to [since, now]', () => {
    expect(step(initialBreaker(T0), fail('job', 'e', T0 + 300), settings, T0 + 2000).state.streakStartedAt).toBe(T0 + 300);
    expect(step(initialBreaker(T0), fail('job', 'e', T0 - 50_000), settings, T0 + 2000).state.streakStartedAt).toBe(T0);
    expect(step(initialBreaker(T0), fail('job', 'e', T0 + 9000), settings, T0 + 2000).state.streakStartedAt).toBe(T0 + 2000);
  });

  it('a success resets the count and the streak', () => {
    const r = run(initialBreaker(T0), [fail(), fail(), fail(), fail(), ok('job'), fail(), fail(), fail(), fail()], settings, T0);
    expect(r.state.state).toBe('CLOSED');
    expect(r.state.consecutiveFailures).toBe(4);
    expect(r.state.streakStartedAt).toBe(T0 + 6000);
    const reset = step(r.state, ok('probe'), settings, r.now + 1000);
    expect(reset.state).toMatchObject({ consecutiveFailures: 0, streakStartedAt: null, firstError: null, state: 'CLOSED' });
    expect(reset.transition).toBeNull();
  });

  it('probe failures count like job failures; the trigger source is on the transition', () => {
    const r = run(initialBreaker(T0), [fail('job'), fail('probe'), fail('job'), fail('probe'), fail('probe')], settings, T0);
    expect(r.transitions).toHaveLength(1);
    expect(r.transitions[0].source).toBe('probe');
  });

  it('a success with nothing to reset returns the same object', () => {
    const s = initialBreaker(T0);
    const r = step(s, ok(), settings, T0 + 1);
    expect(r.state).toBe(s);
    expect(r.transition).toBeNull();
  });

  it('opens on the first failure with a threshold of 1, and treats a threshold below 1 as 1', () => {
    const one = step(initialBreaker(T0), fail('probe', 'down'), { ...settings, failureThreshold: 1 }, T0 + 1);
    expect(one.state.state).toBe('OPEN');
    expect(one.transition?.reason).toBe('1 consecutive outage-class failure (last: down)');
    expect(step(initialBreaker(T0), fail(), { ...settings, failureThreshold: 0 }, T0 + 1).state.state).toBe('OPEN');
  });

  it('opens when a stored count already reaches a lowered threshold', () => {
    const s: BreakerState = { ...initialBreaker(T0), consecutiveFailures: 7, streakStartedAt: T0, firstError: 'x' };
    expect(step(s, fail(), settings, T0 + 1).transition?.reason).toMatch(/^8 consecutive/);
  });

  it('clips very long errors in the reason and firstError', () => {
    const long = 'E'.repeat(5000);
    const r = step(initialBreaker(T0), fail('job', long), { ...settings, failureThreshold: 1 }, T0 + 1);
    expect(r.state.firstError!.length).toBe(MAX_ERROR_LENGTH);
    expect(r.transition!.reason.length).toBeLessThan(MAX_ERROR_LENGTH + 60);
  });
});

describe('breaker: OPEN', () => {
  it('job failures, probe failures and job successes change nothing', () => {
    const o = opened();
    for (const e of [fail('job'), fail('probe'), ok('job')]) {
      const r = step(o, e, settings, o.openedAt! + 120_000);
      expect(r.state).toBe(o);
      expect(r.transition).toBeNull();
    }
  });

  it('a probe success before the recovery timeout keeps it OPEN', () => {
    const o = opened();
    const r = step(o, ok('probe'), settings, o.openedAt! + 59_999);
    expect(r.state).toBe(o);
    expect(r.transition).toBeNull();
  });

  it('a probe success at the recovery timeout moves to HALF_OPEN', () => {
    const o = opened();
    const now = o.openedAt! + 60_000;
    const r = step(o, ok('probe'), settings, now);
    expect(r.transition).toEqual({
      from: 'OPEN',
      to: 'HALF_OPEN',
      reason: 'probe succeeded after 60000 ms open',
      at: now,
      source: 'probe',
    });
    expect(r.state).toMatchObject({
      state: 'HALF_OPEN',
      since: now,
      openedAt: o.openedAt,
      trialCalls: 0,
      trialFailures: 0,
      streakStartedAt: T0 + 1000,
    });
  });

  it('a recovery timeout of 0 allows HALF_OPEN on the next probe success', () => {
    const s = { ...settings, recoveryTimeoutMs: 0 };
    const o = opened(s);
    expect(step(o, ok('probe'), s, o.openedAt!).state.state).toBe('HALF_OPEN');
  });
});

describe('breaker: HALF_OPEN, judged on a trial', () => {
  const small = { ...settings, trialCalls: 3 };
  const jobFail = (error = 'PlexTemporaryError: HTTP 503') => fail('job', error);

  it('closes after trialCalls job outcomes with an error rate under the bar', () => {
    const h = halfOpen();
    const nine = run(
      h,
      Array.from({ length: 9 }, () => ok('job')),
      settings,
      h.since,
    );
    expect(nine.transitions).toEqual([]);
    expect(nine.state).toMatchObject({ state: 'HALF_OPEN', trialCalls: 9, trialFailures: 0 });
    const now = nine.now + 1000;
    const r = step(nine.state, ok('job'), settings, now);
    expect(r.transition).toEqual({
      from: 'HALF_OPEN',
      to: 'CLOSED',
      reason: 'trial passed: 0 of 10 trial calls failed, under 20 %',
      at: now,
      source: 'job',
      trialStartedAt: h.since,
    });
    expect(r.state).toEqual({ ...initialBreaker(now), recoveries: 1 });
  });

  it('one failure in ten is under 20 %: closes', () => {
    const h = halfOpen();
    const r = run(h, [ok(), ok(), jobFail(), ...Array.from({ length: 7 }, () => ok())], settings, h.since);
    expect(r.transitions.map((t) => t.reason)).toEqual(['trial passed: 1 of 10 trial calls failed, under 20 %']);
    expect(r.state.state).toBe('CLOSED');
  });

  it('re-opens as soon as the failures alone reach the bar (2 of 10 at 20 %), restarting the recovery timeout', () => {
    const h = halfOpen();
    const one = run(h, [ok(), jobFail()], settings, h.since);
    expect(one.state).toMatchObject({ state: 'HALF_OPEN', trialCalls: 2, trialFailures: 1 });
    const now = one.now + 1000;
    const r = step(one.state, jobFail('PlexServerDown: ECONNRESET'), settings, now);
    expect(r.transition).toEqual({
      from: 'HALF_OPEN',
      to: 'OPEN',
      reason: 'trial failed: 2 of 3 trial calls failed, 20 % of 10 or more (last: PlexServerDown: ECONNRESET)',
      at: now,
      source: 'job',
    });
    expect(r.state).toMatchObject({
      state: 'OPEN',
      since: now,
      openedAt: now,
      trialCalls: 0,
      trialFailures: 0,
      streakStartedAt: T0 + 1000,
      firstError: 'PlexServerDown: connect ECONNREFUSED',
      recoveries: 0,
    });
    expect(step(r.state, ok('probe'), settings, now + 59_999).state.state).toBe('OPEN');
    expect(step(r.state, ok('probe'), settings, now + 60_000).state.state).toBe('HALF_OPEN');
  });

  it('a probe failure re-opens at once: Plex does not even answer /identity', () => {
    const h = halfOpen();
    const r = step(h, fail('probe', 'PlexServerDown: timeout'), settings, h.since + 1);
    expect(r.transition).toMatchObject({ to: 'OPEN', reason: 'probe failed in HALF_OPEN: PlexServerDown: timeout', source: 'probe' });
  });

  it('a probe success counts only when no job reaches the trial (idle queues): /identity says nothing of writes', () => {
    const h = halfOpen(small);
    const busy = run(h, [ok('probe'), ok('probe'), ok('probe'), ok('probe')], small, h.since);
    expect(busy.state).toBe(h); // unchanged, the very same object
    const idle = run(h, [ok('probe', true), ok('probe', true), ok('probe', true)], small, h.since);
    expect(idle.transitions.map((t) => `${t.to} ${t.source}`)).toEqual(['CLOSED probe']);
  });

  it('a starved trial (no job outcome for TRIAL_STARVED_MS: no worker runs) lets probes stand in', () => {
    const h = halfOpen(small);
    expect(step(h, ok('probe'), small, h.since + TRIAL_STARVED_MS - 1).state).toBe(h);
    const one = step(h, ok('probe'), small, h.since + TRIAL_STARVED_MS).state;
    expect(one).toMatchObject({ trialCalls: 1, trialJobAt: null });
    // a job's outcome restarts the clock: probes wait again
    const job = step(one, ok('job'), small, h.since + TRIAL_STARVED_MS + 10).state;
    expect(job).toMatchObject({ trialCalls: 2, trialJobAt: h.since + TRIAL_STARVED_MS + 10 });
    expect(step(job, ok('probe'), small, h.since + TRIAL_STARVED_MS + 20).state).toBe(job);
    const r = step(job, ok('probe'), small, h.since + 2 * TRIAL_STARVED_MS + 10);
    expect(r.transition?.to).toBe('CLOSED');
  });

  it('a job outcome from before the trial began is not the trial’s (beyond the clock-skew tolerance)', () => {
    const h = halfOpen(small);
    const before = h.since - CLOCK_SKEW_TOLERANCE_MS - 1;
    const early: BreakerEvent = { type: 'failure', source: 'job', error: 'PlexServerDown: x', at: before };
    expect(step(h, early, small, h.since + 5).state).toBe(h);
    expect(step(h, { type: 'success', source: 'job', at: before }, small, h.since + 5).state).toBe(h);
    // a worker whose clock runs a little behind the supervisor's still counts
    const skewed = h.since - CLOCK_SKEW_TOLERANCE_MS;
    expect(step(h, { type: 'success', source: 'job', at: skewed }, small, h.since + 5).state.trialCalls).toBe(1);
  });

  it('trialVerdict: the bar is strict for closing, and an out-of-range rate reads as 20 %', () => {
    const s = { trialCalls: 10, trialErrorRate: 0.2 };
    expect(trialVerdict(10, 1, s)).toBe('close');
    expect(trialVerdict(9, 1, s)).toBe('wait');
    expect(trialVerdict(3, 2, s)).toBe('reopen');
    expect(trialVerdict(1, 1, { trialCalls: 10, trialErrorRate: 1 })).toBe('wait');
    expect(trialVerdict(10, 9, { trialCalls: 10, trialErrorRate: 1 })).toBe('close');
    expect(trialVerdict(10, 10, { trialCalls: 10, trialErrorRate: 1 })).toBe('reopen');
    expect(trialVerdict(2, 2, { trialCalls: 10, trialErrorRate: 0 })).toBe('reopen');
    expect(trialVerdict(1, 0, { trialCalls: 0, trialErrorRate: 0.2 })).toBe('close'); // at least one call
  });
});

describe('breaker: the trial against seeded random failure sequences', () => {
  /**
   * Feeds a HALF_OPEN breaker job outcomes failing with probability `p` (seeded), one a second, until the
   * trial decides; returns the decision and the outcomes it saw.
   */
  function trial(seed: number, p: number, s: BreakerSettings) {
    const random = rng(seed);
    let state = halfOpen(s);
    const outcomes: boolean[] = [];
    for (let now = state.since + 1000; outcomes.length <= s.trialCalls; now += 1000) {
      const failed = random() < p;
      outcomes.push(!failed);
      const r = step(state, failed ? fail('job', 'PlexTemporaryError: HTTP 503') : ok('job'), s, now);
      state = r.state;
      if (r.transition) return { to: r.transition.to, outcomes };
    }
    throw new Error('the trial never decided');
  }

  it('every decision follows the rule: closed only with trialCalls outcomes under the rate, re-opened once it cannot be', () => {
    for (let seed = 1; seed <= 2000; seed++) {
      const s = { ...settings, trialCalls: 1 + (seed % 15), trialErrorRate: [0.1, 0.2, 0.5, 1][seed % 4] };
      const p = [0, 0.05, 0.2, 0.5, 0.9][seed % 5];
      const { to, outcomes } = trial(seed, p, s);
      const failures = outcomes.filter((o) => !o).length;
      if (to === 'CLOSED') {
        expect(outcomes.length, `seed ${seed}`).toBe(s.trialCalls);
        expect(failures / s.trialCalls, `seed ${seed}`).toBeLessThan(s.trialErrorRate);
      } else {
        expect(to).toBe('OPEN');
        expect(failures / s.trialCalls, `seed ${seed}`).toBeGreaterThanOrEqual(s.trialErrorRate);
        expect(outcomes.at(-1), `seed ${seed}: re-opened on the failure that decided it`).toBe(false);
        // decided at the first moment it could be: one failure fewer was still under the bar
        expect((failures - 1) / s.trialCalls, `seed ${seed}`).toBeLessThan(s.trialErrorRate);
      }
    }
  });

  it('a Plex failing half its writes almost never passes a trial of 10 at 20 % (one lucky success no longer closes it)', () => {
    let closed = 0;
    const runs = 5000;
    for (let seed = 1; seed <= runs; seed++) if (trial(seed, 0.5, settings).to === 'CLOSED') closed++;
    // P(at most 1 failure in 10 at p = 0.5) = 11/1024 ≈ 1.1 %; the old rule (one success) closed 50 %.
    expect(closed / runs).toBeLessThan(0.02);
    expect(closed / runs).toBeGreaterThan(0.002);
  });

  it('a well Plex (2 % of writes failing) passes nearly every trial, and the re-opened ones met two failures', () => {
    let closed = 0;
    for (let seed = 1; seed <= 2000; seed++) if (trial(seed, 0.02, settings).to === 'CLOSED') closed++;
    expect(closed / 2000).toBeGreaterThan(0.97);
  });
});

describe('breaker: a whole outage', () => {
  it('CLOSED → OPEN → HALF_OPEN → OPEN → HALF_OPEN → CLOSED, then counts afresh', () => {
    let s = initialBreaker(T0);
    const seen: string[] = [];
    const at = (t: number, e: BreakerEvent) => {
      const r = step(s, e, settings, T0 + t);
      s = r.state;
      if (r.transition) seen.push(`${r.transition.from}>${r.transition.to}`);
    };
    for (let i = 1; i <= 5; i++) at(i * 1000, fail());
    at(30_000, ok('probe')); // too early
    at(65_000, ok('probe')); // HALF_OPEN
    at(65_500, fail());
    at(66_000, fail()); // 2 of 10 trial calls failed: OPEN again, openedAt 66 s
    at(100_000, ok('probe')); // too early
    at(126_000, ok('probe')); // HALF_OPEN
    for (let i = 1; i <= 10; i++) at(126_000 + i * 100, ok('job')); // the trial: CLOSED at the 10th
    expect(seen).toEqual(['CLOSED>OPEN', 'OPEN>HALF_OPEN', 'HALF_OPEN>OPEN', 'OPEN>HALF_OPEN', 'HALF_OPEN>CLOSED']);
    expect(s.recoveries).toBe(1);
    at(128_000, fail());
    expect(s).toMatchObject({ state: 'CLOSED', consecutiveFailures: 1, streakStartedAt: T0 + 128_000 });
  });

  it('stepAll folds events and collects the transitions', () => {
    const r = stepAll(
      initialBreaker(T0),
      Array.from({ length: 6 }, () => fail()),
      settings,
      T0 + 10,
    );
    expect(r.state.state).toBe('OPEN');
    expect(r.transitions.map((t) => t.to)).toEqual(['OPEN']);
  });
});

describe('breaker: storage', () => {
  it('round-trips through serialize/parse in every state', () => {
    const states = [initialBreaker(T0), run(initialBreaker(T0), [fail(), fail()], settings, T0).state, opened(), halfOpen()];
    for (const s of states) {
      const now = T0 + 200_000;
      const parsed = parseBreaker(serializeBreaker(s), now);
      expect(parsed).toEqual({ state: s, warning: null });
    }
  });

  it('serializes every field as a string, null as empty', () => {
    expect(serializeBreaker(initialBreaker(T0))).toEqual({
      state: 'CLOSED',
      since: String(T0),
      consecutiveFailures: '0',
      openedAt: '',
      streakStartedAt: '',
      firstError: '',
      trialCalls: '0',
      trialFailures: '0',
      trialJobAt: '',
      recoveries: '0',
    });
  });

  it('reads a missing state as CLOSED without a warning', () => {
    expect(parseBreaker(null, T0)).toEqual({ state: initialBreaker(T0), warning: null });
    expect(parseBreaker({}, T0)).toEqual({ state: initialBreaker(T0), warning: null });
  });

  it('reads garbage as CLOSED with a warning, never throwing', () => {
    const good = serializeBreaker(opened());
    const now = T0 + 100_000;
    const bad: Record<string, string>[] = [
      { ...good, state: 'BROKEN' },
      { ...good, state: 'open' },
      { ...good, since: 'yesterday' },
      { ...good, since: '' },
      { ...good, since: '-5' },
      { ...good, since: '1e12' },
      { ...good, since: String(now + CLOCK_SKEW_TOLERANCE_MS + 1) },
      { garbage: 'x' },
    ];
    for (const raw of bad) {
      const r = parseBreaker(raw, now);
      expect(r.state, JSON.stringify(raw)).toEqual(initialBreaker(now));
      expect(r.warning, JSON.stringify(raw)).toMatch(/reset to CLOSED/);
    }
    // not even a record
    expect(parseBreaker('nonsense' as unknown as Record<string, string>, now).state.state).toBe('CLOSED');
  });

  it('accepts a since slightly in the future (clock skew), clamped to now', () => {
    const now = T0 + 100_000;
    const raw = { ...serializeBreaker(opened()), since: String(now + 2000), openedAt: String(now + 2000) };
    const r = parseBreaker(raw, now);
    expect(r.warning).toBeNull();
    expect(r.state).toMatchObject({ state: 'OPEN', since: now, openedAt: now });
  });

  it('repairs unreadable secondary fields and keeps the state, with a warning', () => {
    const now = T0 + 100_000;
    const o = opened();
    const r = parseBreaker({ ...serializeBreaker(o), consecutiveFailures: 'many', openedAt: 'x', recoveries: '-1' }, now);
    expect(r.state).toEqual({ ...o, consecutiveFailures: 0, openedAt: o.since, recoveries: 0 });
    expect(r.warning).toMatch(/consecutiveFailures/);
    expect(r.warning).toMatch(/openedAt/);
    expect(r.warning).toMatch(/recoveries/);
    expect(r.warning).toMatch(/kept OPEN/);
  });

  it('an OPEN state without openedAt opens from since and can still recover', () => {
    const now = T0 + 100_000;
    const r = parseBreaker({ state: 'OPEN', since: String(T0) }, now);
    expect(r.state.openedAt).toBe(T0);
    expect(step(r.state, ok('probe'), settings, now).state.state).toBe('HALF_OPEN');
  });
});
