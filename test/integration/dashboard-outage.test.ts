// A real outage end to end, watched through the dashboard: the Plex simulator goes down for ~3 s while
// an in-process supervisor probes it; /api/status must tell the story as it happened.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDashboard, type DashboardHandle } from '../../src/dashboard/server.js';
import { createLogger } from '../../src/core/log.js';
import { connectRedis } from '../../src/core/redis.js';
import type { StatusJson } from '../../src/supervisor/status.js';
import { startSupervisorRole, type SupervisorRole } from '../../src/roles/supervisor.js';
import { createSyncQueue, enqueueSync } from '../../src/sync/queue.js';
import { startWorld, type World } from '../helpers/world.js';
import { waitFor } from '../helpers/wait.js';

const quiet = createLogger({ level: 'silent' });
const PASSWORD = 'outage-dash-pw-5e2a';
const auth = { Authorization: `Basic ${Buffer.from(`admin:${PASSWORD}`).toString('base64')}` };
const JOBS = 7;
const DOWN_MS = 3_000;

let world: World;
let role: SupervisorRole;
let dash: DashboardHandle;
let redis: ReturnType<typeof connectRedis>;

async function status(): Promise<StatusJson> {
  const res = await fetch(`${dash.url}/api/status`, { headers: auth });
  expect(res.status).toBe(200);
  return (await res.json()) as StatusJson;
}
async function until(what: string, check: (s: StatusJson) => boolean, timeoutMs = 10_000): Promise<StatusJson> {
  let last: StatusJson | undefined;
  await waitFor(async () => check((last = await status())), timeoutMs, what, 50);
  return last!;
}

beforeAll(async () => {
  world = await startWorld({
    scenes: JOBS,
    env: {
      BREAKER_FAILURE_THRESHOLD: '2',
      BREAKER_RECOVERY_TIMEOUT_MS: '500',
      HEALTH_CLOSED_INTERVAL_MS: '200',
      HEALTH_INTERVAL_MS: '200',
      HEALTH_MAX_INTERVAL_MS: '400',
      HEALTH_TIMEOUT_MS: '500',
      RAMP_INITIAL_RATE: '1',
      RAMP_TARGET_RATE: '10',
      RAMP_DURATION_MS: '3000',
      // No worker runs here: the trial is starved and probes stand in for its calls (one is enough here).
      BREAKER_TRIAL_CALLS: '1',
      DASHBOARD_PASSWORD: PASSWORD,
      DASHBOARD_PORT: '0',
    },
  });
  redis = connectRedis(world.config);
  role = await startSupervisorRole(world.config, quiet, { tickMs: 50 });
  dash = await startDashboard(world.config, quiet, { supervisor: role.supervisor });
});
afterAll(async () => {
  await dash?.stop();
  await role?.stop();
  const q = createSyncQueue(redis, world.prefix);
  await q.obliterate({ force: true }).catch(() => undefined);
  await q.close();
  redis?.disconnect();
  await world?.stop();
});

describe('an outage seen through /api/status', () => {
  it(
    'shows the breaker open, the paused backlog, then the outage with its real duration and the jobs it held',
    { timeout: 40_000 },
    async () => {
      const before = await until(
        'a first successful probe',
        (s) => s.supervisor.alive && s.health.ok === true && s.breaker.state === 'CLOSED',
      );
      expect(before.outages.current).toBeNull();

      // A backlog with no worker to run it.
      const queue = createSyncQueue(redis, world.prefix);
      for (const sceneId of world.ratingKeyOf.keys())
        await enqueueSync(queue, { sceneId, reason: 'hook', enqueuedAt: Date.now() }, world.config.errorStrategies);
      await queue.close();
      expect((await status()).queues.sync.waiting).toBe(JOBS);

      // The manual probe goes through the in-process supervisor and is recorded.
      const probe = await fetch(`${dash.url}/api/health-check`, { method: 'POST', headers: { ...auth, 'X-Requested-With': 'stash2plex' } });
      const probed = (await probe.json()) as { ok: boolean; at: number };
      expect(probed.ok).toBe(true);
      await until('the manual probe recorded', (s) => (s.health.lastProbeAt ?? 0) >= probed.at);

      const downAt = Date.now();
      await world.plex.setMode('down');
      // The outage record and the pause are written just after the breaker: wait for the whole state.
      const open = await until(
        'the breaker to open, with its outage',
        (s) => s.breaker.state === 'OPEN' && s.outages.current !== null,
        5_000,
      );
      expect(open.queues.sync).toMatchObject({ paused: true, pausedBy: 'supervisor', waiting: JOBS });
      expect(open.outages.current).not.toBeNull();
      expect(open.outages.current).toMatchObject({ endedAt: null, durationMs: null, trigger: 'probe' });
      expect(open.outages.current!.startedAt).toBeGreaterThanOrEqual(downAt - 250);
      expect(open.outages.current!.firstError).toMatch(/ECONNREFUSED|connect/);
      expect(open.health.ok).toBe(false);
      expect(open.breaker.openedAt).toBe(open.breaker.since);

      await new Promise((r) => setTimeout(r, Math.max(0, downAt + DOWN_MS - Date.now())));
      const upAt = Date.now();
      await world.plex.setMode('up');
      const realMs = upAt - downAt;

      const closed = await until(
        'the breaker to close again, the outage closed, the queue resumed',
        (s) => s.breaker.state === 'CLOSED' && s.outages.current === null && !s.queues.sync.paused,
        10_000,
      );
      const outage = closed.outages.recent[0];
      expect(closed.outages.recent).toHaveLength(1);
      expect(outage.endedAt).not.toBeNull();
      expect(outage.durationMs).toBe(outage.endedAt! - outage.startedAt);
      expect(Math.abs(outage.durationMs! - realMs)).toBeLessThan(2_000);
      expect(outage.jobsAffected).toBe(JOBS);
      expect(outage.detectedAt).toBeGreaterThanOrEqual(outage.startedAt);
      expect(closed.outages.metrics.count).toBe(1);
      expect(closed.outages.metrics.mttrMs).toBe(outage.durationMs);
      expect(closed.outages.metrics.availabilityPct).toBeLessThan(100);
      // The recovery ramp runs, and the queue runs again under its limit.
      expect(closed.recovery.active).toBe(true);
      // The outage ended where the trial that closed the breaker began; the ramp started at the close.
      expect(closed.recovery.startedAt).toBeGreaterThanOrEqual(outage.endedAt!);
      expect(closed.recovery.rate).toBeGreaterThanOrEqual(1);
      expect(closed.recovery.rate).toBeLessThanOrEqual(10);
      expect(closed.queues.sync.paused).toBe(false);
      expect(closed.queues.sync.pausedBy).toBeNull();

      const metrics = await (await fetch(`${dash.url}/metrics`, { headers: auth })).text();
      expect(metrics).toContain('stash2plex_outages_total 1');
      expect(metrics).toContain('stash2plex_outage_duration_seconds_count 1');
      expect(metrics).toContain('stash2plex_recovery_active 1');

      // The ramp ends after RAMP_DURATION_MS; the outage records it.
      // (The records are written before the limit is lifted: wait for the whole state, as above.)
      const done = await until(
        'the ramp to finish and its limit lifted',
        (s) => !s.recovery.active && s.outages.recent[0]?.rampEndedAt !== null && s.queues.sync.rateLimit === null,
        8_000,
      );
      expect(done.recovery).toEqual({ active: false, startedAt: null, rate: null, targetRate: 10 });
      expect(done.outages.recent[0].rampEndedAt! - done.outages.recent[0].endedAt!).toBeGreaterThanOrEqual(3_000);
      expect(done.queues.sync.rateLimit).toBeNull();
    },
  );
});
