// Reconcile Library benchmark: `npm run reconcile` (a real process) over a 100 000-scene library in both
// simulators: wall time and the process's peak RSS, cold (nothing synced: the run builds its index of
// Plex's files) and warm (the path cache knows every file: no listing), dry run and real.
//
//   node dist/bench/reconcile.js [--quick]
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parseConfig } from '../src/core/config.js';
import { connectRedis, keys } from '../src/core/redis.js';
import { ROUTES } from '../src/sim/plex.js';
import { startSimWorld, type SimWorld } from '../src/sim/world.js';
import { createSyncQueue } from '../src/sync/queue.js';
import { isMain, privateRedis, round, table, type Row } from './lib.js';

const rssMb = (pid: number) => {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
};

/** One CLI run: its report, wall time and peak RSS (sampled every 50 ms). */
function runCli(args: string[], env: Record<string, string>): Promise<{ ms: number; peakMb: number; report: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, ['dist/workers/reconcile.js', ...args], {
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    let peakMb = 0;
    const timer = setInterval(() => (peakMb = Math.max(peakMb, rssMb(child.pid!))), 50);
    child.stdout.on('data', (d) => (out += d));
    child.once('exit', (code) => {
      clearInterval(timer);
      if (code !== 0) return reject(new Error(`reconcile ${args.join(' ')} exited ${code}`));
      resolve({ ms: performance.now() - started, peakMb, report: JSON.parse(out) as Record<string, unknown> });
    });
  });
}

/** Path cache entries for every scene, as the workers leave them after syncing the library. */
async function fillPathCache(world: SimWorld, conn: ReturnType<typeof connectRedis>, prefix: string): Promise<void> {
  const cacheKey = keys(prefix).plexPathCache;
  const byKey = new Map(world.plex.items().map((i) => [i.ratingKey, i.files[0]]));
  const entries = [...world.ratingKeyOf.values()].map((rk): [string, string] => [byKey.get(rk)!, rk]);
  for (let i = 0; i < entries.length; i += 5_000) await conn.hset(cacheKey, Object.fromEntries(entries.slice(i, i + 5_000)));
}

export async function runReconcileBench({ quick = false } = {}): Promise<string> {
  const n = quick ? 20_000 : 100_000;
  const redis = await privateRedis();
  const built = performance.now();
  const world = await startSimWorld({ scenes: n });
  const buildMs = performance.now() - built;
  const env = { ...world.env, REDIS_URL: redis.url, REDIS_PREFIX: `bench-rec-${Date.now()}`, LOG_LEVEL: 'error' };
  const config = parseConfig(env);
  const conn = connectRedis(config);
  const queue = createSyncQueue(conn, config.redis.prefix);
  const rows: Row[] = [];
  const row = (run: string, r: Awaited<ReturnType<typeof runCli>>, plexBefore: number, listingsBefore: number) =>
    rows.push({
      run,
      scenes: Number(r.report.scanned),
      's (wall)': round(r.ms / 1000, 1),
      'scenes/s': round(Number(r.report.scanned) / (r.ms / 1000)),
      'peak RSS MB': round(r.peakMb),
      'Plex requests': world.plex.count() - plexBefore,
      'listing pages': world.plex.count({ route: ROUTES.sectionAll }) - listingsBefore,
      queued: Number(r.report.queued),
    });
  for (const [run, args] of [
    ['cold, dry run (index built)', ['--dry-run', '--json']],
    ['cold, real (queues every scene)', ['--json']],
  ] as const) {
    const [p, l] = [world.plex.count(), world.plex.count({ route: ROUTES.sectionAll })];
    row(run, await runCli([...args], env), p, l);
  }
  await queue.obliterate({ force: true });
  await fillPathCache(world, conn, config.redis.prefix);
  const [p, l] = [world.plex.count(), world.plex.count({ route: ROUTES.sectionAll })];
  row('warm path cache, dry run (no listing)', await runCli(['--dry-run', '--json'], env), p, l);
  await queue.close();
  conn.disconnect();
  await world.stop();
  redis.stop();
  return `${table(`Reconcile Library (${n} scenes in both simulators; \`npm run reconcile\` as a process)`, rows)}\nLibrary built in the simulators in ${round(buildMs / 1000, 1)} s (not counted).\n`;
}

if (isMain(import.meta.url)) {
  process.stdout.write(await runReconcileBench({ quick: process.argv.includes('--quick') }));
  process.exit(0);
}
