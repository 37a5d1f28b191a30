// Damaged state never takes a page down (issue 11, point 4): each stored key in turn is corrupted (bad
// content, then the wrong Redis type) and the status page, /api/status, /metrics and the Stash tasks'
// reports still answer, showing whatever is still readable.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/core/config.js';
import { startDashboard, type DashboardHandle } from '../../src/dashboard/server.js';
import { createLogger } from '../../src/core/log.js';
import { connectRedis, keys } from '../../src/core/redis.js';
import { initialBreaker, serializeBreaker } from '../../src/resilience/breaker.js';
import { serializeRamp, startRamp } from '../../src/resilience/ramp.js';
import { runTask, type TaskContext } from '../../src/stash-plugin/tasks.js';
import { checkpointSince } from '../../src/supervisor/reconciler.js';
import type { StatusJson } from '../../src/supervisor/status.js';
import { readString } from '../../src/resilience/tolerant-read.js';
import { createSyncQueue } from '../../src/sync/queue.js';
import { M, outage } from '../helpers/outages.js';
import { testRedisUrl, uniquePrefix } from '../helpers/redis.js';

const quiet = createLogger({ level: 'silent' });
const prefix = uniquePrefix('damaged');
const config = parseConfig({ REDIS_URL: testRedisUrl(), REDIS_PREFIX: prefix, DASHBOARD_PORT: '0' }, { plex: false, stash: false });
const k = keys(prefix);
const redis = connectRedis(config);
const queue = createSyncQueue(redis, prefix);
const dir = mkdtempSync(join(tmpdir(), 's2p-damaged-'));
const now = Date.now();
const good = outage({ id: 'good-outage', startedAt: now - 30 * M, jobsAffected: 7 });
const ongoing = outage({ id: 'ongoing-outage', startedAt: now - 2 * M, endedAt: null });

/** A healthy state of every key, written as the supervisor writes it. */
async function writeValidState() {
  await redis.del(k.breaker, k.ramp, k.outages, k.health, k.reconcileCheckpoint, k.leader, k.pausedBy, k.syncExcluded);
  const open = { ...initialBreaker(now - 2 * M), state: 'OPEN' as const, openedAt: now - M, consecutiveFailures: 5 };
  await redis.hset(k.breaker, { ...serializeBreaker(open), signalCursor: '0-0' });
  await redis.hset(k.ramp, serializeRamp(startRamp(now - M)));
  await redis.set(k.outages, JSON.stringify([ongoing, good]));
  await redis.set(
    k.health,
    JSON.stringify({
      lastProbeAt: now - 1000,
      ok: false,
      latencyMs: null,
      error: 'PlexServerDown: ECONNREFUSED',
      nextProbeAt: now + 5000,
      tokenRejected: false,
      tokenCheckedAt: null,
    }),
  );
  await redis.set(k.reconcileCheckpoint, String(now - 10 * M));
  await redis.set(k.leader, 'sup-host-1234', 'PX', 60_000);
}

type Corruption = [what: string, apply: () => Promise<unknown>];
const CORRUPTIONS: Corruption[] = [
  [
    'breaker: unknown state and times',
    () => redis.hset(k.breaker, { state: 'BOGUS', since: 'yesterday', consecutiveFailures: 'many', openedAt: '{}' }),
  ],
  ['breaker: wrong type', async () => (await redis.del(k.breaker), redis.set(k.breaker, 'OPEN'))],
  ['ramp: unreadable start', () => redis.hset(k.ramp, { startedAt: 'soon', backoff: 'maybe' })],
  ['ramp: wrong type', async () => (await redis.del(k.ramp), redis.rpush(k.ramp, 'x'))],
  [
    'outages: a record with jobsAffected "a"',
    () => redis.set(k.outages, JSON.stringify([ongoing, { ...good, id: 'bad', jobsAffected: 'a' }, good])),
  ],
  [
    'outages: records of wrong shapes',
    () =>
      redis.set(
        k.outages,
        JSON.stringify([null, 5, 'x', { id: 'half', startedAt: now }, { ...good, durationMs: 'long', endedAt: 'later' }, good]),
      ),
  ],
  ['outages: an object, not a list', () => redis.set(k.outages, JSON.stringify({ id: 'x', startedAt: now }))],
  ['outages: not JSON', () => redis.set(k.outages, '[{"id":')],
  ['outages: wrong type', async () => (await redis.del(k.outages), redis.rpush(k.outages, JSON.stringify(good)))],
  [
    'health: fields of wrong types',
    () =>
      redis.set(
        k.health,
        JSON.stringify({
          lastProbeAt: 'x',
          ok: 'yes',
          latencyMs: 'fast',
          error: { a: 1 },
          nextProbeAt: [],
          tokenRejected: 'no',
          tokenCheckedAt: true,
        }),
      ),
  ],
  ['health: a list', () => redis.set(k.health, '[1,2]')],
  ['health: not JSON', () => redis.set(k.health, 'ok')],
  ['health: wrong type', async () => (await redis.del(k.health), redis.hset(k.health, { ok: '1' }))],
  ['checkpoint: not a time', () => redis.set(k.reconcileCheckpoint, 'yesterday')],
  ['checkpoint: wrong type', async () => (await redis.del(k.reconcileCheckpoint), redis.hset(k.reconcileCheckpoint, { at: '1' }))],
  ['leader: an unprintable id', () => redis.set(k.leader, `<script>\u0000${'x'.repeat(5_000)}`, 'PX', 60_000)],
  ['leader: wrong type', async () => (await redis.del(k.leader), redis.hset(k.leader, { id: 'x' }))],
  ['paused-by: wrong type', async () => (await redis.del(k.pausedBy), redis.set(k.pausedBy, 'supervisor'))],
  ['sync-excluded: unreadable records', () => redis.hset(k.syncExcluded, { '12': '{"at":', '<b>': JSON.stringify({ at: 'x', why: 5 }) })],
  ['sync-excluded: wrong type', async () => (await redis.del(k.syncExcluded), redis.set(k.syncExcluded, 'x'))],
];

function taskContext(mode: string): { ctx: TaskContext; lines: string[] } {
  const lines: string[] = [];
  const ctx: TaskContext = {
    input: { server_connection: { Scheme: 'http', Host: '127.0.0.1', Port: 1, PluginDir: dir }, args: { mode } },
    env: {},
    dir,
    redis: { url: testRedisUrl(), prefix },
    log: (level, msg) => lines.push(`${level}: ${msg}`),
    progress: () => undefined,
  };
  return { ctx, lines };
}

let dash: DashboardHandle;
beforeAll(async () => {
  dash = await startDashboard(config, quiet, { redis, queues: [queue] });
});
afterAll(async () => {
  await dash?.stop();
  await queue.obliterate({ force: true }).catch(() => undefined);
  await queue.close();
  await redis.del(k.breaker, k.ramp, k.outages, k.health, k.reconcileCheckpoint, k.leader, k.pausedBy);
  redis.disconnect();
  rmSync(dir, { recursive: true, force: true });
});

describe('damaged state in Redis', () => {
  it.each(CORRUPTIONS)('%s: the status page, /api/status, /metrics and the tasks still render', async (what, corrupt) => {
    await writeValidState();
    await corrupt();
    for (const path of ['/', '/?partial=main', '/api/status', '/metrics']) {
      const res = await fetch(dash.url + path);
      expect(res.status, `${what}: GET ${path} → ${await res.clone().text()}`).toBe(200);
      const body = await res.text();
      expect(body).not.toContain('<script>\u0000');
    }
    const status = (await (await fetch(`${dash.url}/api/status`)).json()) as StatusJson;
    expect(['CLOSED', 'OPEN', 'HALF_OPEN']).toContain(status.breaker.state);
    for (const o of status.outages.recent) expect(typeof o.jobsAffected, what).toBe('number');
    // What was not corrupted still shows.
    if (!what.startsWith('outages'))
      expect(status.outages.recent.map((o: { id: string }) => o.id)).toEqual(['ongoing-outage', 'good-outage']);
    if (what.startsWith('outages: a record') || what.startsWith('outages: records'))
      expect(status.outages.recent.map((o: { id: string }) => o.id)).toContain('good-outage');
    if (!what.startsWith('health')) expect(status.health.error).toBe('PlexServerDown: ECONNREFUSED');
    for (const mode of ['health_check', 'queue_status', 'outage_summary']) {
      const { ctx } = taskContext(mode);
      await expect(runTask(mode as Parameters<typeof runTask>[0], ctx), `${what}: ${mode}`).resolves.toEqual(expect.any(String));
    }
  });

  it('reads an unreadable checkpoint as none, with a warning, so the next checkpoint rewrites it', async () => {
    const read = async (warnings: string[]) =>
      checkpointSince(await readString(redis, k.reconcileCheckpoint, 'reconciliation checkpoint', warnings), warnings);
    for (const [what, corrupt] of CORRUPTIONS.filter(([w]) => w.startsWith('checkpoint'))) {
      await writeValidState();
      await corrupt();
      const warnings: string[] = [];
      expect(await read(warnings), what).toBeNull();
      expect(warnings.join(), what).toMatch(/checkpoint/);
    }
    await writeValidState();
    const warnings: string[] = [];
    expect(await read(warnings)).toBe(now - 10 * M);
    expect(warnings).toEqual([]);
  });
});
