// First-sync benchmark (issue 25): new scenes, each with a poster, synced for the first time against
// simulators on the server model (Plex 4 requests at a time, Stash 8, 20 ms each; the rest queued), while
// a "viewer" browses Plex. Wall time, Plex busy %, the viewer's p95 against its idle p95, worker RSS; with
// adaptive concurrency (the default), with READ_BATCH=1 and with a fixed limit, side by side. A second
// table compares adaptive, fixed 32 and fixed 4 on 1 200 scenes. The scale is selectable:
// S2P_BENCH_FIRST_SYNC_SCENES (default 100 000; --quick 10 000), the rows too: S2P_BENCH_FIRST_SYNC_ROWS
// (a comma-separated list of adaptive, single, fixed; default all three).
//
// A row of 100 000 scenes takes about 75 minutes on this server model (7.7 Plex requests of 20 ms per scene ÷
// 4 slots, × 1.2). The rows run one after another, each in a process of its own (its own simulators, worker
// process and Redis prefix), and the table says how busy the machine's cores were. Not side by side: a row
// needs about 0.7 of a core, and three at once on two cores measured the machine (3 000 scenes: wall / model
// 1.35 beside the others, 1.20 alone).
//
//   node dist/bench/first-sync.js [--quick]
//   node dist/bench/first-sync.js --row adaptive|single|fixed --scenes N --redis URL   (one row, JSON out)
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseConfig } from '../src/core/config.js';
import { createLogger } from '../src/core/log.js';
import { connectRedis, type RedisConnection } from '../src/core/redis.js';
import type { ServerModel } from '../src/sim/sim-server.js';
import { ROUTES } from '../src/sim/plex.js';
import { idleLatencies, startViewer } from '../src/sim/viewer.js';
import { startSimWorld } from '../src/sim/world.js';
import { createSyncQueue, enqueueSyncBulk } from '../src/sync/queue.js';
import { startWorkerRole, type WorkerRole } from '../src/roles/worker.js';
import { isMain, percentile, privateRedis, round, sleep, table, type Row } from './lib.js';
import { spawn, type ChildProcess } from 'node:child_process';

export const PLEX_MODEL: ServerModel = { slots: 4, serviceMs: 20 };
export const STASH_MODEL: ServerModel = { slots: 8, serviceMs: 20 };

export interface FirstSyncOptions {
  scenes: number;
  /** Worker processes (each its own limiters). In-process roles unless `spawn`. */
  workers: number;
  /** Real worker processes (`dist/workers/worker.js`, as `npm run worker` starts it): their RSS is measured. */
  spawn?: boolean;
  env?: Record<string, string>;
  redisUrl: string;
  plex?: ServerModel;
  stash?: ServerModel;
  /** Called every 100 ms while the sync runs (a test reads the published limiters). */
  onTick?: (run: { redis: RedisConnection; prefix: string }) => Promise<void> | void;
  /** Called about once a minute with the scenes still to sync (long runs show progress). */
  onProgress?: (left: number) => void;
}

export interface FirstSyncResult {
  ms: number;
  scenesPerSecond: number;
  /** Plex's slots busy over the run (0–1). */
  busy: number;
  idleP95: number;
  viewerP95: number;
  /**
   * The viewer's p95 as the server model makes it, ÷ its idle latency: 1 + the p95 of its queueing in service
   * times (SimServer.viewerQueueing). What the stopwatch ratio would be on a machine with time to spare.
   */
  viewerModelRatio: number;
  /** Plex requests (the viewer's aside) and the wall time the model allows for them (their service ÷ slots). */
  plexRequests: number;
  modelMs: number;
  failed: number;
  /** Posters uploaded: one per scene when every scene synced. */
  posterUploads: number;
  /** Largest RSS of a worker process (MiB), NaN for in-process roles. */
  workerRssMb: number;
}

const rssMb = (pid: number | undefined) => {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
};

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

interface Workers {
  rss(): number;
  stop(): Promise<void>;
}

async function startWorkers(opts: FirstSyncOptions, env: Record<string, string>): Promise<Workers> {
  if (opts.spawn) {
    const script = fileURLToPath(new URL('../workers/worker.js', import.meta.url));
    const children: ChildProcess[] = Array.from({ length: opts.workers }, () =>
      spawn(process.execPath, ['--max-old-space-size=128', '--max-semi-space-size=4', '--expose-gc', script], {
        env: { PATH: process.env.PATH ?? '', ...env },
        stdio: 'ignore',
      }),
    );
    return {
      rss: () => Math.max(...children.map((c) => rssMb(c.pid))),
      stop: async () => {
        await Promise.all(children.map(stopChild));
      },
    };
  }
  const roles: WorkerRole[] = [];
  for (let i = 0; i < opts.workers; i++) roles.push(await startWorkerRole(parseConfig(env), createLogger({ level: 'silent' })));
  return { rss: () => NaN, stop: async () => void (await Promise.all(roles.map((r) => r.stop()))) };
}

/** One first sync of `scenes` new scenes on a fresh world; the viewer browses Plex throughout. */
export async function firstSyncRun(opts: FirstSyncOptions): Promise<FirstSyncResult> {
  const plexModel = opts.plex ?? PLEX_MODEL;
  const world = await startSimWorld({ scenes: opts.scenes, plexModel, stashModel: opts.stash ?? STASH_MODEL });
  const env = {
    ...world.env,
    REDIS_URL: opts.redisUrl,
    REDIS_PREFIX: `bench-first-${Date.now()}-${Math.random().toString(36).slice(2, 6)}`,
    RECONCILE_INTERVAL_MS: '0',
    LOG_LEVEL: 'silent',
    ...opts.env,
  };
  const config = parseConfig(env);
  const conn = connectRedis(config);
  const queue = createSyncQueue(conn, config.redis.prefix);
  const idle = await idleLatencies(world.plex.url);
  await queue.pause();
  const ids = [...world.ratingKeyOf.keys()];
  for (let i = 0; i < ids.length; i += 1_000) {
    const now = Date.now();
    const batch = ids.slice(i, i + 1_000).map((sceneId) => ({ sceneId, reason: 'manual' as const, enqueuedAt: now }));
    await enqueueSyncBulk(queue, batch, config.errorStrategies);
  }
  const workers = await startWorkers(opts, env);
  world.plex.resetCounters();
  const viewer = startViewer(world.plex.url);
  world.plex.resetBusy();
  const started = performance.now();
  await queue.resume();
  let rss = NaN;
  let reported = started;
  for (;;) {
    await sleep(100);
    rss = Math.max(Number.isNaN(rss) ? 0 : rss, workers.rss());
    if (opts.onTick) await opts.onTick({ redis: conn, prefix: config.redis.prefix });
    const c = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
    const left = c.waiting + c.active + c.delayed + c.prioritized;
    if (left === 0) break;
    if (opts.onProgress && performance.now() - reported >= 60_000) {
      reported = performance.now();
      opts.onProgress(left);
    }
  }
  const ms = performance.now() - started;
  const busy = world.plex.busyFraction();
  const queueing = world.plex.viewerQueueing();
  const viewed = await viewer.stop();
  const failed = (await queue.getJobCounts('failed')).failed;
  const plexRequests = world.plex.count((r) => r.route !== ROUTES.identity);
  const posterUploads = world.plex.count({ method: 'POST', route: ROUTES.posters });
  await workers.stop();
  await queue.obliterate({ force: true });
  await queue.close();
  conn.disconnect();
  await world.stop();
  return {
    ms,
    scenesPerSecond: opts.scenes / (ms / 1000),
    busy,
    idleP95: percentile(idle, 95),
    viewerP95: percentile(viewed, 95),
    viewerModelRatio: 1 + percentile(queueing, 95),
    plexRequests,
    modelMs: (plexRequests * plexModel.serviceMs) / plexModel.slots,
    failed,
    posterUploads,
    workerRssMb: rss === 0 ? NaN : rss,
  };
}

const row = (name: string, r: FirstSyncResult): Row => ({
  case: name,
  'wall s': round(r.ms / 1000, 1),
  'model s': round(r.modelMs / 1000, 1),
  'wall / model': round(r.ms / r.modelMs, 2),
  'scenes/s': round(r.scenesPerSecond, 1),
  'Plex busy %': round(r.busy * 100, 0),
  'viewer p95 ms': round(r.viewerP95, 0),
  'idle p95 ms': round(r.idleP95, 0),
  'p95 / idle': round(r.viewerP95 / r.idleP95, 2),
  'model p95 / idle': round(r.viewerModelRatio, 2),
  'worker RSS MiB': Number.isNaN(r.workerRssMb) ? '— (in-process)' : round(r.workerRssMb, 0),
  failed: r.failed,
});

/** The scale of the first-sync case: S2P_BENCH_FIRST_SYNC_SCENES, else 100 000 (10 000 quick). */
export function firstSyncScale(quick: boolean): number {
  const given = Number(process.env.S2P_BENCH_FIRST_SYNC_SCENES);
  return Number.isInteger(given) && given > 0 ? given : quick ? 10_000 : 100_000;
}

/** The first table's rows: the default, one scene per Stash read, a fixed limit. */
const FIRST_SYNC_ROWS = {
  adaptive: { label: 'adaptive (default), READ_BATCH=100', env: {} },
  single: { label: 'adaptive, READ_BATCH=1', env: { READ_BATCH: '1' } },
  fixed: {
    label: 'fixed limit 4 (ADAPTIVE_CONCURRENCY=false, WORKER_CONCURRENCY=4)',
    env: { ADAPTIVE_CONCURRENCY: 'false', WORKER_CONCURRENCY: '4' },
  },
} as const;
export type FirstSyncRowName = keyof typeof FIRST_SYNC_ROWS;

/** A first-table row from a `--row` run's JSON (a 100 000-scene row may be run on its own and tabled after). */
export const firstSyncRow = (name: FirstSyncRowName, r: FirstSyncResult): Row => row(FIRST_SYNC_ROWS[name].label, r);
const isRowName = (name: string | undefined): name is FirstSyncRowName => name !== undefined && name in FIRST_SYNC_ROWS;

/** The first table's rows: S2P_BENCH_FIRST_SYNC_ROWS (names, comma-separated), else all three in order. */
export function firstSyncRows(given = process.env.S2P_BENCH_FIRST_SYNC_ROWS): FirstSyncRowName[] {
  const all = Object.keys(FIRST_SYNC_ROWS) as FirstSyncRowName[];
  if (given === undefined || given.trim() === '') return all;
  const names = given.split(',').map((name) => name.trim());
  const unknown = names.filter((name) => !isRowName(name));
  if (unknown.length > 0) {
    throw new Error(`S2P_BENCH_FIRST_SYNC_ROWS: unknown row ${unknown.map((n) => `"${n}"`).join(', ')} (rows: ${all.join(', ')})`);
  }
  return all.filter((name) => names.includes(name));
}

/** The machine's CPU time counters (all cores, /proc/stat): busy share between two readings. */
function cpuTimes(): { busy: number; total: number } {
  const fields = (/^cpu\s+(.*)$/m.exec(readFileSync('/proc/stat', 'utf8'))?.[1] ?? '').split(/\s+/).map(Number);
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
  const total = fields.reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

/** One row as a process of its own (this file with --row): its result, read from its JSON output. */
function rowInProcess(name: FirstSyncRowName, scenes: number, redisUrl: string): Promise<FirstSyncResult> {
  const script = fileURLToPath(import.meta.url);
  const child = spawn(process.execPath, [script, '--row', name, '--scenes', String(scenes), '--redis', redisUrl], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`first-sync row ${name} exited with ${code}`));
      // JSON writes NaN (no worker RSS read) as null.
      const result = JSON.parse(out) as Omit<FirstSyncResult, 'workerRssMb'> & { workerRssMb: number | null };
      resolve({ ...result, workerRssMb: result.workerRssMb ?? NaN });
    });
  });
}

/** The first table: its rows one after another, each in a process of its own; how busy the cores were. */
async function firstTable(n: number, redisUrl: string, names: readonly FirstSyncRowName[]): Promise<{ rows: Row[]; note: string }> {
  const before = cpuTimes();
  const rows: Row[] = [];
  for (const name of names) rows.push(firstSyncRow(name, await rowInProcess(name, n, redisUrl)));
  const after = cpuTimes();
  const busy = (after.busy - before.busy) / (after.total - before.total);
  const note = `The rows ran one after another, each in its own process; the machine's ${cpus().length} cores were ${round(busy * 100, 0)} % busy over them.\n`;
  return { rows, note };
}

export async function runFirstSyncBench({ quick = false } = {}): Promise<string> {
  const n = firstSyncScale(quick);
  const names = firstSyncRows();
  const redis = await privateRedis();
  const first = await firstTable(n, redis.url, names);
  const small = 1_200;
  const compare = { redisUrl: redis.url, workers: 1, scenes: small };
  const cases: [string, Record<string, string>, number][] = [
    ['adaptive (WORKER_CONCURRENCY=32)', {}, 1],
    ['adaptive, two worker processes', {}, 2],
    ['fixed 32', { ADAPTIVE_CONCURRENCY: 'false' }, 1],
    ['fixed 4', { ADAPTIVE_CONCURRENCY: 'false', WORKER_CONCURRENCY: '4' }, 1],
  ];
  const rows: Row[] = [];
  for (const [name, env, workers] of cases) rows.push(row(name, await firstSyncRun({ ...compare, workers, env })));
  redis.stop();
  const model = `Plex ${PLEX_MODEL.slots} at a time, Stash ${STASH_MODEL.slots} at a time, ${PLEX_MODEL.serviceMs} ms each`;
  return (
    table(`First sync (${n} new scenes, each with a poster; ${model}; one worker process)`, first.rows) +
    `\nTargets: wall / model ≤ 1.25 (model: the sum of Plex's service times ÷ its slots), p95 / idle ≤ 2.\n${first.note}\n` +
    table(`Adaptive vs fixed concurrency (first sync of ${small} scenes; ${model}; worker roles in the bench's process)`, rows) +
    `\nTarget: adaptive p95 / idle ≤ 2 with Plex ≥ 80 % busy, with one worker process and with two.\n`
  );
}

/** `--row NAME --scenes N --redis URL`: one row of the first table, its result as JSON on stdout. */
async function runOneRow(argv: readonly string[]): Promise<void> {
  const arg = (flag: string) => argv[argv.indexOf(flag) + 1];
  const name = arg('--row');
  const scenes = Number(arg('--scenes'));
  if (!isRowName(name) || !Number.isInteger(scenes) || scenes <= 0 || !arg('--redis')) {
    process.stderr.write(`first-sync: --row must be one of ${Object.keys(FIRST_SYNC_ROWS).join(', ')}, with --scenes N and --redis URL\n`);
    process.exit(2);
  }
  const onProgress = (left: number) => process.stderr.write(`[first-sync ${name}] ${scenes - left} of ${scenes} scenes synced\n`);
  const r = await firstSyncRun({ redisUrl: arg('--redis'), workers: 1, spawn: true, scenes, env: FIRST_SYNC_ROWS[name].env, onProgress });
  process.stdout.write(JSON.stringify(r));
}

if (isMain(import.meta.url)) {
  if (process.argv.includes('--row')) await runOneRow(process.argv);
  else process.stdout.write(await runFirstSyncBench({ quick: process.argv.includes('--quick') }));
  process.exit(0);
}
