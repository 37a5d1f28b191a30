// Prometheus metrics (prom-client, an own Registry per process, never the global one).
//
// Two kinds:
// - status metrics (breaker, outages, ramp, probe, queue counts) are read from Redis on each scrape of
//   GET /metrics (StatusMetrics.update), so any dashboard process shows the whole system's state;
// - worker metrics (stash2plex_jobs_total, stash2plex_sync_duration_seconds) are fed in memory by a sync
//   worker running in the same process through its `onAttempt` callback (SyncWorkerOptions.onAttempt):
//
//       const registry = createMetricsRegistry();
//       await startWorkerRole(config, log, { onAttempt: workerMetrics(registry).onAttempt });
//       await startDashboard(config, log, { registry });
//
// In split deployments each process exposes its own registry only where it serves HTTP: a worker
// process on its own (`npm run worker`) serves no /metrics, so its attempt counts are not scraped;
// only a process that runs a worker AND the dashboard (`npm start`) exports them. The status metrics
// come from Redis and are the same whichever dashboard process is scraped.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry, type Metric } from 'prom-client';
import type { ErrorType } from '../core/errors.js';
import { BREAKER_STATES } from '../resilience/breaker.js';
import { PAUSE_REASONS } from '../resilience/token.js';
import type { StatusJson, StatusSources } from '../supervisor/status.js';

export const METRIC_PREFIX = 'stash2plex_';

/** A fresh registry, with the process's default metrics (CPU, memory, event loop) under our prefix. */
export function createMetricsRegistry(opts: { defaultMetrics?: boolean } = {}): Registry {
  const registry = new Registry();
  if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: registry, prefix: METRIC_PREFIX });
  return registry;
}

/** The metric of that name in the registry, or a new one: several callers may share a registry. */
function once<M extends Metric<string>>(registry: Registry, name: string, make: () => M): M {
  return (registry.getSingleMetric(name) as M | undefined) ?? make();
}

/** Duration buckets of one sync attempt, in seconds. */
const SYNC_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** Duration buckets of an outage, in seconds (a second to a day). */
const OUTAGE_BUCKETS = [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600, 86400];

export interface WorkerMetrics {
  /** Give this to the sync worker as `onAttempt` (SyncWorkerOptions). Never throws. */
  onAttempt: (outcome: 'ok' | ErrorType, durationMs: number) => void;
}

/** The worker-side metrics in `registry` (created once per registry). */
export function workerMetrics(registry: Registry): WorkerMetrics {
  const jobs = once(
    registry,
    `${METRIC_PREFIX}jobs_total`,
    () =>
      new Counter({
        name: `${METRIC_PREFIX}jobs_total`,
        help: 'Sync attempts by this process: result ok or error, with the error type (none for ok)',
        labelNames: ['result', 'error_type'] as const,
        registers: [registry],
      }),
  );
  const duration = once(
    registry,
    `${METRIC_PREFIX}sync_duration_seconds`,
    () =>
      new Histogram({
        name: `${METRIC_PREFIX}sync_duration_seconds`,
        help: 'Duration of one sync attempt by this process, in seconds',
        labelNames: ['result'] as const,
        buckets: SYNC_BUCKETS,
        registers: [registry],
      }),
  );
  return {
    onAttempt(outcome, durationMs) {
      try {
        const result = outcome === 'ok' ? 'ok' : 'error';
        jobs.inc({ result, error_type: outcome === 'ok' ? 'none' : outcome });
        if (Number.isFinite(durationMs) && durationMs >= 0) duration.observe({ result }, durationMs / 1000);
      } catch {
        /* metrics must never break a job */
      }
    },
  };
}

/** The gauges of the workers' limiters, by worker and target (StatusMetrics). */
function concurrencyGauges(registry: Registry): Gauge<'worker' | 'target'>[] {
  const gauge = (name: string, help: string) =>
    once(
      registry,
      METRIC_PREFIX + name,
      () => new Gauge({ name: METRIC_PREFIX + name, help, labelNames: ['worker', 'target'], registers: [registry] }),
    );
  return [
    gauge('concurrency_limit', 'Requests a worker may have out at once toward a server (adaptive; WORKER_CONCURRENCY at most)'),
    gauge('concurrency_in_flight', "A worker's requests out at a server now"),
    gauge('concurrency_waiting', "A worker's requests waiting for the limit"),
    gauge('request_latency_seconds', "Median latency of a worker's last window of requests to a server, in seconds"),
    gauge('request_latency_baseline_seconds', "A server's latency without a queue, as a worker measured it, in seconds"),
  ];
}

/** The status metrics: set from one status read per scrape (update), then rendered by the registry. */
export class StatusMetrics {
  private readonly breakerState: Gauge<'state'>;
  private readonly consecutiveFailures: Gauge;
  private readonly outagesTotal: Counter;
  private readonly outageOngoing: Gauge;
  private readonly outagesRecorded: Gauge;
  private readonly outageDuration: Histogram;
  private readonly availability: Gauge;
  private readonly mttr: Gauge;
  private readonly mtbf: Gauge;
  private readonly recoveryActive: Gauge;
  private readonly recoveryRate: Gauge;
  private readonly probeUp: Gauge;
  private readonly probeLatency: Gauge;
  private readonly queueJobs: Gauge<'queue' | 'state'>;
  private readonly queuePaused: Gauge<'queue'>;
  private readonly queuePauseReason: Gauge<'queue' | 'reason'>;
  private readonly tokenRejected: Gauge;
  private readonly supervisorAlive: Gauge;
  private readonly syncSkipped: Counter<'reason'>;
  private readonly concurrencyLimit: Gauge<'worker' | 'target'>;
  private readonly concurrencyInFlight: Gauge<'worker' | 'target'>;
  private readonly concurrencyWaiting: Gauge<'worker' | 'target'>;
  private readonly requestLatency: Gauge<'worker' | 'target'>;
  private readonly requestBaseline: Gauge<'worker' | 'target'>;

  constructor(registry: Registry) {
    const p = METRIC_PREFIX;
    const gauge = <L extends string = string>(name: string, help: string, labelNames: L[] = []) =>
      once(registry, p + name, () => new Gauge<L>({ name: p + name, help, labelNames, registers: [registry] }));
    this.breakerState = gauge('breaker_state', 'Circuit breaker state: 1 for the current state, 0 for the others', ['state']);
    this.consecutiveFailures = gauge('breaker_consecutive_failures', 'Outage-class failures in a row counted by the breaker');
    this.outagesTotal = once(
      registry,
      `${p}outages_total`,
      () =>
        new Counter({
          name: `${p}outages_total`,
          help: 'Completed outages (breaker recoveries) since the breaker state was created',
          registers: [registry],
        }),
    );
    this.outageOngoing = gauge('outage_ongoing', '1 while an outage lasts');
    this.outagesRecorded = gauge('outages_recorded', 'Outages kept in the history (OUTAGE_HISTORY_SIZE at most)');
    // Rebuilt from the kept history on every scrape: it describes that history, so its counts may drop
    // when an old outage leaves it (use outages_total for rates).
    this.outageDuration = once(
      registry,
      `${p}outage_duration_seconds`,
      () =>
        new Histogram({
          name: `${p}outage_duration_seconds`,
          help: 'Durations of the completed outages in the kept history, in seconds (rebuilt from the history on each scrape)',
          buckets: OUTAGE_BUCKETS,
          registers: [registry],
        }),
    );
    this.availability = gauge('availability_percent', 'Availability of Plex over the kept history: MTBF / (MTBF + MTTR) · 100');
    this.mttr = gauge('mttr_seconds', 'Mean time to recovery over the kept history, in seconds');
    this.mtbf = gauge('mtbf_seconds', 'Mean time between outages over the kept history, in seconds');
    this.recoveryActive = gauge('recovery_active', '1 while the recovery ramp runs');
    this.recoveryRate = gauge('recovery_rate_jobs_per_second', 'Rate the recovery ramp allows now, in jobs/s (0 when no ramp runs)');
    this.probeUp = gauge('probe_up', 'Result of the last Plex /identity probe: 1 ok, 0 failed (NaN before the first probe)');
    this.probeLatency = gauge(
      'probe_latency_seconds',
      'Latency of the last successful Plex /identity probe, in seconds (NaN when unknown)',
    );
    this.queueJobs = gauge('queue_jobs', 'Jobs in the queue by state', ['queue', 'state']);
    this.queuePaused = gauge('queue_paused', '1 while the queue is paused', ['queue']);
    this.queuePauseReason = gauge(
      'queue_pause_reason',
      "1 for each reason the supervisor holds the paused queue ('plex down', 'token rejected')",
      ['queue', 'reason'],
    );
    this.tokenRejected = gauge(
      'plex_token_rejected',
      '1 while Plex rejects PLEX_TOKEN (the supervisor holds the queue until it accepts it)',
    );
    this.supervisorAlive = gauge('supervisor_alive', '1 while a supervisor leader holds a live lease');
    this.syncSkipped = once(
      registry,
      `${p}sync_skipped_total`,
      () =>
        new Counter({
          name: `${p}sync_skipped_total`,
          help: 'Scenes held back by SYNC_REQUIRE (job completed as skipped), by unmet requirement (read from Redis)',
          labelNames: ['reason'] as const,
          registers: [registry],
        }),
    );
    [this.concurrencyLimit, this.concurrencyInFlight, this.concurrencyWaiting, this.requestLatency, this.requestBaseline] =
      concurrencyGauges(registry);
  }

  /** The live workers' limiters (reset each scrape: a stopped worker's series disappear). */
  private updateConcurrency(status: StatusJson): void {
    const gauges = [this.concurrencyLimit, this.concurrencyInFlight, this.concurrencyWaiting, this.requestLatency, this.requestBaseline];
    for (const g of gauges) g.reset();
    const seconds = (n: number | null) => (n === null ? NaN : n / 1000);
    for (const w of status.concurrency ?? []) {
      for (const l of w.limiters) {
        const labels = { worker: w.worker, target: l.target };
        this.concurrencyLimit.set(labels, l.limit);
        this.concurrencyInFlight.set(labels, l.inFlight);
        this.concurrencyWaiting.set(labels, l.waiting);
        this.requestLatency.set(labels, seconds(l.latencyMs));
        this.requestBaseline.set(labels, seconds(l.baselineMs));
      }
    }
  }

  update(status: StatusJson, sources: Pick<StatusSources, 'snapshot'>): void {
    this.updateConcurrency(status);
    for (const s of BREAKER_STATES) this.breakerState.set({ state: s }, status.breaker.state === s ? 1 : 0);
    this.consecutiveFailures.set(status.breaker.consecutiveFailures);
    this.outagesTotal.reset();
    this.outagesTotal.inc(Math.max(0, sources.snapshot.breaker.recoveries));
    this.outageOngoing.set(status.outages.current ? 1 : 0);
    this.outagesRecorded.set(status.outages.recent.length);
    this.outageDuration.reset();
    for (const o of status.outages.recent) if (o.durationMs !== null) this.outageDuration.observe(o.durationMs / 1000);
    const m = status.outages.metrics;
    this.availability.set(m.availabilityPct);
    this.mttr.set(m.mttrMs / 1000);
    this.mtbf.set(m.mtbfMs / 1000);
    this.recoveryActive.set(status.recovery.active ? 1 : 0);
    this.recoveryRate.set(status.recovery.rate ?? 0);
    // NaN (valid in the exposition format) while unknown, so `probe_up == 0` alerts don't fire at start.
    this.probeUp.set(status.health.ok === null ? NaN : status.health.ok ? 1 : 0);
    this.probeLatency.set(status.health.latencyMs === null ? NaN : status.health.latencyMs / 1000);
    this.queueJobs.reset();
    this.queuePaused.reset();
    this.queuePauseReason.reset();
    for (const [queue, q] of Object.entries(status.queues)) {
      for (const state of ['waiting', 'active', 'delayed', 'failed', 'completed'] as const) this.queueJobs.set({ queue, state }, q[state]);
      this.queuePaused.set({ queue }, q.paused ? 1 : 0);
      for (const reason of PAUSE_REASONS) this.queuePauseReason.set({ queue, reason }, q.pauseReasons.includes(reason) ? 1 : 0);
    }
    this.tokenRejected.set(status.health.tokenRejected ? 1 : 0);
    this.supervisorAlive.set(status.supervisor.alive ? 1 : 0);
    this.syncSkipped.reset();
    for (const [reason, n] of Object.entries(status.sync.skipped)) this.syncSkipped.inc({ reason }, n);
  }
}
