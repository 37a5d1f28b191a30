// The supervisor on a real Redis with the Plex simulator over real HTTP and real workers.
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig, type Config } from '../../src/core/config.js';
import { createLogger } from '../../src/core/log.js';
import { connectRedis, keys } from '../../src/core/redis.js';
import { allowedRate, startRamp } from '../../src/resilience/ramp.js';
import { readSignals } from '../../src/resilience/signals.js';
import { parseOutages } from '../../src/resilience/store.js';
import { parseHealth } from '../../src/resilience/health-record.js';
import { startSupervisorRole, type SupervisorRole } from '../../src/roles/supervisor.js';
import { buildStatus } from '../../src/supervisor/status.js';
import { createSyncQueue, enqueueSync } from '../../src/sync/queue.js';
import { startWorkerRole, type WorkerRole } from '../../src/roles/worker.js';
import { ROUTES } from '../../src/sim/plex.js';
import { rampUsage } from '../../bench/lib.js';
import { outage } from '../helpers/outages.js';
import { waitFor } from '../helpers/wait.js';
import { startWorld, type World } from '../helpers/world.js';

/** The text fields only: no image is read or uploaded (the images have tests of their own: images.test.ts). */
const TEXT_FIELDS = 'title,summary,studio,date,genres,actors,rating';

const quiet = createLogger({ level: 'silent' });

const FAST = {
  SYNC_POSTER: 'false',
  SYNC_FIELDS: TEXT_FIELDS,
  // Reconciliation would add jobs of its own (tested in reconcile.test.ts); these tests count jobs.
  RECONCILE_AFTER_OUTAGE: 'false',
  RECONCILE_INTERVAL_MS: '0',
  BREAKER_FAILURE_THRESHOLD: '3',
  BREAKER_RECOVERY_TIMEOUT_MS: '500',
  HEALTH_TIMEOUT_MS: '500',
  HEALTH_INTERVAL_MS: '200',
  HEALTH_MAX_INTERVAL_MS: '800',
  HEALTH_CLOSED_INTERVAL_MS: '300',
  RAMP_INITIAL_RATE: '2',
  RAMP_TARGET_RATE: '8',
  RAMP_DURATION_MS: '4000',
  ERROR_STRATEGIES: JSON.stringify({
    PlexServerDown: { attempts: 5, backoffBaseMs: 100, backoffCapMs: 200, countsTowardBreaker: true, requeueByDefault: true },
    PlexTemporaryError: { attempts: 5, backoffBaseMs: 100, backoffCapMs: 200, countsTowardBreaker: true, requeueByDefault: false },
  }),
};

interface Rig {
  world: World;
  config: Config;
  redis: ReturnType<typeof connectRedis>;
  queue: ReturnType<typeof createSyncQueue>;
  workers: WorkerRole[];
  supervisors: SupervisorRole[];
}
const rigs: Rig[] = [];

async function rig(scenes: number, env: Record<string, string> = {}): Promise<Rig> {
  const world = await startWorld({ scenes, prefixName: 'sup', env: { ...FAST, ...env } });
  const config = parseConfig(world.env);
  const redis = connectRedis(config);
  const r: Rig = { world, config, redis, queue: createSyncQueue(redis, world.prefix), workers: [], supervisors: [] };
  rigs.push(r);
  return r;
}
afterEach(async () => {
  for (const r of rigs.splice(0)) {
    await Promise.all(r.supervisors.map((s) => s.stop()));
    await Promise.all(r.workers.map((w) => w.stop()));
    await r.queue.close();
    r.redis.disconnect();
    await r.world.stop();
  }
});

async function enqueueAll(r: Rig, ids = [...r.world.ratingKeyOf.keys()]) {
  for (const id of ids) {
    r.world.stash.updateScene(id, { title: `Edited ${id} ${Date.now()}` });
    await enqueueSync(r.queue, { sceneId: id, reason: 'hook', enqueuedAt: Date.now() }, r.config.errorStrategies);
  }
}
const breakerState = (r: Rig) => r.redis.hget(keys(r.world.prefix).breaker, 'state');
const status = (r: Rig) =>
  buildStatus({ redis: r.redis, keys: keys(r.world.prefix), queues: [r.queue], config: r.config, now: Date.now() });
const counts = (r: Rig) => r.queue.getJobCounts('completed', 'failed', 'waiting', 'prioritized', 'delayed', 'active');

describe('supervisor', () => {
  it('pauses on an outage while jobs flow: no job spends an attempt or fails; recovers by itself', async () => {
    const r = await rig(40, { WORKER_CONCURRENCY: '2' });
    r.supervisors.push(await startSupervisorRole(r.config, quiet, { tickMs: 100 }));
    r.workers.push(await startWorkerRole(r.config, quiet, { holdMs: 300 }));
    r.world.plex.setLatencyMs(30);
    await enqueueAll(r);
    await waitFor(async () => (await counts(r)).completed >= 5, 10_000, 'some jobs done');
    await r.world.plex.setMode('down');
    await waitFor(async () => (await breakerState(r)) === 'OPEN', 10_000, 'breaker OPEN');
    expect(await r.queue.isPaused()).toBe(true);
    expect(await r.redis.hget(keys(r.world.prefix).pausedBy, 'sync')).toBe('supervisor');
    await new Promise((res) => setTimeout(res, 1_000));
    await r.world.plex.setMode('up');
    await waitFor(async () => (await counts(r)).completed === 40, 30_000, 'all 40 synced');
    expect(await r.queue.isPaused()).toBe(false);
    expect((await counts(r)).failed).toBe(0);
    const jobs = await r.queue.getCompleted(0, 100);
    expect(jobs.every((j) => j.attemptsMade <= 1)).toBe(true);
    expect(await breakerState(r)).toBe('CLOSED');
  });

  it('catches an idle outage with probes alone, and never treats a rejected token as an outage', async () => {
    const r = await rig(0);
    r.supervisors.push(await startSupervisorRole(r.config, quiet, { tickMs: 100 }));
    await r.world.plex.setMode('down');
    await waitFor(async () => (await breakerState(r)) === 'OPEN', 5_000, 'breaker OPEN from probes');
    const outages = parseOutages(await r.redis.get(keys(r.world.prefix).outages), []);
    expect(outages[0]).toMatchObject({ trigger: 'probe', endedAt: null });
    await r.world.plex.setMode('401');
    await waitFor(async () => (await breakerState(r)) === 'CLOSED', 10_000, 'closed again: /identity needs no token');
    await waitFor(async () => parseHealth(await r.redis.get(keys(r.world.prefix).health), []).tokenRejected, 5_000, 'token rejected shown');
  });

  it('drains the backlog along the ramp: per-second edits never exceed the schedule by more than one', async () => {
    const r = await rig(60, { WORKER_CONCURRENCY: '8' });
    r.supervisors.push(await startSupervisorRole(r.config, quiet, { tickMs: 100 }));
    await r.world.plex.setMode('down');
    await waitFor(async () => (await breakerState(r)) === 'OPEN', 5_000, 'OPEN');
    await enqueueAll(r);
    r.workers.push(await startWorkerRole(r.config, quiet, { holdMs: 300 }));
    await r.world.plex.setMode('up');
    // Breaker and ramp are written in one step: the first atomic read that sees CLOSED sees its ramp.
    const k = keys(r.world.prefix);
    let rampStart = NaN;
    await waitFor(
      async () => {
        const [[, state], [, startedAt]] = (await r.redis.multi().hget(k.breaker, 'state').hget(k.ramp, 'startedAt').exec()) as [
          unknown,
          string | null,
        ][];
        rampStart = Number(startedAt);
        return state === 'CLOSED';
      },
      10_000,
      'CLOSED',
      1,
    );
    expect(rampStart, 'ramp startedAt when CLOSED was first read').toBeGreaterThan(0);
    await waitFor(async () => (await counts(r)).completed === 60, 40_000, 'backlog drained');
    const edits = r.world.plex.requests.filter((q) => q.method === 'PUT' && q.route === ROUTES.sectionAll && q.at >= rampStart);
    const { perSecond } = rampUsage(
      edits.map((e) => e.at),
      rampStart,
      r.config.ramp,
    );
    for (const [second, n] of perSecond) {
      if ((second + 1) * 1000 > r.config.ramp.durationMs) continue; // after the ramp: no limit
      const allowed = allowedRate(startRamp(0), r.config.ramp, (second + 1) * 1000);
      expect(n, `second ${second}`).toBeLessThanOrEqual(Math.ceil(allowed) + 1);
    }
    expect(edits.length).toBeGreaterThan(20);
  });

  it('judges the ramp by its own outcomes: after a 10 s outage closed 3 s after opening, a clean drain never backs off', async () => {
    // Jobs fail against the dead Plex and open the breaker; Plex is back 10 s later, well inside the
    // 60 s error window. Those failures belong to the outage, not to the ramp.
    const r = await rig(120, {
      WORKER_CONCURRENCY: '8',
      BREAKER_RECOVERY_TIMEOUT_MS: '3000',
      RAMP_INITIAL_RATE: '4',
      RAMP_TARGET_RATE: '6',
      RAMP_DURATION_MS: '15000',
      RAMP_ERROR_WINDOW_MS: '60000',
      RAMP_ERROR_THRESHOLD: '0.3',
    });
    const k = keys(r.world.prefix);
    r.supervisors.push(await startSupervisorRole(r.config, quiet, { tickMs: 100 }));
    await r.world.plex.setMode('down');
    const downAt = Date.now();
    // Two workers, as deployments often run: a rate-limited worker wakes late on a busy machine.
    r.workers.push(await startWorkerRole(r.config, quiet, { holdMs: 300 }), await startWorkerRole(r.config, quiet, { holdMs: 300 }));
    await enqueueAll(r);
    await waitFor(async () => (await breakerState(r)) === 'OPEN', 10_000, 'OPEN');
    const failures = (await readSignals(r.redis, k.signals, '0-0', 10_000)).filter((s) => s.outcome !== 'ok');
    expect(failures.length, 'jobs failed during the outage').toBeGreaterThanOrEqual(3);
    await new Promise((res) => setTimeout(res, Math.max(0, downAt + 10_000 - Date.now()))); // the outage lasts 10 s
    await r.world.plex.setMode('up');

    await waitFor(async () => (await r.redis.hget(k.ramp, 'startedAt')) !== null, 15_000, 'the ramp');
    const rampStart = Number(await r.redis.hget(k.ramp, 'startedAt'));
    let backedOff = false;
    await waitFor(
      async () => {
        if ((await r.redis.hget(k.ramp, 'backoff')) === '1') backedOff = true;
        return (await counts(r)).completed === 120;
      },
      60_000,
      'backlog drained',
      100, // a backoff lasts seconds; polling lightly keeps the rig's own load low
    );
    expect(backedOff, 'the ramp halved itself').toBe(false);
    const edits = r.world.plex.requests.filter((q) => q.method === 'PUT' && q.route === ROUTES.sectionAll).map((q) => q.at);
    const usage = rampUsage(edits, rampStart, r.config.ramp);
    expect(usage.seconds).toBeGreaterThanOrEqual(13); // the backlog outlasted (nearly) the whole ramp
    expect(usage.utilisation).toBeGreaterThanOrEqual(0.9);
  }, 90_000);

  it('survives a flapping Plex (down and up every 2 s) and syncs every job', async () => {
    const r = await rig(30, { WORKER_CONCURRENCY: '2', RAMP_DURATION_MS: '1000' });
    r.supervisors.push(await startSupervisorRole(r.config, quiet, { tickMs: 100 }));
    r.workers.push(await startWorkerRole(r.config, quiet, { holdMs: 300 }));
    r.world.plex.setLatencyMs(100);
    await enqueueAll(r);
    const until = Date.now() + 14_000;
    let down = false;
    while (Date.now() < until) {
      down = !down;
      await r.world.plex.setMode(down ? 'down' : 'up');
      await new Promise((res) => setTimeout(res, 2_000));
    }
    await r.world.plex.setMode('up');
    r.world.plex.setLatencyMs(0);
    await waitFor(async () => (await counts(r)).completed === 30, 40_000, 'all synced after flapping');
    expect((await counts(r)).failed).toBe(0);
  }, 90_000);

  it('keeps its state across restarts in every state, and survives garbage in Redis', async () => {
    const r = await rig(0, { BREAKER_RECOVERY_TIMEOUT_MS: '60000' });
    const k = keys(r.world.prefix);
    let sup = await startSupervisorRole(r.config, quiet, { tickMs: 100 });
    await r.world.plex.setMode('down');
    await waitFor(async () => (await breakerState(r)) === 'OPEN', 5_000, 'OPEN');
    await sup.stop();
    await r.world.plex.setMode('up');
    const restartedAt = Date.now();
    sup = await startSupervisorRole(r.config, quiet, { tickMs: 100 });
    const health = async () => JSON.parse((await r.redis.get(k.health)) ?? '{}') as { lastProbeAt?: number; ok?: boolean };
    await waitFor(
      async () => ((await health()).lastProbeAt ?? 0) >= restartedAt && (await health()).ok === true,
      5_000,
      'the new leader probed Plex up',
    );
    expect(await breakerState(r)).toBe('OPEN'); // recovery timeout of 60 s still runs
    expect(await r.queue.isPaused()).toBe(true);
    await sup.stop();

    // A ramp in progress continues from its stored start.
    await r.redis.hset(k.breaker, 'state', 'CLOSED', 'since', String(Date.now()));
    const startedAt = Date.now() - 1_000;
    await r.redis.hset(k.ramp, 'startedAt', String(startedAt), 'backoff', '0', 'backoffSince', '');
    sup = await startSupervisorRole(r.config, quiet, { tickMs: 100 });
    await waitFor(async () => (await r.queue.getGlobalRateLimit()) !== null, 5_000, 'ramp limit applied');
    expect(Number(await r.redis.hget(k.ramp, 'startedAt'))).toBe(startedAt);
    await sup.stop();

    // HALF_OPEN is kept too: one failure of the trial reopens at once (CLOSED would need 3 in a row).
    await r.redis.del(k.ramp);
    await r.redis.hset(k.breaker, 'state', 'HALF_OPEN', 'since', String(Date.now()), 'openedAt', String(Date.now() - 1_000));
    await r.world.plex.setMode('down');
    sup = await startSupervisorRole(r.config, quiet, { tickMs: 100 });
    await waitFor(async () => (await breakerState(r)) === 'OPEN', 5_000, 'HALF_OPEN reopened by one failed probe');
    const transitions = (await r.redis.lrange(k.transitions, 0, 0)).map((t) => JSON.parse(t) as unknown);
    expect(transitions[0]).toMatchObject({ from: 'HALF_OPEN', to: 'OPEN' });
    await sup.stop();
    await r.world.plex.setMode('up');

    // Garbage: an unreadable breaker, a ramp in the future, a lease held forever by a dead id.
    await r.redis.del(k.breaker, k.ramp);
    await r.redis.hset(k.breaker, 'state', 'EXPLODED', 'since', 'yesterday');
    await r.redis.hset(k.ramp, 'startedAt', String(Date.now() + 3_600_000));
    await r.redis.set(k.leader, 'dead-supervisor');
    sup = await startSupervisorRole(r.config, quiet, { tickMs: 100 });
    r.supervisors.push(sup);
    await waitFor(async () => (await r.redis.get(k.leader)) === sup.supervisor.id, 5_000, 'lease taken over');
    expect(await breakerState(r)).toBe('CLOSED');
    expect(Number(await r.redis.hget(k.ramp, 'startedAt'))).toBeLessThanOrEqual(Date.now());
  });

  it('a new leader closes the outage a predecessor killed between the two writes left open under a CLOSED breaker', async () => {
    const r = await rig(0);
    const k = keys(r.world.prefix);
    const now = Date.now();
    await r.redis.hset(k.breaker, 'state', 'CLOSED', 'since', String(now - 1_000), 'recoveries', '1');
    await r.redis.set(k.outages, JSON.stringify([outage({ startedAt: now - 10_000, endedAt: null })]));
    r.supervisors.push(await startSupervisorRole(r.config, quiet, { tickMs: 100 }));
    await waitFor(async () => parseOutages(await r.redis.get(k.outages), [])[0]?.endedAt !== null, 5_000, 'the outage closed');
    expect(await breakerState(r)).toBe('CLOSED');
  });

  it('hands over to a standby within the lease TTL when the leader stops renewing', async () => {
    const r = await rig(0);
    const a = await startSupervisorRole(r.config, quiet, { tickMs: 100, leaseTtlMs: 1_500, id: 'sup-a' });
    const b = await startSupervisorRole(r.config, quiet, { tickMs: 100, leaseTtlMs: 1_500, id: 'sup-b' });
    r.supervisors.push(b);
    const k = keys(r.world.prefix);
    await waitFor(async () => (await r.redis.get(k.leader)) !== null, 3_000, 'a leader');
    const first = await r.redis.get(k.leader);
    expect([a.supervisor.isLeader, b.supervisor.isLeader].filter(Boolean)).toHaveLength(1);
    await r.world.plex.setMode('down');
    await waitFor(async () => (await breakerState(r)) === 'OPEN', 5_000, 'OPEN');
    // The leader vanishes without releasing (as with kill -9): stop its loop, keep the lease key.
    const leader = first === 'sup-a' ? a : b;
    const standby = leader === a ? b : a;
    await leader.supervisor.stop().catch(() => undefined);
    await r.redis.set(k.leader, first!, 'PX', 1_500);
    const t0 = Date.now();
    await waitFor(() => standby.supervisor.isLeader, 5_000, 'standby leads');
    // The lease expires after its TTL; the standby looks every TTL/3. Generous: a busy machine delays timers.
    expect(Date.now() - t0).toBeLessThanOrEqual(1_500 + 3_000);
    expect(await breakerState(r)).toBe('OPEN');
    expect(await r.queue.isPaused()).toBe(true);
    if (leader === a) r.supervisors.push(a);
  });

  it('holds the work while Plex rejects the token: paused as "token rejected", no job fails, all synced when it works again', async () => {
    const r = await rig(30, { WORKER_CONCURRENCY: '2', HEALTH_TOKEN_RECHECK_MS: '300' });
    r.supervisors.push(await startSupervisorRole(r.config, quiet, { tickMs: 100 }));
    r.workers.push(await startWorkerRole(r.config, quiet, { holdMs: 300 }));
    r.world.plex.setLatencyMs(30);
    await enqueueAll(r);
    await waitFor(async () => (await counts(r)).completed >= 3, 10_000, 'some jobs done');
    await r.world.plex.setMode('401');
    await waitFor(() => r.queue.isPaused(), 10_000, 'queue paused');
    await waitFor(async () => (await status(r)).health.tokenRejected, 5_000, 'token rejected shown');
    expect((await counts(r)).failed).toBe(0);
    const held = await status(r);
    expect(held.queues.sync).toMatchObject({ paused: true, pausedBy: 'supervisor', pauseReasons: ['token rejected'] });
    expect(held.health.tokenRejected).toBe(true);
    expect(held.breaker.state).toBe('CLOSED'); // not an outage
    // Six seconds of 401s in the issue; here enough for held jobs to meet the rejection again.
    await waitFor(() => r.world.plex.count({ status: 401 }) >= 10, 10_000, 'jobs and checks met 401s');
    await r.world.plex.setMode('up');
    await waitFor(async () => (await counts(r)).completed === 30, 30_000, 'all 30 synced');
    expect((await counts(r)).failed).toBe(0);
    const after = await status(r);
    expect(after.queues.sync).toMatchObject({ paused: false, pausedBy: null, pauseReasons: [] });
    expect(after.health.tokenRejected).toBe(false);
    const jobs = await r.queue.getCompleted(0, 100);
    expect(jobs.every((j) => j.attemptsMade <= 1)).toBe(true);
  });

  it('a 401 about one item while the token works elsewhere fails that job for good, once the token check says so', async () => {
    const r = await rig(5, { WORKER_CONCURRENCY: '2', HEALTH_TOKEN_RECHECK_MS: '300' });
    const [deniedScene, deniedKey] = [...r.world.ratingKeyOf][2];
    r.world.plex.denyItems([deniedKey]);
    r.supervisors.push(await startSupervisorRole(r.config, quiet, { tickMs: 100 }));
    r.workers.push(await startWorkerRole(r.config, quiet, { holdMs: 200 }));
    await enqueueAll(r);
    // Generous: the job fails once a token check lands between two of its 401s (each held 200 ms, checks
    // at most every 300 ms); a busy machine stretches both.
    await waitFor(async () => (await counts(r)).completed === 4 && (await counts(r)).failed === 1, 30_000, '4 synced, 1 failed');
    const [failed] = await r.queue.getFailed(0, 10);
    expect(failed.data.sceneId).toBe(deniedScene);
    expect(failed.failedReason).toMatch(/^PlexAuthError: /);
    expect(failed.attemptsMade).toBe(1);
    // Judged by the supervisor: a token check that Plex accepted came between the item's first 401 and the failure.
    const first401 = r.world.plex.requests.find((q) => q.status === 401)!.at;
    const checks = r.world.plex.requests.filter((q) => q.route === ROUTES.sections && q.status === 200 && q.at > first401);
    expect(checks.some((q) => q.at < failed.finishedOn!)).toBe(true);
    const s = await status(r);
    expect(s.health.tokenRejected).toBe(false);
    expect(s.queues.sync).toMatchObject({ paused: false, pauseReasons: [] });
  }, 60_000);

  it("with Plex also down the queue waits for both reasons; an operator's pause outlasts a token rejection", async () => {
    const r = await rig(2, { HEALTH_TOKEN_RECHECK_MS: '300' });
    const [first, second] = [...r.world.ratingKeyOf.keys()];
    r.supervisors.push(await startSupervisorRole(r.config, quiet, { tickMs: 100 }));
    r.workers.push(await startWorkerRole(r.config, quiet, { holdMs: 200 }));
    await waitFor(async () => (await status(r)).health.tokenCheckedAt !== null, 5_000, 'first token check');
    await r.world.plex.setMode('401');
    await enqueueAll(r, [first]); // its 401 makes the supervisor check the token
    await waitFor(() => r.queue.isPaused(), 10_000, 'queue paused');
    await waitFor(async () => (await status(r)).queues.sync?.pauseReasons?.includes('token rejected') === true, 5_000, 'token rejected');
    await r.world.plex.setMode('down');
    await waitFor(async () => (await status(r)).queues.sync?.pauseReasons?.length === 2, 10_000, 'plex down and token rejected');
    // Plex answers again but still rejects the token: the breaker closes, the queue stays held.
    await r.world.plex.setMode('401');
    await waitFor(async () => (await breakerState(r)) === 'CLOSED', 10_000, 'Plex back');
    await waitFor(
      async () => (await status(r)).health.tokenCheckedAt! > Number(await r.redis.hget(keys(r.world.prefix).breaker, 'since')),
      5_000,
      'token checked after the recovery',
    );
    expect((await status(r)).queues.sync).toMatchObject({ paused: true, pausedBy: 'supervisor', pauseReasons: ['token rejected'] });
    await r.world.plex.setMode('up');
    await waitFor(async () => (await counts(r)).completed === 1, 10_000, 'resumed once both are clear, job synced');
    expect((await counts(r)).failed).toBe(0);

    // An operator's pause: a new leader finds the token rejected; when it works again the queue stays paused.
    await r.queue.pause();
    await r.supervisors.pop()!.stop();
    await r.world.plex.setMode('401');
    r.supervisors.push(await startSupervisorRole(r.config, quiet, { tickMs: 100 }));
    await waitFor(async () => (await status(r)).health.tokenRejected, 5_000, 'token rejected again');
    expect((await status(r)).queues.sync).toMatchObject({ paused: true, pausedBy: 'operator', pauseReasons: ['token rejected'] });
    await r.world.plex.setMode('up');
    await waitFor(async () => !(await status(r)).health.tokenRejected, 5_000, 'token accepted again');
    await enqueueAll(r, [second]);
    expect((await status(r)).queues.sync).toMatchObject({ paused: true, pausedBy: 'operator', pauseReasons: [] });
    expect((await counts(r)).completed).toBe(1);
  });
});
