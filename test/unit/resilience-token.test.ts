// The token-rejected policy: pause reasons, what a token check does, when to check, hold or fail a 401.
import { describe, expect, it } from 'vitest';
import {
  afterTokenCheck,
  authErrorAction,
  failedTokenCheck,
  pauseReasons,
  tokenCheckDue,
  tokenCheckPlan,
  type GateState,
} from '../../src/resilience/token.js';

describe('pauseReasons', () => {
  it('names each reason the supervisor holds the queue for, none when it may run', () => {
    expect(pauseReasons({ breaker: 'CLOSED', tokenRejected: false })).toEqual([]);
    expect(pauseReasons({ breaker: 'HALF_OPEN', tokenRejected: false })).toEqual([]);
    expect(pauseReasons({ breaker: 'OPEN', tokenRejected: false })).toEqual(['plex down']);
    expect(pauseReasons({ breaker: 'CLOSED', tokenRejected: true })).toEqual(['token rejected']);
    expect(pauseReasons({ breaker: 'OPEN', tokenRejected: true })).toEqual(['plex down', 'token rejected']);
  });
});

describe('afterTokenCheck', () => {
  it('a rejection flags the token and pauses, whatever the breaker (pausing again is harmless)', () => {
    for (const breaker of ['CLOSED', 'OPEN', 'HALF_OPEN'] as const) {
      for (const tokenRejected of [false, true]) {
        expect(afterTokenCheck('rejected', { breaker, tokenRejected })).toEqual({ tokenRejected: true, queue: 'pause' });
      }
    }
  });

  it('an accepted token after a rejection resumes, unless Plex is also down', () => {
    expect(afterTokenCheck('accepted', { breaker: 'CLOSED', tokenRejected: true })).toEqual({ tokenRejected: false, queue: 'resume' });
    expect(afterTokenCheck('accepted', { breaker: 'HALF_OPEN', tokenRejected: true })).toEqual({ tokenRejected: false, queue: 'resume' });
    expect(afterTokenCheck('accepted', { breaker: 'OPEN', tokenRejected: true })).toEqual({ tokenRejected: false, queue: 'keep' });
  });

  it('an accepted token that was never rejected changes nothing (the breaker steers the queue)', () => {
    expect(afterTokenCheck('accepted', { breaker: 'CLOSED', tokenRejected: false })).toEqual({ tokenRejected: false, queue: 'keep' });
  });

  it('an unreachable Plex says nothing about the token', () => {
    expect(afterTokenCheck('unreachable', { breaker: 'CLOSED', tokenRejected: true })).toEqual({ tokenRejected: true, queue: 'keep' });
    expect(afterTokenCheck('unreachable', { breaker: 'OPEN', tokenRejected: false })).toEqual({ tokenRejected: false, queue: 'keep' });
  });
});

describe('tokenCheckDue', () => {
  const base = { breaker: 'CLOSED' as const, tokenRejected: false, suspect: false, lastAttemptAt: 1_000, recheckMs: 5_000 };
  it('only when a worker met a 401 or the token stands rejected', () => {
    expect(tokenCheckDue(base, 100_000)).toBe(false);
    expect(tokenCheckDue({ ...base, suspect: true }, 100_000)).toBe(true);
    expect(tokenCheckDue({ ...base, tokenRejected: true }, 100_000)).toBe(true);
  });
  it('at most once per recheckMs since the last attempt; at once without one', () => {
    expect(tokenCheckDue({ ...base, suspect: true }, 5_999)).toBe(false);
    expect(tokenCheckDue({ ...base, suspect: true }, 6_000)).toBe(true);
    expect(tokenCheckDue({ ...base, suspect: true, lastAttemptAt: null }, 0)).toBe(true);
  });
  it('not while Plex is down: the check could not answer, and the recovery checks anyway', () => {
    expect(tokenCheckDue({ ...base, breaker: 'OPEN', tokenRejected: true, suspect: true }, 100_000)).toBe(false);
    expect(tokenCheckDue({ ...base, breaker: 'HALF_OPEN', tokenRejected: true }, 100_000)).toBe(true);
  });
});

describe('authErrorAction (a job met PlexAuthError)', () => {
  const gate = (g: Partial<GateState> = {}): GateState => ({ holding: true, tokenRejected: false, tokenCheckedAt: null, ...g });

  it('fails at once without a supervisor to judge it, as any permanent error', () => {
    expect(authErrorAction(null, null)).toBe('fail');
    expect(authErrorAction(gate({ holding: false, tokenRejected: true }), 1_000)).toBe('fail');
  });

  it('holds while the supervisor confirms the token is rejected', () => {
    expect(authErrorAction(gate({ tokenRejected: true, tokenCheckedAt: 5_000 }), 1_000)).toBe('hold');
    expect(authErrorAction(gate({ tokenRejected: true }), null)).toBe('hold');
  });

  it('holds the first 401, and later ones until a check that began after the previous 401', () => {
    expect(authErrorAction(gate({ tokenCheckedAt: 9_000 }), null)).toBe('hold'); // first: the check may predate it
    expect(authErrorAction(gate(), 1_000)).toBe('hold'); // no check yet
    expect(authErrorAction(gate({ tokenCheckedAt: 1_000 }), 1_000)).toBe('hold'); // not after it
    expect(authErrorAction(gate({ tokenCheckedAt: 500 }), 1_000)).toBe('hold');
  });

  it('fails when the token was accepted after the previous 401 and the job meets a 401 again (a per-item refusal)', () => {
    expect(authErrorAction(gate({ tokenCheckedAt: 1_001 }), 1_000)).toBe('fail');
  });
});

describe('failedTokenCheck', () => {
  it('a PlexAuthError is a rejected token; anything else says nothing about it', () => {
    expect(failedTokenCheck({ type: 'PlexAuthError' })).toBe('rejected');
    for (const err of [{ type: 'PlexServerDown' }, { type: 'PlexTemporaryError' }, new Error('boom'), null, undefined, 'x'])
      expect(failedTokenCheck(err)).toBe('unreachable');
  });
});

describe('tokenCheckPlan', () => {
  it('an unreachable Plex changes nothing and stores nothing', () => {
    expect(tokenCheckPlan('unreachable', { breaker: 'CLOSED', tokenRejected: true })).toEqual({
      tokenRejected: true,
      queue: 'keep',
      record: false,
      note: null,
      checkLibraries: false,
    });
  });

  it('a rejection is stored, said and pauses; the libraries are not checked with a token Plex refuses', () => {
    expect(tokenCheckPlan('rejected', { breaker: 'CLOSED', tokenRejected: false })).toEqual({
      tokenRejected: true,
      queue: 'pause',
      record: true,
      note: 'rejected',
      checkLibraries: false,
    });
  });

  it('an accepted token is stored and has the libraries checked; said only after a rejection', () => {
    expect(tokenCheckPlan('accepted', { breaker: 'CLOSED', tokenRejected: false })).toEqual({
      tokenRejected: false,
      queue: 'keep',
      record: true,
      note: null,
      checkLibraries: true,
    });
    expect(tokenCheckPlan('accepted', { breaker: 'CLOSED', tokenRejected: true })).toEqual({
      tokenRejected: false,
      queue: 'resume',
      record: true,
      note: 'accepted again',
      checkLibraries: true,
    });
    expect(tokenCheckPlan('accepted', { breaker: 'OPEN', tokenRejected: true })).toMatchObject({ queue: 'keep', note: 'accepted again' });
  });
});
