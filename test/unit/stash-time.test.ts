// Time windows as Stash compares them: RFC 3339 text in whole seconds, compared as text.
import { describe, expect, it } from 'vitest';
import { compareTimestampText } from '../../src/sim/stash.js';
import { formatStashTime, updatedAtCriterion } from '../../src/stash/client.js';

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

describe('updatedAtCriterion', () => {
  it('GREATER_THAN starts one second early, so a change within since’s second is not missed', () => {
    expect(updatedAtCriterion(new Date(T), undefined)).toEqual({ value: '2026-01-02T03:04:04Z', modifier: 'GREATER_THAN' });
    // A scene changed 100 ms after `since`, stored truncated to the same second, still matches.
    expect(compareTimestampText(formatStashTime(T + 100), updatedAtCriterion(new Date(T), undefined), '9')).toBe(true);
  });
  it('BETWEEN is inclusive at both whole-second ends', () => {
    const c = updatedAtCriterion(new Date(T), new Date(T + 60_000));
    expect(c).toEqual({ value: '2026-01-02T03:04:05Z', value2: '2026-01-02T03:05:05Z', modifier: 'BETWEEN' });
    expect(compareTimestampText(formatStashTime(T + 60_222), c, '9')).toBe(true);
    expect(compareTimestampText(formatStashTime(T + 60_322), c, '9')).toBe(false);
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
