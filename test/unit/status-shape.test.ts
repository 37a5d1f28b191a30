import { describe, expect, it } from 'vitest';
import { initialBreaker, type BreakerState } from '../../src/resilience/breaker.js';
import type { Outage } from '../../src/resilience/outages.js';
import { startRamp } from '../../src/resilience/ramp.js';
import { EMPTY_HEALTH } from '../../src/resilience/health-record.js';
import { shapeStatus, type StatusSources } from '../../src/supervisor/status.js';
import { emptyReport } from '../../src/sync/library-gaps.js';
import { freshSnapshot } from '../helpers/snapshot-fixture.js';

const NOW = 1_700_000_000_000;
const config = {
  ramp: { initialRate: 5, targetRate: 20, durationMs: 300_000, errorThreshold: 0.3, errorWindowMs: 60_000, restoreAfterMs: 5000 },
};
const queue = { paused: false, pausedBy: null, waiting: 0, active: 0, delayed: 0, failed: 0, completed: 0, rateLimit: null };

function sources(over: Partial<StatusSources> & { breaker?: BreakerState; outages?: Outage[] } = {}): StatusSources {
  return {
    snapshot: freshSnapshot(NOW, { ...(over.breaker ? { breaker: over.breaker } : {}), outages: over.outages ?? [], ...over.snapshot }),
    breakerStored: over.breakerStored ?? false,
    queues: over.queues ?? { sync: queue },
    leader: over.leader ?? null,
    leaderTtlMs: over.leaderTtlMs ?? -2,
    skipped: over.skipped ?? {},
    libraryReport: over.libraryReport ?? null,
    libraryFailure: over.libraryFailure ?? null,
  };
}

describe('shapeStatus', () => {
  it('gives exactly the contract document for a fresh system', () => {
    expect(shapeStatus(sources(), config, NOW)).toEqual({
      breaker: { state: 'CLOSED', since: 0, consecutiveFailures: 0, openedAt: null },
      recovery: { active: false, startedAt: null, rate: null, targetRate: 20 },
      queues: {
        sync: {
          paused: false,
          pausedBy: null,
          waiting: 0,
          active: 0,
          delayed: 0,
          failed: 0,
          completed: 0,
          rateLimit: null,
          pauseReasons: [],
        },
      },
      health: {
        lastProbeAt: null,
        ok: null,
        latencyMs: null,
        nextProbeAt: null,
        error: null,
        tokenRejected: false,
        tokenCheckedAt: null,
        stash: { checked: false, checkedAt: null, reachable: null, keyAccepted: null, version: null, lastError: null },
      },
      outages: {
        current: null,
        recent: [],
        metrics: { count: 0, mttrMs: 0, mtbfMs: 0, availabilityPct: 100, totalDowntimeMs: 0, meanDetectionMs: 0 },
      },
      supervisor: { leader: null, alive: false },
      matching: { pathHint: null, pathHints: [], libraryProblems: [], librariesCheckedAt: null, conflicts: { count: 0, recent: [] } },
      sync: { skipped: {} },
      reconcile: { last: null, lastFailure: null },
      excluded: { count: 0, scenes: [] },
      concurrency: [],
      settings: null,
    });
  });

  it('reconcile.last: the stored Reconcile Library report; a damaged one reads as none', () => {
    const report = { ...emptyReport(true, NOW - 5_000), scanned: 3, finishedAt: NOW };
    expect(shapeStatus(sources({ libraryReport: JSON.stringify(report) }), config, NOW).reconcile).toEqual({
      last: report,
      lastFailure: null,
    });
    expect(shapeStatus(sources({ libraryReport: '{"scanned":"x"}' }), config, NOW).reconcile).toEqual({ last: null, lastFailure: null });
    const failure = { failedAt: NOW - 1_000, dryRun: false, error: 'Stash unreachable' };
    expect(shapeStatus(sources({ libraryFailure: JSON.stringify(failure) }), config, NOW).reconcile?.lastFailure).toEqual(failure);
    expect(shapeStatus(sources({ libraryFailure: '{"failedAt":"x"}' }), config, NOW).reconcile?.lastFailure).toBeNull();
  });

  it('sync.skipped: the scenes SYNC_REQUIRE held back, by requirement', () => {
    expect(shapeStatus(sources({ skipped: { metadata: 3, stashid: 1 } }), config, NOW).sync).toEqual({
      skipped: { metadata: 3, stashid: 1 },
    });
  });

  it('names why the supervisor holds a paused queue: Plex down, token rejected, or both', () => {
    const paused = { sync: { ...queue, paused: true, pausedBy: 'supervisor' as const } };
    const open: BreakerState = { ...initialBreaker(NOW), state: 'OPEN', openedAt: NOW };
    const rejected = { ...EMPTY_HEALTH, tokenRejected: true };
    const reasons = (over: Parameters<typeof sources>[0]) =>
      shapeStatus(sources({ queues: paused, ...over }), config, NOW).queues.sync.pauseReasons;
    expect(reasons({ breaker: open })).toEqual(['plex down']);
    expect(reasons({ snapshot: { health: rejected } as StatusSources['snapshot'] })).toEqual(['token rejected']);
    expect(reasons({ breaker: open, snapshot: { health: rejected } as StatusSources['snapshot'] })).toEqual([
      'plex down',
      'token rejected',
    ]);
    // A running queue has none, whatever the state (the supervisor is about to pause it).
    expect(shapeStatus(sources({ breaker: open }), config, NOW).queues.sync.pauseReasons).toEqual([]);
  });

  it('keeps the contract keys in the contract order', () => {
    const s = shapeStatus(sources(), config, NOW);
    // The contract's keys, then the extras `matching`, `sync`, `reconcile`, `excluded`, `concurrency` and `settings`.
    expect(Object.keys(s)).toEqual([
      'breaker',
      'recovery',
      'queues',
      'health',
      'outages',
      'supervisor',
      'matching',
      'sync',
      'reconcile',
      'excluded',
      'concurrency',
      'settings',
    ]);
    expect(Object.keys(s.breaker)).toEqual(['state', 'since', 'consecutiveFailures', 'openedAt']);
    expect(Object.keys(s.recovery)).toEqual(['active', 'startedAt', 'rate', 'targetRate']);
    expect(Object.keys(s.health).slice(0, 4)).toEqual(['lastProbeAt', 'ok', 'latencyMs', 'nextProbeAt']);
    expect(Object.keys(s.outages)).toEqual(['current', 'recent', 'metrics']);
    expect(Object.keys(s.supervisor)).toEqual(['leader', 'alive']);
  });

  it('shows a stored OPEN breaker, the ongoing outage and the history newest first', () => {
    const breaker: BreakerState = {
      ...initialBreaker(NOW - 5_000),
      state: 'OPEN',
      consecutiveFailures: 5,
      openedAt: NOW - 5_000,
      streakStartedAt: NOW - 7_000,
      recoveries: 1,
    };
    const ongoing: Outage = {
      id: 'b',
      startedAt: NOW - 7_000,
      detectedAt: NOW - 5_000,
      endedAt: null,
      durationMs: null,
      trigger: 'failures',
      firstError: 'PlexServerDown',
      jobsAffected: 0,
      rampEndedAt: null,
    };
    const past: Outage = {
      id: 'a',
      startedAt: NOW - 100_000,
      detectedAt: NOW - 99_000,
      endedAt: NOW - 90_000,
      durationMs: 10_000,
      trigger: 'probe',
      firstError: null,
      jobsAffected: 4,
      rampEndedAt: NOW - 80_000,
    };
    const s = shapeStatus(
      sources({ breaker, breakerStored: true, outages: [ongoing, past], leader: 'sup-1', leaderTtlMs: 12_000 }),
      config,
      NOW,
    );
    expect(s.breaker).toEqual({ state: 'OPEN', since: NOW - 5_000, consecutiveFailures: 5, openedAt: NOW - 5_000 });
    expect(s.outages.current).toEqual(ongoing);
    expect(s.outages.recent).toEqual([ongoing, past]);
    expect(s.outages.metrics.count).toBe(1);
    expect(s.outages.metrics.mttrMs).toBe(10_000);
    expect(s.outages.metrics.mtbfMs).toBe(83_000); // a.end → b.start
    expect(s.supervisor).toEqual({ leader: 'sup-1', alive: true });
  });

  it('reports the effective ramp rate now (halved while backing off)', () => {
    const ramp = startRamp(NOW - 150_000);
    const s = shapeStatus(sources({ snapshot: { ...sources().snapshot, ramp } }), config, NOW);
    expect(s.recovery).toEqual({ active: true, startedAt: NOW - 150_000, rate: 12.5, targetRate: 20 });
    const backing = shapeStatus(
      sources({ snapshot: { ...sources().snapshot, ramp: { ...ramp, backoff: true, backoffSince: NOW - 1 } } }),
      config,
      NOW,
    );
    expect(backing.recovery.rate).toBe(6.25);
    const third = shapeStatus(sources({ snapshot: { ...sources().snapshot, ramp: { ...ramp, startedAt: NOW - 100_000 } } }), config, NOW);
    expect(third.recovery.rate).toBe(10); // 5 + 15/3
  });

  it('passes the health record and marks a lease without expiry as not alive', () => {
    const health = {
      ...EMPTY_HEALTH,
      lastProbeAt: NOW - 1_000,
      ok: false,
      error: 'PlexServerDown: refused',
      nextProbeAt: NOW + 4_000,
      tokenRejected: true,
    };
    const s = shapeStatus(sources({ snapshot: { ...sources().snapshot, health }, leader: 'stale', leaderTtlMs: -1 }), config, NOW);
    expect(s.health).toMatchObject({
      lastProbeAt: NOW - 1_000,
      ok: false,
      latencyMs: null,
      nextProbeAt: NOW + 4_000,
      error: 'PlexServerDown: refused',
      tokenRejected: true,
    });
    expect(s.supervisor).toEqual({ leader: 'stale', alive: false });
  });
});
