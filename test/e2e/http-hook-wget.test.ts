// The HTTP hook as a Stash install without Node.js runs it: the plugin's exec is BusyBox wget (Stash's
// Alpine-based Docker image) or curl, with the plugin input JSON on stdin, against the real dashboard
// process; a real worker process syncs the edit to the Plex simulator. With the dashboard stopped the
// client fails at once (non-zero exit, Stash logs the hook error, the save itself is unaffected).
import { spawn, spawnSync } from 'node:child_process';
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
 * Runs a command as Stash's raw interface does: argv as given (no shell), the plugin input written to
 * its stdin, which is a pipe (Go's exec.Cmd.StdinPipe, pkg/plugin/raw.go). Node gives a child a socket
 * pair instead, and `open("/dev/stdin")` fails on a socket (ENXIO: BusyBox wget's `--post-file
 * /dev/stdin` opens it), so a `cat` stands in for Stash's pipe: `cat | exec <argv>`.
 */
function exec(argv: string[], stdin: string, timeoutMs = 15_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn('sh', ['-c', 'cat | exec "$@"', 'sh', ...argv], {
      env: { PATH: process.env.PATH ?? '' },
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

/** The exec lines suggested for the plugin manifest (README / report), with the URL and token filled in. */
const wgetArgv = (url: string, token = TOKEN) => [
  'busybox',
  'wget',
  '-q',
  '-O',
  '-',
  '--header',
  `Authorization: Bearer ${token}`,
  '--header',
  'Content-Type: application/json',
  '--post-file',
  '/dev/stdin',
  `${url}/api/stash/hook`,
];
const curlArgv = (url: string, token = TOKEN) => [
  'curl',
  '-sS',
  '--fail-with-body',
  '--max-time',
  '10',
  '-X',
  'POST',
  '-H',
  `Authorization: Bearer ${token}`,
  '-H',
  'Content-Type: application/json',
  '--data-binary',
  '@-',
  `${url}/api/stash/hook`,
];

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
});

describe.skipIf(!BUSYBOX)('Stash hook through BusyBox wget → dashboard → worker → Plex', () => {
  it('a title edit: wget prints exactly one JSON object with output, and Plex shows the new title', async () => {
    const id = sceneIds[0];
    world.stash.updateScene(id, { title: 'Edited through wget' });
    const r = await exec(wgetArgv(url), hookInput(id));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`{"output":"queued scene ${id}"}\n`);
    expect(r.stderr).toBe('');
    expect(pluginResult(r)).toEqual({ output: `queued scene ${id}` });
    await syncedTitle(id, 'Edited through wget');
  });

  it('an irrelevant edit prints `skipped: …` and queues nothing', async () => {
    const before = await conn.xlen(keys(world.prefix).inbox);
    const r = await exec(wgetArgv(url), hookInput(sceneIds[1], ['organized', 'id']));
    expect(r.code).toBe(0);
    expect(pluginResult(r).output).toMatch(/^skipped: /);
    expect(await conn.xlen(keys(world.prefix).inbox)).toBe(before);
  });

  it('a wrong token: wget exits non-zero with nothing on stdout (Stash reports the hook error)', async () => {
    const r = await exec(wgetArgv(url, 'not-the-token'), hookInput(sceneIds[1]));
    expect(r.code).not.toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/401/);
  });
});

// Why the wget line is for BusyBox only: GNU wget (Debian/Ubuntu-based Stash images) needs the POST
// body's size in advance and refuses a pipe (`BODY data file '/dev/stdin' missing: Illegal seek`);
// there, use the curl line.
const GNU_WGET = spawnSync('wget', ['--version'], { encoding: 'utf8' }).stdout?.startsWith('GNU Wget') ?? false;
describe.skipIf(!GNU_WGET)('GNU wget', () => {
  it('cannot post /dev/stdin from a pipe (so the manifest line needs BusyBox wget, or curl)', async () => {
    const r = await exec(
      ['wget', '-q', '-O', '-', '--header', `Authorization: Bearer ${TOKEN}`, '--post-file', '/dev/stdin', `${url}/api/stash/hook`],
      hookInput(sceneIds[5]),
    );
    expect(r.code).not.toBe(0);
    expect(r.stdout).toBe('');
  });
});

describe.skipIf(!CURL)('Stash hook through curl → dashboard → worker → Plex', () => {
  it('a title edit: curl prints exactly one JSON object with output, and Plex shows the new title', async () => {
    const id = sceneIds[2];
    world.stash.updateScene(id, { title: 'Edited through curl' });
    const r = await exec(curlArgv(url), hookInput(id));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`{"output":"queued scene ${id}"}\n`);
    await syncedTitle(id, 'Edited through curl');
  });

  it('errors: curl --fail-with-body exits 22 and prints the one `{"error": …}` object', async () => {
    const wrong = await exec(curlArgv(url, 'not-the-token'), hookInput(sceneIds[3]));
    expect(wrong.code).toBe(22);
    expect(pluginResult(wrong).error).toMatch(/token/);
    const bad = await exec(curlArgv(url), '{"server_connection": ');
    expect(bad.code).toBe(22);
    expect(pluginResult(bad).error).toMatch(/not JSON/);
  });
});

describe.skipIf(!BUSYBOX && !CURL)('with the dashboard stopped', () => {
  it('the hook client fails at once with a non-zero exit; a restarted dashboard takes hooks again', async () => {
    await dashboard!.stop();
    dashboard = undefined;
    const id = sceneIds[4];
    if (BUSYBOX) {
      const r = await exec(wgetArgv(url), hookInput(id));
      expect(r.code).not.toBe(0);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/can't connect|refused/i);
      expect(r.ms).toBeLessThan(3_000);
    }
    if (CURL) {
      const r = await exec(curlArgv(url), hookInput(id));
      expect(r.code).toBe(7); // couldn't connect
      expect(r.stdout).toBe('');
      expect(r.ms).toBeLessThan(3_000);
    }
    dashboard = await startDashboardProcess(Number(new URL(url).port));
    world.stash.updateScene(id, { title: 'After the restart' });
    const again = await exec(BUSYBOX ? wgetArgv(url) : curlArgv(url), hookInput(id));
    expect(again.code, again.stderr).toBe(0);
    expect(pluginResult(again)).toEqual({ output: `queued scene ${id}` });
    await syncedTitle(id, 'After the restart');
  });

  it("nothing secret in the processes' output", () => {
    const logs = worker.output() + (dashboard?.output() ?? '');
    for (const secret of [TOKEN, COOKIE, PLEX_TOKEN, STASH_KEY]) expect(logs).not.toContain(secret);
  });
});
