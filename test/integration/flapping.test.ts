// A flapping Plex (issue 25, part 2), on the simulators with a real worker and supervisor: half of Plex's
// writes fail at random (seeded) for 15 s while 60 scenes sync. The breaker must open within 10 s and
// stay open until Plex is well (HALF_OPEN trials allowed, none closing it), then every scene syncs within
// 45 s, with nothing in the failed set. The defaults of the trial rule (BREAKER_TRIAL_CALLS 10,
// BREAKER_TRIAL_ERROR_RATE 0.2) are the ones under test; the other timings are the fast ones.
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/core/log.js';
import { connectRedis, keys } from '../../src/core/redis.js';
import type { BreakerTransition } from '../../src/resilience/breaker.js';
import { startSupervisorRole, type SupervisorRole } from '../../src/roles/supervisor.js';
import { startWorkerRole, type WorkerRole } from '../../src/roles/worker.js';
import { createSyncQueue, enqueueSyncBulk } from '../../src/sync/queue.js';
import { FAST_SUPERVISOR } from '../helpers/fast-supervisor.js';
import { waitFor } from '../helpers/wait.js';
import { startWorld } from '../helpers/world.js';

const quiet = createLogger({ level: 'silent' });
const SCENES = 60;
const FLAPPING_MS = 15_000;

const stops: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const s of stops.splice(0).reverse()) await s().catch(() => undefined);
});

describe('a flapping Plex', () => {
  it(
    'half of its writes failing for 15 s: OPEN within 10 s and until Plex is well, then all 60 synced within 45 s, none failed',
    { timeout: 120_000 },
    async () => {
      const world = await startWorld({
        scenes: SCENES,
        prefixName: 'flap',
        env: { ...FAST_SUPERVISOR, WORKER_CONCURRENCY: '8', RAMP_RESTORE_AFTER_MS: '1000' },
      });
      stops.push(() => world.stop());
      const redis = connectRedis(world.config);
      const queue = createSyncQueue(redis, world.prefix);
      stops.push(async () => {
        await queue.close();
        redis.disconnect();
      });
      const supervisor: SupervisorRole = await startSupervisorRole(world.config, quiet, { tickMs: 100 });
      stops.push(() => supervisor.stop());
      const worker: WorkerRole = await startWorkerRole(world.config, quiet);
      stops.push(() => worker.stop());
      await waitFor(async () => (await redis.hget(keys(world.prefix).breaker, 'state')) === 'CLOSED', 10_000, 'a leader');

      world.plex.setFlakyWrites(0.5, 25);
      await world.plex.setMode('flaky');
      const flakyAt = Date.now();
      const ids = [...world.ratingKeyOf.keys()];
      for (const id of ids) world.stash.updateScene(id, { title: `Flapped ${id}` });
      await enqueueSyncBulk(
        queue,
        ids.map((sceneId) => ({ sceneId, reason: 'hook' as const, enqueuedAt: Date.now() })),
        world.config.errorStrategies,
      );
      // The fault lasts 15 s whatever happens meanwhile: a duration of the scenario, not a wait for a state.
      await new Promise((res) => setTimeout(res, FLAPPING_MS));
      await world.plex.setMode('up');
      const wellAt = Date.now();

      const allSynced = () => ids.every((id) => world.plex.item(world.ratingKeyOf.get(id)!)!.title === `Flapped ${id}`);
      await waitFor(allSynced, 45_000, 'every scene synced within 45 s of Plex being well', 200);
      expect((await queue.getJobCounts('failed')).failed).toBe(0);

      const transitions = (await redis.lrange(keys(world.prefix).transitions, 0, -1))
        .map((t) => JSON.parse(t) as BreakerTransition)
        .reverse();
      const opened = transitions.find((t) => t.from === 'CLOSED' && t.to === 'OPEN');
      expect(opened, JSON.stringify(transitions)).toBeDefined();
      expect(opened!.at - flakyAt).toBeLessThanOrEqual(10_000);
      // Open until Plex is well: trials may run, but none closes the breaker while writes still fail.
      const closedWhileFlapping = transitions.filter((t) => t.to === 'CLOSED' && t.at > opened!.at && t.at < wellAt);
      expect(closedWhileFlapping, JSON.stringify(transitions)).toEqual([]);
      // The writes did fail (the fault was real), and the recovery closed the breaker after Plex was well.
      expect(world.plex.requests.some((r) => r.status === 503)).toBe(true);
      expect(transitions.some((t) => t.to === 'CLOSED' && t.at >= wellAt)).toBe(true);
    },
  );
});
