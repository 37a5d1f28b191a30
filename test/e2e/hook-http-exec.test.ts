// The plugin folders as the build writes them, run the way Stash runs a raw plugin (stashapp/stash
// pkg/plugin/config.go getExecCommand and raw.go): the manifest's exec with {pluginDir} replaced in every
// argument but the first, argv[0] looked up on PATH, the working directory Stash's own (another folder),
// the plugin input JSON on stdin through a pipe. PATH is BusyBox only, as in Stash's Alpine image: no
// node. A tiny HTTP server stands in for the dashboard (it records the request and answers as told);
// another accepts connections and never answers.
//
// What must hold: the event reaches the dashboard with the token (curl: the bearer header; wget, BusyBox
// or GNU: the body's first line, Content-Type application/x-stash2plex-hook), which is in no exec line; the
// process prints exactly the dashboard's answer; every failure is one {"error": …} line, quickly; a
// dashboard that never answers costs at most the timeout; with node on PATH the stash2plex plugin runs
// the Node hook, which reads the .env of its own folder (not of the working directory).
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { keys } from '../../src/core/keys.js';
import { HTTP_HOOK_TOKEN_BODY_TYPE } from '../../src/hook/input.js';
import { testRedis, testRedisUrl, uniquePrefix } from '../helpers/redis.js';

const TOKEN = 'exec-test-token-51ab0e';
const ANSWER = '{"output":"ok"}';

const BUSYBOX = spawnSync('sh', ['-c', 'command -v busybox'], { encoding: 'utf8' }).stdout.trim();
const CURL = spawnSync('sh', ['-c', 'command -v curl'], { encoding: 'utf8' }).stdout.trim();
if (!BUSYBOX) console.warn('\n[hook-http-exec] SKIPPED: no busybox on PATH (apt-get install -y busybox)\n');
if (!CURL) console.warn('\n[hook-http-exec] SKIPPED the curl variant: no curl on PATH\n');
/** A Debian-based Stash image's wget. */
const GNU_WGET = existsSync('/usr/bin/wget') ? '/usr/bin/wget' : '';
if (!GNU_WGET) console.warn('\n[hook-http-exec] SKIPPED the GNU wget variant: no /usr/bin/wget\n');
/** What a BusyBox-only Stash image offers the script (and the `cat` standing in for Stash's pipe). */
const APPLETS = ['sh', 'cat', 'sed', 'tail', 'head', 'tr', 'mktemp', 'sleep', 'rm', 'kill', 'wget'];

interface Seen {
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}
let server: Server;
let silent: Server;
let port: number;
let silentPort: number;
const seen: Seen[] = [];
let reply: { status: number; body: string } = { status: 200, body: ANSWER };

let work: string;
/** PATH of a Stash without Node: BusyBox applets only; the same with curl; the same with GNU wget. */
let alpine: string;
let alpineCurl: string;
let debian: string;
const plugin = { main: '', http: '', curl: '', node: '' };

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({ url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) });
      res.writeHead(reply.status, { 'Content-Type': 'application/json' }).end(reply.body);
    });
  });
  silent = createServer(() => undefined); // reads nothing, answers nothing
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  port = (server.address() as { port: number }).port;
  silentPort = (silent.address() as { port: number }).port;

  work = mkdtempSync(join(tmpdir(), 's2p-http-exec-'));
  alpine = join(work, 'bin');
  alpineCurl = join(work, 'bin-curl');
  debian = join(work, 'bin-gnu-wget');
  for (const bin of [alpine, alpineCurl, debian]) mkdirSync(bin);
  if (BUSYBOX) for (const a of APPLETS) for (const bin of [alpine, alpineCurl]) symlinkSync(BUSYBOX, join(bin, a));
  if (BUSYBOX) for (const a of APPLETS.filter((x) => x !== 'wget')) symlinkSync(BUSYBOX, join(debian, a));
  if (CURL) symlinkSync(CURL, join(alpineCurl, 'curl'));
  if (GNU_WGET) symlinkSync(GNU_WGET, join(debian, 'wget'));

  Object.assign(plugin, {
    main: join(work, 'plugins/stash2plex'),
    http: join(work, 'plugins/http'),
    curl: join(work, 'plugins/curl'),
    node: join(work, 'plugins/node'),
  });
  const args = ['scripts/build-plugin.mjs', '--outdir', plugin.main, '--http-outdir', plugin.http, '--curl-outdir', plugin.curl];
  const r = spawnSync(process.execPath, [...args, '--node-outdir', plugin.node, '--no-env-file', '--quiet'], {
    env: { PATH: process.env.PATH ?? '', STASH2PLEX_URL: `http://127.0.0.1:${port}`, HOOK_TOKEN: TOKEN },
    encoding: 'utf8',
  });
  expect(r.status, r.stderr).toBe(0);
}, 60_000);
afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  silent.closeAllConnections();
  await new Promise<void>((r) => silent.close(() => r()));
  rmSync(work, { recursive: true, force: true });
});
beforeEach(() => {
  seen.length = 0;
  reply = { status: 200, body: ANSWER };
});

/** The manifest's exec as Stash builds it: {pluginDir} replaced in every argument but the first. */
function execOf(manifest: string): string[] {
  const m = parse(readFileSync(manifest, 'utf8')) as { exec: string[]; interface: string };
  expect(m.interface).toBe('raw');
  return m.exec.map((a, i) => (i === 0 ? a : a.replaceAll('{pluginDir}', dirname(manifest))));
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/**
 * Starts argv as Stash does (no shell of ours; argv[0] from PATH; cwd another folder) with `input` on
 * stdin through a pipe closed after it (Go's StdinPipe). Node hands a child a socket pair for stdin, so
 * a `cat` provides the pipe: sh -c 'cat | exec "$@"'.
 */
function runAsStash(argv: string[], input: string, path: string, env: Record<string, string> = {}): Promise<Run> {
  const cwd = mkdtempSync(join(work, 'stash-cwd-'));
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn('sh', ['-c', 'cat | exec "$@"', 'sh', ...argv], {
      cwd,
      env: { PATH: path, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.stdin.on('error', () => undefined);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: performance.now() - started });
    });
    child.stdin.end(input);
  });
}

/** Stash's parse of a failure: stdout is one JSON object whose `error` says what went wrong. */
function oneErrorLine(r: Run): string {
  expect(r.code).not.toBe(0);
  expect(r.stdout.endsWith('\n') && r.stdout.trimEnd().split('\n').length === 1, r.stdout).toBe(true);
  const parsed = JSON.parse(r.stdout) as { error?: unknown };
  expect(Object.keys(parsed)).toEqual(['error']);
  expect(typeof parsed.error).toBe('string');
  return parsed.error as string;
}

/** A plugin input as Stash marshals it (no trailing newline); big and non-ASCII to catch any re-encoding. */
function stashInput(pluginDir: string, type = 'Scene.Update.Post', id = 45) {
  return JSON.stringify({
    server_connection: {
      Scheme: 'http',
      Host: '0.0.0.0',
      Port: 9999,
      SessionCookie: { Name: 'session', Value: 'c00k1e' },
      PluginDir: pluginDir,
    },
    args: {
      hookContext: {
        id,
        type,
        input: { id: String(id), title: 'Ünïcödé — "quoted" & <tagged>', details: 'x'.repeat(200_000) },
        inputFields: ['title', 'details', 'id'],
      },
    },
  });
}

/** A copy of a built plugin folder with its own .env (or none). */
function pluginCopy(from: string, name: string, dotenv: string | null): string {
  const dir = join(work, 'plugins', name);
  mkdirSync(dir, { recursive: true });
  for (const f of ['stash2plex.yml', 'stash2plex.sh', 'stash2plex.cjs', 'stash2plex-hook.cjs', 'stash2plex-tasks.cjs']) {
    try {
      copyFileSync(join(from, f), join(dir, f));
    } catch {
      /* not in this variant */
    }
  }
  if (dotenv !== null) writeFileSync(join(dir, '.env'), dotenv);
  return dir;
}

// `agent`: the User-Agent that tells which tool really ran (BusyBox wget says just "Wget").
const variants = [
  {
    name: 'stash2plex without node (BusyBox wget)',
    dir: () => plugin.main,
    file: 'stash2plex.yml',
    path: () => alpine,
    tool: 'wget',
    agent: /^Wget$/,
    skip: !BUSYBOX,
  },
  {
    name: 'stash2plex-http (BusyBox wget)',
    dir: () => plugin.http,
    file: 'stash2plex-http.yml',
    path: () => alpine,
    tool: 'wget',
    agent: /^Wget$/,
    skip: !BUSYBOX,
  },
  {
    name: GNU_WGET ? 'stash2plex-http (GNU wget)' : 'stash2plex-http (GNU wget: SKIPPED, no /usr/bin/wget)',
    dir: () => plugin.http,
    file: 'stash2plex-http.yml',
    path: () => debian,
    tool: 'wget',
    agent: /^Wget\/\d/,
    skip: !BUSYBOX || !GNU_WGET,
  },
  {
    name: 'stash2plex-curl',
    dir: () => plugin.curl,
    file: 'stash2plex-curl.yml',
    path: () => alpineCurl,
    tool: 'curl',
    agent: /^curl\//,
    skip: !BUSYBOX || !CURL,
  },
] as const;

describe.each(variants)('$name', ({ dir, file, path, tool, agent, skip }) => {
  it.skipIf(skip)('posts exactly the input with the token, prints exactly the answer; no token or URL in the exec line', async () => {
    const manifest = join(dir(), file);
    const argv = execOf(manifest);
    expect(argv[0]).toBe('sh');
    expect(argv.join(' ')).not.toContain(TOKEN);
    expect(argv.join(' ')).not.toContain(String(port));
    // The token lives in the plugin folder's .env, readable by its owner only.
    expect(statSync(join(dir(), '.env')).mode & 0o777).toBe(0o600);
    const input = stashInput(dir());
    const r = await runAsStash(argv, input, path());
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`${ANSWER}\n`);
    expect(r.stderr).toBe('');
    expect(seen).toHaveLength(1);
    expect(seen[0].url).toBe('/api/stash/hook');
    expect(seen[0].headers['user-agent']).toMatch(agent);
    if (tool === 'curl') {
      expect(seen[0].headers.authorization).toBe(`Bearer ${TOKEN}`);
      expect(seen[0].headers['content-type']).toBe('application/json');
      expect(seen[0].body.equals(Buffer.from(input, 'utf8'))).toBe(true);
    } else {
      // wget: the token is the body's first line, never a header (a header of wget's is in its argv).
      expect(seen[0].headers.authorization).toBeUndefined();
      expect(seen[0].headers['content-type']).toBe(HTTP_HOOK_TOKEN_BODY_TYPE);
      expect(seen[0].body.equals(Buffer.from(`${TOKEN}\n${input}`, 'utf8'))).toBe(true);
    }
  });

  it.skipIf(skip)('an HTTP error is one {"error": …} line naming what happened', async () => {
    reply = { status: 401, body: '{"error":"missing or wrong token: send Authorization: Bearer <HOOK_TOKEN>"}\n' };
    const r = await runAsStash(execOf(join(dir(), file)), stashInput(dir()), path());
    expect(oneErrorLine(r)).toMatch(tool === 'curl' ? /wrong token/ : /401/);
    expect(r.stdout).not.toContain(TOKEN);
  });

  it.skipIf(skip)('a dashboard that never answers: back within the timeout, one error line', async () => {
    const copy = pluginCopy(
      dir(),
      `silent-${path().split('/').pop()}-${file}`,
      `STASH2PLEX_URL=http://127.0.0.1:${silentPort}\nHOOK_TOKEN=${TOKEN}\n`,
    );
    copyFileSync(join(dir(), file), join(copy, file));
    const r = await runAsStash(execOf(join(copy, file)), stashInput(copy), path(), { S2P_HOOK_HTTP_TIMEOUT_S: '2' });
    expect(oneErrorLine(r)).toMatch(/no answer from the dashboard at http:\/\/127\.0\.0\.1:\d+ within 2 s/);
    expect(r.ms).toBeGreaterThanOrEqual(1_500);
    expect(r.ms).toBeLessThan(10_000); // 2 s, on a loaded machine
  });
});

describe.skipIf(!BUSYBOX)('the stash2plex plugin in a Stash without node', () => {
  it('with no .env in its folder: fails alone, quickly, with one error line naming STASH2PLEX_URL', async () => {
    const bare = pluginCopy(plugin.main, 'bare', null);
    const r = await runAsStash(execOf(join(bare, 'stash2plex.yml')), stashInput(bare), alpine);
    expect(oneErrorLine(r)).toMatch(/node \(Node\.js 20 or newer\) is not on PATH.*STASH2PLEX_URL is not set/);
    expect(r.ms).toBeLessThan(5_000);
    expect(seen).toHaveLength(0);
  });

  it('with neither wget nor curl: one error line saying so', async () => {
    const noTools = join(work, 'bin-bare');
    mkdirSync(noTools, { recursive: true });
    for (const a of APPLETS.filter((x) => x !== 'wget')) symlinkSync(BUSYBOX, join(noTools, a));
    const r = await runAsStash(execOf(join(plugin.main, 'stash2plex.yml')), stashInput(plugin.main), noTools);
    expect(oneErrorLine(r)).toMatch(/neither wget nor curl is on PATH/);
  });
});

describe('the stash2plex plugin with node on PATH', () => {
  it('runs the Node hook, which reads the .env of its own folder (Stash runs it in another working directory)', async () => {
    const prefix = uniquePrefix('exec');
    const dir = pluginCopy(plugin.main, 'with-node', `REDIS_URL=${testRedisUrl()}\nREDIS_PREFIX=${prefix}\n`);
    const redis = testRedis();
    try {
      const path = `${dirname(process.execPath)}:${process.env.PATH ?? ''}`;
      const r = await runAsStash(execOf(join(dir, 'stash2plex.yml')), stashInput(dir, 'Scene.Update.Post', 46), path);
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toEqual({ output: 'queued scene 46' });
      const entries = await redis.xrange(keys(prefix).inbox, '-', '+');
      expect(entries).toHaveLength(1);
      expect(entries[0][1]).toEqual(expect.arrayContaining(['sceneId', '46']));
      expect(seen).toHaveLength(0); // not the HTTP hook
    } finally {
      redis.disconnect();
    }
  });
});
