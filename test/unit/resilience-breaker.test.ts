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
} from '../../src/resilience/breaker.js';

const T0 = 1_700_000_000_000;
const settings: BreakerSettings = { failureThreshold: 5, recoveryTimeoutMs: 60_000, successThreshold: 1 };
const fail = (source: 'job' | 'probe' = 'job', error = 'PlexServerDown: connect ECONNREFUSED', at?: number): BreakerEvent =>
  at === undefined ? { type: 'failure', source, error } : { type: 'failure', source, error, at };
const ok = (source: 'job' | 'probe' = 'job'): BreakerEvent => ({ type: 'success', source });

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
      halfOpenSuccesses: 0,
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
      halfOpenSuccesses: 0,
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
      halfOpenSuccesses: 0,
      streakStartedAt: T0 + 1000,
    });
  });

  it('a recovery timeout of 0 allows HALF_OPEN on the next probe success', () => {
    const s = { ...settings, recoveryTimeoutMs: 0 };
    const o = opened(s);
    expect(step(o, ok('probe'), s, o.openedAt!).state.state).toBe('HALF_OPEN');
  });
});

describe('breaker: HALF_OPEN', () => {
  it('one success closes it with successThreshold 1 (job or probe)', () => {
    for (const source of ['job', 'probe'] as const) {
      const h = halfOpen();
      const now = h.since + 1500;
      const r = step(h, ok(source), settings, now);
      expect(r.transition).toEqual({ from: 'HALF_OPEN', to: 'CLOSED', reason: '1 success in HALF_OPEN', at: now, source });
      expect(r.state).toEqual({
        state: 'CLOSED',
        since: now,
        consecutiveFailures: 0,
        openedAt: null,
        streakStartedAt: null,
        firstError: null,
        halfOpenSuccesses: 0,
        recoveries: 1,
      });
    }
  });

  it('needs 3 successes with successThreshold 3', () => {
    const s = { ...settings, successThreshold: 3 };
    const h = halfOpen(s);
    const r = run(h, [ok('job'), ok('probe')], s, h.since);
    expect(r.transitions).toEqual([]);
    expect(r.state).toMatchObject({ state: 'HALF_OPEN', halfOpenSuccesses: 2 });
    const third = step(r.state, ok('job'), s, r.now + 1000);
    expect(third.transition?.reason).toBe('3 successes in HALF_OPEN');
    expect(third.state.state).toBe('CLOSED');
    expect(third.state.recoveries).toBe(1);
  });

  it('a failure re-opens it, restarting the recovery timeout and keeping the outage start', () => {
    const s = { ...settings, successThreshold: 3 };
    const h = halfOpen(s);
    const one = step(h, ok('job'), s, h.since + 1000).state;
    const now = h.since + 2000;
    const r = step(one, fail('job', 'PlexServerDown: ECONNRESET'), s, now);
    expect(r.transition).toEqual({
      from: 'HALF_OPEN',
      to: 'OPEN',
      reason: 'failure in HALF_OPEN: PlexServerDown: ECONNRESET',
      at: now,
      source: 'job',
    });
    expect(r.state).toMatchObject({
      state: 'OPEN',
      since: now,
      openedAt: now,
      halfOpenSuccesses: 0,
      streakStartedAt: T0 + 1000,
      firstError: 'PlexServerDown: connect ECONNREFUSED',
      recoveries: 0,
    });
    // the recovery timeout runs from the re-opening
    expect(step(r.state, ok('probe'), s, now + 59_999).state.state).toBe('OPEN');
    expect(step(r.state, ok('probe'), s, now + 60_000).state.state).toBe('HALF_OPEN');
  });

  it('a probe failure re-opens it too', () => {
    const h = halfOpen();
    expect(step(h, fail('probe', 'timeout'), settings, h.since + 1).transition?.to).toBe('OPEN');
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
    at(66_000, fail()); // OPEN again, openedAt 66 s
    at(100_000, ok('probe')); // too early
    at(126_000, ok('probe')); // HALF_OPEN
    at(127_000, ok('job')); // CLOSED
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
      halfOpenSuccesses: '0',
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
