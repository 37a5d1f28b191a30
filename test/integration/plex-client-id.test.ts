// One Plex device per installation: every process sends the same X-Plex-Client-Identifier (Plex lists
// each identifier as a device), PLEX_CLIENT_ID or the one the first process stored in Redis.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/core/config.js';
import { startDashboard } from '../../src/dashboard/server.js';
import { createLogger } from '../../src/core/log.js';
import { probeClientId, sharedPlexClientId } from '../../src/plex/client-id.js';
import { connectRedis, keys } from '../../src/core/redis.js';
import { runTask } from '../../src/stash-plugin/tasks.js';
import { startSupervisorRole } from '../../src/roles/supervisor.js';
import { createSyncQueue, enqueueSync } from '../../src/sync/queue.js';
import { startWorkerRole } from '../../src/roles/worker.js';
import { testRedis, testRedisUrl, uniquePrefix } from '../helpers/redis.js';
import { waitFor } from '../helpers/wait.js';
import { startWorld, type World } from '../helpers/world.js';

const quiet = createLogger({ level: 'silent' });
const stops: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
});

describe('sharedPlexClientId', () => {
  it('gives processes starting at once the one id the first stored', async () => {
    const key = keys(uniquePrefix('cid')).plexClientId;
    const conns = Array.from({ length: 6 }, () => testRedis());
    stops.push(() => conns.forEach((c) => c.disconnect()));
    const ids = await Promise.all(conns.map((c) => sharedPlexClientId(c, key, null)));
    expect(new Set(ids).size).toBe(1);
    expect(ids[0]).toMatch(/^stash2plex-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(await conns[0].get(key)).toBe(ids[0]);
    // Later processes (a re-created container) find it too.
    expect(await sharedPlexClientId(conns[1], key, null)).toBe(ids[0]);
  });

  it('uses PLEX_CLIENT_ID when set and stores nothing', async () => {
    const key = keys(uniquePrefix('cid')).plexClientId;
    const redis = testRedis();
    stops.push(() => redis.disconnect());
    expect(await sharedPlexClientId(redis, key, 'my-own-id')).toBe('my-own-id');
    expect(await redis.exists(key)).toBe(0);
    expect(parseConfig({ PLEX_CLIENT_ID: ' my-own-id ' }, {}).plex.clientId).toBe('my-own-id');
    expect(parseConfig({}, {}).plex.clientId).toBeNull();
    expect(() => parseConfig({ PLEX_CLIENT_ID: 'has space' }, {})).toThrow(/^PLEX_CLIENT_ID: /);
  });

  it('lets a probe go without an id when Redis does not answer', async () => {
    const dead = connectRedis(
      { redis: { url: 'redis://127.0.0.1:1', clusterNodes: null, prefix: 'x' } },
      { lazyConnect: true, retryStrategy: () => null },
    );
    dead.on('error', () => undefined);
    stops.push(() => dead.disconnect());
    expect(await probeClientId(dead, 'x:plex:client-id', null, 300)).toBeNull();
    expect(await probeClientId(dead, 'x:plex:client-id', 'set-id', 300)).toBe('set-id');
  });
});

describe('every process, one device', () => {
  async function rig(env: Record<string, string> = {}): Promise<World> {
    const world = await startWorld({
      scenes: 3,
      prefixName: 'cid',
      env: { SYNC_POSTER: 'false', HEALTH_CLOSED_INTERVAL_MS: '100', DASHBOARD_PORT: '0', ...env },
    });
    stops.push(() => world.stop());
    return world;
  }

  /** Worker and supervisor roles (as two processes would), a dashboard probe and the plugin's Health Check. */
  async function exercise(world: World): Promise<void> {
    const supervisor = await startSupervisorRole(world.config, quiet, { tickMs: 50 });
    stops.push(() => supervisor.stop());
    const worker = await startWorkerRole(world.config, quiet);
    stops.push(() => worker.stop());
    const redis = connectRedis(world.config);
    const queue = createSyncQueue(redis, world.prefix);
    stops.push(async () => {
      await queue.close();
      redis.disconnect();
    });
    for (const sceneId of world.ratingKeyOf.keys())
      await enqueueSync(queue, { sceneId, reason: 'manual', enqueuedAt: Date.now() }, world.config.errorStrategies);
    await waitFor(async () => (await queue.getJobCounts('completed')).completed === world.ratingKeyOf.size, 20_000, 'synced scenes');
    await waitFor(() => world.plex.count({ route: '/identity' }) > 0, 10_000, 'a supervisor probe');

    const dash = await startDashboard(world.config, quiet);
    stops.push(() => dash.stop());
    const probed = await fetch(`${dash.url}/api/health-check`, { method: 'POST', headers: { 'X-Requested-With': 'stash2plex' } });
    expect(await probed.json()).toMatchObject({ ok: true });

    const dir = mkdtempSync(join(tmpdir(), 's2p-cid-'));
    stops.push(() => rmSync(dir, { recursive: true, force: true }));
    const before = world.plex.count({ route: '/identity' });
    await runTask('health_check', {
      input: { server_connection: { Scheme: 'http', Host: '127.0.0.1', Port: 1, PluginDir: dir }, args: { mode: 'health_check' } },
      env: { PLEX_URL: world.env.PLEX_URL, ...(world.env.PLEX_CLIENT_ID ? { PLEX_CLIENT_ID: world.env.PLEX_CLIENT_ID } : {}) },
      dir,
      redis: { url: testRedisUrl(), prefix: world.prefix },
      log: () => undefined,
      progress: () => undefined,
    });
    expect(world.plex.count({ route: '/identity' })).toBeGreaterThan(before);
  }

  it('unset PLEX_CLIENT_ID: all of them send the id stored in Redis, and only it', async () => {
    const world = await rig();
    await exercise(world);
    const redis = testRedis();
    stops.push(() => redis.disconnect());
    const stored = await redis.get(keys(world.prefix).plexClientId);
    expect(stored).toMatch(/^stash2plex-/);
    expect(world.plex.clientIds()).toEqual([stored]);
    expect(world.plex.requests.every((r) => r.clientId === stored)).toBe(true);
  }, 60_000);

  it('PLEX_CLIENT_ID set: all of them send it', async () => {
    const world = await rig({ PLEX_CLIENT_ID: 'stash2plex-configured' });
    await exercise(world);
    expect(world.plex.clientIds()).toEqual(['stash2plex-configured']);
    expect(world.plex.requests.every((r) => r.clientId === 'stash2plex-configured')).toBe(true);
  }, 60_000);
});
