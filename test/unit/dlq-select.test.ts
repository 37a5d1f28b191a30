import { describe, expect, it } from 'vitest';
import {
  errorSetFrom,
  parseDuration,
  parseTime,
  RequeueInputError,
  scanRanges,
  selectJobs,
  windowsFrom,
  type FailedJobInfo,
} from '../../src/dlq/select.js';
import { DEFAULT_ERROR_STRATEGIES, ERROR_TYPES } from '../../src/core/errors.js';
import type { Outage } from '../../src/resilience/outages.js';

const NOW = Date.parse('2025-03-10T12:00:00Z');
const MIN = 60_000;

function inputError(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(RequeueInputError);
    return (e as Error).message;
  }
  throw new Error('expected a RequeueInputError');
}

const outage = (id: string, startedAt: number, endedAt: number | null): Outage => ({
  id,
  startedAt,
  detectedAt: startedAt + 500,
  endedAt,
  durationMs: endedAt === null ? null : endedAt - startedAt,
  trigger: 'failures',
  firstError: 'PlexServerDown: GET /identity → ECONNREFUSED',
  jobsAffected: 3,
  rampEndedAt: null,
});

describe('parseTime', () => {
  it('reads durations back from now', () => {
    expect(parseTime('90s', NOW)).toBe(NOW - 90_000);
    expect(parseTime('15m', NOW)).toBe(NOW - 15 * MIN);
    expect(parseTime('2h', NOW)).toBe(NOW - 2 * 60 * MIN);
    expect(parseTime('3d', NOW)).toBe(NOW - 3 * 24 * 60 * MIN);
    expect(parseTime('1h30m', NOW)).toBe(NOW - 90 * MIN);
    expect(parseTime(' 2H ', NOW)).toBe(NOW - 2 * 60 * MIN);
    expect(parseTime('0s', NOW)).toBe(NOW);
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('2x')).toBeNull();
  });

  it('reads ISO times and epoch milliseconds', () => {
    expect(parseTime('2025-03-10T11:00:00Z', NOW)).toBe(NOW - 60 * MIN);
    expect(parseTime('2025-03-10T11:00:00.250+01:00', NOW)).toBe(Date.parse('2025-03-10T10:00:00.250Z'));
    expect(parseTime('2025-03-10', NOW)).toBe(Date.parse('2025-03-10T00:00:00Z'));
    expect(parseTime(String(NOW - 5000), NOW)).toBe(NOW - 5000);
    expect(parseTime(NOW - 1, NOW)).toBe(NOW - 1);
  });

  it('rejects anything else with the accepted forms', () => {
    for (const bad of ['', 'yesterday', '2h ago', '-2h', '2025-13-45T99:00:00Z', '10/03/2025', 'NaN']) {
      expect(inputError(() => parseTime(bad, NOW))).toMatch(/ISO time.*epoch milliseconds.*duration/);
    }
    // A short bare number is a forgotten unit, not 1970.
    expect(inputError(() => parseTime('90', NOW))).toMatch(/needs a unit, e\.g\. 90m/);
    expect(inputError(() => parseTime(-5, NOW))).toMatch(/not valid/);
  });
});

describe('windowsFrom', () => {
  const history = [outage('o-2', NOW - 30 * MIN, NOW - 20 * MIN), outage('o-1', NOW - 120 * MIN, NOW - 100 * MIN)];

  it('takes the latest outage by default, all of them, or one by id', () => {
    expect(windowsFrom({ outages: history }, NOW)).toEqual([{ from: NOW - 30 * MIN, to: NOW - 20 * MIN, outageId: 'o-2' }]);
    // Newest first whatever the stored order.
    expect(windowsFrom({ outages: [...history].reverse(), outage: 'latest' }, NOW)[0].outageId).toBe('o-2');
    expect(windowsFrom({ outages: history, outage: 'all' }, NOW).map((w) => w.outageId)).toEqual(['o-2', 'o-1']);
    expect(windowsFrom({ outages: history, outage: 'o-1' }, NOW)).toEqual([
      { from: NOW - 120 * MIN, to: NOW - 100 * MIN, outageId: 'o-1' },
    ]);
  });

  it('ends an ongoing outage at now', () => {
    const ongoing = [outage('o-3', NOW - 5 * MIN, null), ...history];
    expect(windowsFrom({ outages: ongoing }, NOW)).toEqual([{ from: NOW - 5 * MIN, to: NOW, outageId: 'o-3' }]);
  });

  it('uses --since/--until instead of the history', () => {
    expect(windowsFrom({ outages: [], since: '2h' }, NOW)).toEqual([{ from: NOW - 120 * MIN, to: NOW }]);
    expect(windowsFrom({ outages: history, since: '2h', until: '1h' }, NOW)).toEqual([{ from: NOW - 120 * MIN, to: NOW - 60 * MIN }]);
    expect(windowsFrom({ outages: [], until: '1h' }, NOW)).toEqual([{ from: 0, to: NOW - 60 * MIN }]);
  });

  it('rejects an empty history, an unknown id, a reversed or empty window', () => {
    expect(inputError(() => windowsFrom({ outages: [] }, NOW))).toMatch(/no outage recorded.*--since/);
    expect(inputError(() => windowsFrom({ outages: [], outage: 'all' }, NOW))).toMatch(/no outage recorded/);
    expect(inputError(() => windowsFrom({ outages: history, outage: 'o-9' }, NOW))).toMatch(/unknown outage id "o-9".*o-2, o-1/);
    expect(inputError(() => windowsFrom({ outages: [], outage: 'o-9' }, NOW))).toMatch(/unknown outage id.*--since/);
    expect(inputError(() => windowsFrom({ outages: [], since: '1h', until: '2h' }, NOW))).toMatch(/reversed window/);
    expect(inputError(() => windowsFrom({ outages: [], since: '1h', until: '60m' }, NOW))).toMatch(/empty window/);
    expect(inputError(() => windowsFrom({ outages: [], since: 'soon' }, NOW))).toMatch(/not a time/);
  });
});

describe('scanRanges', () => {
  it('widens by the grace margin and merges overlaps', () => {
    expect(
      scanRanges(
        [
          { from: 10_000, to: 20_000 },
          { from: 23_000, to: 30_000 },
          { from: 100_000, to: 100_000 },
        ],
        2_000,
      ),
    ).toEqual([
      { min: 8_000, max: 32_000 },
      { min: 98_000, max: 102_000 },
    ]);
  });
});

describe('errorSetFrom', () => {
  const strategies = DEFAULT_ERROR_STRATEGIES;

  it('defaults to the types requeued by default (PlexServerDown)', () => {
    expect(errorSetFrom({ strategies })).toEqual(['PlexServerDown']);
    expect(errorSetFrom({ strategies, includeOptional: true })).toEqual(['PlexServerDown', 'PlexTemporaryError', 'PlexNotFound']);
  });

  it('follows requeueByDefault of the configured strategies, never taking a permanent type by default', () => {
    const s = {
      ...strategies,
      StashUnavailable: { ...strategies.StashUnavailable, requeueByDefault: true },
      PlexAuthError: { ...strategies.PlexAuthError, requeueByDefault: true },
    };
    expect(errorSetFrom({ strategies: s })).toEqual(['PlexServerDown', 'StashUnavailable']);
  });

  it('--errors names any types (permanent ones only this way), case-insensitive', () => {
    expect(errorSetFrom({ strategies, errors: ['PlexAuthError', 'plexserverdown'] })).toEqual(['PlexServerDown', 'PlexAuthError']);
    expect(errorSetFrom({ strategies, errors: ['StashUnavailable'], includeOptional: true })).toEqual([
      'PlexTemporaryError',
      'PlexNotFound',
      'StashUnavailable',
    ]);
  });

  it('rejects unknown or no types, listing the valid ones', () => {
    const msg = inputError(() => errorSetFrom({ strategies, errors: ['PlexServerDown', 'PlexDown'] }));
    expect(msg).toMatch(/unknown error type "PlexDown"/);
    for (const t of ERROR_TYPES) expect(msg).toContain(t);
    expect(inputError(() => errorSetFrom({ strategies, errors: [' ', ''] }))).toMatch(/names no error type/);
  });
});

describe('selectJobs', () => {
  const windows = [{ from: NOW - 30 * MIN, to: NOW - 20 * MIN }];
  const job = (id: string, finishedOn: number, failedReason: string | null, requeueCount = 0): FailedJobInfo => ({
    id,
    finishedOn,
    failedReason,
    sceneId: `s${id}`,
    requeueCount,
  });

  it('decides per job: window (with grace), error type, requeue count', () => {
    const jobs = [
      job('1', NOW - 25 * MIN, 'PlexServerDown: GET /library/metadata/12 → ECONNREFUSED'),
      job('2', NOW - 30 * MIN - 2_000, 'PlexServerDown: x'), // exactly the grace before
      job('3', NOW - 20 * MIN + 2_000, 'PlexServerDown: x'), // exactly the grace after
      job('4', NOW - 30 * MIN - 2_001, 'PlexServerDown: x'), // just outside
      job('5', NOW - 20 * MIN + 2_001, 'PlexServerDown: x'),
      job('6', NOW - 25 * MIN, 'PlexAuthError: GET /identity → HTTP 401 (token rejected)'),
      job('7', NOW - 25 * MIN, 'TypeError: cannot read properties of undefined'),
      job('8', NOW - 25 * MIN, null),
      job('9', NOW - 25 * MIN, 'PlexServerDown: x', 3),
      job('10', NOW - 25 * MIN, 'PlexServerDown: x', 2),
      job('11', NaN, 'PlexServerDown: x'),
    ];
    const d = selectJobs(jobs, { windows, errorTypes: ['PlexServerDown'], graceMs: 2_000, maxRequeues: 3 });
    expect(d.map((x) => [x.id, x.decision])).toEqual([
      ['1', 'requeue'],
      ['2', 'requeue'],
      ['3', 'requeue'],
      ['4', 'outsideWindow'],
      ['5', 'outsideWindow'],
      ['6', 'errorType'],
      ['7', 'errorType'],
      ['8', 'errorType'],
      ['9', 'tooManyRequeues'],
      ['10', 'requeue'],
      ['11', 'outsideWindow'],
    ]);
    expect(d[0]).toEqual({ id: '1', sceneId: 's1', errorType: 'PlexServerDown', decision: 'requeue' });
    expect(d[6].errorType).toBeNull();
  });

  it('uses the defaults of the contract (2 s grace, 3 requeues) and any of several windows', () => {
    const two = [...windows, { from: NOW - 5 * MIN, to: NOW }];
    const d = selectJobs(
      [
        job('1', NOW - 1 * MIN, 'PlexServerDown: x'),
        job('2', NOW - 10 * MIN, 'PlexServerDown: x'),
        job('3', NOW + 1_999, 'PlexNotFound: x', 2),
      ],
      { windows: two, errorTypes: ['PlexServerDown', 'PlexNotFound'] },
    );
    expect(d.map((x) => x.decision)).toEqual(['requeue', 'outsideWindow', 'requeue']);
  });
});
