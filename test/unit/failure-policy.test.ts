// The worker's decision on a failed attempt, without Redis or BullMQ: hold, retry or give up.
import { describe, expect, it } from 'vitest';
import { DEFAULT_ERROR_STRATEGIES, formatFailedReason, type ErrorType } from '../../src/core/errors.js';
import type { GateState } from '../../src/resilience/token.js';
import {
  failureDecision,
  gateMatters,
  landedInFailedSet,
  MAX_HELD_STARTS,
  recordsAuthError,
  retryDelay,
  type FailedAttempt,
} from '../../src/sync/failure-policy.js';

const S = DEFAULT_ERROR_STRATEGIES;
const HOLDING: GateState = { holding: true, tokenRejected: false, tokenCheckedAt: null };
const FREE: GateState = { holding: false, tokenRejected: false, tokenCheckedAt: null };
const attempt = (type: ErrorType, rest: Partial<FailedAttempt> = {}): FailedAttempt => ({
  type,
  attemptsMade: 0,
  attemptsStarted: 1,
  gate: null,
  previousAuthErrorAt: null,
  ...rest,
});

describe('failureDecision', () => {
  it('holds an outage-class failure while the supervisor holds, without spending an attempt', () => {
    for (const type of ['PlexServerDown', 'PlexTemporaryError'] as const) {
      expect(failureDecision(attempt(type, { gate: HOLDING, attemptsMade: 4 }), S)).toBe('hold');
    }
  });

  it('retries an outage-class failure when nothing holds (no gate, or no supervisor and CLOSED)', () => {
    expect(failureDecision(attempt('PlexServerDown'), S)).toBe('retry');
    expect(failureDecision(attempt('PlexServerDown', { gate: FREE }), S)).toBe('retry');
  });

  it('stops holding after MAX_HELD_STARTS starts: the attempts count again', () => {
    expect(failureDecision(attempt('PlexServerDown', { gate: HOLDING, attemptsStarted: MAX_HELD_STARTS }), S)).toBe('hold');
    expect(failureDecision(attempt('PlexServerDown', { gate: HOLDING, attemptsStarted: MAX_HELD_STARTS + 1 }), S)).toBe('retry');
    expect(failureDecision(attempt('PlexServerDown', { gate: HOLDING, attemptsStarted: MAX_HELD_STARTS + 1, attemptsMade: 4 }), S)).toBe(
      'give-up',
    );
  });

  it('a 401/403: held until the supervisor has judged the token, then given up if it still fails after an accepted check', () => {
    expect(failureDecision(attempt('PlexAuthError', { gate: HOLDING }), S)).toBe('hold');
    expect(failureDecision(attempt('PlexAuthError', { gate: { ...HOLDING, tokenRejected: true }, previousAuthErrorAt: 5 }), S)).toBe(
      'hold',
    );
    const judged = { ...HOLDING, tokenCheckedAt: 10 };
    expect(failureDecision(attempt('PlexAuthError', { gate: judged, previousAuthErrorAt: 5 }), S)).toBe('give-up');
    expect(failureDecision(attempt('PlexAuthError', { gate: judged, previousAuthErrorAt: 15 }), S)).toBe('hold');
    expect(failureDecision(attempt('PlexAuthError', { gate: FREE }), S)).toBe('give-up');
    expect(failureDecision(attempt('PlexAuthError'), S)).toBe('give-up');
  });

  it('gives up at once on a permanent type, whatever the gate says', () => {
    for (const type of [
      'PlexBadRequest',
      'PlexBadResponse',
      'AmbiguousMatch',
      'StashAuthError',
      'StashSceneMissing',
      'InvalidJob',
    ] as const) {
      expect(failureDecision(attempt(type, { gate: HOLDING }), S)).toBe('give-up');
    }
  });

  it('retries a transient type until its last attempt (the gate does not hold it)', () => {
    const last = S.PlexNotFound.attempts - 1;
    expect(failureDecision(attempt('PlexNotFound', { gate: HOLDING, attemptsMade: last - 1 }), S)).toBe('retry');
    expect(failureDecision(attempt('PlexNotFound', { gate: HOLDING, attemptsMade: last }), S)).toBe('give-up');
    expect(failureDecision(attempt('StashUnavailable', { attemptsMade: S.StashUnavailable.attempts - 1 }), S)).toBe('give-up');
  });
});

describe('what the worker asks the gate', () => {
  it("only for outage-class errors, 401/403 and Stash's faults, while holds remain", () => {
    expect(gateMatters('PlexServerDown', 1)).toBe(true);
    expect(gateMatters('PlexAuthError', MAX_HELD_STARTS)).toBe(true);
    expect(gateMatters('PlexServerDown', MAX_HELD_STARTS + 1)).toBe(false);
    expect(gateMatters('PlexNotFound', 1)).toBe(false);
    expect(gateMatters('PlexBadResponse', 1)).toBe(false);
    // Stash's faults: the supervisor's Stash check judges them (stashErrorAction).
    expect(gateMatters('StashUnavailable', 1)).toBe(true);
    expect(gateMatters('StashAuthError', 1)).toBe(true);
    expect(gateMatters('StashSceneMissing', 1)).toBe(false);
  });

  it('records a 401/403 only while the supervisor holds (it is what tells a rejected token from a refusal)', () => {
    expect(recordsAuthError('PlexAuthError', HOLDING)).toBe('plex');
    expect(recordsAuthError('PlexAuthError', FREE)).toBeNull();
    expect(recordsAuthError('PlexServerDown', HOLDING)).toBeNull();
  });
});

describe('retryDelay and the failed set', () => {
  it('backs off per the type in the error message, StashUnavailable when it names none', () => {
    const down = new Error(formatFailedReason('PlexServerDown', 'x'));
    expect(retryDelay(S, 1, down, 1 - Number.EPSILON)).toBeCloseTo(S.PlexServerDown.backoffBaseMs, -1);
    expect(retryDelay(S, 3, down, 0)).toBe((S.PlexServerDown.backoffBaseMs * 4) / 2);
    expect(retryDelay(S, 1, new Error('boom'), 0)).toBe(S.StashUnavailable.backoffBaseMs / 2);
    expect(retryDelay(S, 30, down, 0)).toBe(S.PlexServerDown.backoffCapMs / 2);
  });

  it('a job lands in the failed set when given up or out of attempts, never when held', () => {
    expect(landedInFailedSet('UnrecoverableError', 0, 12)).toBe(true);
    expect(landedInFailedSet('Error', 12, 12)).toBe(true);
    expect(landedInFailedSet('Error', 3, 12)).toBe(false);
    expect(landedInFailedSet('DelayedError', 12, 12)).toBe(false);
    expect(landedInFailedSet('Error', 1, undefined)).toBe(true);
  });
});
