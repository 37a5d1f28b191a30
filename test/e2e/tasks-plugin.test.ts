// The report and recovery tasks as Stash runs them: the plugin built into a temporary folder (no
// node_modules anywhere above it: the tasks bundle carries ioredis and BullMQ itself), stdin JSON with
// args.mode, the run's Redis holding the supervisor's state, and the Plex and Stash simulators.
// Every run prints exactly one JSON object on stdout and only Stash-prefixed lines on stderr.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { makeFailedJobs } from '../../bench/requeue.js';
import { DEFAULT_ERROR_STRATEGIES } from '../../src/core/errors.js';
import { connectRedis, keys, type RedisConnection } from '../../src/core/redis.js';
import { initialBreaker, serializeBreaker } from '../../src/resilience/breaker.js';
import { PlexSimulator } from '../../src/sim/plex.js';
import { StashSimulator } from '../../src/sim/stash.js';
import { SIM_PLEX_TOKEN, SIM_STASH_KEY } from '../../src/sim/world.js';
import { PLUGIN_TASKS } from '../../src/stash-plugin/task-list.js';
import { decodeInboxEntry } from '../../src/model/job.js';
import type { SyncJobData } from '../../src/model/inbox-item.js';
import { createSyncQueue } from '../../src/sync/queue.js';
import { freePort } from '../helpers/ports.js';
import { pluginResult, runNode } from '../helpers/proc.js';
import { testRedisUrl, uniquePrefix } from '../helpers/redis.js';
import { M, outage, S } from '../helpers/outages.js';

const H = 60 * M;

let buildDir: string;
let plugin: string;
let redis: RedisConnection;
let plex: PlexSimulator;
let stash: StashSimulator;
const dirs: string[] = [];

beforeAll(async () => {
  buildDir = mkdtempSync(join(tmpdir(), 's2p-tasks-build-'));
  dirs.push(buildDir);
  execFileSync(process.execPath, ['scripts/build-plugin.mjs', '--outdir', buildDir, '--quiet'], { stdio: 'inherit' });
  plugin = join(buildDir, 'stash2plex.cjs');
  redis = connectRedis({ redis: { url: testRedisUrl(), clusterNodes: null, prefix: 'unused' } });
  plex = await PlexSimulator.start({ token: SIM_PLEX_TOKEN });
  stash = await StashSimulator.start({ apiKey: SIM_STASH_KEY, utcOffsetMinutes: -new Date().getTimezoneOffset() });
}, 60_000);
afterAll(async () => {
  redis?.disconnect();
  await plex?.stop();
  await stash?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  result: { output?: unknown; error?: string };
  /** stderr lines as [level letter, text]. */
  lines: [string, string][];
}

function runTask(
  mode: string,
  prefix: string,
  opts: { args?: Record<string, string>; env?: Record<string, string>; redisUrl?: string } = {},
): Promise<Run> {
  const dir = mkdtempSync(join(tmpdir(), 's2p-tasks-dir-'));
  dirs.push(dir);
  const input = JSON.stringify({
    server_connection: { Scheme: 'http', Host: '0.0.0.0', Port: Number(new URL(stash.url).port), Dir: dir, PluginDir: dir },
    args: { mode, ...opts.args },
  });
  const env = { REDIS_URL: opts.redisUrl ?? testRedisUrl(), REDIS_PREFIX: prefix, ...opts.env };
  return runNode(plugin, input, env, 30_000, { cwd: dir }).then(({ code, stdout, stderr }) => {
    const lines = stderr
      .split('\n')
      .filter(Boolean)
      .map((l): [string, string] => [l.slice(1, 2), l.slice(3)]);
    return { code, stdout, stderr, result: pluginResult(stdout), lines };
  });
}

/** Exactly one JSON object on stdout; every stderr line carries a Stash level prefix; no secret. */
function expectWellFormed(r: Run) {
  expect(r.stdout.endsWith('\n')).toBe(true);
  expect(r.stdout.split('\n').filter(Boolean)).toHaveLength(1);
  expect(Object.keys(JSON.parse(r.stdout) as object)).toHaveLength(1);
  for (const line of r.stderr.split('\n').filter(Boolean))
    expect(['t', 'd', 'i', 'w', 'e', 'p'].map((l) => `\x01${l}\x02`)).toContain(line.slice(0, 3));
  expect(r.stdout + r.stderr).not.toContain(SIM_PLEX_TOKEN);
  expect(r.stdout + r.stderr).not.toContain(SIM_STASH_KEY);
  expect(r.stdout).not.toMatch(/\n\s+at /);
}

const text = (r: Run, level = 'i') => r.lines.filter(([l]) => l === level).map(([, t]) => t);

async function writeBreaker(prefix: string, state: 'OPEN' | 'CLOSED', since: number) {
  const k = keys(prefix);
  await redis.del(k.breaker);
  await redis.hset(k.breaker, serializeBreaker({ ...initialBreaker(since), state, openedAt: state === 'OPEN' ? since : null }));
}

describe('the manifest', () => {
  it('lists every task, in PLUGIN_TASKS order, with its mode and default args', () => {
    const m = parseYaml(readFileSync(join(buildDir, 'stash2plex.yml'), 'utf8')) as {
      tasks: { name: string; defaultArgs: Record<string, string> }[];
    };
    const tasks = m.tasks.map((t) => [t.name, t.defaultArgs]);
    expect(tasks).toEqual(PLUGIN_TASKS.map((t) => [t.name, { mode: t.mode, ...('args' in t ? t.args : {}) }]));
    expect(tasks.slice(2)).toEqual([
      ['Health Check', { mode: 'health_check' }],
      ['Queue Status', { mode: 'queue_status' }],
      ['Outage Summary', { mode: 'outage_summary' }],
      ['Recover Outage Jobs (dry run)', { mode: 'recover_dry_run', outage: 'latest' }],
      ['Recover Outage Jobs', { mode: 'recover', outage: 'latest' }],
      ['Reconcile Outage Windows', { mode: 'reconcile_outages' }],
      ['Reconcile Library (dry run)', { mode: 'reconcile_library_dry_run' }],
      ['Reconcile Library', { mode: 'reconcile_library' }],
      ['Restore Plex Metadata (dry run)', { mode: 'restore_dry_run' }],
      ['Restore Plex Metadata', { mode: 'restore' }],
      ['Explain Scene', { mode: 'explain_scene' }],
      ['Clear Failed Jobs (dry run)', { mode: 'clear_failed_dry_run' }],
      ['Clear Failed Jobs', { mode: 'clear_failed' }],
      ['Purge Failed Jobs Older Than 7 Days (dry run)', { mode: 'purge_failed_dry_run', days: '7' }],
      ['Purge Failed Jobs Older Than 7 Days', { mode: 'purge_failed', days: '7' }],
      ['Purge Failed Jobs Older Than 30 Days (dry run)', { mode: 'purge_failed_dry_run', days: '30' }],
      ['Purge Failed Jobs Older Than 30 Days', { mode: 'purge_failed', days: '30' }],
      ['Clear Pending Queue (dry run)', { mode: 'clear_pending_dry_run' }],
      ['Clear Pending Queue', { mode: 'clear_pending' }],
    ]);
  });
});

describe('Health Check', () => {
  it("reports the supervisor's recorded probe, the breaker and the queue when PLEX_URL is not set", async () => {
    const prefix = uniquePrefix('e2e-health');
    const now = Date.now();
    await writeBreaker(prefix, 'OPEN', now - 2 * M - 5 * S);
    await redis.set(
      keys(prefix).health,
      JSON.stringify({
        lastProbeAt: now - 12 * S,
        ok: false,
        latencyMs: null,
        error: 'PlexServerDown: GET /identity → ECONNREFUSED',
        nextProbeAt: null,
      }),
    );
    const r = await runTask('health_check', prefix);
    // The ages are read when the task runs: on a busy machine the process may start seconds after `now`.
    const late = Math.ceil((Date.now() - now) / 1000);
    expectWellFormed(r);
    expect(r.code).toBe(0);
    expect(r.result).toEqual({ output: 'Health Check: Plex UNREACHABLE, breaker OPEN, 0 jobs to do, 0 failed' });
    const [probe, breaker, supervisor] = text(r, 'w');
    const probeAge = /^Plex is UNREACHABLE \(last probe (\d+)s ago: PlexServerDown: GET \/identity → ECONNREFUSED\)$/.exec(probe);
    expect(probeAge, probe).not.toBeNull();
    expect(Number(probeAge![1])).toBeGreaterThanOrEqual(12);
    expect(Number(probeAge![1])).toBeLessThanOrEqual(12 + late);
    const openFor = /^Breaker: OPEN for 2m (\d+)s, since \d\d:\d\d:\d\d \(Plex outage: the queue is paused\)$/.exec(breaker);
    expect(openFor, breaker).not.toBeNull();
    expect(Number(openFor![1])).toBeGreaterThanOrEqual(5);
    expect(Number(openFor![1])).toBeLessThanOrEqual(5 + late);
    expect(supervisor).toBe('Supervisor: NOT running (no live leader): nobody probes Plex or steers the queue');
    expect(text(r, 'w')).toHaveLength(3);
    expect(text(r)).toEqual([
      'Queue sync: 0 jobs to do (0 waiting, 0 active, 0 delayed), 0 failed',
      'Health Check: Plex UNREACHABLE, breaker OPEN, 0 jobs to do, 0 failed',
    ]);
  });

  it('probes Plex itself when PLEX_URL is in the environment (or the .env of the plugin folder)', async () => {
    const prefix = uniquePrefix('e2e-health-direct');
    const r = await runTask('health_check', prefix, { env: { PLEX_URL: plex.url, PLEX_TOKEN: SIM_PLEX_TOKEN } });
    expectWellFormed(r);
    expect(r.code).toBe(0);
    expect(text(r)[0]).toMatch(/^Plex is HEALTHY \(responded in \d+ ms\)$/);
    expect(r.result.output).toBe('Health Check: Plex HEALTHY, breaker CLOSED, 0 jobs to do, 0 failed');
  });

  it('with Redis unreachable: the direct probe is still shown, then {"error"} and exit 1', async () => {
    const r = await runTask('health_check', uniquePrefix('e2e-health-down'), {
      env: { PLEX_URL: plex.url },
      redisUrl: `redis://127.0.0.1:${await freePort()}`,
    });
    expectWellFormed(r);
    expect(r.code).toBe(1);
    expect(text(r)[0]).toMatch(/^Plex is HEALTHY \(responded in \d+ ms\)$/);
    expect(r.result.error).toMatch(/^Health Check: Redis unreachable at 127\.0\.0\.1:\d+: .*ECONNREFUSED/);
    expect(text(r, 'e')).toEqual([r.result.error]);
  });
});

describe('Restore Plex Metadata (dry run)', () => {
  it('runs from the built bundle: one JSON output; without PLEX_URL, one clear error', async () => {
    const prefix = uniquePrefix('e2e-restore');
    const r = await runTask('restore_dry_run', prefix, { env: { PLEX_URL: plex.url, PLEX_TOKEN: SIM_PLEX_TOKEN } });
    expectWellFormed(r);
    expect(r.code).toBe(0);
    expect(r.result).toEqual({
      output: 'Dry run: 0 scenes would be restored (0 fields), 0 scenes would be excluded from sync; nothing changed',
    });
    const bare = await runTask('restore', prefix);
    expectWellFormed(bare);
    expect(bare.code).toBe(1);
    expect(bare.result.error).toBe(
      "Restore Plex Metadata: Restore needs PLEX_URL and PLEX_TOKEN in the plugin folder's .env (the stash2plex dashboard runs only the dry run for a task); or run it where stash2plex has them, without copying them: its status page, or npm run restore -- --all",
    );
  });
});

describe('Outage Summary', () => {
  it('totals, MTTR, MTBF, availability and the outages, as log lines and one output line', async () => {
    const prefix = uniquePrefix('e2e-outages');
    const now = Date.now();
    const outages = [
      outage({
        startedAt: now - H,
        endedAt: now - H + 5 * M,
        jobsAffected: 37,
        firstError: 'PlexServerDown: GET /library/metadata/9 → ECONNREFUSED',
      }),
      outage({ startedAt: now - 2 * H, endedAt: now - 2 * H + M, trigger: 'probe' }),
    ];
    await redis.set(keys(prefix).outages, JSON.stringify(outages));
    const r = await runTask('outage_summary', prefix);
    expectWellFormed(r);
    expect(r.code).toBe(0);
    // downtime 6m, MTTR 3m; up-times 59m and ~55m → MTBF ~57m; availability ~95 %.
    expect(r.result.output).toMatch(/^Outage Summary: 2 outages, 6m down in total, availability 9[45]\.\d\d %, MTTR 3m$/);
    const lines = text(r);
    expect(lines.slice(0, 3)).toEqual(['Outages recorded: 2', 'Total downtime: 6m', 'MTTR (mean time to recover): 3m']);
    expect(lines[3]).toMatch(/^MTBF \(mean time between failures\): 5[67]m( \d+s)?$/);
    expect(lines[4]).toMatch(/^Availability: 9[45]\.\d\d %$/);
    expect(lines[5]).toBe('Mean detection delay: 1s');
    expect(lines[6]).toBe('Outages, newest first:');
    expect(lines[7]).toMatch(
      /^ {2}\d{4}-\d\d-\d\d \d\d:\d\d:\d\d, lasted 5m, trigger failures, 37 jobs affected, first error PlexServerDown: GET \/library\/metadata\/9 → ECONNREFUSED$/,
    );
    expect(lines[8]).toMatch(/^ {2}\d{4}-\d\d-\d\d \d\d:\d\d:\d\d, lasted 1m, trigger probe, 0 jobs affected$/);
    expect(lines.at(-1)).toBe(r.result.output);
  });

  it('no outage recorded', async () => {
    const r = await runTask('outage_summary', uniquePrefix('e2e-no-outage'));
    expectWellFormed(r);
    expect(r.result).toEqual({ output: 'Outage Summary: no outage recorded' });
  });
});

describe('the BullMQ parts run from the bundle alone', () => {
  let queue: Queue<SyncJobData>;
  let prefix: string;
  beforeAll(async () => {
    prefix = uniquePrefix('e2e-recover');
    queue = createSyncQueue(redis, prefix);
    const startedAt = Date.now() - 5 * S;
    await makeFailedJobs({
      connection: redis,
      prefix,
      queue,
      strategies: DEFAULT_ERROR_STRATEGIES,
      jobs: [
        ...Array.from({ length: 12 }, (_, i) => ({
          sceneId: String(i + 1),
          failedReason: 'PlexServerDown: GET /library/metadata/1 → ECONNREFUSED',
        })),
        { sceneId: '99', failedReason: 'PlexAuthError: HTTP 401' },
      ],
    });
    await redis.set(keys(prefix).outages, JSON.stringify([outage({ id: 'e2e', startedAt, endedAt: Date.now() + S })]));
  });
  afterAll(async () => {
    await queue?.close();
  });

  it('Queue Status reads the failed set by error type, with progress lines', async () => {
    const r = await runTask('queue_status', prefix);
    expectWellFormed(r);
    expect(r.code).toBe(0);
    expect(r.result.output).toBe('Queue Status: 0 jobs to do, 13 failed (most: PlexServerDown 12), breaker CLOSED');
    expect(text(r)).toEqual(expect.arrayContaining(['Failed jobs by error type:', '  PlexServerDown: 12', '  PlexAuthError: 1']));
    const progress = r.lines.filter(([l]) => l === 'p').map(([, t]) => Number(t));
    expect(progress[0]).toBe(0);
    expect(progress.at(-1)).toBe(1);
  });

  it('Recover Outage Jobs: the dry run moves nothing, the real run requeues the outage window', async () => {
    const dry = await runTask('recover_dry_run', prefix, { args: { outage: 'latest' } });
    expectWellFormed(dry);
    expect(dry.code).toBe(0);
    expect(dry.result.output).toBe('Recover Outage Jobs (dry run): 12 jobs would be requeued (12 matched of 13 failed); nothing was moved');
    expect(text(dry)).toContain('Requeue — DRY RUN: nothing was moved; figures are what a real run would do');
    expect(await queue.getFailedCount()).toBe(13);

    const real = await runTask('recover', prefix, { args: { outage: 'latest' } });
    expectWellFormed(real);
    expect(real.code).toBe(0);
    expect(real.result.output).toBe('Recover Outage Jobs: requeued 12 jobs (12 matched of 13 failed)');
    expect(await queue.getFailedCount()).toBe(1);
  });

  it('Clear Failed Jobs and Clear Pending Queue (after the recovery above: 1 failed, 12 waiting)', async () => {
    const dry = await runTask('clear_failed_dry_run', prefix);
    expectWellFormed(dry);
    expect(dry.result.output).toBe('Clear Failed Jobs (dry run): 1 job of the failed set would be removed (dry run: nothing removed)');
    const failed = await runTask('clear_failed', prefix);
    expect(failed.result.output).toBe('Clear Failed Jobs: 1 job of the failed set removed');
    expect(await queue.getFailedCount()).toBe(0);
    const pending = await runTask('clear_pending', prefix);
    expectWellFormed(pending);
    expect(pending.result.output).toBe('Clear Pending Queue: 12 jobs waiting or delayed removed; active ones finish');
    expect(await queue.getJobCounts('wait', 'prioritized', 'delayed')).toEqual({ wait: 0, prioritized: 0, delayed: 0 });
    const purge = await runTask('purge_failed', prefix, { args: { days: 'x' } });
    expect(purge.result).toEqual({ error: 'Purge Failed Jobs Older Than N Days: args.days must be a whole number of days, 0 or more' });
  });

  it('Reconcile Outage Windows walks Stash and writes reconcile entries to the inbox', async () => {
    const now = Date.now();
    const p = uniquePrefix('e2e-reconcile');
    await redis.set(keys(p).outages, JSON.stringify([outage({ startedAt: now - 3 * H, endedAt: now - 3 * H + 10 * M })]));
    const ids = [
      stash.addScene({ title: 'in', updated_at: now - 3 * H + 4 * M }),
      stash.addScene({ title: 'in too', updated_at: now - 3 * H + 6 * M }),
    ];
    stash.addScene({ title: 'out', updated_at: now - 5 * H });
    const r = await runTask('reconcile_outages', p, { env: { STASH_API_KEY: SIM_STASH_KEY } });
    expectWellFormed(r);
    expect(r.code).toBe(0);
    expect(r.result.output).toBe('Reconcile Outage Windows: queued 2 scenes for Plex from 1 outage window');
    const entries = (await redis.xrange(keys(p).inbox, '-', '+')) as [string, string[]][];
    const jobs = entries.map(([, flat]) => decodeInboxEntry(flat)).map((d) => (d.ok && d.job ? d.job : null));
    expect(jobs.map((j) => [j?.sceneId, j?.reason, j?.event]).sort()).toEqual(
      ids.map((id) => [id, 'reconcile', 'reconcile_outages']).sort(),
    );
  });
});
