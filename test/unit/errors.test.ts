import { describe, expect, it } from 'vitest';
import {
  backoffDelay,
  classify,
  DEFAULT_ERROR_STRATEGIES,
  ERROR_CLASS,
  maxAttempts,
  parseFailedReason,
  SyncError,
} from '../../src/core/errors.js';

const netError = (code: string) => Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error(code), { code }) });

describe('classify', () => {
  it.each([
    [401, 'PlexAuthError'],
    [403, 'PlexAuthError'],
    [404, 'PlexNotFound'],
    [400, 'PlexBadRequest'],
    [422, 'PlexBadRequest'],
    [429, 'PlexTemporaryError'],
    [500, 'PlexTemporaryError'],
    [503, 'PlexTemporaryError'],
  ])('Plex HTTP %i → %s', (status, type) => {
    expect(classify('plex', { status }, 'GET /x').type).toBe(type);
  });
  it.each([414, 431])('Plex HTTP %i (a proxy refusing a long URL) → PlexBadRequest naming PLEX_MAX_URL_BYTES', (status) => {
    const err = classify('plex', { status }, 'PUT /library/sections/1/all');
    expect(err).toMatchObject({ type: 'PlexBadRequest', status });
    expect(err.message).toBe(
      `PUT /library/sections/1/all → HTTP ${status} (URL too long for a proxy in front of Plex: lower PLEX_MAX_URL_BYTES)`,
    );
  });
  it.each([
    ['ECONNREFUSED', 'PlexServerDown'],
    ['ECONNRESET', 'PlexServerDown'],
    ['ENOTFOUND', 'PlexServerDown'],
    ['EHOSTUNREACH', 'PlexServerDown'],
    ['UND_ERR_CONNECT_TIMEOUT', 'PlexServerDown'],
    ['UND_ERR_HEADERS_TIMEOUT', 'PlexTemporaryError'],
  ])('Plex network %s → %s', (code, type) => {
    expect(classify('plex', { error: netError(code) }, 'GET /x').type).toBe(type);
  });
  it('treats an aborted (timed-out) request as a temporary error', () => {
    const e = new DOMException('The operation was aborted due to timeout', 'TimeoutError');
    expect(classify('plex', { error: e }, 'GET /x').type).toBe('PlexTemporaryError');
  });
  it('maps Stash failures to Stash types', () => {
    expect(classify('stash', { status: 401 }, 'POST /graphql').type).toBe('StashAuthError');
    expect(classify('stash', { status: 502 }, 'POST /graphql').type).toBe('StashUnavailable');
    expect(classify('stash', { error: netError('ECONNREFUSED') }, 'POST /graphql').type).toBe('StashUnavailable');
  });
  it('keeps an already classified error', () => {
    const e = new SyncError('AmbiguousMatch', 'two items');
    expect(classify('plex', { error: e }, 'x')).toBe(e);
  });
});

describe('failedReason', () => {
  it('round-trips the type', () => {
    const e = classify('plex', { error: netError('ECONNREFUSED') }, 'GET /identity');
    expect(e.reason).toBe('PlexServerDown: GET /identity → ECONNREFUSED');
    expect(parseFailedReason(e.reason)).toBe('PlexServerDown');
    expect(parseFailedReason('job stalled more than allowable limit')).toBeNull();
    expect(parseFailedReason('Bogus: x')).toBeNull();
  });
});

describe('strategies', () => {
  it('permanent types have one attempt and never count toward the breaker', () => {
    for (const [type, cls] of Object.entries(ERROR_CLASS)) {
      const s = DEFAULT_ERROR_STRATEGIES[type as keyof typeof ERROR_CLASS];
      if (cls === 'permanent') expect(s.attempts).toBe(1);
      expect(s.countsTowardBreaker).toBe(cls === 'outage');
    }
    expect(maxAttempts(DEFAULT_ERROR_STRATEGIES)).toBe(12);
  });
  it('a malformed item (PlexBadResponse) is permanent: one attempt, never a breaker event, not requeued by default', () => {
    expect(ERROR_CLASS.PlexBadResponse).toBe('permanent');
    expect(DEFAULT_ERROR_STRATEGIES.PlexBadResponse).toEqual({
      attempts: 1,
      backoffBaseMs: 0,
      backoffCapMs: 0,
      countsTowardBreaker: false,
      requeueByDefault: false,
    });
    expect(parseFailedReason('PlexBadResponse: GET /library/metadata/7 → malformed item (userRating: …)')).toBe('PlexBadResponse');
  });
  it('PlexNotFound retries slowly: about 12 attempts over about two hours', () => {
    const s = DEFAULT_ERROR_STRATEGIES.PlexNotFound;
    let min = 0;
    let max = 0;
    for (let made = 1; made < s.attempts; made++) {
      min += backoffDelay(s, made, 0);
      max += backoffDelay(s, made, 0.999999);
    }
    expect(min).toBeGreaterThan(45 * 60_000);
    expect(max).toBeLessThan(2.5 * 3600_000);
    expect(max).toBeGreaterThan(90 * 60_000);
  });
  it('backoff doubles up to the cap with jitter in [d/2, d]', () => {
    const s = DEFAULT_ERROR_STRATEGIES.PlexServerDown;
    expect(backoffDelay(s, 1, 0)).toBe(1000);
    expect(backoffDelay(s, 1, 0.999999)).toBe(2000);
    expect(backoffDelay(s, 3, 0.999999)).toBe(8000);
    expect(backoffDelay(s, 20, 0.999999)).toBe(60_000);
  });
});
