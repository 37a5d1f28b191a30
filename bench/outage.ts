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
import type { HealthRecord } from '../src/supervisor/store.js';
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

export async function runOutageBench({ quick = false } = {}): Promise<string> {
  const redis = await privateRedis();
  const scenes = quick ? 250 : 800;
  const world = await startSimWorld({ scenes });
  const env = {
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
  };
  const config = parseConfig(env);
  const k = keys(config.redis.prefix);
  const log = createLogger({ level: 'silent' });
  const conn = connectRedis(config);
  const queue = createSyncQueue(conn, config.redis.prefix);
  world.plex.setLatencyMs(5);
  for (const id of world.ratingKeyOf.keys()) world.stash.updateScene(id, { title: `Edited ${id}` });
  await enqueueSyncBulk(
    queue,
    [...world.ratingKeyOf.keys()].map((sceneId) => ({ sceneId, reason: 'hook' as const, enqueuedAt: Date.now() })),
    config.errorStrategies,
  );
  const supervisor = await startSupervisorRole(config, log);
  const worker = await startWorkerRole(config, log);
  const completed = async () => (await queue.getJobCounts('completed')).completed ?? 0;
  while ((await completed()) < 40) await sleep(20);

  const downAt = Date.now();
  await world.plex.setMode('down');
  while (!(await queue.isPaused())) await sleep(2);
  const pausedAt = Date.now();
  const signals = await readSignals(conn, k.signals, '0-0', 100_000);
  const firstFailure = signals.find((s) => s.at >= downAt && s.outcome !== 'ok')?.at ?? downAt;
  await sleep(3_000);
  const health = JSON.parse((await conn.get(k.health)) ?? '{}') as HealthRecord;
  const probeInterval = health.nextProbeAt && health.lastProbeAt ? health.nextProbeAt - health.lastProbeAt : config.health.intervalMs;
  const upAt = Date.now();
  await world.plex.setMode('up');
  const doneBefore = await completed();
  while ((await completed()) < scenes) await sleep(50);
  const drainedAt = Date.now();

  const finished = await queue.getJobs(['completed'], 0, scenes, true);
  const firstAfterUp = Math.min(...finished.map((j) => j.finishedOn ?? Infinity).filter((t) => t > upAt));
  const outage = (JSON.parse((await conn.get(k.outages)) ?? '[]') as { endedAt: number; startedAt: number; detectedAt: number }[])[0]!;
  const rampStart = outage.endedAt;
  const edits = world.plex.requests.filter((r) => r.method === 'PUT' && r.route === ROUTES.sectionAll && r.at >= rampStart);
  const ramp = config.ramp;
  const { excess, utilisation } = rampUsage(edits.map((e) => e.at), rampStart, ramp);
  const backlogAtRamp = edits.length;
  const theoretical = theoreticalDrainMs(backlogAtRamp, ramp);

  await worker.stop();
  await supervisor.stop();
  await queue.close();
  conn.disconnect();
  await world.stop();
  redis.stop();

  const rows: Row[] = [
    { measure: 'detection delay (first outage-class failure → queue paused)', value: `${pausedAt - firstFailure} ms`, target: '≤ 1000 ms' },
    { measure: 'detection delay recorded (detectedAt − startedAt)', value: `${outage.detectedAt - outage.startedAt} ms`, target: '≤ 1000 ms' },
    { measure: 'recovery latency (Plex up → first job done)', value: `${firstAfterUp - upAt} ms`, target: `≤ ${probeInterval + 1000} ms (probe interval ${probeInterval} ms + 1 s)` },
    { measure: 'ramp excess (largest per-second count above schedule)', value: `${round(Math.max(0, excess), 2)} jobs`, target: '≤ 1 job' },
    { measure: 'ramp utilisation (mean share of allowed rate used, backlog present)', value: `${round(utilisation * 100)} %`, target: '≥ 90 %' },
    { measure: `drain of ${backlogAtRamp} jobs after recovery`, value: `${round((drainedAt - rampStart) / 1000, 2)} s`, target: `theoretical minimum ${round(theoretical / 1000, 2)} s (ratio ${round((drainedAt - rampStart) / theoretical, 2)})` },
    { measure: 'jobs done before the outage / total', value: `${doneBefore} / ${scenes}`, target: '' },
  ];
  return table(`Outage cycle (${scenes} scenes, ramp ${ramp.initialRate}→${ramp.targetRate} jobs/s over ${ramp.durationMs / 1000} s)`, rows);
}

if (isMain(import.meta.url)) {
  process.stdout.write(await runOutageBench({ quick: process.argv.includes('--quick') }));
  process.exit(0);
}
