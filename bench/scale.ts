// Scale benchmark: a 100 000-job backlog. Enqueue time, worker and supervisor memory (real processes) with
// an empty queue and with the backlog held, /api/status latency at that size, and the drain time.
//
//   node dist/bench/scale.js [--quick]
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parseConfig } from '../src/core/config.js';
import { connectRedis, keys } from '../src/core/redis.js';
import { startSimWorld } from '../src/sim/world.js';
import { buildStatus } from '../src/supervisor/status.js';
import { createSyncQueue, enqueueSyncBulk } from '../src/sync/queue.js';
import { isMain, median, percentile, privateRedis, round, sleep, table, type Row } from './lib.js';

const rssMb = (pid: number) => {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
};

/** The node flags of an npm script (`node <flags> <script>`): the processes run as `npm run worker` starts them. */
/**
 * How long the processes idle after the drain before their RSS is read (see the drain below). The quick
 * run waits less: the worker's own collection comes 3 s into the quiet (src/sync/idle-gc.ts).
 */
const idleSettleMs = (quick: boolean) => (quick ? 6_000 : 15_000);

const nodeFlagsOf = (name: string): string[] => {
  const scripts = (JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> }).scripts;
  return (scripts[name] ?? '').split(/\s+/).filter((a) => a.startsWith('--'));
};

/** SIGTERM, and SIGKILL if it has not exited within `graceMs`; resolves once it has exited. */
function stopProcess(child: ChildProcess, graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

function start(script: string, env: Record<string, string>, flags: string[] = []): ChildProcess {
  return spawn(process.execPath, [...flags, script], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: 'ignore' });
}

export async function runScaleBench({ quick = false } = {}): Promise<string> {
  const n = quick ? 10_000 : 100_000;
  const redis = await privateRedis();
  const world = await startSimWorld({ scenes: 0 });
  const env = {
    ...world.env,
    REDIS_URL: redis.url,
    REDIS_PREFIX: `bench-scale-${Date.now()}`,
    LOG_LEVEL: 'error',
    RECONCILE_INTERVAL_MS: '0',
  };
  const config = parseConfig(env);
  const conn = connectRedis(config);
  const queue = createSyncQueue(conn, config.redis.prefix);
  await queue.pause(); // the operator's pause: the backlog is held while memory is measured
  const worker = start('dist/workers/worker.js', env, nodeFlagsOf('worker'));
  const supervisor = start('dist/workers/supervisor.js', env);
  await sleep(3_000);
  const memAt0 = { worker: rssMb(worker.pid!), supervisor: rssMb(supervisor.pid!) };

  const t0 = performance.now();
  for (let i = 0; i < n; i += 1_000) {
    const now = Date.now();
    await enqueueSyncBulk(
      queue,
      Array.from({ length: Math.min(1_000, n - i) }, (_, j) => ({
        sceneId: String(i + j + 1),
        reason: 'manual' as const,
        enqueuedAt: now,
      })),
      config.errorStrategies,
    );
  }
  const enqueueMs = performance.now() - t0;
  await sleep(3_000);
  const memAtN = { worker: rssMb(worker.pid!), supervisor: rssMb(supervisor.pid!) };

  const latencies: number[] = [];
  for (let i = 0; i < 50; i++) {
    const s = performance.now();
    await buildStatus({ redis: conn, keys: keys(config.redis.prefix), queues: [queue], config, now: Date.now() });
    latencies.push(performance.now() - s);
  }

  // Drain: these scenes do not exist in the (empty) Stash simulator, so each job costs one Stash request
  // and fails permanently: the figure is the queue's own overhead per job, not Plex's.
  const t1 = performance.now();
  await queue.resume();
  while (true) {
    const c = await queue.getJobCounts('waiting', 'prioritized', 'active', 'delayed');
    if (c.waiting + c.prioritized + c.active + c.delayed === 0) break;
    await sleep(250);
  }
  const drainMs = performance.now() - t1;
  const memAtDrain = { worker: rssMb(worker.pid!), supervisor: rssMb(supervisor.pid!) };
  // What the processes keep, once idle: V8 gives back the pages the drain's garbage took when its memory
  // reducer runs, 8–12 s into an idle spell (measured here), not at the instant the queue empties.
  await sleep(idleSettleMs(quick));
  const memAfter = { worker: rssMb(worker.pid!), supervisor: rssMb(supervisor.pid!) };
  // Both must be gone before Redis is: a stop waiting on a Redis that has left would outlive this section
  // and take CPU from the next ones.
  await Promise.all([stopProcess(worker), stopProcess(supervisor)]);
  await queue.close();
  conn.disconnect();
  await world.stop();
  redis.stop();

  const rows: Row[] = [
    {
      measure: `enqueue ${n} jobs (addBulk, 1 000 per call)`,
      value: `${round(enqueueMs / 1000, 2)} s`,
      note: `${round(n / (enqueueMs / 1000))} jobs/s`,
    },
    {
      measure: `worker RSS: empty queue → backlog held → at the drain's end → idle ${idleSettleMs(quick) / 1000} s after (node ${nodeFlagsOf('worker').join(' ')})`,
      value: `${round(memAt0.worker)} → ${round(memAtN.worker)} → ${round(memAtDrain.worker)} → ${round(memAfter.worker)} MB`,
      note: `after (idle) / before ${round(memAfter.worker / memAt0.worker, 2)} (target ≤ 1.3); at the drain's end ${round(memAtDrain.worker / memAt0.worker, 2)}`,
    },
    {
      measure: `supervisor RSS: empty queue → backlog held → at the drain's end → idle ${idleSettleMs(quick) / 1000} s after`,
      value: `${round(memAt0.supervisor)} → ${round(memAtN.supervisor)} → ${round(memAtDrain.supervisor)} → ${round(memAfter.supervisor)} MB`,
      note: 'flat is the target',
    },
    {
      measure: `/api/status document at ${n} jobs (median / p95)`,
      value: `${round(median(latencies), 2)} / ${round(percentile(latencies, 95), 2)} ms`,
      note: 'target well under 50 ms',
    },
    {
      measure: `drain ${n} jobs (1 worker, concurrency ${config.worker.concurrency}: WORKER_CONCURRENCY's default)`,
      value: `${round(drainMs / 1000, 1)} s`,
      note: `${round(n / (drainMs / 1000))} jobs/s; each job one Stash request, then a permanent failure`,
    },
  ];
  return table(`Scale (${n}-job backlog, real worker and supervisor processes)`, rows);
}

if (isMain(import.meta.url)) {
  process.stdout.write(await runScaleBench({ quick: process.argv.includes('--quick') }));
  process.exit(0);
}
