// A rejected Stash key and an unreachable Stash, as pure policy (src/resilience/stash-health.ts and
// stashErrorAction in src/resilience/token.ts): they hold the queue like a rejected Plex token.
import { describe, expect, it } from 'vitest';
import { DEFAULT_ERROR_STRATEGIES, SyncError } from '../../src/core/errors.js';
import { failedStashCheck, stashCheckDue, stashCheckPlan } from '../../src/resilience/stash-health.js';
import { pauseReasons, stashErrorAction, type GateState, type HoldState } from '../../src/resilience/token.js';
import { failureDecision } from '../../src/sync/failure-policy.js';

const WELL: HoldState = { breaker: 'CLOSED', tokenRejected: false, stashKeyRejected: false, stashDown: false };

describe('stash checks', () => {
  it('a 401/403 is the key rejected; anything else is Stash not answering', () => {
    expect(failedStashCheck(new SyncError('StashAuthError', 'x', 401))).toBe('rejected');
    expect(failedStashCheck(new SyncError('StashUnavailable', 'x → ECONNREFUSED'))).toBe('unreachable');
    expect(failedStashCheck(new Error('boom'))).toBe('unreachable');
  });

  it('rejected: pause with its own reason, said once', () => {
    const plan = stashCheckPlan('rejected', WELL);
    expect(plan).toEqual({ stashKeyRejected: true, stashDown: false, queue: 'pause', note: 'rejected' });
    expect(pauseReasons({ ...WELL, ...plan })).toEqual(['stash key rejected']);
    expect(stashCheckPlan('rejected', { ...WELL, stashKeyRejected: true }).note).toBeNull();
  });

  it('unreachable: an outage of Stash (pause, "stash down"); it says nothing new of the key', () => {
    expect(stashCheckPlan('unreachable', WELL)).toEqual({ stashKeyRejected: false, stashDown: true, queue: 'pause', note: 'down' });
    expect(stashCheckPlan('unreachable', { ...WELL, stashKeyRejected: true })).toMatchObject({ stashKeyRejected: true, note: 'down' });
    expect(pauseReasons({ ...WELL, stashDown: true })).toEqual(['stash down']);
  });

  it('accepted: resumes what it held, unless Plex still holds the queue', () => {
    expect(stashCheckPlan('accepted', { ...WELL, stashKeyRejected: true })).toEqual({
      stashKeyRejected: false,
      stashDown: false,
      queue: 'resume',
      note: 'accepted again',
    });
    expect(stashCheckPlan('accepted', { ...WELL, stashDown: true }).note).toBe('answers again');
    expect(stashCheckPlan('accepted', { ...WELL, stashKeyRejected: true, breaker: 'OPEN' }).queue).toBe('keep');
    expect(stashCheckPlan('accepted', { ...WELL, stashKeyRejected: true, tokenRejected: true }).queue).toBe('keep');
    expect(stashCheckPlan('accepted', WELL)).toEqual({ stashKeyRejected: false, stashDown: false, queue: 'keep', note: null });
  });

  it('due at once, then every recheck while suspect or held, else at the quiet interval (0: never)', () => {
    const base = { suspect: false, held: false, lastAttemptAt: 1_000, recheckMs: 500, everyMs: 30_000 };
    expect(stashCheckDue({ ...base, lastAttemptAt: null }, 0)).toBe(true);
    expect(stashCheckDue({ ...base, suspect: true }, 1_400)).toBe(false);
    expect(stashCheckDue({ ...base, suspect: true }, 1_500)).toBe(true);
    expect(stashCheckDue({ ...base, held: true }, 1_500)).toBe(true);
    expect(stashCheckDue(base, 1_500)).toBe(false);
    expect(stashCheckDue(base, 31_000)).toBe(true);
    expect(stashCheckDue({ ...base, everyMs: 0 }, 1e9)).toBe(false);
  });
});

describe("a job's Stash fault", () => {
  const watching: GateState = { holding: true, tokenRejected: false, tokenCheckedAt: null, stashWatched: true, stashCheckedAt: 5_000 };
  const attempt = (type: 'StashAuthError' | 'StashUnavailable', gate: GateState | null, previousAuthErrorAt: number | null) =>
    failureDecision({ type, attemptsMade: 0, attemptsStarted: 3, gate, previousAuthErrorAt }, DEFAULT_ERROR_STRATEGIES);

  it('is held while the supervisor finds the key rejected or Stash down: no attempt spent, nothing fails', () => {
    expect(stashErrorAction({ ...watching, stashKeyRejected: true }, 9_000)).toBe('hold');
    expect(attempt('StashAuthError', { ...watching, stashKeyRejected: true }, 9_000)).toBe('hold');
    expect(attempt('StashUnavailable', { ...watching, stashDown: true }, 9_000)).toBe('hold');
  });

  it('is held the first time, until a check after it finds Stash well: then it is about the scene', () => {
    expect(attempt('StashAuthError', watching, null)).toBe('hold');
    expect(attempt('StashAuthError', watching, 6_000)).toBe('hold'); // the last check is older than the fault
    expect(attempt('StashAuthError', watching, 4_000)).toBe('give-up');
    expect(attempt('StashUnavailable', watching, 4_000)).toBe('retry');
  });

  it('without a supervisor watching Stash: as before (a rejected key fails, an unreachable Stash retries)', () => {
    const blind: GateState = { holding: true, tokenRejected: false, tokenCheckedAt: null };
    expect(attempt('StashAuthError', blind, null)).toBe('give-up');
    expect(attempt('StashUnavailable', blind, null)).toBe('retry');
    expect(attempt('StashAuthError', null, null)).toBe('give-up');
  });
});
