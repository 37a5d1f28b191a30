import { describe, expect, it } from 'vitest';
import { nextProbeDelay, probeStreak } from '../../src/resilience/probe-schedule.js';

const settings = { intervalMs: 5000, maxIntervalMs: 60_000, closedIntervalMs: 30_000 };
const delay = (state: 'CLOSED' | 'OPEN' | 'HALF_OPEN', failuresInARow: number, random = 0.5, s = settings) =>
  nextProbeDelay({ state, failuresInARow, settings: s, random });

describe('nextProbeDelay', () => {
  it('doubles per failure in a row while OPEN (no jitter at random 0.5)', () => {
    expect([0, 1, 2, 3].map((n) => delay('OPEN', n))).toEqual([5000, 10_000, 20_000, 40_000]);
  });

  it('is capped at maxIntervalMs, also for huge streaks', () => {
    expect(delay('OPEN', 4)).toBe(60_000);
    expect(delay('OPEN', 10)).toBe(60_000);
    expect(delay('OPEN', 5000)).toBe(60_000);
  });

  it('behaves the same while HALF_OPEN', () => {
    expect(delay('HALF_OPEN', 2)).toBe(20_000);
  });

  it('jitters by ±20 %', () => {
    expect(delay('OPEN', 0, 0)).toBe(4000);
    expect(delay('OPEN', 0, 0.25)).toBe(4500);
    expect(delay('OPEN', 0, 0.999999)).toBe(6000);
    expect(delay('OPEN', 2, 0)).toBe(16_000);
  });

  it('stays within [0.8·base, 1.2·base] and never above the cap, for any random', () => {
    for (let n = 0; n <= 6; n++) {
      const base = Math.min(60_000, 5000 * 2 ** n);
      for (let i = 0; i <= 100; i++) {
        const d = delay('OPEN', n, i / 100)!;
        expect(d).toBeGreaterThanOrEqual(Math.floor(base * 0.8));
        expect(d).toBeLessThanOrEqual(Math.min(60_000, Math.ceil(base * 1.2)));
      }
    }
    // at the cap, jitter only goes down
    expect(delay('OPEN', 8, 1)).toBe(60_000);
    expect(delay('OPEN', 8, 0)).toBe(48_000);
  });

  it('tolerates random outside [0, 1) and a bad streak', () => {
    expect(delay('OPEN', 0, 7)).toBe(6000);
    expect(delay('OPEN', 0, -3)).toBe(4000);
    expect(delay('OPEN', 0, Number.NaN)).toBe(5000);
    expect(delay('OPEN', -2)).toBe(5000);
    expect(delay('OPEN', Number.NaN)).toBe(5000);
  });

  it('returns to intervalMs after a success', () => {
    let streak = 0;
    for (let i = 0; i < 3; i++) streak = probeStreak(streak, false);
    expect(streak).toBe(3);
    expect(delay('OPEN', streak)).toBe(40_000);
    streak = probeStreak(streak, true);
    expect(streak).toBe(0);
    expect(delay('OPEN', streak)).toBe(5000);
  });

  it('uses closedIntervalMs while CLOSED, whatever the streak, and null when it is 0', () => {
    expect(delay('CLOSED', 0)).toBe(30_000);
    expect(delay('CLOSED', 5, 0)).toBe(30_000);
    expect(delay('CLOSED', 0, 0.5, { ...settings, closedIntervalMs: 0 })).toBeNull();
  });
});
