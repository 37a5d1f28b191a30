// Library benchmark: a whole library through stash2plex's worker, against simulators answering every
// request after 50 ms, two at a time (a Plex on a two-core NAS: its own time is the limit, not only its
// distance): an unchanged pass with coalesced reads (READ_BATCH's default) and,
// in the same run, with one read per job (READ_BATCH=1); then 10 % of the scenes changed (one in ten of
// those with a new cover), synced as their hooks would enqueue them (50 ms, any number at a time).
// 10 % of the scenes have no cover (Stash serves its SVG placeholder); one in ten of them gets one in the
// changed pass. Every image row is on: the poster, the background (SYNC_FIELDS' default) and actor
// photos (DASHBOARD_PUBLIC_URL set; one performer in four has an image of its own).
//
//   node dist/bench/library.js [--quick]
import { parseConfig, type Config } from '../src/core/config.js';
import { createLogger } from '../src/core/log.js';
import { connectRedis, keys, ownershipKey, type RedisConnection } from '../src/core/redis.js';
import type { PlexItem } from '../src/model/types.js';
import { encodeEdit, parseItem } from '../src/plex/edits.js';
import { mapPath, normalisePlexPath } from '../src/plex/paths.js';
import { ROUTES, type SimRequest } from '../src/sim/plex.js';
import { startSimWorld, type SimWorld } from '../src/sim/world.js';
import { desiredState } from '../src/sync/mapping.js';
import { imageSecret } from '../src/sync/image-links.js';
import { decideEdit, screenshotVersion, valueHash } from '../src/sync/ownership.js';
import { imageHash } from '../src/sync/scene-images.js';
import { createSyncQueue, enqueueSyncBulk } from '../src/sync/queue.js';
import { startWorkerRole } from '../src/roles/worker.js';
import { isMain, privateRedis, round, sleep, table, type Row } from './lib.js';

const LATENCY_MS = 50;
/**
 * Requests each simulator serves at once (a two-core NAS): beyond that they wait their turn. With no such
 * limit, one read per job costs the same wall time at the same concurrency (each job waits two round
 * trips either way) and only the servers' load differs; see bench/NOTES.md.
 */
const SERVER_PARALLEL = 2;
const CONCURRENCY = 32;

/** An item with nothing set, as Plex would answer it (no tags, no locks). */
const blankItem = (ratingKey: string): PlexItem => parseItem({ MediaContainer: { Metadata: [{ ratingKey }] } }, '1');

/**
 * The library as a first sync leaves it, without sending it through the worker (that would be the
 * benchmark's longest part): each Plex item edited as decideEdit() says, its poster uploaded, the
 * ownership record, the path cache and the scene's item hint written. The unchanged pass then checks it: no edit at all.
 * A scene without a cover gets no poster here: its first sync through the worker records what it found.
 */
async function seed(world: SimWorld, config: Config, redis: RedisConnection, coverless: ReadonlySet<string>): Promise<void> {
  const k = keys(config.redis.prefix);
  const links = { baseUrl: config.sync.imageBaseUrl!, secret: await imageSecret(redis, k) };
  let pipe = redis.pipeline();
  for (const [id, ratingKey] of world.ratingKeyOf) {
    const scene = world.stash.scene(id)!;
    const { edit, owned } = decideEdit(desiredState(scene, links), blankItem(ratingKey), {}, config.sync);
    const shot = coverless.has(id) ? undefined : world.stash.screenshotOf(id);
    // The background as the screenshot's bytes: what Plex holds is never read back, only its record counts.
    world.plex.seedItem(ratingKey, { edit: encodeEdit(edit), userRating: edit.userRating, poster: shot, art: shot });
    const version = screenshotVersion(scene.paths!.screenshot!, Infinity)!;
    const images = shot
      ? { poster: valueHash(shot.bytes), posterVersion: version, background: imageHash(shot.bytes, 'full'), backgroundVersion: version }
      : {};
    pipe.hset(ownershipKey(k, ratingKey), { ...owned, ...images });
    pipe.hset(k.plexPathCache, normalisePlexPath(mapPath(scene.files[0].path, config.plex.pathMap)), ratingKey);
    pipe.hset(k.plexSceneItem, id, ratingKey);
    if (pipe.length >= 2_000) {
      await pipe.exec();
      pipe = redis.pipeline();
    }
  }
  await pipe.exec();
}

interface PassResult {
  ms: number;
  plex: number;
  stash: number;
  screenshots: number;
  metadataEdits: number;
  posterUploads: number;
  backgroundUploads: number;
  /** Performer image reads (Stash) in the pass: none, the dashboard reads them when Plex asks. */
  performerImages: number;
  failed: number;
}

const isMetadataEdit = (r: SimRequest) =>
  (r.method === 'PUT' && r.route === ROUTES.sectionAll && !r.path.includes('thumb.locked') && !r.path.includes('art.locked')) ||
  r.route === ROUTES.rate;

/** One pass of `ids` through a worker role with `env` (READ_BATCH…), on the seeded prefix. */
async function pass(world: SimWorld, base: Record<string, string>, ids: string[], env: Record<string, string> = {}): Promise<PassResult> {
  const config = parseConfig({ ...base, ...env });
  const conn = connectRedis(config);
  const queue = createSyncQueue(conn, config.redis.prefix);
  await queue.pause();
  for (let i = 0; i < ids.length; i += 1_000) {
    const now = Date.now();
    await enqueueSyncBulk(
      queue,
      ids.slice(i, i + 1_000).map((sceneId) => ({ sceneId, reason: 'manual' as const, enqueuedAt: now })),
      config.errorStrategies,
    );
  }
  world.plex.resetCounters();
  world.stash.resetCounters();
  let done = 0;
  let failed = 0;
  const role = await startWorkerRole(config, createLogger({ level: 'silent' }), {
    onAttempt: (outcome) => (outcome === 'ok' ? done++ : failed++),
  });
  const started = performance.now();
  await queue.resume();
  while (done < ids.length && failed === 0) await sleep(20);
  const ms = performance.now() - started;
  await role.stop();
  await queue.obliterate({ force: true });
  await queue.close();
  conn.disconnect();
  return {
    ms,
    plex: world.plex.count((r) => r.route !== ROUTES.identity),
    stash: world.stash.count(),
    screenshots: world.stash.count({ operationName: 'screenshot' }),
    metadataEdits: world.plex.count(isMetadataEdit),
    posterUploads: world.plex.count({ method: 'POST', route: ROUTES.posters }),
    backgroundUploads: world.plex.count({ method: 'POST', route: ROUTES.arts }),
    performerImages: world.stash.count({ operationName: 'performer-image' }),
    failed,
  };
}

export async function runLibraryBench({ quick = false } = {}): Promise<string> {
  const n = quick ? 10_000 : 100_000;
  // READ_BATCH=1 runs on a sample (the same scenes' first ones): at one read per job it would take the
  // whole library most of the benchmark's time; wall times are compared per scene.
  const sample = 500;
  const redis = await privateRedis();
  const world = await startSimWorld({ scenes: n });
  const ids = [...world.ratingKeyOf.keys()];
  const photo = { bytes: world.stash.screenshotOf(ids[0]).bytes, contentType: 'image/png' };
  world.stash.setPerformerImage(world.stash.addPerformer('Performer 1'), photo);
  // 10 % without a cover, removed "10 s ago" by Stash's clock, so their screenshot versions are settled
  // (ownership.screenshotVersion) when the passes run, as they would be for covers removed long before.
  const coverless = ids.filter((_, i) => i % 10 === 5);
  world.stash.setClockSkewMs(-10_000);
  for (const id of coverless) world.stash.removeCover(id);
  world.stash.setClockSkewMs(0);
  const base = {
    ...world.env,
    REDIS_URL: redis.url,
    REDIS_PREFIX: `bench-lib-${Date.now()}`,
    WORKER_CONCURRENCY: String(CONCURRENCY),
    RECONCILE_INTERVAL_MS: '0',
    // Actor photos on: the links point here (nothing fetches them in the benchmark).
    DASHBOARD_PUBLIC_URL: 'http://stash2plex.invalid:3000',
  };
  const seedConn = connectRedis(parseConfig(base));
  const seeded = performance.now();
  await seed(world, parseConfig(base), seedConn, new Set(coverless));
  const seedMs = performance.now() - seeded;
  // The coverless scenes' first sync, through the worker (what it records for a placeholder is the product's).
  const firstCoverless = await pass(world, base, coverless);
  world.plex.setLatencyMs(LATENCY_MS, SERVER_PARALLEL);
  world.stash.setLatencyMs(LATENCY_MS, SERVER_PARALLEL);

  const batched = await pass(world, base, ids);
  const single = await pass(world, base, ids.slice(0, sample), { READ_BATCH: '1' });
  // 10 % changed: a new title each; one in ten of those a new cover too.
  const changed = ids.filter((_, i) => i % 10 === 0);
  const newCovers = changed.filter((_, i) => i % 10 === 0);
  // One in ten coverless scenes gets a cover (a PNG): its `?t=` moves, the screenshot is read and uploaded.
  const coverAdded = coverless.filter((_, i) => i % 10 === 0);
  const png = world.stash.screenshotOf(ids[1]).bytes;
  for (const id of changed) world.stash.updateScene(id, { title: `Changed ${id}` });
  for (const id of newCovers) world.stash.setScreenshot(id, Buffer.concat([world.stash.screenshotOf(id).bytes, Buffer.from('new cover')]));
  for (const id of coverAdded) world.stash.setScreenshot(id, Buffer.concat([png, Buffer.from(`cover of ${id}`)]));
  // Edits are one request per item whatever the batching: this pass counts them, so the servers are not
  // held to two at a time (at 40 edits/s it would take most of the run).
  world.plex.setLatencyMs(LATENCY_MS);
  world.stash.setLatencyMs(LATENCY_MS);
  const change = await pass(world, base, [...changed, ...coverAdded]);
  seedConn.disconnect();
  await world.stop();
  redis.stop();

  const perScene = (r: PassResult, count: number) => r.ms / count;
  const speedup = perScene(single, sample) / perScene(batched, n);
  const rows: Row[] = [
    {
      figure: `unchanged pass, coalesced reads (${n} scenes)`,
      value: `${round(batched.ms / 1000, 1)} s (${round(n / (batched.ms / 1000))} scenes/s)`,
      target: '',
    },
    {
      figure: `unchanged pass, READ_BATCH=1 (first ${sample} scenes)`,
      value: `${round(single.ms / 1000, 1)} s (${round(sample / (single.ms / 1000))} scenes/s)`,
      target: '',
    },
    { figure: 'wall time per unchanged scene: READ_BATCH=1 / coalesced', value: `${round(speedup, 1)} ×`, target: '≥ 4 ×' },
    { figure: 'Plex requests per unchanged scene (coalesced; /identity aside)', value: round(batched.plex / n, 3), target: '≤ 0.05' },
    {
      figure: `Stash requests per unchanged scene (coalesced; GraphQL and screenshots; ${coverless.length} without a cover)`,
      value: round(batched.stash / n, 3),
      target: '≤ 0.05',
    },
    {
      figure: 'Plex / Stash requests per unchanged scene, READ_BATCH=1',
      value: `${round(single.plex / sample, 3)} / ${round(single.stash / sample, 3)}`,
      target: '',
    },
    {
      figure: 'screenshot reads in the unchanged passes (placeholders read at the first sync)',
      value: batched.screenshots + single.screenshots,
      target: '0',
    },
    {
      figure: 'edits and uploads in the unchanged passes (posters, backgrounds, actor photos)',
      value: [batched, single].reduce((n, r) => n + r.metadataEdits + r.posterUploads + r.backgroundUploads + r.performerImages, 0),
      target: '0',
    },
    {
      figure: `changed scenes (${changed.length}): edits per changed scene`,
      value: round(change.metadataEdits / changed.length, 3),
      target: 'exactly 1',
    },
    {
      figure: `poster uploads (${newCovers.length} new covers among them, ${coverAdded.length} on scenes that had none)`,
      value: change.posterUploads,
      target: String(newCovers.length + coverAdded.length),
    },
    {
      figure: 'background uploads (the same new covers)',
      value: change.backgroundUploads,
      target: String(newCovers.length + coverAdded.length),
    },
    {
      figure: 'changed pass: wall time; Plex / Stash requests',
      value: `${round(change.ms / 1000, 1)} s; ${change.plex} / ${change.stash}`,
      target: '',
    },
    { figure: 'failed attempts (all passes)', value: firstCoverless.failed + batched.failed + single.failed + change.failed, target: '0' },
  ];
  const seeding = `Seeded as a first sync leaves it (Plex items, ownership records, path cache, item hints) in ${round(seedMs / 1000, 1)} s, and the ${coverless.length} scenes without a cover synced once through the worker (${firstCoverless.screenshots} screenshot reads, no latency) in ${round(firstCoverless.ms / 1000, 1)} s, outside the figures.`;
  return `${table(`Library (${n} scenes, ${coverless.length} without a cover; simulators answering each request after ${LATENCY_MS} ms, ${SERVER_PARALLEL} at a time, WORKER_CONCURRENCY=${CONCURRENCY}, one worker role in the bench's process)`, rows)}\n${seeding}\n`;
}

if (isMain(import.meta.url)) {
  process.stdout.write(await runLibraryBench({ quick: process.argv.includes('--quick') }));
  process.exit(0);
}
