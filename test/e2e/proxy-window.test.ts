// A reverse proxy in front of Plex answering 404 for every path while Plex restarts, with a real worker and
// a real supervisor: every title a person set in Plex survives (PRESERVE_PLEX_EDITS=true), nothing fails,
// and the Stash changes made meanwhile all arrive once Plex is back.
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/core/config.js';
import { connectRedis, keys, ownershipKey } from '../../src/core/redis.js';
import { createSyncQueue, enqueueSyncBulk } from '../../src/sync/queue.js';
import { FAST_SUPERVISOR } from '../helpers/fast-supervisor.js';
import { startProcess } from '../helpers/proc.js';
import { waitFor } from '../helpers/wait.js';
import { startWorld } from '../helpers/world.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const ENV = {
  ...FAST_SUPERVISOR,
  PRESERVE_PLEX_EDITS: 'true',
  WORKER_CONCURRENCY: '4',
  RAMP_INITIAL_RATE: '10',
  RAMP_TARGET_RATE: '50',
  RAMP_DURATION_MS: '2000',
  // Today's code failed these jobs as PlexNotFound: a short backoff keeps such a run short too.
  ERROR_STRATEGIES: JSON.stringify({
    PlexNotFound: { attempts: 12, backoffBaseMs: 300, backoffCapMs: 2000, countsTowardBreaker: false, requeueByDefault: false },
  }),
};
const WINDOW_MS = 6_000;

describe('a proxy answering 404 for every path while Plex is away', () => {
  it('PRESERVE_PLEX_EDITS=true: all 20 titles a person set in Plex survive; the changes made meanwhile arrive; nothing fails', async () => {
    const world = await startWorld({ scenes: 20, prefixName: 'proxy', env: ENV });
    cleanups.push(() => world.stop());
    const config = parseConfig(world.env);
    const redis = connectRedis(config);
    const queue = createSyncQueue(redis, world.prefix);
    cleanups.push(async () => {
      await queue.close();
      redis.disconnect();
    });
    for (const script of ['worker', 'supervisor']) {
      const p = startProcess(`dist/workers/${script}.js`, world.env);
      cleanups.push(() => p.stop('SIGKILL'));
    }
    const ids = [...world.ratingKeyOf.keys()];
    const enqueue = () =>
      enqueueSyncBulk(
        queue,
        ids.map((sceneId) => ({ sceneId, reason: 'hook' as const, enqueuedAt: Date.now() })),
        config.errorStrategies,
      );
    const item = (id: string) => world.plex.item(world.ratingKeyOf.get(id)!)!;
    await enqueue();
    await waitFor(() => ids.every((id) => item(id).locked.includes('title')), 30_000, 'first sync of all 20', 200);
    const idle = async () => Object.values(await queue.getJobCounts('active', 'waiting', 'delayed')).every((n) => n === 0);
    await waitFor(idle, 10_000, 'queue idle');

    // A person renames every item in Plex (Plex Web locks what it edits).
    for (const id of ids)
      world.plex.seedItem(world.ratingKeyOf.get(id)!, { edit: new URLSearchParams({ 'title.value': `Mine ${id}`, 'title.locked': '1' }) });
    // Plex restarts behind a proxy; meanwhile every scene's details change in Stash and the hooks fire.
    await world.plex.setMode('proxy404');
    const windowStart = Date.now();
    for (const id of ids) world.stash.updateScene(id, { details: `Changed while away ${id}` });
    await enqueue();
    const breaker = () => redis.hget(keys(world.prefix).breaker, 'state');
    await waitFor(async () => (await breaker()) === 'OPEN', 20_000, 'the breaker opens on the proxy answers', 100);
    await waitFor(() => Date.now() - windowStart >= WINDOW_MS, WINDOW_MS + 1_000, 'the window lasts its 6 s', 100);
    await world.plex.setMode('up');

    await waitFor(() => ids.every((id) => item(id).summary === `Changed while away ${id}`), 60_000, 'every change arrives', 250);
    expect(ids.filter((id) => item(id).title !== `Mine ${id}`)).toEqual([]);
    expect((await queue.getJobCounts('failed')).failed).toBe(0);
    for (const id of ids) expect(await redis.hexists(ownershipKey(keys(world.prefix), world.ratingKeyOf.get(id)!), 'summary')).toBe(1);
  }, 120_000);
});
