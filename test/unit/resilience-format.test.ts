import { describe, expect, it } from 'vitest';
import { formatAgo, formatDuration, formatRate } from '../../src/resilience/format.js';

const S = 1000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;

describe('formatDuration', () => {
  it.each([
    [0, '0s'],
    [-5000, '0s'],
    [Number.NaN, '0s'],
    [0.4, '0s'],
    [1, '1ms'],
    [850, '850ms'],
    [999.9, '999ms'],
    [1000, '1s'],
    [1999, '1s'],
    [45 * S, '45s'],
    [59 * S + 999, '59s'],
    [M, '1m'],
    [M + 5 * S, '1m 5s'],
    [M + 5 * S + 999, '1m 5s'],
    [H, '1h'],
    [H + 5 * S, '1h'],
    [2 * H + 3 * M + 59 * S, '2h 3m'],
    [D, '1d'],
    [D + 4 * H + 59 * M, '1d 4h'],
    [400 * D + H, '400d 1h'],
  ])('%s ms → %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});

describe('formatAgo', () => {
  const now = 1_700_000_000_000;
  it.each([
    [now, 'just now'],
    [now - 999, 'just now'],
    [now + 5000, 'just now'],
    [now - 1000, '1s ago'],
    [now - 5 * M, '5m ago'],
    [now - (3 * H + 20 * M + 10 * S), '3h 20m ago'],
  ])('%s → %s', (then, text) => {
    expect(formatAgo(then, now)).toBe(text);
  });
});

describe('formatRate', () => {
  it.each([
    [20, '20 jobs/s'],
    [12.5, '12.5 jobs/s'],
    [12.46, '12.5 jobs/s'],
    [5, '5 jobs/s'],
    [1.25, '1.25 jobs/s'],
    [0.5, '0.5 jobs/s'],
    [0.001, '0.001 jobs/s'],
    [0.123456, '0.123 jobs/s'],
    [0, '0 jobs/s'],
    [null, 'unlimited'],
  ])('%s → %s', (n, text) => {
    expect(formatRate(n)).toBe(text);
  });
});
