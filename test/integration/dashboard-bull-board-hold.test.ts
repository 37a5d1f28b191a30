// The supervisor's pause holds against Bull Board, end to end over HTTP: during an outage Bull Board's
// "resume" (its API route PUT /queues/api/queues/:queueName/resume, and resume-all) is refused with the
// reason; a resume behind the supervisor's back (BullMQ's own) is undone within a second, and the jobs it
// let start wait for the trial; "retry all" while paused is taken, but the retried jobs wait for Plex and
// then run under the trial limit and the ramp, never all at once. Real Redis, real worker and supervisor,
// the Plex simulator over HTTP.
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/core/log.js';
import { connectRedis, keys } from '../../src/core/redis.js';
import { startDashboard, type DashboardHandle } from '../../src/dashboard/server.js';
import { breakerGate } from '../../src/resilience/gate.js';
import { startSupervisorRole, type SupervisorRole } from '../../src/roles/supervisor.js';
import { startWorkerRole, type WorkerRole } from '../../src/roles/worker.js';
import { createSyncQueue, enqueueSyncBulk } from '../../src/sync/queue.js';
import { startWorld, type World } from '../helpers/world.js';
import { waitFor } from '../helpers/wait.js';

const quiet = createLogger({ level: 'silent' });
const PASSWORD = 'hold-dash-pw-81c3';
const headers = { Authorization: `Basic ${Buffer.from(`admin:${PASSWORD}`).toString('base64')}`, 'X-Requested-With': 'stash2plex' };
const SCENES = 12;
const TARGET_RATE = 4;

const stops: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const s of stops.splice(0).reverse()) await s().catch(() => undefined);
});

describe('Bull Board against the supervisor’s pause', () => {
  it(
    'resume refused while Plex is down, a BullMQ resume undone within a second, retry-all drained under the ramp',
    { timeout: 90_000 },
    async () => {
      const world: World = await startWorld({
        scenes: SCENES,
        prefixName: 'bbhold',
        env: {
          SYNC_POSTER: 'false',
          WORKER_CONCURRENCY: '8',
          BREAKER_FAILURE_THRESHOLD: '2',
          BREAKER_RECOVERY_TIMEOUT_MS: '500',
          BREAKER_TRIAL_CALLS: '2',
          HEALTH_TIMEOUT_MS: '500',
          HEALTH_INTERVAL_MS: '200',
          HEALTH_MAX_INTERVAL_MS: '400',
          HEALTH_CLOSED_INTERVAL_MS: '300',
          RAMP_INITIAL_RATE: '2',
          RAMP_TARGET_RATE: String(TARGET_RATE),
          RAMP_DURATION_MS: '60000',
          RECONCILE_INTERVAL_MS: '0',
          RECONCILE_AFTER_OUTAGE: 'false',
          // one attempt for Plex being down: with no supervisor yet, the jobs land in the failed set at once
          ERROR_STRATEGIES: JSON.stringify({
            PlexServerDown: { attempts: 1, backoffBaseMs: 0, backoffCapMs: 0, countsTowardBreaker: true, requeueByDefault: true },
          }),
          DASHBOARD_PASSWORD: PASSWORD,
          DASHBOARD_PORT: '0',
        },
      });
      stops.push(() => world.stop());
      const redis = connectRedis(world.config);
      const queue = createSyncQueue(redis, world.prefix);
      stops.push(async () => {
        await queue.close();
        redis.disconnect();
      });
      const put = (path: string) => fetch(`${dash.url}/queues/api/queues${path}`, { method: 'PUT', headers });
      const dash: DashboardHandle = await startDashboard(world.config, quiet);
      stops.push(() => dash.stop());

      // Plex down and no supervisor: every job fails its one attempt into the failed set.
      await world.plex.setMode('down');
      // The workers' view of the supervisor re-read every 100 ms (1 s by default): this whole story takes
      // about a second, and a view cached in the first phase (no supervisor) would outlive it.
      const gate = breakerGate(redis, keys(world.prefix), 100);
      const worker: WorkerRole = await startWorkerRole(world.config, quiet, { holdMs: 200, gate });
      stops.push(() => worker.stop());
      const ids = [...world.ratingKeyOf.keys()];
      for (const id of ids) world.stash.updateScene(id, { title: `Held ${id}` });
      await enqueueSyncBulk(
        queue,
        ids.map((sceneId) => ({ sceneId, reason: 'hook' as const, enqueuedAt: Date.now() })),
        world.config.errorStrategies,
      );
      await waitFor(async () => (await queue.getJobCounts('failed')).failed === SCENES, 20_000, 'every job failed');

      // A supervisor finds Plex down: OPEN, the queue paused for "plex down".
      const role: SupervisorRole = await startSupervisorRole(world.config, quiet, { tickMs: 50 });
      stops.push(() => role.stop());
      await waitFor(async () => (await redis.hget(keys(world.prefix).breaker, 'state')) === 'OPEN', 10_000, 'OPEN');
      await waitFor(() => queue.isPaused(), 5_000, 'paused by the supervisor');

      // Retry all (Bull Board) while paused: taken, the jobs wait.
      const retried = await put('/sync/retry/failed');
      expect(retried.status).toBe(200);
      expect(await retried.json()).toMatchObject({ retried: SCENES });
      expect(await queue.getJobCounts('failed', 'waiting', 'prioritized')).toMatchObject({ failed: 0 });

      // Resume (Bull Board), for the queue and for all: refused, with the reason.
      for (const path of ['/sync/resume', '/resume']) {
        const res = await put(path);
        expect(res.status, path).toBe(409);
        const body = (await res.json()) as { error: string; message: string; reasons: string[] };
        expect(body.reasons).toEqual(['plex down']);
        expect(body.message).toMatch(/paused by the stash2plex supervisor \(plex down\).*resumes by itself once Plex is back.*refused/);
      }
      const pause = await put('/sync/pause');
      expect(pause.status).toBe(409);
      expect(await queue.isPaused()).toBe(true);

      // A resume behind the supervisor's back (BullMQ's own, as a script would): paused again within a second.
      // The jobs it let start wait without touching Plex (the breaker is OPEN): Stash answering slowly, they
      // would otherwise reach Plex only once it is back, all at once, outside the trial and the ramp.
      world.stash.setLatencyMs(300);
      await queue.resume();
      const resumedAt = Date.now();
      await waitFor(() => queue.isPaused(), 1_000, 'paused again by the supervisor');
      expect(Date.now() - resumedAt).toBeLessThan(1_000);
      expect((await queue.getJobCounts('completed')).completed).toBe(0);

      // Plex back: trial, ramp; the retried jobs run no faster than the ramp allows, and all sync.
      await world.plex.setMode('up');
      world.stash.setLatencyMs(0);
      await waitFor(async () => (await queue.getJobCounts('completed')).completed === SCENES, 60_000, 'all retried jobs synced', 200);
      expect((await queue.getJobCounts('failed')).failed).toBe(0);
      for (const id of ids) expect(world.plex.item(world.ratingKeyOf.get(id)!)!.title).toBe(`Held ${id}`);
      const starts = (await queue.getCompleted(0, -1)).map((j) => j.processedOn!).sort((a, b) => a - b);
      // Under the ramp at most TARGET_RATE starts a second (plus one of burst at a window's edge); released
      // at once, 8 workers would have started 8 within milliseconds.
      const busiest = Math.max(...starts.map((t) => starts.filter((u) => u >= t && u < t + 1_000).length));
      expect(busiest).toBeLessThanOrEqual(TARGET_RATE + 1);

      // Not held any more: Bull Board's pause and resume are the operator's, and work.
      expect((await put('/sync/pause')).status).toBe(200);
      expect(await queue.isPaused()).toBe(true);
      expect((await put('/sync/resume')).status).toBe(200);
      expect(await queue.isPaused()).toBe(false);
    },
  );
});
