// A Stash that rejects the API key, or does not answer, with real workers, a real supervisor, a real Redis
// and the Stash simulator over HTTP: the queue is held with its reason, no job spends its attempts or
// fails, and all is synced once Stash accepts the key or answers again (issue 23, section 2).
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig, type Config } from '../../src/core/config.js';
import { createLogger } from '../../src/core/log.js';
import { connectRedis, keys } from '../../src/core/redis.js';
import { startSupervisorRole, type SupervisorRole } from '../../src/roles/supervisor.js';
import { startWorkerRole, type WorkerRole } from '../../src/roles/worker.js';
import { buildStatus } from '../../src/supervisor/status.js';
import { createSyncQueue, enqueueSync } from '../../src/sync/queue.js';
import { waitFor } from '../helpers/wait.js';
import { STASH_KEY, startWorld, type World } from '../helpers/world.js';

const quiet = createLogger({ level: 'silent' });
const FAST = {
  SYNC_POSTER: 'false',
  RECONCILE_AFTER_OUTAGE: 'false',
  RECONCILE_INTERVAL_MS: '0',
  HEALTH_TIMEOUT_MS: '500',
  HEALTH_INTERVAL_MS: '200',
  HEALTH_MAX_INTERVAL_MS: '800',
  HEALTH_CLOSED_INTERVAL_MS: '300',
  HEALTH_TOKEN_RECHECK_MS: '300',
  WORKER_CONCURRENCY: '2',
};

interface Rig {
  world: World;
  config: Config;
  redis: ReturnType<typeof connectRedis>;
  queue: ReturnType<typeof createSyncQueue>;
  roles: (WorkerRole | SupervisorRole)[];
}
const rigs: Rig[] = [];
afterEach(async () => {
  for (const r of rigs.splice(0)) {
    for (const role of r.roles.reverse()) await role.stop();
    await r.queue.close();
    r.redis.disconnect();
    await r.world.stop();
  }
});

async function rig(scenes: number): Promise<Rig> {
  const world = await startWorld({ scenes, prefixName: 'stashfault', env: FAST });
  const config = parseConfig(world.env);
  const redis = connectRedis(config);
  const r: Rig = { world, config, redis, queue: createSyncQueue(redis, world.prefix), roles: [] };
  rigs.push(r);
  r.roles.push(await startSupervisorRole(config, quiet, { tickMs: 100 }));
  r.roles.push(await startWorkerRole(config, quiet, { holdMs: 300 }));
  return r;
}
const status = (r: Rig) =>
  buildStatus({ redis: r.redis, keys: keys(r.world.prefix), queues: [r.queue], config: r.config, now: Date.now() });
const counts = (r: Rig) => r.queue.getJobCounts('completed', 'failed');
async function enqueueAll(r: Rig) {
  for (const id of r.world.ratingKeyOf.keys()) {
    r.world.stash.updateScene(id, { title: `Edited ${id}` });
    await enqueueSync(r.queue, { sceneId: id, reason: 'hook', enqueuedAt: Date.now() }, r.config.errorStrategies);
  }
}
const allSynced = (r: Rig) => [...r.world.ratingKeyOf].every(([id, rk]) => r.world.plex.item(rk)!.title === `Edited ${id}`);

describe('Stash faults hold the work', () => {
  it('a rejected STASH_API_KEY pauses the queue as "stash key rejected"; fixed, everything syncs and nothing failed', async () => {
    const r = await rig(20);
    await waitFor(async () => (await status(r)).health.stash.keyAccepted === true, 10_000, 'Stash checked and the key accepted');
    r.world.stash.setApiKey('a-regenerated-key'); // ours is now the wrong one
    await enqueueAll(r);
    // The pause comes first and the verdict is stored just after it (src/supervisor/stash-checker.ts): wait for both.
    await waitFor(async () => (await status(r)).queues.sync?.pauseReasons.includes('stash key rejected') === true, 10_000, 'held');
    const held = await status(r);
    expect(held.queues.sync).toMatchObject({ paused: true, pausedBy: 'supervisor', pauseReasons: ['stash key rejected'] });
    expect(held.health.stash).toMatchObject({ checked: true, reachable: true, keyAccepted: false });
    expect(held.health.stash.lastError).toMatch(/rejected the API key \(STASH_API_KEY\)/);
    expect(held.breaker.state).toBe('CLOSED'); // Plex is fine: not a Plex outage
    // Held jobs meet the rejection again while the supervisor re-checks every HEALTH_TOKEN_RECHECK_MS.
    await waitFor(() => r.world.stash.requests.filter((q) => q.status === 401).length >= 5, 10_000, 'checks met 401s');
    expect((await counts(r)).failed).toBe(0);
    r.world.stash.setApiKey(STASH_KEY);
    await waitFor(async () => (await counts(r)).completed === 20, 30_000, 'all 20 synced');
    expect((await counts(r)).failed).toBe(0);
    expect(allSynced(r)).toBe(true);
    const after = await status(r);
    expect(after.queues.sync).toMatchObject({ paused: false, pauseReasons: [] });
    expect(after.health.stash).toMatchObject({ keyAccepted: true, lastError: null });
    const jobs = await r.queue.getCompleted(0, 100);
    expect(jobs.every((j) => j.attemptsMade <= 1)).toBe(true);
  });

  it('Stash not answering is an outage of Stash: paused as "stash down", nothing fails, all synced when it is back', async () => {
    const r = await rig(10);
    await waitFor(async () => (await status(r)).health.stash.reachable === true, 10_000, 'Stash checked');
    await r.world.stash.setMode('down');
    await enqueueAll(r);
    await waitFor(async () => (await status(r)).queues.sync?.pauseReasons.includes('stash down') === true, 10_000, 'held as stash down');
    expect((await status(r)).health.stash).toMatchObject({ reachable: false, keyAccepted: null });
    expect((await status(r)).health.stash.lastError).toMatch(/Stash unreachable at http:\/\/127\.0\.0\.1:\d+ \(STASH_URL\)/);
    await new Promise((resolve) => setTimeout(resolve, 1_500)); // a while down: held jobs would have spent their attempts
    expect((await counts(r)).failed).toBe(0);
    await r.world.stash.setMode('up');
    await waitFor(async () => (await counts(r)).completed === 10, 30_000, 'all 10 synced');
    expect((await counts(r)).failed).toBe(0);
    expect(allSynced(r)).toBe(true);
  });
});
