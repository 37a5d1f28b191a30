import { describe, expect, it } from 'vitest';
import { createMetricsRegistry, StatusMetrics, workerMetrics } from '../../src/dashboard/metrics.js';
import { initialBreaker } from '../../src/resilience/breaker.js';
import { EMPTY_HEALTH } from '../../src/resilience/health-record.js';
import { shapeStatus, type StatusSources } from '../../src/supervisor/status.js';
import { freshSnapshot } from '../helpers/snapshot-fixture.js';

const NOW = 1_700_000_000_000;

describe('metrics', () => {
  it('counts worker attempts by result and error type, and their durations', async () => {
    const registry = createMetricsRegistry({ defaultMetrics: false });
    const m = workerMetrics(registry);
    expect(workerMetrics(registry)).toBeTruthy(); // idempotent per registry
    m.onAttempt('ok', 120);
    m.onAttempt('ok', 80);
    m.onAttempt('PlexServerDown', 5);
    const text = await registry.metrics();
    expect(text).toContain('stash2plex_jobs_total{result="ok",error_type="none"} 2');
    expect(text).toContain('stash2plex_jobs_total{result="error",error_type="PlexServerDown"} 1');
    expect(text).toContain('stash2plex_sync_duration_seconds_count{result="ok"} 2');
    expect(text).toMatch(/stash2plex_sync_duration_seconds_sum\{result="ok"\} 0\.2/);
  });

  it('exports the status: breaker state per series, outages, ramp, probe, queue counts', async () => {
    const registry = createMetricsRegistry({ defaultMetrics: false });
    const sm = new StatusMetrics(registry);
    const sources: StatusSources = {
      snapshot: {
        breaker: { ...initialBreaker(NOW - 1_000), state: 'OPEN', openedAt: NOW - 1_000, recoveries: 3 },
        ramp: null,
        observedSince: null,
        outages: [
          {
            id: 'b',
            startedAt: NOW - 2_000,
            detectedAt: NOW - 1_000,
            endedAt: null,
            durationMs: null,
            trigger: 'probe',
            firstError: null,
            jobsAffected: 0,
            rampEndedAt: null,
          },
          {
            id: 'a',
            startedAt: NOW - 100_000,
            detectedAt: NOW - 99_000,
            endedAt: NOW - 40_000,
            durationMs: 60_000,
            trigger: 'probe',
            firstError: null,
            jobsAffected: 2,
            rampEndedAt: null,
          },
        ],
        health: { ...EMPTY_HEALTH, lastProbeAt: NOW, ok: false },
        signalCursor: '',
        warnings: [],
      },
      breakerStored: true,
      queues: {
        sync: { paused: true, pausedBy: 'supervisor', waiting: 7, active: 0, delayed: 1, failed: 2, completed: 9, rateLimit: null },
      },
      leader: 'x',
      leaderTtlMs: 1000,
      skipped: { metadata: 4, organized: 1 },
    };
    sm.update(
      shapeStatus(
        sources,
        { ramp: { initialRate: 5, targetRate: 20, durationMs: 1000, errorThreshold: 0.3, errorWindowMs: 1000, restoreAfterMs: 5000 } },
        NOW,
      ),
      sources,
    );
    const text = await registry.metrics();
    expect(text).toContain('stash2plex_breaker_state{state="OPEN"} 1');
    expect(text).toContain('stash2plex_breaker_state{state="CLOSED"} 0');
    expect(text).toContain('stash2plex_breaker_state{state="HALF_OPEN"} 0');
    expect(text).toContain('stash2plex_outages_total 3');
    expect(text).toContain('stash2plex_outage_ongoing 1');
    expect(text).toContain('stash2plex_outage_duration_seconds_count 1');
    expect(text).toContain('stash2plex_outage_duration_seconds_bucket{le="60"} 1');
    expect(text).toContain('stash2plex_outage_duration_seconds_bucket{le="30"} 0');
    expect(text).toContain('stash2plex_probe_up 0');
    expect(text).toMatch(/stash2plex_probe_latency_seconds nan/i); // prom-client writes "Nan"; Prometheus parses any case
    expect(text).toContain('stash2plex_queue_jobs{queue="sync",state="waiting"} 7');
    expect(text).toContain('stash2plex_queue_paused{queue="sync"} 1');
    expect(text).toContain('stash2plex_queue_pause_reason{queue="sync",reason="plex down"} 1');
    expect(text).toContain('stash2plex_queue_pause_reason{queue="sync",reason="token rejected"} 0');
    expect(text).toContain('stash2plex_plex_token_rejected 0');
    expect(text).toContain('stash2plex_recovery_rate_jobs_per_second 0');
    expect(text).toContain('stash2plex_supervisor_alive 1');
    expect(text).toContain('stash2plex_sync_skipped_total{reason="metadata"} 4');
    // A second update replaces, not adds.
    sm.update(
      shapeStatus(
        sources,
        { ramp: { initialRate: 5, targetRate: 20, durationMs: 1000, errorThreshold: 0.3, errorWindowMs: 1000, restoreAfterMs: 5000 } },
        NOW,
      ),
      sources,
    );
    const again = await registry.metrics();
    expect(again).toContain('stash2plex_outages_total 3');
    expect(again).toContain('stash2plex_outage_duration_seconds_count 1');
    // Plex back but the token rejected: one reason left, and the token gauge says why.
    const rejected = {
      ...sources,
      snapshot: { ...sources.snapshot, breaker: { ...initialBreaker(NOW) }, health: { ...sources.snapshot.health, tokenRejected: true } },
    };
    sm.update(
      shapeStatus(
        rejected,
        { ramp: { initialRate: 5, targetRate: 20, durationMs: 1000, errorThreshold: 0.3, errorWindowMs: 1000, restoreAfterMs: 5000 } },
        NOW,
      ),
      rejected,
    );
    const held = await registry.metrics();
    expect(held).toContain('stash2plex_queue_pause_reason{queue="sync",reason="plex down"} 0');
    expect(held).toContain('stash2plex_queue_pause_reason{queue="sync",reason="token rejected"} 1');
    expect(held).toContain('stash2plex_plex_token_rejected 1');
  });

  it("exports each live worker's limiters: limit, in flight, waiting, latency and baseline per worker and server", async () => {
    const registry = createMetricsRegistry({ defaultMetrics: false });
    const sm = new StatusMetrics(registry);
    const sources: StatusSources = {
      snapshot: freshSnapshot(NOW),
      breakerStored: true,
      queues: {},
      leader: null,
      leaderTtlMs: -2,
      skipped: {},
      limiters: [
        {
          worker: 'w1',
          at: NOW,
          limiters: [
            { target: 'plex', adaptive: true, limit: 6, ceiling: 32, inFlight: 5, waiting: 20, latencyMs: 30, baselineMs: 20 },
            { target: 'stash', adaptive: true, limit: 9, ceiling: 32, inFlight: 1, waiting: 0, latencyMs: null, baselineMs: null },
          ],
        },
      ],
    };
    const ramp = { initialRate: 5, targetRate: 20, durationMs: 1000, errorThreshold: 0.3, errorWindowMs: 1000, restoreAfterMs: 5000 };
    sm.update(shapeStatus(sources, { ramp }, NOW), sources);
    const text = await registry.metrics();
    expect(text).toContain('stash2plex_concurrency_limit{worker="w1",target="plex"} 6');
    expect(text).toContain('stash2plex_concurrency_in_flight{worker="w1",target="plex"} 5');
    expect(text).toContain('stash2plex_concurrency_waiting{worker="w1",target="plex"} 20');
    expect(text).toContain('stash2plex_request_latency_seconds{worker="w1",target="plex"} 0.03');
    expect(text).toContain('stash2plex_request_latency_baseline_seconds{worker="w1",target="plex"} 0.02');
    expect(text).toMatch(/stash2plex_request_latency_seconds\{worker="w1",target="stash"\} nan/i);
    // The worker stopped: its series go.
    const gone = { ...sources, limiters: [] };
    sm.update(shapeStatus(gone, { ramp }, NOW), gone);
    expect(await registry.metrics()).not.toContain('worker="w1"');
  });
});
