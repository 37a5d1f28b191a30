// Coalesced reads (READ_BATCH), with both simulators and real Redis: the scene reads of jobs running at
// the same moment are one findScenes(ids) request, their Plex item reads one
// `GET /library/metadata/{k1},{k2},…`, and every job still gets its own answer or its own error.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SyncError } from '../../src/core/errors.js';
import { createLogger } from '../../src/core/log.js';
import { connectRedis, keys } from '../../src/core/redis.js';
import { DEFAULT_PLEX_MAX_URL_BYTES as ITEM_BATCH_MAX_URL } from '../../src/core/config.js';
import { ITEMS_PER_REQUEST, PlexClient } from '../../src/plex/client.js';
import { ROUTES } from '../../src/sim/plex.js';
import type { StashClient } from '../../src/stash-api/client.js';
import { batchedPlex, batchedStash } from '../../src/sync/batched-reads.js';
import { syncScene, type SyncDeps } from '../../src/sync/processor.js';
import { createSyncQueue, enqueueSyncBulk } from '../../src/sync/queue.js';
import { startWorkerRole } from '../../src/roles/worker.js';
import { testRedis } from '../helpers/redis.js';
import { waitFor } from '../helpers/wait.js';
import { worldSyncDeps } from '../helpers/sync-deps.js';
import { startWorld, type World } from '../helpers/world.js';

let world: World;
let redis: Redis;
let plexClient: PlexClient;
let stashClient: StashClient;

const deps = (maxKeys = 100): SyncDeps => ({
  plex: batchedPlex(plexClient, { maxKeys }),
  stash: batchedStash(stashClient, { maxKeys }),
  redis,
  keys: keys(world.prefix),
  sync: world.config.sync,
});

const ids = () => [...world.ratingKeyOf.keys()];
const errorType = (r: PromiseSettledResult<unknown>) =>
  r.status === 'rejected' && r.reason instanceof SyncError ? r.reason.type : r.status;
const metadataReads = () => world.plex.requests.filter((r) => r.method === 'GET' && r.route === ROUTES.metadata);

beforeAll(async () => {
  // Stash's clock 10 s behind: the scenes' screenshot versions are settled from the first sync on.
  world = await startWorld({ scenes: 8, prefixName: 'batch', stash: { clockSkewMs: -10_000 } });
  redis = testRedis();
  ({ plex: plexClient, stash: stashClient } = worldSyncDeps(world, redis));
  // A first sync: items found, path cache and ownership records written.
  const d = deps();
  const first = await Promise.allSettled(ids().map((id) => syncScene(id, d)));
  expect(first.map(errorType)).toEqual(ids().map(() => 'fulfilled'));
});
afterAll(async () => {
  redis.disconnect();
  await world.stop();
});

describe('coalesced reads', () => {
  it('an unchanged library: one Stash request and one Plex request for all the jobs, no screenshot, no edit', async () => {
    world.plex.resetCounters();
    world.stash.resetCounters();
    const d = deps();
    const results = await Promise.all(ids().map((id) => syncScene(id, d)));
    expect(results.every((r) => 'editRequests' in r && r.editRequests === 0 && !r.posterUploaded)).toBe(true);
    expect(world.stash.count()).toBe(1);
    expect(world.stash.count({ operationName: 'FindScenesByIds' })).toBe(1);
    // The cached ratingKey's verification is the item read: one read per item, in one request.
    expect(world.plex.requests.map((r) => `${r.method} ${r.route}`)).toEqual([`GET ${ROUTES.metadata}`]);
    expect(metadataReads()[0].path.split('/').pop()!.split(',')).toHaveLength(8);
  });

  it('the item is read alongside the scene, not after it: the Plex read arrives while Stash is still answering', async () => {
    world.plex.resetCounters();
    world.stash.resetCounters();
    // Stash answers after 1 s: a read that waited for its answer would arrive at Plex 1 s after it was asked.
    world.stash.setLatencyMs(1_000);
    try {
      const d = deps();
      const results = await Promise.all(ids().map((id) => syncScene(id, d)));
      expect(results.every((r) => 'editRequests' in r && r.editRequests === 0)).toBe(true);
    } finally {
      world.stash.setLatencyMs(0);
    }
    const askedStash = world.stash.requests.find((r) => r.operationName === 'FindScenesByIds')!.at;
    expect(metadataReads()).toHaveLength(1);
    expect(metadataReads()[0].at - askedStash).toBeLessThan(1_000);
  });

  it('a batch with a missing item and a missing scene: only those two jobs fail, with the single-read types', async () => {
    const [a, b, c, d, e, f, g, h] = ids() as [string, ...string[]];
    const gone = world.ratingKeyOf.get(c)!;
    world.plex.removeItem(gone);
    world.stash.deleteScene(e);
    world.plex.resetCounters();
    world.stash.resetCounters();
    const shared = deps();
    const settled = await Promise.allSettled([a, b, c, d, e, f, g, h].map((id) => syncScene(id, shared)));
    expect(settled.map(errorType)).toEqual([
      'fulfilled',
      'fulfilled',
      'PlexNotFound',
      'fulfilled',
      'StashSceneMissing',
      'fulfilled',
      'fulfilled',
      'fulfilled',
    ]);
    // Stash fails a findScenes naming the missing id: asked once more without it, never one by one.
    expect(world.stash.count({ operationName: 'FindScenesByIds' })).toBe(2);
    expect(world.stash.count({ operationName: 'FindScene' })).toBe(0);
    // Each job's item is read alongside its scene (the item it last synced to), the deleted scene's too:
    // one read of eight keys. Plex left the missing key out; only that job looked further, and proved the
    // item gone with one more read of that key alone (after its section answered a listing).
    expect(metadataReads()).toHaveLength(2);
    expect(metadataReads()[0].status).toBe(200);
    expect(metadataReads()[0].path.split('/').pop()!.split(',')).toHaveLength(8);
    expect(metadataReads()[1]).toMatchObject({ status: 404, path: `/library/metadata/${gone}` });
    // The next tests use the six scenes left.
    world.ratingKeyOf.delete(c);
    world.ratingKeyOf.delete(e);
  });

  it('a whole-request 404 fails only the keys asked in it, each found missing by a read of its own', async () => {
    const port = batchedPlex(plexClient, { maxKeys: 2 });
    const [k1, k2] = ids().map((id) => world.ratingKeyOf.get(id)!);
    world.plex.resetCounters();
    const settled = await Promise.allSettled(['999991', '999992', k1, k2].map((k) => port.getItem(k)));
    expect(settled.map(errorType)).toEqual(['PlexNotFound', 'PlexNotFound', 'fulfilled', 'fulfilled']);
    // The read of both missing keys 404s as a whole; each is then read alone (only a 404 alone is "not found").
    expect(
      metadataReads()
        .map((r) => `${r.path.split('/').pop()} ${r.status}`)
        .sort(),
    ).toEqual([`${k1},${k2} 200`, '999991 404', '999991,999992 404', '999992 404']);
    const reason = (settled[0] as PromiseRejectedResult).reason as SyncError;
    expect(reason.message).toMatch(/GET \/library\/metadata\/999991 → HTTP 404$/);
  });

  it('a read refused (401) for one item it holds fails only that key: each key is read alone', async () => {
    const port = batchedPlex(plexClient, { maxKeys: 2 });
    const [k1, k2] = ids().map((id) => world.ratingKeyOf.get(id)!);
    world.plex.denyItems([k1]);
    world.plex.resetCounters();
    try {
      const settled = await Promise.allSettled([k1, k2].map((k) => port.getItem(k)));
      expect(settled.map(errorType)).toEqual(['PlexAuthError', 'fulfilled']);
      expect(
        metadataReads()
          .map((r) => `${r.path.split('/').pop()} ${r.status}`)
          .sort(),
      ).toEqual([`${k1} 401`, `${k1},${k2} 401`, `${k2} 200`].sort());
    } finally {
      world.plex.denyItems([]);
    }
  });

  it('a batch during an outage: every job of it fails with the type a single read gets', async () => {
    const all = ids();
    await world.plex.setMode('down');
    try {
      const single = await plexClient.getItem(world.ratingKeyOf.get(all[0])!).catch((e: unknown) => e);
      const d = deps();
      const settled = await Promise.allSettled(all.map((id) => syncScene(id, d)));
      expect(settled.map(errorType)).toEqual(all.map(() => (single as SyncError).type));
      expect((single as SyncError).type).toBe('PlexServerDown');
    } finally {
      await world.plex.setMode('up');
    }
    await world.stash.setMode('503');
    try {
      const d = deps();
      const settled = await Promise.allSettled(all.map((id) => syncScene(id, d)));
      expect(settled.map(errorType)).toEqual(all.map(() => 'StashUnavailable'));
      // Coalesced: fewer requests than jobs (one, unless a loaded machine spread the jobs over a second batch window).
      expect(world.stash.count({ status: 503 })).toBeLessThan(all.length);
      expect(world.stash.count({ status: 503 })).toBeGreaterThanOrEqual(1);
    } finally {
      await world.stash.setMode('up');
    }
  });

  it('a batch mixing a fresh edit and bulk jobs through the worker: coalesced reads, one edit, for the edited scene only', async () => {
    const all = ids();
    const fresh = all[2];
    world.stash.updateScene(fresh, { title: 'Fresh edit', updated_at: Date.now() - 5_000 });
    const conn = connectRedis(world.config);
    const queue = createSyncQueue(conn, world.prefix);
    await queue.pause();
    const now = Date.now();
    await enqueueSyncBulk(
      queue,
      all.map((sceneId) => ({ sceneId, reason: sceneId === fresh ? ('hook' as const) : ('manual' as const), enqueuedAt: now })),
      world.config.errorStrategies,
    );
    world.plex.resetCounters();
    world.stash.resetCounters();
    let done = 0;
    const role = await startWorkerRole(world.config, createLogger({ level: 'silent' }), { onAttempt: (o) => void (o === 'ok' && done++) });
    try {
      await queue.resume();
      await waitFor(() => done === all.length, 10_000, 'every job done');
    } finally {
      await role.stop();
      await queue.obliterate({ force: true });
      await queue.close();
      conn.disconnect();
    }
    expect(world.plex.item(world.ratingKeyOf.get(fresh)!)!.title).toBe('Fresh edit');
    expect(world.plex.count({ method: 'PUT' })).toBe(1);
    // Jobs that run together read together: fewer requests than jobs (the hook job included).
    expect(metadataReads().length).toBeLessThan(all.length);
    // A job that starts alone (the machine busy elsewhere) reads alone (findScene): counted with the rest.
    const sceneReads = world.stash.count({ operationName: 'FindScenesByIds' }) + world.stash.count({ operationName: 'FindScene' });
    expect(sceneReads).toBeLessThan(all.length);
    // Its new screenshot version is read once (the cover did not change: no upload).
    expect(world.stash.count({ operationName: 'screenshot' })).toBe(1);
    expect(world.plex.count({ method: 'POST', route: ROUTES.posters })).toBe(0);
  });
});

describe('an older Stash: v0.24, without findScenes(ids)', () => {
  let old: World;
  beforeAll(async () => {
    old = await startWorld({ scenes: 8, prefixName: 'batch-v024', stash: { version: 'v0.24.3' } });
  });
  afterAll(async () => {
    await old.stop();
  });

  it('the worker reads the version at start, says so in one line, and syncs every scene batched, with no failed attempt', async () => {
    const conn = connectRedis(old.config);
    const queue = createSyncQueue(conn, old.prefix);
    await queue.pause();
    const all = [...old.ratingKeyOf.keys()];
    await enqueueSyncBulk(
      queue,
      all.map((sceneId) => ({ sceneId, reason: 'manual' as const, enqueuedAt: Date.now() })),
      old.config.errorStrategies,
    );
    const outcomes: string[] = [];
    const lines: string[] = [];
    const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
    const role = await startWorkerRole(old.config, log, { onAttempt: (o) => void outcomes.push(o) });
    try {
      await waitFor(() => lines.some((l) => l.includes('worker: Stash v0.24.3')), 10_000, 'the version line');
      await queue.resume();
      await waitFor(() => outcomes.length >= all.length, 20_000, 'every job attempted');
    } finally {
      await role.stop();
      await queue.obliterate({ force: true });
      await queue.close();
      conn.disconnect();
    }
    expect(outcomes).toEqual(all.map(() => 'ok'));
    for (const id of all) expect(old.plex.item(old.ratingKeyOf.get(id)!)!.title).toBe(old.stash.scene(id)!.title);
    expect(old.stash.count({ status: 422 })).toBe(0);
    expect(old.stash.count({ operationName: 'StashVersion' })).toBe(1);
    // Batched as on a newer Stash: fewer scene requests than jobs.
    expect(old.stash.count({ operationName: 'FindScenesBySceneIds' })).toBeGreaterThan(0);
    expect(old.stash.count({ operationName: 'FindScenesBySceneIds' }) + old.stash.count({ operationName: 'FindScene' })).toBeLessThan(
      all.length,
    );
    expect(lines.filter((l) => l.includes('worker: Stash v0.24.3')).map((l) => (JSON.parse(l) as { msg: string }).msg)).toEqual([
      'worker: Stash v0.24.3: scenes read with findScenes(scene_ids)',
    ]);
  });
});

describe('the URL bound of a batched Plex read', () => {
  let server: Server;
  const urls: string[] = [];
  beforeAll(async () => {
    // A Plex that answers every key it is asked (long keys included), recording each request's URL.
    server = createServer((req, res) => {
      urls.push(req.url ?? '');
      const asked = (req.url ?? '').replace('/library/metadata/', '').split(',').map(decodeURIComponent);
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(
        JSON.stringify({
          MediaContainer: { size: asked.length, Metadata: asked.map((ratingKey) => ({ ratingKey, title: ratingKey.slice(0, 8) })) },
        }),
      );
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it(`at most ${ITEMS_PER_REQUEST} keys and ${ITEM_BATCH_MAX_URL} bytes of URL per request, every key answered`, async () => {
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const port = batchedPlex(new PlexClient({ url: base, token: 't', clientIdentifier: 'stash2plex-test' }), { maxKeys: 100 });
    const short = Array.from({ length: 250 }, (_, i) => String(i + 1));
    const long = Array.from({ length: 60 }, (_, i) => `${'k'.repeat(300)}${i}`);
    const items = await Promise.all([...short, ...long].map((k) => port.getItem(k)));
    expect(items.map((i) => i.ratingKey)).toEqual([...short, ...long]);
    expect(Math.max(...urls.map((u) => `${base}${u}`.length))).toBeLessThanOrEqual(ITEM_BATCH_MAX_URL);
    expect(Math.max(...urls.map((u) => u.split(',').length))).toBeLessThanOrEqual(ITEMS_PER_REQUEST);
    // 250 short keys fill 3 requests; 60 × 301 bytes need at least 3 more; a tail may share.
    expect(urls.length).toBeGreaterThanOrEqual(5);
    expect(urls.length).toBeLessThanOrEqual(7);
  });
});
