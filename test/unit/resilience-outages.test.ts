import { describe, expect, it } from 'vitest';
import {
  EMPTY_METRICS,
  capHistory,
  closeOutage,
  currentOutage,
  endOutageRamp,
  openOutage,
  outageMetrics,
  upsertOutage,
  type Outage,
} from '../../src/resilience/outages.js';

const T0 = 1_700_000_000_000;

function done(id: string, start: number, detected: number, end: number): Outage {
  return closeOutage(
    openOutage({ id, startedAt: T0 + start, detectedAt: T0 + detected, trigger: 'failures', firstError: 'e' }),
    T0 + end,
    1,
  );
}

describe('outage records', () => {
  it('opens an ongoing outage exactly as the contract shape', () => {
    const o = openOutage({ id: 'o1', startedAt: T0, detectedAt: T0 + 4000, trigger: 'probe', firstError: 'PlexServerDown: ECONNREFUSED' });
    expect(o).toEqual({
      id: 'o1',
      startedAt: T0,
      detectedAt: T0 + 4000,
      endedAt: null,
      durationMs: null,
      trigger: 'probe',
      firstError: 'PlexServerDown: ECONNREFUSED',
      jobsAffected: 0,
      rampEndedAt: null,
    });
    expect(Object.keys(o).sort()).toEqual(
      ['id', 'startedAt', 'detectedAt', 'endedAt', 'durationMs', 'trigger', 'firstError', 'jobsAffected', 'rampEndedAt'].sort(),
    );
  });

  it('clamps a start after the detection to the detection', () => {
    expect(openOutage({ id: 'x', startedAt: T0 + 10, detectedAt: T0, trigger: 'failures', firstError: null }).startedAt).toBe(T0);
  });

  it('closes with durationMs = endedAt − startedAt, once', () => {
    const o = openOutage({ id: 'o1', startedAt: T0, detectedAt: T0 + 4000, trigger: 'failures', firstError: null });
    const c = closeOutage(o, T0 + 95_000, 42);
    expect(c).toMatchObject({ endedAt: T0 + 95_000, durationMs: 95_000, jobsAffected: 42, detectedAt: T0 + 4000 });
    expect(o.endedAt).toBeNull(); // not mutated
    expect(closeOutage(c, T0 + 200_000, 99)).toBe(c);
  });

  it('records the end of the ramp once', () => {
    const c = done('a', 0, 1000, 5000);
    const r = endOutageRamp(c, T0 + 305_000);
    expect(r.rampEndedAt).toBe(T0 + 305_000);
    expect(endOutageRamp(r, T0 + 999_999)).toBe(r);
  });
});

describe('outageMetrics', () => {
  it('no outages: zeros and 100 % availability', () => {
    expect(outageMetrics([], T0)).toEqual({ count: 0, mttrMs: 0, mtbfMs: 0, availabilityPct: 100, totalDowntimeMs: 0, meanDetectionMs: 0 });
    expect(EMPTY_METRICS.availabilityPct).toBe(100);
  });

  it('only an ongoing outage: still no completed outage', () => {
    const ongoing = openOutage({ id: 'o', startedAt: T0, detectedAt: T0 + 1000, trigger: 'probe', firstError: null });
    expect(outageMetrics([ongoing], T0 + 50_000)).toEqual(EMPTY_METRICS);
  });

  it('one outage: MTBF is the up-time from its end to now', () => {
    // down 1 s → 61 s (60 s), detected after 3 s; now 161 s: up 100 s since
    const m = outageMetrics([done('a', 1000, 4000, 61_000)], T0 + 161_000);
    expect(m).toEqual({ count: 1, mttrMs: 60_000, mtbfMs: 100_000, availabilityPct: 62.5, totalDowntimeMs: 60_000, meanDetectionMs: 3000 });
  });

  it('three outages: gaps between them plus the up-time since the last', () => {
    const a = done('a', 0, 2000, 60_000); // 60 s down
    const b = done('b', 160_000, 165_000, 190_000); // 30 s down, 100 s after a
    const c = done('c', 490_000, 492_000, 580_000); // 90 s down, 300 s after b
    const now = T0 + 880_000; // 300 s after c
    const m = outageMetrics([c, a, b], now); // order of the input does not matter
    expect(m.count).toBe(3);
    expect(m.totalDowntimeMs).toBe(180_000);
    expect(m.mttrMs).toBe(60_000);
    expect(m.mtbfMs).toBe(233_333); // (100 + 300 + 300) s / 3, rounded
    expect(m.meanDetectionMs).toBe(3000); // (2 + 5 + 2) s / 3
    // = up / (up + down) over the observed 880 s
    expect(m.availabilityPct).toBeCloseTo((700_000 / 880_000) * 100, 10);
    expect(m.availabilityPct).toBeCloseTo(79.545454545, 6);
  });

  it('an ongoing outage ends the up-time before it and is not counted', () => {
    const a = done('a', 0, 2000, 60_000);
    const b = done('b', 160_000, 165_000, 190_000);
    const c = done('c', 490_000, 492_000, 580_000);
    const d = openOutage({ id: 'd', startedAt: T0 + 800_000, detectedAt: T0 + 801_000, trigger: 'probe', firstError: null });
    const m = outageMetrics([d, c, b, a], T0 + 880_000);
    expect(m.count).toBe(3);
    expect(m.mtbfMs).toBe(206_667); // (100 + 300 + 220) s / 3
    expect(m.availabilityPct).toBe(77.5); // 620 / (620 + 180)
    expect(m.totalDowntimeMs).toBe(180_000);
  });

  it('clamps overlapping outages and a clock before the last end to zero up-time', () => {
    const a = done('a', 0, 0, 100_000);
    const b = done('b', 50_000, 50_000, 150_000);
    const m = outageMetrics([a, b], T0 + 120_000);
    expect(m.mtbfMs).toBe(0);
    expect(m.availabilityPct).toBe(0);
    expect(m.mttrMs).toBe(100_000);
  });
});

describe('history', () => {
  const list = [done('a', 0, 0, 10), done('c', 300, 300, 310), done('b', 100, 100, 110)];
  it('caps newest first', () => {
    expect(capHistory(list, 2).map((o) => o.id)).toEqual(['c', 'b']);
    expect(capHistory(list, 30).map((o) => o.id)).toEqual(['c', 'b', 'a']);
    expect(capHistory(list, 0)).toEqual([]);
    expect(list.map((o) => o.id)).toEqual(['a', 'c', 'b']); // not mutated
  });
  it('upserts by id, then caps', () => {
    const d = openOutage({ id: 'd', startedAt: T0 + 400, detectedAt: T0 + 400, trigger: 'probe', firstError: null });
    const added = upsertOutage(list, d, 3);
    expect(added.map((o) => o.id)).toEqual(['d', 'c', 'b']);
    const closed = upsertOutage(added, closeOutage(d, T0 + 500, 3), 3);
    expect(closed.map((o) => o.id)).toEqual(['d', 'c', 'b']);
    expect(closed[0].endedAt).toBe(T0 + 500);
  });
  it('finds the ongoing outage', () => {
    expect(currentOutage(list)).toBeNull();
    const d = openOutage({ id: 'd', startedAt: T0 + 400, detectedAt: T0 + 400, trigger: 'probe', firstError: null });
    expect(currentOutage([...list, d])?.id).toBe('d');
  });
});
