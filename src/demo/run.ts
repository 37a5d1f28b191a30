// `npm run demo` (workers/demo.ts): simulated Stash and Plex, real Redis, the whole system, and a
// scripted outage to watch on the dashboard. Ctrl-C stops everything it started.
import sharp from 'sharp';
import { onShutdown } from '../core/cli.js';
import { parseConfig, type Config } from '../core/config.js';
import { createSyncQueue } from '../sync/queue.js';
import { createLogger } from '../core/log.js';
import { connectRedis, keys, type RedisConnection } from '../core/redis.js';
import { createMetricsRegistry, workerMetrics } from '../dashboard/metrics.js';
import { startDashboard } from '../dashboard/server.js';
import { encodeInboxEntry } from '../model/inbox-item.js';
import { ensureRedis, type EmbeddedRedis } from '../roles/embedded-redis.js';
import { startSupervisorRole } from '../roles/supervisor.js';
import { startWorkerRole } from '../roles/worker.js';
import { startSimWorld, type SimWorld } from '../sim/world.js';
import { readBreaker } from '../resilience/store.js';
import type { DemoOptions } from './options.js';

const say = (line: string) => process.stdout.write(`\x1b[1m[demo]\x1b[0m ${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A 16:9 frame (or a portrait) in one colour, as a real screenshot or photo would be sized. */
const picture = (hue: number, width: number, height: number) =>
  sharp({ create: { width, height, channels: 3, background: { r: (hue * 53) % 256, g: (hue * 97) % 256, b: 160 } } })
    .jpeg()
    .toBuffer();

/** The Stash group the demo's first scenes are in: a Plex collection with its cover and synopsis. */
export const DEMO_GROUP = 'The Demo Saga';

/**
 * Images worth looking at: every scene a 1280×720 screenshot (its poster is cut from it, its background is
 * it), two of the four performers a photo of their own (the other two show Stash's silhouette: no photo),
 * and a group with a front cover holding four scenes (a collection in Plex).
 */
async function demoImages(world: SimWorld): Promise<void> {
  for (const id of world.ratingKeyOf.keys()) world.stash.setScreenshot(id, await picture(Number(id), 1280, 720), 'image/jpeg');
  for (const n of [1, 2]) {
    const photo = { bytes: await picture(n * 11, 400, 600), contentType: 'image/jpeg' };
    world.stash.setPerformerImage(world.stash.addPerformer(`Performer ${n}`), photo);
  }
  const cover = { bytes: await picture(7, 400, 600), contentType: 'image/jpeg' };
  const group = world.stash.addGroup(DEMO_GROUP, cover, 'Four scenes of one story, a collection in Plex with this synopsis and cover.');
  for (const id of [...world.ratingKeyOf.keys()].slice(1, 5)) world.stash.updateScene(id, { group_ids: [group] });
}

/** The simulators with the demo's library, and the scene whose edit is longer than a proxy allows. */
async function demoWorld(scenes: number): Promise<{ world: SimWorld; longId: string }> {
  const world = await startSimWorld({ scenes });
  await demoImages(world);
  world.plex.setLatencyMs(15);
  // Plex behind a reverse proxy with nginx's default limit (414 past 8 KiB of request line), and one scene
  // whose edit is far longer: stash2plex splits it under PLEX_MAX_URL_BYTES and cuts the summary to fit.
  world.plex.setProxyLimits({ requestLine: 8 * 1024 });
  const longId = [...world.ratingKeyOf.keys()][0];
  world.stash.updateScene(longId, {
    details: 'Ünïcödé détails, 漢字 et 😀 — '.repeat(150),
    tag_ids: Array.from({ length: 120 }, (_, i) => world.stash.addTag(`Catégorie ${i + 1}`)),
  });
  return { world, longId };
}

function demoConfig(world: SimWorld, embedded: EmbeddedRedis | null): Config {
  return parseConfig({
    ...world.env,
    REDIS_URL: embedded?.url ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    REDIS_PREFIX: `s2p-demo-${Date.now().toString(36)}`,
    DASHBOARD_PORT: process.env.DASHBOARD_PORT ?? '3000',
    DASHBOARD_HOST: '127.0.0.1',
    // Actor photos: Plex (here, the demo itself) fetches them from the dashboard.
    DASHBOARD_PUBLIC_URL: `http://127.0.0.1:${process.env.DASHBOARD_PORT ?? '3000'}`,
    POSTER_STYLE: process.env.POSTER_STYLE ?? 'crop',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'error', // the demo narrates; LOG_LEVEL=info shows every log line
    LOG_FORMAT: process.env.LOG_FORMAT,
    WORKER_CONCURRENCY: '4',
    HEALTH_INTERVAL_MS: '2000',
    HEALTH_MAX_INTERVAL_MS: '8000',
    HEALTH_CLOSED_INTERVAL_MS: '3000',
    BREAKER_RECOVERY_TIMEOUT_MS: '5000',
    RAMP_INITIAL_RATE: '2',
    RAMP_TARGET_RATE: '15',
    RAMP_DURATION_MS: '45000',
    RECONCILE_INTERVAL_MS: '60000',
  });
}

interface Demo {
  world: SimWorld;
  longId: string;
  config: Config;
  redis: RedisConnection;
  /** Set once Ctrl-C is stopping everything. */
  stopping: () => boolean;
}

/** Starts the world, the roles and the dashboard; Ctrl-C stops them and deletes the demo's keys. */
async function startDemo(options: DemoOptions, embedded: EmbeddedRedis | null): Promise<Demo> {
  const { world, longId } = await demoWorld(options.scenes);
  const config = demoConfig(world, embedded);
  const log = createLogger({ level: config.logLevel, format: config.logFormat, name: 'demo' });
  const registry = createMetricsRegistry();
  const metrics = workerMetrics(registry);
  const worker = await startWorkerRole(config, log, { onAttempt: metrics.onAttempt });
  const supervisor = await startSupervisorRole(config, log);
  const dashboard = await startDashboard(config, log, { supervisor: supervisor.supervisor, registry });
  const redis = connectRedis(config);
  let stopping = false;
  onShutdown(async () => {
    stopping = true;
    say('stopping…');
    await dashboard.stop();
    await supervisor.stop();
    await worker.stop();
    // The demo's keys go with it.
    const own = await redis.keys(`${config.redis.prefix}:*`);
    for (let i = 0; i < own.length; i += 500) await redis.del(...own.slice(i, i + 500));
    redis.disconnect();
    await world.stop();
    await embedded?.stop();
  });
  say(`dashboard: ${dashboard.url}/   (Bull Board: ${dashboard.url}/queues)`);
  say(`simulated Stash ${world.stash.url} with ${options.scenes} scenes, simulated Plex ${world.plex.url}`);
  return { world, longId, config, redis, stopping: () => stopping };
}

/** What the sync did with images: posters (2:3), backgrounds, and an actor photo fetched as Plex would. */
async function showImages(demo: Demo): Promise<void> {
  const items = [...demo.world.ratingKeyOf.values()].map((rk) => demo.world.plex.item(rk)!).filter(Boolean);
  const first = items.find((i) => i.poster && i.art);
  if (first) {
    const [poster, art] = await Promise.all(
      (['poster', 'art'] as const).map((kind) => sharp(demo.world.plex.image(first.ratingKey, kind)!).metadata()),
    );
    say(
      `images: ${items.filter((i) => i.poster).length} posters (${demo.config.sync.posterStyle}: ${poster.width}×${poster.height} ${poster.format}), ` +
        `${items.filter((i) => i.art).length} backgrounds (${art.width}×${art.height}, the screenshot)`,
    );
  }
  const saga = demo.world.plex.collections().find((c) => c.title === DEMO_GROUP);
  if (saga) {
    const cover = saga.poster ? `a ${saga.poster.bytes}-byte cover` : 'no cover';
    say(`collection "${saga.title}" (a Stash group): ${saga.childCount} items, ${cover}, summary "${saga.summary}"`);
  }
  const photo = items.flatMap((i) => Object.entries(i.actorThumbs))[0];
  if (!photo) return;
  const res = await fetch(photo[1]).catch(() => null);
  const bytes = res ? (await res.arrayBuffer()).byteLength : 0;
  say(
    `actor photo of ${photo[0]}: ${photo[1].replace(/sig=[0-9a-f]+/, 'sig=…')} → ${res?.status ?? 'no answer'}, ${bytes} bytes from Stash`,
  );
  say(`${items.filter((i) => i.actor.some((a) => !(a in i.actorThumbs))).length} items show an actor without a photo (no image in Stash)`);
}

/** The script: a Sync All, the long edit, edits every 400 ms, the outage and the recovery, until Ctrl-C. */
async function narrate(demo: Demo, options: DemoOptions): Promise<void> {
  const { world, longId, redis } = demo;
  const stopping = () => demo.stopping();
  const k = keys(demo.config.redis.prefix);
  /** What a Stash hook would record for an edit of scene `id`. */
  const hook = async (id: string) => {
    await redis.xadd(
      k.inbox,
      '*',
      ...encodeInboxEntry({ sceneId: id, reason: 'hook', event: 'Scene.Update.Post', fields: ['title'], enqueuedAt: Date.now() }),
    );
  };
  const ids = [...world.ratingKeyOf.keys()];
  // --malformed: the first scene's Plex item carries a rating Plex should send as a number, as text.
  // Not the long scene (the demo waits for that one to reach Plex): another, when there is one.
  const malformed = options.malformed ? (ids.find((id) => id !== longId) ?? ids[0]) : null;
  if (malformed) {
    world.plex.overrideItemJson(world.ratingKeyOf.get(malformed)!, { userRating: '8.0' });
    say(
      `scene ${malformed}: Plex answers its item with userRating "8.0"; only its job fails (PlexBadResponse, in the failed set), the breaker stays CLOSED`,
    );
  }
  let edits = 0;
  const editSomething = async () => {
    const id = ids[Math.floor(Math.random() * ids.length)];
    world.stash.updateScene(id, { title: `Scene ${id} (edit ${++edits})` });
    await hook(id);
  };
  const synced = () =>
    [...world.ratingKeyOf].filter(([id, rk]) => id === malformed || world.plex.item(rk)?.title === world.stash.scene(id)?.title).length;

  say('syncing the whole library (like the Stash task "Sync All Scenes")…');
  for (const id of ids) await hook(id);
  while (!stopping() && synced() < ids.length) await sleep(500);
  say(
    malformed
      ? `library in sync: ${ids.length - 1} scenes; scene ${malformed}'s job is in the failed set (PlexBadResponse)`
      : `library in sync: ${ids.length} scenes`,
  );
  // Its tag lists travel in PUTs after its title: wait for the last of them.
  while (!stopping() && longId !== malformed && (world.plex.item(world.ratingKeyOf.get(longId)!)?.genre.length ?? 0) < 120)
    await sleep(200);
  await showImages(demo);
  const long = world.plex.item(world.ratingKeyOf.get(longId)!);
  if (long)
    say(
      `scene ${longId}, behind an 8 KiB URL limit: ${long.genre.length} genres and a ${[...long.summary].length}-character summary (cut to fit one request) reached Plex in split edits`,
    );

  const editLoop = (async () => {
    while (!stopping()) {
      await editSomething();
      await sleep(400);
    }
  })();

  if (options.outage) {
    await sleep(10_000);
    const queue = createSyncQueue(redis, demo.config.redis.prefix);
    const failedBefore = await queue.getFailedCount();
    say(`Plex goes DOWN for ${options.outageMs / 1000} s (edits keep coming): the breaker opens and the queue pauses`);
    await world.plex.setMode('down');
    await sleep(options.outageMs);
    await world.plex.setMode('up');
    say('Plex is back: the supervisor notices on its own, tries one job a second, then ramps up');
    while (!stopping() && (await readBreaker(redis, k, Date.now(), [])).state.state !== 'CLOSED') await sleep(500);
    say('breaker CLOSED: the backlog drains at a graduated rate (watch the ramp on the dashboard)');
    // "Nothing was lost" only once the backlog has drained, and only if no job failed meanwhile.
    while (!stopping() && (await backlog(queue)) > 0) await sleep(500);
    const failed = (await queue.getFailedCount()) - failedBefore;
    if (!stopping())
      say(
        failed === 0
          ? 'recovered: the backlog has drained, nothing was lost'
          : `recovered: the backlog has drained; ${failed} jobs failed meanwhile (see the dashboard)`,
      );
    await queue.close();
  }
  say('running until Ctrl-C');
  await editLoop;
}

/**
 * Runs the demo until Ctrl-C, whose handler stops everything and exits. Resolves with an exit status
 * only when it cannot start (no Redis), else with null once stopped.
 */
export async function runDemo(options: DemoOptions): Promise<number | null> {
  let embedded: EmbeddedRedis | null;
  try {
    embedded = await ensureRedis(process.env);
  } catch (err) {
    process.stderr.write(`demo: ${(err as Error).message}\n`);
    return 1;
  }
  await narrate(await startDemo(options, embedded), options);
  return null;
}

/** Jobs still to do: waiting (prioritized too) and delayed (held), the bulk of an outage's backlog. */
async function backlog(queue: ReturnType<typeof createSyncQueue>): Promise<number> {
  const c = await queue.getJobCounts('waiting', 'prioritized', 'delayed');
  return (c.waiting ?? 0) + (c.prioritized ?? 0) + (c.delayed ?? 0);
}
