// Throughput benchmark: N scene syncs through stash2plex's worker against the simulators, side by side
// with a plain BullMQ worker sending the same HTTP requests (no classification, diff, signals or cache),
// with no added latency and with 20 ms of simulated Plex latency.
//
//   node dist/bench/throughput.js [--quick]
import { Queue, Worker } from 'bullmq';
import { parseConfig } from '../src/core/config.js';
import { createLogger } from '../src/core/log.js';
import { connectRedis } from '../src/core/redis.js';
import { FIND_SCENE } from '../src/stash-api/queries.js';
import { startSimWorld, type SimWorld } from '../src/sim/world.js';
import { createSyncQueue, enqueueSyncBulk } from '../src/sync/queue.js';
import { startWorkerRole } from '../src/roles/worker.js';
import { isMain, privateRedis, round, sleep, table, type Row } from './lib.js';

/** WORKER_CONCURRENCY's default, for both workers. */
const CONCURRENCY = 32;

function editAll(world: SimWorld, tag: string) {
  for (const id of world.ratingKeyOf.keys()) world.stash.updateScene(id, { title: `${tag} ${id}` });
}

/** stash2plex's own worker: jobs/s over `ids`. */
async function ours(world: SimWorld, redisUrl: string, ids: string[]): Promise<number> {
  const config = parseConfig({
    ...world.env,
    REDIS_URL: redisUrl,
    REDIS_PREFIX: `bench-tp-${Date.now()}`,
    SYNC_POSTER: 'false',
    WORKER_CONCURRENCY: String(CONCURRENCY),
  });
  const conn = connectRedis(config);
  const queue = createSyncQueue(conn, config.redis.prefix);
  await enqueueSyncBulk(
    queue,
    ids.map((sceneId) => ({ sceneId, reason: 'manual' as const, enqueuedAt: Date.now() })),
    config.errorStrategies,
  );
  const started = performance.now();
  const role = await startWorkerRole(config, createLogger({ level: 'silent' }));
  while (((await queue.getJobCounts('completed')).completed ?? 0) < ids.length) await sleep(20);
  const rate = ids.length / ((performance.now() - started) / 1000);
  await role.stop();
  await queue.obliterate({ force: true });
  await queue.close();
  conn.disconnect();
  return rate;
}

/** A plain BullMQ worker doing the same requests: find the scene, find the item, read it, edit it. */
async function baseline(world: SimWorld, redisUrl: string, ids: string[]): Promise<number> {
  const env = world.env;
  const conn = connectRedis({ redis: { url: redisUrl, clusterNodes: null, prefix: 'bench-base' } });
  const prefix = `bench-base-${Date.now()}`;
  const queue = new Queue('plain', { connection: conn, prefix });
  await queue.addBulk(ids.map((sceneId) => ({ name: 'sync', data: { sceneId }, opts: { removeOnComplete: { count: 100_000 } } })));
  const plex = { 'X-Plex-Token': env.PLEX_TOKEN, Accept: 'application/json' };
  const started = performance.now();
  const worker = new Worker<{ sceneId: string }>(
    'plain',
    async (job) => {
      const res = await fetch(`${env.STASH_URL}/graphql`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', ApiKey: env.STASH_API_KEY },
        body: JSON.stringify({ query: FIND_SCENE, variables: { id: job.data.sceneId } }),
      });
      const scene = ((await res.json()) as { data: { findScene: { title: string; files: { path: string }[] } } }).data.findScene;
      const file = scene.files[0].path.replace('/stash/videos', '/plex/videos');
      const list = (await (
        await fetch(`${env.PLEX_URL}/library/sections/1/all?type=1&file=${encodeURIComponent(file)}`, { headers: plex })
      ).json()) as {
        MediaContainer: { Metadata?: { ratingKey: string; Media: { Part: { file: string }[] }[] }[] };
      };
      const item = list.MediaContainer.Metadata!.find((m) => m.Media.some((md) => md.Part.some((p) => p.file === file)))!;
      await (await fetch(`${env.PLEX_URL}/library/metadata/${item.ratingKey}`, { headers: plex })).arrayBuffer();
      const q = new URLSearchParams({ type: '1', id: item.ratingKey, 'title.value': scene.title, 'title.locked': '1' });
      await (await fetch(`${env.PLEX_URL}/library/sections/1/all?${q}`, { method: 'PUT', headers: plex })).arrayBuffer();
    },
    { connection: conn, prefix, concurrency: CONCURRENCY },
  );
  while (((await queue.getJobCounts('completed')).completed ?? 0) < ids.length) await sleep(20);
  const rate = ids.length / ((performance.now() - started) / 1000);
  await worker.close();
  await queue.obliterate({ force: true });
  await queue.close();
  conn.disconnect();
  return rate;
}

export async function runThroughputBench({ quick = false } = {}): Promise<string> {
  const redis = await privateRedis();
  const n = quick ? 600 : 1_200;
  const world = await startSimWorld({ scenes: n });
  const ids = [...world.ratingKeyOf.keys()];
  const rows: Row[] = [];
  for (const latency of [0, 20]) {
    world.plex.setLatencyMs(latency);
    const jobs = latency === 0 ? ids : ids.slice(0, quick ? 200 : 500);
    // Alternate two rounds (best of each), so warm-up and drift in the machine's load hit both alike;
    // every run has real edits to send.
    let base = 0;
    let mine = 0;
    for (let round = 0; round < 2; round++) {
      editAll(world, `base-${latency}-${round}`);
      base = Math.max(base, await baseline(world, redis.url, jobs));
      editAll(world, `ours-${latency}-${round}`);
      mine = Math.max(mine, await ours(world, redis.url, jobs));
    }
    rows.push({
      'Plex latency': `${latency} ms`,
      jobs: jobs.length,
      'plain BullMQ worker (jobs/s)': round(base),
      'stash2plex worker (jobs/s)': round(mine),
      ratio: round(mine / base, 2),
      target: latency === 0 ? '≥ 1.0' : '',
    });
  }
  await world.stop();
  redis.stop();
  return table(`Throughput (concurrency ${CONCURRENCY}, each worker in the bench's process, simulators on loopback)`, rows);
}

if (isMain(import.meta.url)) {
  process.stdout.write(await runThroughputBench({ quick: process.argv.includes('--quick') }));
  process.exit(0);
}
