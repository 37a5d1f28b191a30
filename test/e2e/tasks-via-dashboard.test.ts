// The plugin's tasks that read Plex, as Stash runs them: the built plugin (scripts/build-plugin.mjs) in a
// folder whose .env holds only STASH2PLEX_URL and HOOK_TOKEN (as the build writes it for the HTTP hook),
// stdin JSON with args.mode, a real dashboard on the run's Redis and both simulators. The task asks the
// dashboard and prints what a run with PLEX_URL and PLEX_TOKEN prints; a wrong token or a silent dashboard
// is one {"error"} line and exit 1 within the timeout; the token is on no command line and in no output.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/core/log.js';
import { startDashboard, type DashboardHandle } from '../../src/dashboard/server.js';
import { PLEX_TOKEN, STASH_KEY, startWorld, type World } from '../helpers/world.js';
import { pluginResult, runNode } from '../helpers/proc.js';

const HOOK_TOKEN = 'e2e-task-hook-token-4d2b8a';

let buildDir: string;
let plugin: string;
let world: World;
let dash: DashboardHandle;
const dirs: string[] = [];

beforeAll(async () => {
  buildDir = mkdtempSync(join(tmpdir(), 's2p-tasks-dash-build-'));
  dirs.push(buildDir);
  execFileSync(process.execPath, ['scripts/build-plugin.mjs', '--outdir', buildDir, '--quiet'], { stdio: 'inherit' });
  plugin = join(buildDir, 'stash2plex.cjs');
  world = await startWorld({ scenes: 2, prefixName: 'e2e-task-dash', env: { DASHBOARD_PORT: '0', HOOK_TOKEN } });
  dash = await startDashboard(world.config, createLogger({ level: 'silent' }));
}, 120_000);
afterAll(async () => {
  await dash?.stop();
  await world?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  result: { output?: string; error?: string };
  /** Info lines of stderr. */
  info: string[];
  ms: number;
  argv: string[];
}

/** Runs the built plugin for `mode` with `dotenv` as the plugin folder's .env and `env` as its process environment. */
function runTask(mode: string, dotenv: string, env: Record<string, string> = {}, args: Record<string, string> = {}): Promise<Run> {
  const dir = mkdtempSync(join(tmpdir(), 's2p-tasks-dash-dir-'));
  dirs.push(dir);
  writeFileSync(join(dir, '.env'), dotenv);
  const input = JSON.stringify({
    server_connection: { Scheme: 'http', Host: '127.0.0.1', Port: Number(new URL(world.stash.url).port), Dir: dir, PluginDir: dir },
    args: { mode, ...args },
  });
  const argv = [plugin];
  const processEnv = { REDIS_URL: world.config.redis.url, REDIS_PREFIX: world.prefix, STASH_API_KEY: STASH_KEY, ...env };
  return runNode(plugin, input, processEnv, 60_000, { cwd: dir }).then(({ code, stdout, stderr, ms }) => {
    const info = stderr
      .split('\n')
      .filter((l) => l.startsWith('\x01i\x02'))
      .map((l) => l.slice(3).replace(/ in [\d.]+ (m?s)$/, ' in … $1'));
    return { code, stdout, stderr, result: pluginResult(stdout), info, ms, argv };
  });
}

/** One JSON object on stdout, no stack, no secret anywhere (nor on the command line). */
function expectClean(r: Run) {
  expect(r.stdout.split('\n').filter(Boolean)).toHaveLength(1);
  expect(r.stdout + r.stderr).not.toMatch(/\n\s+at /);
  for (const secret of [HOOK_TOKEN, PLEX_TOKEN, STASH_KEY]) {
    expect(r.stdout + r.stderr).not.toContain(secret);
    expect(r.argv.join(' ')).not.toContain(secret);
  }
}

const viaDashboard = `STASH2PLEX_URL=${'$URL'}\nHOOK_TOKEN=${HOOK_TOKEN}\n`;
const dotenvFor = (url: string, token = HOOK_TOKEN) => viaDashboard.replace('$URL', url).replace(HOOK_TOKEN, token);
const withPlex = () => `PLEX_URL=${world.plex.url}\nPLEX_TOKEN=${PLEX_TOKEN}\nPATH_MAP=${world.env.PATH_MAP}\n`;

describe('the built plugin, with only STASH2PLEX_URL and HOOK_TOKEN in its folder', () => {
  it.each([
    ['reconcile_library_dry_run', {}],
    ['explain_scene', { sceneId: '1' }],
    ['restore_dry_run', {}],
    ['health_check', {}],
  ] as const)('%s prints what a run with the Plex credentials prints', async (mode, args) => {
    const local = await runTask(mode, withPlex(), {}, args);
    const remote = await runTask(mode, dotenvFor(dash.url), {}, args);
    expectClean(local);
    expectClean(remote);
    expect(local.result.error).toBeUndefined();
    expect(local.code).toBe(0);
    expect(remote.code).toBe(0);
    const normalise = (s: string | undefined) => s?.replace(/responded in \d+ ms/, 'responded in … ms');
    expect(normalise(remote.result.output)).toBe(normalise(local.result.output));
    const own = (l: string) => !l.includes('asking the stash2plex dashboard at');
    expect(remote.info.filter(own).map(normalise)).toEqual(local.info.map(normalise));
  });

  it('a wrong HOOK_TOKEN: one {"error"} naming it, exit 1', async () => {
    const r = await runTask('reconcile_library_dry_run', dotenvFor(dash.url, 'not-the-token'));
    expectClean(r);
    expect(r.code).toBe(1);
    expect(r.result.error).toBe(
      `Reconcile Library (dry run): HOOK_TOKEN rejected by the dashboard at ${dash.url} (STASH2PLEX_URL): the plugin folder's HOOK_TOKEN must be the dashboard's`,
    );
  });

  it('a dashboard that never answers: one {"error"} within the timeout (10 s), exit 1', async () => {
    const sockets: Socket[] = [];
    const silent: Server = createServer((s) => sockets.push(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(silent.address() as { port: number }).port}`;
    try {
      const r = await runTask('explain_scene', dotenvFor(url), {}, { sceneId: '1' });
      expectClean(r);
      expect(r.code).toBe(1);
      expect(r.result.error).toBe(`Explain Scene: the stash2plex dashboard at ${url} (STASH2PLEX_URL) did not answer within 10 s`);
      expect(r.ms).toBeLessThan(30_000);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => silent.close(() => r()));
    }
  }, 60_000);
});
