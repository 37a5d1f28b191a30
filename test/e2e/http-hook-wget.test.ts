// The HTTP hook as a Stash install without Node.js runs it: the built stash2plex plugin's exec (sh
// stash2plex.sh, which finds no node on PATH and posts with BusyBox wget, as in Stash's Alpine-based
// Docker image) and the curl variant's, with {pluginDir} replaced, the working directory another folder
// and the plugin input JSON on stdin, against the real dashboard process; a real worker process syncs the
// edit to the Plex simulator. With the dashboard stopped the hook fails at once with one {"error": …}
// line (Stash logs the hook error; the save itself is unaffected).
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parse } from 'yaml';
import { type Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectRedis, keys } from '../../src/core/redis.js';
import type { SyncJobData } from '../../src/model/inbox-item.js';
import { createSyncQueue } from '../../src/sync/queue.js';
import { freePort } from '../helpers/ports.js';
import { startProcess, type Proc } from '../helpers/proc.js';
import { waitFor } from '../helpers/wait.js';
import { PLEX_TOKEN, STASH_KEY, startWorld, type World } from '../helpers/world.js';

const WORKER = 'dist/workers/worker.js';
const DASHBOARD = 'dist/workers/dashboard.js';
const TOKEN = 'e2e-hook-token-3f9d0c6a';
const COOKIE = 'e2e-session-cookie-77aa';

const has = (cmd: string, args: string[]) => spawnSync(cmd, args, { stdio: 'ignore' }).status === 0;

/** BusyBox on PATH; when missing, one `apt-get install -y busybox` is tried (as root). */
function findBusybox(): boolean {
  if (has('busybox', ['--help'])) return true;
  if (process.getuid?.() === 0 && has('apt-get', ['--version'])) {
    console.warn('[http-hook e2e] no busybox on PATH: trying apt-get install -y busybox once');
    spawnSync(
      'sh',
      [
        '-c',
        'DEBIAN_FRONTEND=noninteractive apt-get install -y -qq busybox || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq busybox)',
      ],
      {
        stdio: 'ignore',
        timeout: 300_000,
      },
    );
  }
  return has('busybox', ['--help']);
}
const BUSYBOX = findBusybox();
const CURL = has('curl', ['--version']);
if (!BUSYBOX)
  console.warn(
    '\n[http-hook e2e] SKIPPED the BusyBox wget tests: no busybox on PATH and none could be installed (apt-get install -y busybox).\n',
  );
if (!CURL) console.warn('\n[http-hook e2e] SKIPPED the curl tests: no curl on PATH.\n');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/**
 * Runs a command as Stash's raw interface does: argv as given (no shell), the working directory
 * Stash's own (another folder), the plugin input written to its stdin, which is a pipe (Go's
 * exec.Cmd.StdinPipe, pkg/plugin/raw.go). Node gives a child a socket pair instead, and
 * `open("/dev/stdin")` fails on a socket, so a `cat` stands in for Stash's pipe: `cat | exec <argv>`.
 */
function exec(argv: string[], stdin: string, path = process.env.PATH ?? '', timeoutMs = 15_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn('sh', ['-c', 'cat | exec "$@"', 'sh', ...argv], {
      cwd: stashCwd,
      env: { PATH: path },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${argv.slice(0, 2).join(' ')} did not exit within ${timeoutMs} ms`));
    }, timeoutMs);
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.stdin.on('error', () => undefined);
    child.stdin.end(stdin);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: performance.now() - started });
    });
  });
}

/** Where the built plugin folders and a BusyBox-only PATH (no node, as Stash's Alpine image) live. */
let work: string;
let stashCwd: string;
let alpine: string;
const plugins = { main: '', curl: '' };
const APPLETS = ['sh', 'cat', 'sed', 'tail', 'head', 'tr', 'mktemp', 'sleep', 'rm', 'kill', 'wget'];

/**
 * The plugin's exec as Stash builds it ({pluginDir} replaced) and the PATH it runs with, its folder's
 * .env pointing at `target` with `token` (what the user writes there, or the build with STASH2PLEX_URL
 * and HOOK_TOKEN set).
 */
function plugin(kind: 'main' | 'curl', target: string, token = TOKEN): { argv: string[]; path: string } {
  const dir = plugins[kind];
  writeFileSync(join(dir, '.env'), `STASH2PLEX_URL=${target}\nHOOK_TOKEN=${token}\n`);
  const manifest = join(dir, kind === 'main' ? 'stash2plex.yml' : 'stash2plex-curl.yml');
  const { exec: argv } = parse(readFileSync(manifest, 'utf8')) as { exec: string[] };
  // curl is not in Stash's image: the curl variant gets the host's beside the applets.
  const path =
    kind === 'curl' ? `${alpine}:${dirname(spawnSync('sh', ['-c', 'command -v curl'], { encoding: 'utf8' }).stdout.trim())}` : alpine;
  return { argv: argv.map((a, i) => (i === 0 ? a : a.replaceAll('{pluginDir}', dir))), path };
}
const viaWget = (target: string, token?: string) => plugin('main', target, token);
const viaCurl = (target: string, token?: string) => plugin('curl', target, token);

let world: World;
let worker: Proc;
let dashboard: Proc | undefined;
let url: string;
let conn: ReturnType<typeof connectRedis>;
let queue: Queue<SyncJobData>;
let sceneIds: string[];

function hookInput(id: string, inputFields = ['title', 'id']) {
  return JSON.stringify({
    server_connection: {
      Scheme: 'http',
      Host: '0.0.0.0',
      Port: 9999,
      SessionCookie: { Name: 'session', Value: COOKIE },
      Dir: '/root/.stash',
      PluginDir: '/root/.stash/plugins/stash2plex',
    },
    args: { hookContext: { id: Number(id), type: 'Scene.Update.Post', input: { id, title: 'x' }, inputFields } },
  });
}
/** Stash's parse: the whole stdout is one JSON object. */
function pluginResult(r: Run): Record<string, unknown> {
  expect(r.stdout.trimEnd().split('\n'), r.stderr).toHaveLength(1);
  const parsed = JSON.parse(r.stdout) as Record<string, unknown>;
  expect(Object.keys(parsed)).toHaveLength(1);
  return parsed;
}
async function startDashboardProcess(port: number): Promise<Proc> {
  const p = startProcess(DASHBOARD, { ...world.env, HOOK_TOKEN: TOKEN, DASHBOARD_PORT: String(port), LOG_LEVEL: 'info' });
  await waitFor(async () => (await fetch(`${url}/healthz`).catch(() => null))?.status === 200, 15_000, 'the dashboard process');
  return p;
}
async function syncedTitle(sceneId: string, title: string) {
  const rk = world.ratingKeyOf.get(sceneId)!;
  await waitFor(() => world.plex.item(rk)?.title === title, 20_000, `Plex title of scene ${sceneId} = ${title}`);
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 's2p-http-hook-'));
  stashCwd = join(work, 'stash');
  alpine = join(work, 'bin');
  mkdirSync(stashCwd);
  mkdirSync(alpine);
  if (BUSYBOX)
    for (const a of APPLETS)
      symlinkSync(spawnSync('sh', ['-c', 'command -v busybox'], { encoding: 'utf8' }).stdout.trim(), join(alpine, a));
  Object.assign(plugins, { main: join(work, 'plugins/stash2plex'), curl: join(work, 'plugins/stash2plex-curl') });
  const b = spawnSync(
    process.execPath,
    ['scripts/build-plugin.mjs', '--outdir', plugins.main, '--curl-outdir', plugins.curl, '--no-env-file', '--quiet'],
    { env: { PATH: process.env.PATH ?? '' }, encoding: 'utf8' },
  );
  expect(b.status, b.stderr).toBe(0);
  world = await startWorld({ scenes: 6, prefixName: 'httphook', env: { LOG_LEVEL: 'warn', SYNC_POSTER: 'false' } });
  sceneIds = [...world.ratingKeyOf.keys()];
  conn = connectRedis(world.config);
  queue = createSyncQueue(conn, world.prefix);
  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  worker = startProcess(WORKER, world.env);
  dashboard = await startDashboardProcess(port);
});
afterAll(async () => {
  await dashboard?.stop();
  await worker?.stop();
  await queue?.close();
  conn?.disconnect();
  await world?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe.skipIf(!BUSYBOX)('Stash without node: the stash2plex plugin → BusyBox wget → dashboard → worker → Plex', () => {
  it('a title edit: the hook prints exactly one JSON object with output, and Plex shows the new title', async () => {
    const id = sceneIds[0];
    world.stash.updateScene(id, { title: 'Edited through wget' });
    const { argv, path } = viaWget(url);
    expect(argv).toEqual(['sh', join(plugins.main, 'stash2plex.sh')]);
    const r = await exec(argv, hookInput(id), path);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`{"output":"queued scene ${id}"}\n`);
    expect(r.stderr).toBe('');
    expect(pluginResult(r)).toEqual({ output: `queued scene ${id}` });
    await syncedTitle(id, 'Edited through wget');
  });

  it('an irrelevant edit prints `skipped: …` and queues nothing', async () => {
    const before = await conn.xlen(keys(world.prefix).inbox);
    const { argv, path } = viaWget(url);
    const r = await exec(argv, hookInput(sceneIds[1], ['organized', 'id']), path);
    expect(r.code).toBe(0);
    expect(pluginResult(r).output).toMatch(/^skipped: /);
    expect(await conn.xlen(keys(world.prefix).inbox)).toBe(before);
  });

  it('a wrong token: one {"error": …} line naming the 401 (Stash shows it as the hook error), exit 1', async () => {
    const { argv, path } = viaWget(url, 'not-the-token');
    const r = await exec(argv, hookInput(sceneIds[1]), path);
    expect(r.code).toBe(1);
    expect(pluginResult(r).error).toMatch(/did not take the event \(wget: server returned error: HTTP\/1\.1 401 Unauthorized/);
    expect(r.stdout + r.stderr).not.toContain('not-the-token');
  });
});

// Why stash2plex.sh posts a file, not /dev/stdin: GNU wget (Debian/Ubuntu-based Stash images) needs
// the POST body's size in advance and refuses a pipe (`BODY data file '/dev/stdin' missing: Illegal seek`).
const GNU_WGET = spawnSync('wget', ['--version'], { encoding: 'utf8' }).stdout?.startsWith('GNU Wget') ?? false;
describe.skipIf(!GNU_WGET)('GNU wget', () => {
  it('cannot post /dev/stdin from a pipe (so stash2plex.sh writes the input to a file first)', async () => {
    const r = await exec(
      ['wget', '-q', '-O', '-', '--header', `Authorization: Bearer ${TOKEN}`, '--post-file', '/dev/stdin', `${url}/api/stash/hook`],
      hookInput(sceneIds[5]),
    );
    expect(r.code).not.toBe(0);
    expect(r.stdout).toBe('');
  });
});

describe.skipIf(!CURL || !BUSYBOX)('the stash2plex-curl plugin → curl → dashboard → worker → Plex', () => {
  it('a title edit: curl prints exactly one JSON object with output, and Plex shows the new title', async () => {
    const id = sceneIds[2];
    world.stash.updateScene(id, { title: 'Edited through curl' });
    const { argv, path } = viaCurl(url);
    expect(argv).toEqual(['sh', join(plugins.curl, 'stash2plex.sh'), 'curl']);
    const r = await exec(argv, hookInput(id), path);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`{"output":"queued scene ${id}"}\n`);
    await syncedTitle(id, 'Edited through curl');
  });

  it('errors: the dashboard\'s own one `{"error": …}` object, exit 1', async () => {
    const wrongToken = viaCurl(url, 'not-the-token');
    const wrong = await exec(wrongToken.argv, hookInput(sceneIds[3]), wrongToken.path);
    expect(wrong.code).toBe(1);
    expect(pluginResult(wrong).error).toMatch(/token/);
    const { argv, path } = viaCurl(url);
    const bad = await exec(argv, '{"server_connection": ', path);
    expect(bad.code).toBe(1);
    expect(pluginResult(bad).error).toMatch(/not JSON/);
  });
});

describe.skipIf(!BUSYBOX)('with the dashboard stopped', () => {
  it('the hook fails at once with one {"error": …} line; a restarted dashboard takes hooks again', async () => {
    await dashboard!.stop();
    dashboard = undefined;
    const id = sceneIds[4];
    for (const via of CURL ? [viaWget, viaCurl] : [viaWget]) {
      const { argv, path } = via(url);
      const r = await exec(argv, hookInput(id), path);
      expect(r.code).toBe(1);
      expect(pluginResult(r).error).toMatch(
        /the dashboard at http:\/\/127\.0\.0\.1:\d+ did not take the event \((wget: can't connect|curl: \(7\))/,
      );
      expect(r.ms).toBeLessThan(3_000);
    }
    dashboard = await startDashboardProcess(Number(new URL(url).port));
    world.stash.updateScene(id, { title: 'After the restart' });
    const { argv, path } = viaWget(url);
    const again = await exec(argv, hookInput(id), path);
    expect(again.code, again.stderr).toBe(0);
    expect(pluginResult(again)).toEqual({ output: `queued scene ${id}` });
    await syncedTitle(id, 'After the restart');
  });

  it("nothing secret in the processes' output", () => {
    const logs = worker.output() + (dashboard?.output() ?? '');
    for (const secret of [TOKEN, COOKIE, PLEX_TOKEN, STASH_KEY]) expect(logs).not.toContain(secret);
  });
});
