// Time windows as Stash compares them: RFC 3339 text in whole seconds, compared as text.
import { describe, expect, it } from 'vitest';
import { compareTimestampText } from '../../src/sim/stash.js';
import {
  formatStashTime,
  inStashRange,
  newestStashTime,
  STASH_WINDOW_TOLERANCE_MS,
  STASH_WINDOW_WIDENING_MS,
  stashClockAhead,
  stashOffsetOf,
  stashWindowRange,
  updatedAtCriterion,
} from '../../src/stash-api/client.js';
import { checkpointSince, checkpointStart, MARK_SETTLE_MS, markSettled, nextReconciliation } from '../../src/supervisor/reconciler.js';

const T = Date.UTC(2026, 0, 2, 3, 4, 5, 678);

describe('formatStashTime', () => {
  it('writes RFC 3339 UTC with whole seconds (truncated), like Go time.RFC3339', () => {
    expect(formatStashTime(T)).toBe('2026-01-02T03:04:05Z');
    expect(formatStashTime(new Date(T))).toBe('2026-01-02T03:04:05Z');
  });
  it('writes other zones with their offset', () => {
    expect(formatStashTime(T, 60)).toBe('2026-01-02T04:04:05+01:00');
    expect(formatStashTime(T, -330)).toBe('2026-01-01T21:34:05-05:30');
  });
});

describe('updatedAtCriterion (every time filter stash2plex sends)', () => {
  const W = STASH_WINDOW_WIDENING_MS;
  it('widens the start by more than an hour, and GREATER_THAN one more second (a change within that second)', () => {
    expect(W).toBeGreaterThanOrEqual(3_600_000);
    expect(updatedAtCriterion({ since: T }, 0)).toEqual({ value: formatStashTime(T - W - 1000), modifier: 'GREATER_THAN' });
    expect(compareTimestampText(formatStashTime(T - W + 100), updatedAtCriterion({ since: new Date(T) }, 0), '9')).toBe(true);
  });
  it('BETWEEN is inclusive at both whole-second ends, each widened', () => {
    const c = updatedAtCriterion({ since: T, until: T + 60_000 }, 0);
    expect(c).toEqual({ value: formatStashTime(T - W), value2: formatStashTime(T + 60_000 + W), modifier: 'BETWEEN' });
    expect(compareTimestampText(formatStashTime(T + 60_222 + W), c, '9')).toBe(true);
    expect(compareTimestampText(formatStashTime(T + 61_322 + W), c, '9')).toBe(false);
  });
  it('writes bounds in Stash’s zone, so text comparison matches time order', () => {
    // A change 30 min after the bound, as a Stash at UTC−5 writes it: later as text too.
    const c = updatedAtCriterion({ since: T + W }, -300);
    expect(c.value.endsWith('-05:00')).toBe(true);
    expect(compareTimestampText(formatStashTime(T + 1_800_000, -300), c, '9')).toBe(true);
    // The same bound in UTC is "later" as text: the change would be missed (the bug this fixes).
    expect(compareTimestampText(formatStashTime(T + 1_800_000, -300), updatedAtCriterion({ since: T + W }, 0), '9')).toBe(false);
  });
  it('takes Stash’s own texts as bounds (a checkpoint), whatever zone they were written in', () => {
    const mark = formatStashTime(T, 540); // written at UTC+9
    expect(updatedAtCriterion({ since: mark }, -480).value).toBe(formatStashTime(T - W - 1000, -480));
    expect(() => updatedAtCriterion({ since: '<5m' }, 0)).toThrow(RangeError);
  });
  it('never sends a relative value', () => {
    for (const off of [-480, 0, 540])
      expect(updatedAtCriterion({ since: Date.now() }, off).value).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(Z|[+-]\d{2}:\d{2})$/);
  });
});

describe('stashClockAhead (Stash’s clock against ours, from its Date header)', () => {
  const sent = Date.UTC(2026, 0, 2, 3, 4, 5, 300);
  it('bounds the skew by the second the header names and the time the request took', () => {
    // Stash stamped 03:04:05 (its clock read 05.000 to 05.999) while ours read 05.300 to 05.420.
    expect(stashClockAhead('Fri, 02 Jan 2026 03:04:05 GMT', sent, sent + 120)).toEqual({ min: -420, max: 699 });
    // Ten minutes behind.
    const behind = stashClockAhead(new Date(sent - 600_000).toUTCString(), sent, sent + 50)!;
    expect(behind.min).toBeLessThanOrEqual(-600_000);
    expect(behind.max).toBeGreaterThanOrEqual(-600_000);
    expect(behind.max - behind.min).toBeLessThan(1_100);
  });
  it('knows nothing without a readable header', () => {
    expect(stashClockAhead(null, sent, sent + 10)).toBeUndefined();
    expect(stashClockAhead('', sent, sent + 10)).toBeUndefined();
    expect(stashClockAhead('yesterday-ish', sent, sent + 10)).toBeUndefined();
    expect(stashClockAhead('Fri, 02 Jan 2026 03:04:05 GMT', sent, sent - 1)).toBeUndefined();
  });
});

describe('stashWindowRange / inStashRange (the window exactly, for what the wide query returns)', () => {
  const TOL = STASH_WINDOW_TOLERANCE_MS;
  const SYNCED = { aheadMs: { min: -400, max: 700 } };
  const second = (ms: number) => Math.floor(ms / 1000) * 1000;

  it('a window of ours: moved by the measured skew, the tolerance beyond, the start to its whole second', () => {
    expect(stashWindowRange({ since: T, until: T + 30_000 }, SYNCED)).toEqual({ from: second(T - 400 - TOL), to: T + 30_000 + 700 + TOL });
    expect(stashWindowRange({ since: new Date(T) }, SYNCED)).toEqual({ from: second(T - 400 - TOL), to: null });
    // A Stash ten minutes behind writes a change made during the window ten minutes earlier.
    const behind = stashWindowRange({ since: T, until: T + 30_000 }, { aheadMs: { min: -600_500, max: -599_000 } });
    expect(inStashRange(formatStashTime(T + 10_000 - 600_000, -480), behind)).toBe(true);
    expect(inStashRange(formatStashTime(T + 10_000), behind)).toBe(false);
  });

  it('keeps a short outage’s changes and drops those of the hour before it', () => {
    const outage = stashWindowRange({ since: T, until: T + 30_000 }, SYNCED);
    expect(inStashRange(formatStashTime(T + 15_000), outage)).toBe(true);
    expect(inStashRange(formatStashTime(T + 30_000 + TOL), outage)).toBe(true);
    for (const minutesBefore of [2, 10, 30, 59])
      expect(inStashRange(formatStashTime(T - minutesBefore * 60_000), outage), `${minutesBefore} min before`).toBe(false);
    expect(inStashRange(formatStashTime(T + 30_000 + TOL + 2_000), outage)).toBe(false);
  });

  it('reads each updated_at with its own offset, whatever zone the bounds came from', () => {
    const outage = stashWindowRange({ since: T, until: T + 30_000 }, SYNCED);
    // The same instant in three zones, and text that sorts inside the window but is hours away from it.
    for (const off of [-480, 0, 540]) expect(inStashRange(formatStashTime(T + 15_000, off), outage)).toBe(true);
    expect(inStashRange(formatStashTime(T + 15_000).replace('Z', '-01:00'), outage)).toBe(false);
  });

  it('a bound Stash wrote (a checkpoint) is on its clock: no skew, from its own second on', () => {
    const mark = formatStashTime(T, 540);
    const r = stashWindowRange({ since: mark }, { aheadMs: { min: -600_500, max: -599_000 } });
    expect(r).toEqual({ from: second(T), to: null });
    // A change in the mark's own second (written after Stash reported the mark), in another zone after DST.
    expect(inStashRange(formatStashTime(T + 900, 480), r)).toBe(true);
    expect(inStashRange(mark, r)).toBe(true);
    expect(inStashRange(formatStashTime(T - 1_000, 540), r)).toBe(false);
    expect(inStashRange(formatStashTime(T - 30 * 60_000, 480), r)).toBe(false);
    // Read as text in the mark's zone, a change at UTC−8 sorts 17 h "earlier", though it is later.
    expect(inStashRange(formatStashTime(T + 60_000, -480), r)).toBe(true);
  });

  it('without a measured skew, a bound of ours keeps the whole widening (the query’s own margin)', () => {
    expect(stashWindowRange({ since: T, until: T + 1_000 }, {})).toEqual({
      from: second(T - STASH_WINDOW_WIDENING_MS),
      to: T + 1_000 + STASH_WINDOW_WIDENING_MS,
    });
    expect(inStashRange(formatStashTime(T - 30 * 60_000), stashWindowRange({ since: T }, {}))).toBe(true);
  });

  it('keeps what it cannot read (a re-sync costs no Plex edit; a missed change is lost)', () => {
    const r = stashWindowRange({ since: T }, SYNCED);
    expect(inStashRange('2020-01-01T00:00:00', r)).toBe(true);
    expect(inStashRange('garbage', r)).toBe(true);
    expect(inStashRange('2020-01-01T00:00:00Z', r)).toBe(false);
  });
});

describe('nextReconciliation (what the leader’s tick starts)', () => {
  const idle = { busy: false, breaker: 'CLOSED' as const, windowsPending: 0, intervalMs: 1_000, now: 5_000, nextCheckpointAt: 4_000 };
  it('an outage’s window first, then a due checkpoint, one at a time', () => {
    expect(nextReconciliation({ ...idle, windowsPending: 1 })).toBe('window');
    expect(nextReconciliation(idle)).toBe('checkpoint');
    expect(nextReconciliation({ ...idle, nextCheckpointAt: 5_001 })).toBeNull();
    expect(nextReconciliation({ ...idle, intervalMs: 0 })).toBeNull();
    expect(nextReconciliation({ ...idle, busy: true, windowsPending: 1 })).toBeNull();
  });
  it('nothing while the breaker is not CLOSED: the queue is held, its jobs would only wait', () => {
    for (const breaker of ['OPEN', 'HALF_OPEN'] as const) {
      expect(nextReconciliation({ ...idle, breaker })).toBeNull();
      expect(nextReconciliation({ ...idle, breaker, windowsPending: 2 })).toBeNull();
    }
  });
});

describe('stashOffsetOf / newestStashTime', () => {
  it('reads the zone suffix Stash writes', () => {
    expect(stashOffsetOf('2026-11-30T02:30:00-08:00')).toBe(-480);
    expect(stashOffsetOf('2026-11-30T02:30:00+09:00')).toBe(540);
    expect(stashOffsetOf('2026-11-30T02:30:00.123+05:30')).toBe(330);
    expect(stashOffsetOf('2026-11-30T02:30:00Z')).toBe(0);
    expect(stashOffsetOf('2026-11-30 02:30:00')).toBeNull();
  });
  it('the newest as an instant, not as text', () => {
    // As text "2026-11-30…+09:00" sorts first, but it is the earliest instant (17:00Z; 18:00Z; 17:30Z).
    const times = ['2026-11-30T02:00:00+09:00', '2026-11-29T10:00:00-08:00', null, '2026-11-29T17:30:00Z'];
    expect(newestStashTime(times)).toBe('2026-11-29T10:00:00-08:00');
    expect(newestStashTime([null, undefined])).toBeNull();
  });
});

describe('checkpointSince (stored marks, old and new)', () => {
  it('reads Stash texts, and the epoch ms earlier versions stored', () => {
    expect(checkpointSince('2026-11-30T02:30:00-08:00')).toBe('2026-11-30T02:30:00-08:00');
    expect(checkpointSince('1750000000000')).toBe(1_750_000_000_000);
    expect(checkpointSince(null)).toBeNull();
    expect(checkpointSince('0')).toBeNull();
    expect(checkpointSince('garbage')).toBeNull();
  });
});

describe('markSettled / checkpointStart (the mark’s own second, walked until a walk saw it complete)', () => {
  const mark = '2026-11-30T02:30:00-08:00';
  const second = Date.parse(mark);
  const skew = (min: number) => ({ aheadMs: { min, max: min + 1_000 } });

  it('settles once Stash’s clock, at its lowest estimate, is past the second by MARK_SETTLE_MS', () => {
    expect(markSettled(mark, skew(0), second + 1_000 + MARK_SETTLE_MS)).toBe(true);
    expect(markSettled(mark, skew(0), second + 999 + MARK_SETTLE_MS)).toBe(false);
    // Stash's clock 5 min behind ours: its second ends later on ours.
    expect(markSettled(mark, skew(-300_000), second + 1_000 + MARK_SETTLE_MS)).toBe(false);
    expect(markSettled(mark, skew(-300_000), second + 301_000 + MARK_SETTLE_MS)).toBe(true);
  });

  it('never settles without a measured skew, nor a mark it cannot read', () => {
    expect(markSettled(mark, {}, second + 86_400_000)).toBe(false);
    expect(markSettled('garbage', skew(0), second + 86_400_000)).toBe(false);
  });

  it('starts at the next second, in Stash’s zone, only for the mark that settled', () => {
    expect(checkpointStart(mark, mark, -480)).toBe('2026-11-30T02:30:01-08:00');
    expect(checkpointStart(mark, null, -480)).toBe(mark);
    expect(checkpointStart(mark, '2026-11-30T02:29:59-08:00', -480)).toBe(mark);
    expect(checkpointStart(1_750_000_000_000, '1750000000000', 0)).toBe(1_750_000_000_000);
  });
});

describe('compareTimestampText (the simulator’s copy of Stash’s SQL)', () => {
  it('accepts the short "YYYY-MM-DDTHH:MM" form, as a text prefix', () => {
    const c = { value: '2026-01-02T03:04', modifier: 'GREATER_THAN' };
    expect(compareTimestampText('2026-01-02T03:04:00Z', c, '9')).toBe(true);
    expect(compareTimestampText('2026-01-02T03:03:59Z', c, '9')).toBe(false);
  });
  it('LESS_THAN and BETWEEN without value2 (ends tomorrow)', () => {
    expect(compareTimestampText('2026-01-02T03:04:00Z', { value: '2026-01-03', modifier: 'LESS_THAN' }, '9')).toBe(true);
    expect(compareTimestampText('2026-01-02T03:04:00Z', { value: '2026-01-01', modifier: 'BETWEEN' }, '2026-01-02T00:00:00Z')).toBe(false);
  });
});
