// Outage-cycle benchmark: a backlog flowing to the Plex simulator, Plex taken down, brought back.
// Measures detection delay, recovery latency, ramp excess and utilisation, and drain time against the
// ramp's theoretical minimum.
//
//   node dist/bench/outage.js [--quick]
import { parseConfig } from '../src/core/config.js';
import { createLogger } from '../src/core/log.js';
import { connectRedis, keys } from '../src/core/redis.js';
import { allowedRate, startRamp, type RampSettings } from '../src/resilience/ramp.js';
import { readSignals } from '../src/resilience/signals.js';
import { ROUTES } from '../src/sim/plex.js';
import { startSimWorld } from '../src/sim/world.js';
import { startSupervisorRole } from '../src/roles/supervisor.js';
import { readHealth } from '../src/resilience/health-record.js';
import { readOutages } from '../src/resilience/store.js';
import { createSyncQueue, enqueueSyncBulk } from '../src/sync/queue.js';
import { startWorkerRole } from '../src/roles/worker.js';
import { isMain, privateRedis, rampUsage, round, sleep, table, type Row } from './lib.js';

/** Seconds needed to run `jobs` jobs under the ramp schedule (then at the target rate). */
export function theoreticalDrainMs(jobs: number, s: RampSettings): number {
  let done = 0;
  let t = 0;
  const dt = 10;
  while (done < jobs) {
    done += (allowedRate(startRamp(0), s, t) * dt) / 1000;
    t += dt;
  }
  return t;
}

/** What one outage cycle measured: times (epoch ms), counts, and the edit requests Plex received. */
export interface OutageMeasurements {
  scenes: number;
  ramp: RampSettings;
  /** When the first outage-class failure after Plex went down was signalled, and when the queue paused. */
  firstFailure: number;
  pausedAt: number;
  /** The probe interval in force while Plex was down (from the stored health record). */
  probeInterval: number;
  upAt: number;
  /** When the first job completed after Plex came back, and when the backlog was drained. */
  firstAfterUp: number;
  drainedAt: number;
  doneBefore: number;
  outage: { startedAt: number; detectedAt: number; endedAt: number };
  /** Times of the edit requests from the end of the outage (the ramp's start) on. */
  editTimes: number[];
}

async function startOutageBench(quick: boolean) {
  const redis = await privateRedis();
  const scenes = quick ? 250 : 800;
  const world = await startSimWorld({ scenes });
  const config = parseConfig({
    ...world.env,
    REDIS_URL: redis.url,
    REDIS_PREFIX: `bench-outage-${Date.now()}`,
    SYNC_POSTER: 'false',
    WORKER_CONCURRENCY: '8',
    HEALTH_INTERVAL_MS: '1000',
    HEALTH_MAX_INTERVAL_MS: '4000',
    HEALTH_CLOSED_INTERVAL_MS: '2000',
    BREAKER_RECOVERY_TIMEOUT_MS: '2000',
    RAMP_DURATION_MS: quick ? '10000' : '30000',
    PLEX_MAX_RATE: '20',
  });
  const conn = connectRedis(config);
  const queue = createSyncQueue(conn, config.redis.prefix);
  world.plex.setLatencyMs(5);
  for (const id of world.ratingKeyOf.keys()) world.stash.updateScene(id, { title: `Edited ${id}` });
  await enqueueSyncBulk(
    queue,
    [...world.ratingKeyOf.keys()].map((sceneId) => ({ sceneId, reason: 'hook' as const, enqueuedAt: Date.now() })),
    config.errorStrategies,
  );
  return { redis, scenes, world, config, conn, queue, k: keys(config.redis.prefix) };
}

/** A backlog flowing, Plex taken down until the queue pauses (and 3 s more), brought back, drained. */
export async function measureOutageCycle(quick: boolean): Promise<OutageMeasurements> {
  const { redis, scenes, world, config, conn, queue, k } = await startOutageBench(quick);
  const log = createLogger({ level: 'silent' });
  const supervisor = await startSupervisorRole(config, log);
  const worker = await startWorkerRole(config, log);
  const completed = async () => (await queue.getJobCounts('completed')).completed ?? 0;
  while ((await completed()) < 40) await sleep(20);

  const downAt = Date.now();
  await world.plex.setMode('down');
  while (!(await queue.isPaused())) await sleep(2);
  const pausedAt = Date.now();
  const signals = await readSignals(conn, k.signals, '0-0', 100_000);
  await sleep(3_000);
  const health = await readHealth(conn, k, []);
  const upAt = Date.now();
  await world.plex.setMode('up');
  const doneBefore = await completed();
  while ((await completed()) < scenes) await sleep(50);
  const drainedAt = Date.now();

  const finished = await queue.getJobs(['completed'], 0, scenes, true);
  const outage = (await readOutages(conn, k, []))[0] as OutageMeasurements['outage'];
  const edits = world.plex.requests.filter((r) => r.method === 'PUT' && r.route === ROUTES.sectionAll && r.at >= outage.endedAt);
  await worker.stop();
  await supervisor.stop();
  await queue.close();
  conn.disconnect();
  await world.stop();
  redis.stop();
  return {
    scenes,
    ramp: config.ramp,
    firstFailure: signals.find((s) => s.at !== null && s.at >= downAt && s.outcome !== 'ok')?.at ?? downAt,
    pausedAt,
    probeInterval: health.nextProbeAt && health.lastProbeAt ? health.nextProbeAt - health.lastProbeAt : config.health.intervalMs,
    upAt,
    firstAfterUp: Math.min(...finished.map((j) => j.finishedOn ?? Infinity).filter((t) => t > upAt)),
    drainedAt,
    doneBefore,
    outage,
    editTimes: edits.map((e) => e.at),
  };
}

/** The report's rows: delays, and the ramp's per-second edit counts against its schedule (excess, utilisation). */
export function analyseOutage(m: OutageMeasurements): Row[] {
  const rampStart = m.outage.endedAt;
  const { excess, utilisation } = rampUsage(m.editTimes, rampStart, m.ramp);
  const backlogAtRamp = m.editTimes.length;
  const theoretical = theoreticalDrainMs(backlogAtRamp, m.ramp);
  return [
    {
      measure: 'detection delay (first outage-class failure → queue paused)',
      value: `${m.pausedAt - m.firstFailure} ms`,
      target: '≤ 1000 ms',
    },
    {
      measure: 'detection delay recorded (detectedAt − startedAt)',
      value: `${m.outage.detectedAt - m.outage.startedAt} ms`,
      target: '≤ 1000 ms',
    },
    {
      measure: 'recovery latency (Plex up → first job done)',
      value: `${m.firstAfterUp - m.upAt} ms`,
      target: `≤ ${m.probeInterval + 1000} ms (probe interval ${m.probeInterval} ms + 1 s)`,
    },
    { measure: 'ramp excess (largest per-second count above schedule)', value: `${round(Math.max(0, excess), 2)} jobs`, target: '≤ 1 job' },
    {
      measure: 'ramp utilisation (mean share of allowed rate used, backlog present)',
      value: `${round(utilisation * 100)} %`,
      target: '≥ 90 %',
    },
    {
      measure: `drain of ${backlogAtRamp} jobs after recovery`,
      value: `${round((m.drainedAt - rampStart) / 1000, 2)} s`,
      target: `theoretical minimum ${round(theoretical / 1000, 2)} s (ratio ${round((m.drainedAt - rampStart) / theoretical, 2)})`,
    },
    { measure: 'jobs done before the outage / total', value: `${m.doneBefore} / ${m.scenes}`, target: '' },
  ];
}

export async function runOutageBench({ quick = false } = {}): Promise<string> {
  const m = await measureOutageCycle(quick);
  const r = m.ramp;
  return table(
    `Outage cycle (${m.scenes} scenes, ramp ${r.initialRate}→${r.targetRate} jobs/s over ${r.durationMs / 1000} s)`,
    analyseOutage(m),
  );
}

if (isMain(import.meta.url)) {
  process.stdout.write(await runOutageBench({ quick: process.argv.includes('--quick') }));
  process.exit(0);
}
