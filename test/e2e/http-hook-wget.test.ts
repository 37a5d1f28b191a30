// The HTTP hook as a Stash install without Node.js runs it: the built stash2plex plugin's exec (sh
// stash2plex.sh, which finds no node on PATH and posts with BusyBox wget, as in Stash's Alpine-based
// Docker image) and the curl variant's, with {pluginDir} replaced, the working directory another folder
// and the plugin input JSON on stdin, against the real dashboard process; a real worker process syncs the
// edit to the Plex simulator. With the dashboard stopped the hook fails at once with one {"error": …}
// line (Stash logs the hook error; the save itself is unaffected). While a dashboard holds the request
// open, the token is in no process's argv (BusyBox wget and GNU wget: it travels in the posted file).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
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
/** A Debian-based Stash image's wget. */
const GNU_WGET_BIN = '/usr/bin/wget';
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
function exec(
  argv: string[],
  stdin: string,
  path = process.env.PATH ?? '',
  timeoutMs = 15_000,
  env: Record<string, string> = {},
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn('sh', ['-c', 'cat | exec "$@"', 'sh', ...argv], {
      cwd: stashCwd,
      env: { PATH: path, ...env },
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
/** The same applets, but wget is the host's GNU wget (a Debian-based Stash image). */
let debian: string;
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
  debian = join(work, 'bin-gnu-wget');
  mkdirSync(stashCwd);
  mkdirSync(alpine);
  mkdirSync(debian);
  if (BUSYBOX) {
    const busybox = spawnSync('sh', ['-c', 'command -v busybox'], { encoding: 'utf8' }).stdout.trim();
    for (const a of APPLETS) symlinkSync(busybox, join(alpine, a));
    for (const a of APPLETS.filter((x) => x !== 'wget')) symlinkSync(busybox, join(debian, a));
  }
  if (existsSync(GNU_WGET_BIN)) symlinkSync(GNU_WGET_BIN, join(debian, 'wget'));
  Object.assign(plugins, { main: join(work, 'plugins/stash2plex'), curl: join(work, 'plugins/stash2plex-curl') });
  const b = spawnSync(
    process.execPath,
    ['scripts/build-plugin.mjs', '--outdir', plugins.main, '--curl-outdir', plugins.curl, '--no-env-file', '--quiet'],
    { env: { PATH: process.env.PATH ?? '' }, encoding: 'utf8' },
  );
  expect(b.status, b.stderr).toBe(0);
  world = await startWorld({ scenes: 8, prefixName: 'httphook', env: { LOG_LEVEL: 'warn', SYNC_POSTER: 'false' } });
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

/** Every process's argv (/proc/<pid>/cmdline, NULs as spaces): ours and every other user's. */
function everyProcessArgv(): string[] {
  const argvs: string[] = [];
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      argvs.push(readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim());
    } catch {
      /* exited meanwhile */
    }
  }
  return argvs;
}

/**
 * A dashboard that holds every request open until `release()`: it reads the request whole, then waits;
 * released, it forwards the request (method, Content-Type, Authorization and body) to the real dashboard
 * at `target` and hands back its answer.
 */
async function holdingDashboard(target: string) {
  const held: { req: IncomingMessage; body: Buffer; answer: (status: number, text: string) => void }[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () =>
      held.push({
        req,
        body: Buffer.concat(chunks),
        answer: (status, text) => res.writeHead(status, { 'Content-Type': 'application/json' }).end(text),
      }),
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const at = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return {
    url: at,
    held,
    async release() {
      for (const { req, body, answer } of held.splice(0)) {
        const headers: Record<string, string> = {};
        for (const h of ['content-type', 'authorization']) if (req.headers[h]) headers[h] = String(req.headers[h]);
        const r = await fetch(`${target}${req.url}`, { method: req.method, headers, body: new Uint8Array(body) });
        answer(r.status, await r.text());
      }
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

const WGETS = [
  { name: 'BusyBox wget', bin: () => alpine, scene: 6, skip: !BUSYBOX },
  {
    name: existsSync(GNU_WGET_BIN) ? `GNU wget (${GNU_WGET_BIN})` : `GNU wget (SKIPPED: no ${GNU_WGET_BIN})`,
    bin: () => debian,
    scene: 7,
    skip: !BUSYBOX || !existsSync(GNU_WGET_BIN),
  },
];
describe.each(WGETS)('no token in argv: $name', ({ name, bin, scene, skip }) => {
  it.skipIf(skip)(
    "while the dashboard holds the request, the token is in no process's argv; the file it is posted from is private and removed",
    async () => {
      const dashboardThatHolds = await holdingDashboard(url);
      const tmp = mkdtempSync(join(work, 'tmp-'));
      try {
        const id = sceneIds[scene];
        world.stash.updateScene(id, { title: `Posted by ${name}` });
        const { argv } = viaWget(dashboardThatHolds.url);
        const running = exec(argv, hookInput(id), bin(), 60_000, { TMPDIR: tmp, S2P_HOOK_HTTP_TIMEOUT_S: '40' });
        await waitFor(() => dashboardThatHolds.held.length === 1, 15_000, 'the request held at the dashboard');
        const argvs = everyProcessArgv();
        // wget is running (its argv read here: it names the endpoint), and the token is in no argv at all.
        expect(argvs.filter((a) => a.includes(`${dashboardThatHolds.url}/api/stash/hook`) && /wget/.test(a))).toHaveLength(1);
        expect(argvs.filter((a) => a.includes(TOKEN))).toEqual([]);
        for (const f of readdirSync(tmp)) expect(statSync(join(tmp, f)).mode & 0o777, f).toBe(0o600);
        await dashboardThatHolds.release();
        const r = await running;
        expect(r.code, r.stderr).toBe(0);
        expect(pluginResult(r)).toEqual({ output: `queued scene ${id}` });
        expect(readdirSync(tmp)).toEqual([]);
        await syncedTitle(id, `Posted by ${name}`);
      } finally {
        await dashboardThatHolds.close();
        rmSync(tmp, { recursive: true, force: true });
      }
    },
  );

  it.skipIf(skip)('a wrong token: one {"error": …} line naming the 401, exit 1, the token in no output', async () => {
    const { argv } = viaWget(url, 'not-the-token');
    const r = await exec(argv, hookInput(sceneIds[1]), bin());
    expect(r.code).toBe(1);
    expect(pluginResult(r).error).toMatch(/did not take the event \(.*401/);
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
