// The plugin's tasks that read Plex, run with only STASH2PLEX_URL and HOOK_TOKEN in the plugin's
// environment: they ask a real dashboard (over HTTP, its hook-token routes /api/stash/task/<name>) on the
// run's real Redis and both simulators, and log the same report as a run with PLEX_URL and PLEX_TOKEN.
// A wrong token, a dashboard that never answers (or stops mid-answer) and no way at all each give one
// clear line in bounded time; the token is in no log line, message or answer.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectRedis, keys, type RedisConnection } from '../../src/core/redis.js';
import { startDashboard, type DashboardHandle } from '../../src/dashboard/server.js';
import type { PluginLogLevel } from '../../src/hook/log-lines.js';
import { runTask, type TaskContext } from '../../src/stash-plugin/tasks.js';
import { syncScene } from '../../src/sync/processor.js';
import { parseLibraryFailure, readLibraryFailureText } from '../../src/sync/library-report-store.js';
import { createSyncQueue } from '../../src/sync/queue.js';
import { worldSyncDeps } from '../helpers/sync-deps.js';
import { waitFor } from '../helpers/wait.js';
import { PLEX_TOKEN, STASH_KEY, startWorld, type World } from '../helpers/world.js';

const HOOK_TOKEN = 'task-hook-token-7f3a9c1e5b';
/** The text fields only: no image is read or uploaded. */
const TEXT_FIELDS = 'title,summary,studio,date,genres,actors,rating';

let world: World;
let dash: DashboardHandle;
let redis: RedisConnection;
const dashboardLog: string[] = [];
const dirs: string[] = [];
/** Every line and message of every task run here, to check the token is in none. */
const everything: string[] = [];

beforeAll(async () => {
  world = await startWorld({
    scenes: 3,
    prefixName: 'task-dash',
    env: { DASHBOARD_PORT: '0', HOOK_TOKEN, SYNC_POSTER: 'false', SYNC_FIELDS: TEXT_FIELDS },
  });
  redis = connectRedis(world.config);
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      dashboardLog.push(chunk.toString('utf8'));
      done();
    },
  });
  dash = await startDashboard(world.config, pino({ level: 'debug' }, sink));
}, 60_000);
afterAll(async () => {
  await dash?.stop();
  redis?.disconnect();
  await world?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

interface Run {
  summary: string;
  /** As Stash shows them: "W " before a warning, "E " before an error. */
  lines: string[];
  progress: number[];
}

/** The plugin's environment with Plex credentials (a local run) or with only the dashboard's address and token. */
const localEnv = () => ({ ...world.env, HOOK_TOKEN: '' });
const remoteEnv = (token = HOOK_TOKEN, url = dash.url) => ({ STASH_API_KEY: STASH_KEY, STASH2PLEX_URL: url, HOOK_TOKEN: token });

async function task(
  mode: Parameters<typeof runTask>[0],
  env: Record<string, string>,
  opts: { args?: Record<string, unknown>; timeouts?: TaskContext['dashboardTimeouts'] } = {},
): Promise<Run> {
  const dir = mkdtempSync(join(tmpdir(), 's2p-task-dash-'));
  dirs.push(dir);
  const run: Run = { summary: '', lines: [], progress: [] };
  const ctx: TaskContext = {
    input: {
      server_connection: { Scheme: 'http', Host: '127.0.0.1', Port: Number(new URL(world.stash.url).port), PluginDir: dir },
      args: { mode, ...opts.args },
    },
    env,
    dir,
    redis: { url: world.config.redis.url, prefix: world.prefix },
    log: (level: PluginLogLevel, msg: string) => {
      const tag = { trace: 'T ', debug: 'D ', info: '', warning: 'W ', error: 'E ' }[level];
      run.lines.push(`${tag}${msg}`);
      everything.push(msg);
    },
    progress: (f) => run.progress.push(f),
    dashboardTimeouts: opts.timeouts,
  };
  try {
    run.summary = await runTask(mode, ctx);
  } catch (err) {
    everything.push((err as Error).message, (err as Error).stack ?? '');
    throw err;
  }
  everything.push(run.summary);
  return run;
}

/**
 * The lines Stash shows at Info and above, durations made equal: a local run's debug lines (its run
 * logger's) are the dashboard's own log when it runs there.
 */
const shown = (lines: string[]) => lines.filter((l) => !l.startsWith('D ')).map((l) => l.replace(/ in [\d.]+ (m?s)$/, ' in … $1'));

const asking = (label: string) =>
  `${label}: no PLEX_URL / PLEX_TOKEN in the plugin's environment: asking the stash2plex dashboard at ${dash.url}`;

describe('with only STASH2PLEX_URL and HOOK_TOKEN, the task asks the dashboard and reports as a local run', () => {
  it('Reconcile Library (dry run): the same report', async () => {
    const local = await task('reconcile_library_dry_run', localEnv());
    const remote = await task('reconcile_library_dry_run', remoteEnv());
    expect(local.summary).toBe('Dry run: 3 scenes would be queued for a sync; nothing queued');
    expect(remote.summary).toBe(local.summary);
    expect(remote.lines[0]).toBe(asking('Reconcile Library (dry run)'));
    expect(shown(remote.lines.slice(1))).toEqual(shown(local.lines));
    expect(remote.progress[0]).toBe(0);
    expect(remote.progress.at(-1)).toBe(1);
  });

  it('Reconcile Library: the scenes a sync would fix are queued, as a local run hands them to the workers', async () => {
    const queue = createSyncQueue(redis, world.prefix);
    try {
      const local = await task('reconcile_library', localEnv());
      expect(local.summary).toMatch(/^Sent 3 scenes to the workers' inbox for a sync/);
      const remote = await task('reconcile_library', remoteEnv());
      expect(remote.summary).toBe('Queued 3 scenes for a sync (bulk priority)');
      expect(shown(remote.lines.slice(1))).toEqual(shown(local.lines));
      const jobs = await queue.getJobs(['waiting', 'prioritized', 'delayed']);
      expect(jobs.map((j) => j.data.sceneId).sort()).toEqual([...world.ratingKeyOf.keys()].sort());
      expect(new Set(jobs.map((j) => `${j.data.reason}/${j.data.event}`)).size).toBe(1);
    } finally {
      await queue.obliterate({ force: true });
      await queue.close();
    }
  });

  it('Explain Scene: the same lines and summary; an unknown scene names the setting', async () => {
    const local = await task('explain_scene', localEnv(), { args: { sceneId: '2' } });
    const remote = await task('explain_scene', remoteEnv(), { args: { sceneId: '2' } });
    expect(local.summary).toMatch(/^scene 2: next sync: send to Plex: set title, /);
    expect(remote.summary).toBe(local.summary);
    expect(remote.lines[0]).toBe(asking('Explain Scene'));
    expect(shown(remote.lines.slice(1))).toEqual(shown(local.lines));
    const localErr = await task('explain_scene', localEnv(), { args: { sceneId: '777' } }).catch((e: Error) => e.message);
    const remoteErr = await task('explain_scene', remoteEnv(), { args: { sceneId: '777' } }).catch((e: Error) => e.message);
    expect(localErr).toBe('Explain Scene: Stash has no scene 777 (the plugin setting "Scene to explain")');
    expect(remoteErr).toBe(localErr);
  });

  it('Health Check: the dashboard probes Plex directly', async () => {
    const local = await task('health_check', localEnv());
    const remote = await task('health_check', remoteEnv());
    expect(local.lines[0]).toMatch(/^Plex is HEALTHY \(responded in \d+ ms\)$/);
    expect(remote.lines[0]).toMatch(/^Plex is HEALTHY \(responded in \d+ ms\)$/);
    expect(remote.summary).toBe(local.summary);
    expect(remote.summary).toMatch(/^Health Check: Plex HEALTHY, breaker CLOSED, /);
    expect(shown(remote.lines.slice(1))).toEqual(shown(local.lines.slice(1)));
  });

  it('Restore Plex Metadata (dry run): the same report of every scene with kept originals; nothing changes', async () => {
    const deps = worldSyncDeps(world, redis);
    const ids = [...world.ratingKeyOf.keys()];
    for (const id of ids) await syncScene(id, deps);
    const titles = () => ids.map((id) => world.plex.item(world.ratingKeyOf.get(id)!)!.title);
    const synced = titles();
    const local = await task('restore_dry_run', localEnv());
    const remote = await task('restore_dry_run', remoteEnv());
    expect(local.summary).toBe('Dry run: 3 scenes would be restored (21 fields), 3 scenes would be excluded from sync; nothing changed');
    expect(remote.summary).toBe(local.summary);
    expect(remote.lines[0]).toBe(asking('Restore Plex Metadata (dry run)'));
    expect(shown(remote.lines.slice(1))).toEqual(shown(local.lines));
    expect(titles()).toEqual(synced);
    expect(await redis.hlen(keys(world.prefix).syncExcluded)).toBe(0);
  });

  it("a real Restore is not the hook token's to ask: it names where to run it", async () => {
    await expect(task('restore', remoteEnv())).rejects.toThrow(
      "Restore Plex Metadata: Restore needs PLEX_URL and PLEX_TOKEN in the plugin folder's .env (the stash2plex dashboard runs only the dry run for a task); or run it where stash2plex has them, without copying them: its status page, or npm run restore -- --all",
    );
  });
});

describe('when the dashboard cannot help: one clear line, in bounded time', () => {
  it('a wrong HOOK_TOKEN: "HOOK_TOKEN rejected by the dashboard", for every task', async () => {
    const rejected = `HOOK_TOKEN rejected by the dashboard at ${dash.url} (STASH2PLEX_URL): the plugin folder's HOOK_TOKEN must be the dashboard's`;
    await expect(task('reconcile_library_dry_run', remoteEnv('wrong-token-1'))).rejects.toThrow(`Reconcile Library (dry run): ${rejected}`);
    await expect(task('reconcile_library', remoteEnv('wrong-token-1'))).rejects.toThrow(`Reconcile Library: ${rejected}`);
    await expect(task('restore_dry_run', remoteEnv('wrong-token-1'))).rejects.toThrow(`Restore Plex Metadata (dry run): ${rejected}`);
    await expect(task('explain_scene', remoteEnv('wrong-token-1'), { args: { sceneId: '1' } })).rejects.toThrow(
      `Explain Scene: ${rejected}`,
    );
    // Health Check still reports the rest, with the supervisor's last probe.
    const health = await task('health_check', remoteEnv('wrong-token-1'));
    expect(health.lines).toContain(`W Health Check: no direct probe: ${rejected}`);
    expect(health.summary).toMatch(/^Health Check: /);
  });

  it('a dashboard that never answers: the task gives up within its timeout', async () => {
    const sockets: Socket[] = [];
    const silent: TcpServer = createTcpServer((s) => sockets.push(s)); // accepts, reads nothing, says nothing
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(silent.address() as { port: number }).port}`;
    try {
      const t0 = Date.now();
      await expect(
        task('reconcile_library_dry_run', remoteEnv(HOOK_TOKEN, url), { timeouts: { firstAnswerMs: 1_000, idleMs: 1_000 } }),
      ).rejects.toThrow(`Reconcile Library (dry run): the stash2plex dashboard at ${url} (STASH2PLEX_URL) did not answer within 1 s`);
      expect(Date.now() - t0).toBeLessThan(8_000);
      const health = await task('health_check', remoteEnv(HOOK_TOKEN, url), { timeouts: { firstAnswerMs: 1_000, idleMs: 1_000 } });
      expect(health.lines).toContain(
        `W Health Check: no direct probe: the stash2plex dashboard at ${url} (STASH2PLEX_URL) did not answer within 1 s`,
      );
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => silent.close(() => r()));
    }
  });

  it('a dashboard that starts the answer and then falls silent: the task gives up after the idle timeout', async () => {
    const hung: HttpServer = createHttpServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/x-ndjson' });
      res.write('{"alive":true}\n'); // then nothing, ever
    });
    await new Promise<void>((r) => hung.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(hung.address() as { port: number }).port}`;
    try {
      const t0 = Date.now();
      await expect(
        task('explain_scene', remoteEnv(HOOK_TOKEN, url), { args: { sceneId: '1' }, timeouts: { firstAnswerMs: 2_000, idleMs: 1_000 } }),
      ).rejects.toThrow(`Explain Scene: the stash2plex dashboard at ${url} (STASH2PLEX_URL) stopped answering (nothing for 1 s)`);
      expect(Date.now() - t0).toBeLessThan(8_000);
    } finally {
      hung.closeAllConnections();
      await new Promise<void>((r) => hung.close(() => r()));
    }
  });

  it('a dashboard that is not there: unreachable, naming STASH2PLEX_URL', async () => {
    const probe = createTcpServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(probe.address() as { port: number }).port}`;
    await new Promise<void>((r) => probe.close(() => r()));
    await expect(task('restore_dry_run', remoteEnv(HOOK_TOKEN, url))).rejects.toThrow(
      `Restore Plex Metadata (dry run): the stash2plex dashboard at ${url} (STASH2PLEX_URL) is unreachable: ECONNREFUSED`,
    );
  });

  it("a dashboard without HOOK_TOKEN (404), one past its rate limit (429, shared with the hook): the dashboard's answer, named", async () => {
    const quiet = pino({ level: 'silent' });
    const off = await startDashboard({ ...world.config, hookToken: null }, quiet);
    const limited = await startDashboard(world.config, quiet, { hookRateLimit: { ratePerSec: 0.001, burst: 1 } });
    try {
      await expect(task('reconcile_library_dry_run', remoteEnv(HOOK_TOKEN, off.url))).rejects.toThrow(
        `Reconcile Library (dry run): the dashboard at ${off.url} (STASH2PLEX_URL) answered 404 (not found: the Stash tasks' route is off (HOOK_TOKEN is not set)): STASH2PLEX_URL must be the stash2plex dashboard, with HOOK_TOKEN set there`,
      );
      // The one request of the budget goes to the HTTP hook; the task's is refused.
      const hook = await fetch(`${limited.url}/api/stash/hook`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${HOOK_TOKEN}` },
        body: '{}',
      });
      expect(hook.status).toBe(400);
      await expect(task('explain_scene', remoteEnv(HOOK_TOKEN, limited.url), { args: { sceneId: '1' } })).rejects.toThrow(
        new RegExp(
          `^Explain Scene: the dashboard at ${limited.url.replace(/[.[\]]/g, '\\$&')} \\(STASH2PLEX_URL\\) answered 429: rate limit exceeded: retry in \\d+ ms$`,
        ),
      );
      // Half a dashboard set up: said in Health Check, which still reports.
      const half = await task('health_check', { STASH2PLEX_URL: dash.url });
      expect(half.lines).toContain('W Health Check: no direct probe by the stash2plex dashboard: HOOK_TOKEN is not set');
    } finally {
      await off.stop();
      await limited.stop();
    }
  });

  it('neither Plex credentials nor a dashboard: the message gives both ways', async () => {
    const both = (needs: string, command: string, why = 'STASH2PLEX_URL and HOOK_TOKEN are not set') =>
      `${needs} in the plugin folder's .env, or STASH2PLEX_URL and HOOK_TOKEN there so the task asks the stash2plex dashboard, which has them (${why}); or run it on the status page, or ${command}`;
    await expect(task('reconcile_library_dry_run', { STASH_API_KEY: STASH_KEY })).rejects.toThrow(
      `Reconcile Library (dry run): ${both('Reconcile Library needs PLEX_URL and PLEX_TOKEN', 'npm run reconcile')}`,
    );
    await expect(task('restore_dry_run', { STASH2PLEX_URL: dash.url })).rejects.toThrow(
      `Restore Plex Metadata (dry run): ${both('Restore needs PLEX_URL and PLEX_TOKEN', 'npm run restore -- --all', 'HOOK_TOKEN is not set')}`,
    );
    await expect(task('explain_scene', { STASH_API_KEY: STASH_KEY }, { args: { sceneId: '1' } })).rejects.toThrow(
      `Explain Scene: ${both('explain needs PLEX_URL and PLEX_TOKEN', 'npm run explain -- <sceneId>')}`,
    );
  });
});

describe('the routes', () => {
  const post = (name: string, init: RequestInit = {}) => fetch(`${dash.url}/api/stash/task/${name}`, { method: 'POST', ...init });
  const bearer = { Authorization: `Bearer ${HOOK_TOKEN}` };

  it('refuse without the token (401), another method (405), a browser cross-site post (403), a bad or large body (400, 413)', async () => {
    const none = await post('health-check', { body: '{}' });
    expect(none.status).toBe(401);
    expect(await none.json()).toEqual({ error: 'missing or wrong token: send Authorization: Bearer <HOOK_TOKEN>' });
    expect((await fetch(`${dash.url}/api/stash/task/health-check`, { headers: bearer })).status).toBe(405);
    const crossSite = await post('health-check', { headers: { ...bearer, 'Sec-Fetch-Site': 'cross-site' }, body: '{}' });
    expect(crossSite.status).toBe(403);
    const bad = await post('reconcile-library', { headers: bearer, body: '{"dry_run": false}' });
    expect(bad.status).toBe(400);
    const realRestore = await post('restore-dry-run', { headers: bearer, body: '{"dryRun": false}' });
    expect(realRestore.status).toBe(400);
    const large = await post('explain', { headers: bearer, body: JSON.stringify({ sceneId: 'x'.repeat(20_000) }) });
    expect(large.status).toBe(413);
  });

  // Stash kills a cancelled task's plugin process: its request to the dashboard ends mid-stream.
  it('a caller that goes mid-run stops the run at its next page: the failure kept for the status page says why', async () => {
    await redis.del(keys(world.prefix).reconcileFailure);
    world.stash.setLatencyMs(1_000);
    try {
      const gone = new AbortController();
      const res = await post('reconcile-library', { headers: bearer, body: '{}', signal: gone.signal });
      expect(res.status).toBe(200);
      expect(new TextDecoder().decode((await res.body!.getReader().read()).value)).toContain('{"alive":true}');
      gone.abort();
      const failure = async () => parseLibraryFailure(await readLibraryFailureText(redis, keys(world.prefix)));
      await waitFor(async () => (await failure()) !== null, 15_000, 'the stopped run kept as a failure');
      expect((await failure())?.error).toBe(
        'stopped after 0 of 3 scenes: the Stash task that asked for it went away (cancelled in Stash, or its connection was cut)',
      );
      expect(dashboardLog.join('')).toContain('dashboard: Stash task stopped');
    } finally {
      world.stash.setLatencyMs(0);
    }
    // The next run is not refused as one in progress.
    const next = await post('reconcile-library', { headers: bearer, body: '{}' });
    expect((await next.text()).trim().split('\n').at(-1)).toMatch(/^\{"result":\{/);
  });

  it('the token is in no log line of the dashboard, no answer, no task line or message', async () => {
    const answer = await (await post('health-check', { headers: bearer, body: '{}' })).text();
    expect(answer.trim().split('\n').at(-1)).toMatch(/^\{"result":\{"ok":true,/);
    expect(answer).not.toContain(HOOK_TOKEN);
    expect(answer).not.toContain(PLEX_TOKEN);
    expect(dashboardLog.join('')).not.toContain(HOOK_TOKEN);
    expect(dashboardLog.join('')).not.toContain(PLEX_TOKEN);
    expect(everything.length).toBeGreaterThan(20);
    for (const text of everything) {
      expect(text).not.toContain(HOOK_TOKEN);
      expect(text).not.toContain(PLEX_TOKEN);
    }
  });
});
