// End to end through the built CLI (`node dist/workers/requeue.js`): jobs failed by a real sync worker
// while the Plex simulator was down, an outage window, the requeue, and a worker syncing them to Plex.
import { type Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/core/log.js';
import { connectRedis, keys, type RedisConnection } from '../../src/core/redis.js';
import type { RequeueSummary } from '../../src/dlq/types.js';
import { initialBreaker, serializeBreaker } from '../../src/resilience/breaker.js';
import type { Outage } from '../../src/resilience/outages.js';
import type { SyncJobData } from '../../src/model/inbox-item.js';
import { createSyncQueue, enqueueSync } from '../../src/sync/queue.js';
import { startWorkerRole, type WorkerRole } from '../../src/roles/worker.js';
import { runScript } from '../helpers/proc.js';
import { uniquePrefix } from '../helpers/redis.js';
import { waitFor } from '../helpers/wait.js';
import { startWorld, type World } from '../helpers/world.js';

const CLI = 'dist/workers/requeue.js';
const quiet = createLogger({ level: 'silent' });
// Outage-class failures go to the failed set at once (no supervisor runs, so nothing holds them).
const ONE_ATTEMPT = { attempts: 1, backoffBaseMs: 10, backoffCapMs: 10, countsTowardBreaker: true, requeueByDefault: true };

type Run = Awaited<ReturnType<typeof runScript>>;
const cli = (args: string[], env: Record<string, string>, timeoutMs = 20_000) => runScript(CLI, args, env, timeoutMs);
const json = (r: Run) => {
  const lines = r.stdout.trim().split('\n');
  expect(lines).toHaveLength(1); // --json: only the JSON on stdout
  return JSON.parse(lines[0]) as RequeueSummary;
};

let world: World;
let conn: RedisConnection;
let queue: Queue<SyncJobData>;
const k = () => keys(world.prefix);

async function failedIds(q = queue) {
  return (await q.getFailed(0, -1)).map((j) => j.id!).sort();
}
function outage(id: string, startedAt: number, endedAt: number | null): Outage {
  return {
    id,
    startedAt,
    detectedAt: startedAt,
    endedAt,
    durationMs: endedAt && endedAt - startedAt,
    trigger: 'failures',
    firstError: null,
    jobsAffected: 0,
    rampEndedAt: null,
  };
}

beforeAll(async () => {
  world = await startWorld({
    scenes: 16,
    prefixName: 'rq',
    env: { LOG_LEVEL: 'warn', SYNC_POSTER: 'false', ERROR_STRATEGIES: JSON.stringify({ PlexServerDown: ONE_ATTEMPT }) },
  });
  conn = connectRedis(world.config);
  queue = createSyncQueue(conn, world.prefix);
});
afterAll(async () => {
  await queue.close();
  conn.disconnect();
  await world.stop();
});

describe('npm run requeue', () => {
  let roles: WorkerRole[] = [];
  const sceneIds = () => [...world.ratingKeyOf.keys()];

  it('recovers jobs a real worker failed during a Plex outage; they then reach Plex', async () => {
    const [early, ...rest] = sceneIds();
    const outageScenes = rest.slice(0, 12);
    const authScenes = rest.slice(12, 14);
    for (const id of sceneIds()) world.stash.updateScene(id, { title: `Renamed ${id}` });

    const worker = await startWorkerRole(world.config, quiet);
    roles.push(worker);
    await world.plex.setMode('down');
    // One failure well before the outage window: stays.
    await enqueueSync(queue, { sceneId: early, reason: 'hook', enqueuedAt: Date.now() }, world.config.errorStrategies);
    await waitFor(async () => (await queue.getJobCounts('failed')).failed === 1, 10_000, 'the early failure');
    await new Promise((r) => setTimeout(r, 2_300)); // beyond the 2 s grace margin
    const startedAt = Date.now();
    for (const id of outageScenes)
      await enqueueSync(queue, { sceneId: id, reason: 'hook', enqueuedAt: Date.now() }, world.config.errorStrategies);
    await waitFor(async () => (await queue.getJobCounts('failed')).failed === 13, 15_000, '12 outage failures');
    // Permanent failures in the same window: the token is rejected.
    await world.plex.setMode('401');
    for (const id of authScenes)
      await enqueueSync(queue, { sceneId: id, reason: 'hook', enqueuedAt: Date.now() }, world.config.errorStrategies);
    await waitFor(async () => (await queue.getJobCounts('failed')).failed === 15, 15_000, '2 auth failures');
    const endedAt = Date.now();
    await worker.stop();
    roles = [];
    await world.plex.setMode('up');
    await conn.set(k().outages, JSON.stringify([outage('out-1', startedAt, endedAt)]));

    const failed = await queue.getFailed(0, -1);
    const reasons = failed.map((j) => j.failedReason.split(':')[0]).sort();
    expect(reasons).toEqual([...Array<string>(13).fill('PlexServerDown'), 'PlexAuthError', 'PlexAuthError'].sort());
    const outageJobIds = failed
      .filter((j) => outageScenes.includes(j.data.sceneId))
      .map((j) => j.id!)
      .sort();

    const dry = await cli(['--dry-run', '--json'], world.env);
    expect(dry.code).toBe(0);
    const d = json(dry);
    expect(await failedIds()).toHaveLength(15); // nothing moved
    const real = await cli(['--json'], world.env);
    expect(real.code).toBe(0);
    const r = json(real);
    for (const s of [d, r]) {
      expect(s).toMatchObject({
        scanned: 15,
        matched: 12,
        requeued: 12,
        skipped: { alreadyQueued: 0, errorType: 2, outsideWindow: 1, breakerNotClosed: 0, tooManyRequeues: 0 },
      });
      expect([...s.jobIds].sort()).toEqual(outageJobIds);
    }
    expect(d.dryRun).toBe(true);
    expect(r.dryRun).toBe(false);
    expect(real.stderr).not.toContain(world.env.PLEX_TOKEN);
    expect(await failedIds()).toHaveLength(3);

    // A worker syncs the requeued jobs: Plex gets Stash's values.
    roles.push(await startWorkerRole(world.config, quiet));
    await waitFor(async () => (await queue.getJobCounts('completed')).completed === 12, 20_000, '12 requeued jobs synced');
    for (const id of outageScenes) expect(world.plex.item(world.ratingKeyOf.get(id)!)!.title).toBe(`Renamed ${id}`);
    for (const id of [early, ...authScenes]) expect(world.plex.item(world.ratingKeyOf.get(id)!)!.title).not.toBe(`Renamed ${id}`);
    await Promise.all(roles.map((x) => x.stop()));
    roles = [];

    // Second run: nothing left; the readable table by default.
    const again = await cli([], world.env);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/requeued\s+0/);
    expect(again.stdout).toMatch(/skipped: outside window\s+1/);
    expect(again.stdout).toContain('out-1');
  }, 90_000);

  it('bad input exits 2 with one clear line, moving nothing', async () => {
    const before = await failedIds();
    expect(before.length).toBeGreaterThan(0);
    const cases: [string[], RegExp][] = [
      [['--errors', 'PlexDown'], /unknown error type "PlexDown": valid types are PlexServerDown, /],
      [['--since', '1h', '--until', '2h'], /reversed window/],
      [['--since', '1h', '--until', '60m'], /empty window/],
      [['--outage', 'nope'], /unknown outage id "nope".*out-1/],
      [['--since', 'tomorrow'], /"tomorrow" is not a time/],
      [['--since', '90'], /needs a unit/],
      [['--limit', '0'], /--limit must be a whole number/],
      [['--limit', 'ten'], /--limit must be a whole number/],
      [['--rate', 'fast'], /--rate must be a number/],
      [['--bogus'], /Unknown option '--bogus'/],
      [['--outage'], /--outage/],
      [['now'], /Unexpected argument 'now'/],
      [['--outage', 'all', '--since', '2h'], /exclude each other/],
    ];
    // Four processes at a time, each given a minute: on a busy machine 13 Node starts at once can take
    // longer than a hang detector should wait, and this test is about what they say, not how fast.
    const runs: Awaited<ReturnType<typeof cli>>[] = [];
    for (let i = 0; i < cases.length; i += 4) {
      runs.push(...(await Promise.all(cases.slice(i, i + 4).map(([args]) => cli(args, world.env, 60_000)))));
    }
    for (const [i, [args, message]] of cases.entries()) {
      const r = runs[i];
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(r.stderr).toMatch(message);
    }
    // No outage recorded: say so and suggest --since.
    const empty = await cli([], { ...world.env, REDIS_PREFIX: uniquePrefix('rq-empty') });
    expect(empty.code).toBe(2);
    expect(empty.stderr).toMatch(/no outage recorded.*--since/);
    // A bad setting: exit 2 naming the variable.
    const badEnv = await cli([], { ...world.env, REDIS_URL: 'http://nope' });
    expect(badEnv.code).toBe(2);
    expect(badEnv.stderr).toMatch(/REDIS_URL/);
    expect(await failedIds()).toEqual(before);
    const help = await cli(['--help'], world.env);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/--include-optional/);
  }, 300_000);

  it('refuses while the breaker is OPEN (exit 1), moves with --force; concurrent processes requeue each job once', async () => {
    const prefix = uniquePrefix('rq-conc');
    const env = { ...world.env, REDIS_PREFIX: prefix };
    const c2 = connectRedis({ redis: { ...world.config.redis, prefix } });
    const q2 = createSyncQueue(c2, prefix);
    const { makeFailedJobs } = await import('../../bench/requeue.js');
    try {
      const startedAt = Date.now();
      const ids = await makeFailedJobs({
        connection: c2,
        prefix,
        queue: q2,
        strategies: world.config.errorStrategies,
        jobs: Array.from({ length: 200 }, (_, i) => ({
          sceneId: String(i + 1),
          failedReason: `PlexServerDown: GET /library/metadata/${i} → ECONNREFUSED`,
        })),
      });
      await c2.set(keys(prefix).outages, JSON.stringify([outage('o-c', startedAt, Date.now())]));
      const now = Date.now();
      await c2.hset(keys(prefix).breaker, serializeBreaker({ ...initialBreaker(now), state: 'OPEN', openedAt: now }));
      const refused = await cli(['--json'], env);
      expect(refused.code).toBe(1);
      expect(json(refused)).toMatchObject({ requeued: 0, skipped: { breakerNotClosed: 200 } });
      expect(refused.stderr).toMatch(/refused: the breaker is OPEN/);
      const table = await cli([], env);
      expect(table.code).toBe(1);
      expect(table.stdout).toMatch(/Refused: the breaker is OPEN/);
      expect(await failedIds(q2)).toHaveLength(200);

      // Forced, two processes at once.
      const [a, b] = await Promise.all([
        cli(['--json', '--force', '--rate', '2000'], env),
        cli(['--json', '--force', '--rate', '2000'], env),
      ]);
      expect([a.code, b.code]).toEqual([0, 0]);
      const [ja, jb] = [json(a), json(b)];
      expect(ja.requeued + jb.requeued).toBe(200);
      const all = [...ja.jobIds, ...jb.jobIds];
      expect(new Set(all).size).toBe(200);
      expect(all.sort()).toEqual([...ids].sort());
      expect(await q2.getJobCounts('prioritized', 'failed')).toEqual({ prioritized: 200, failed: 0 });
    } finally {
      await q2.obliterate({ force: true });
      await q2.close();
      c2.disconnect();
    }
  }, 60_000);
});
