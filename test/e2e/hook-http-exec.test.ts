// The HTTP variants' exec lines, run as Stash runs them: the manifest the build generated is parsed,
// its `exec` argv started without a shell (argv[0] looked up on PATH, where `wget` is BusyBox as in
// Stash's Alpine image), the plugin input written to its stdin through a pipe and closed. A tiny HTTP
// server stands in for the dashboard: it records the request and answers `{"output":"ok"}`. The
// server must get exactly the input bytes with the bearer token, and the process must print exactly
// the server's answer (what Stash parses as the plugin output).
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { HTTP_HOOK_PLACEHOLDERS } from '../../src/stash-plugin/http-manifest.js';

const TOKEN = 'exec-test-token-51ab0e';
const ANSWER = '{"output":"ok"}';

const has = (cmd: string, args: string[]) => spawnSync(cmd, args, { stdio: 'ignore' }).status === 0;
const BUSYBOX = spawnSync('sh', ['-c', 'command -v busybox'], { encoding: 'utf8' }).stdout.trim();
const CURL = has('curl', ['--version']);
if (!BUSYBOX) console.warn('\n[hook-http-exec] SKIPPED the wget manifest: no busybox on PATH (apt-get install -y busybox)\n');
if (!CURL) console.warn('\n[hook-http-exec] SKIPPED the curl manifest: no curl on PATH\n');

interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}
let server: Server;
let port: number;
const seen: Seen[] = [];
/** What the fake dashboard answers next. */
let reply: { status: number; body: string } = { status: 200, body: ANSWER };

let work: string;
/** A PATH whose `wget` is BusyBox's (Stash's Docker image is Alpine: BusyBox provides wget). */
let path: string;
let built: { configured: string; placeholders: string };

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) });
      res.writeHead(reply.status, { 'Content-Type': 'application/json' }).end(reply.body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as { port: number }).port;

  work = mkdtempSync(join(tmpdir(), 's2p-http-exec-'));
  const bin = join(work, 'bin');
  mkdirSync(bin);
  if (BUSYBOX) symlinkSync(BUSYBOX, join(bin, 'wget'));
  path = `${bin}:${process.env.PATH ?? ''}`;

  // The manifests as the build writes them: once configured, once with placeholders.
  built = { configured: join(work, 'configured'), placeholders: join(work, 'placeholders') };
  for (const [out, env] of [
    [built.configured, { STASH2PLEX_URL: `http://127.0.0.1:${port}`, HOOK_TOKEN: TOKEN }],
    [built.placeholders, {}],
  ] as const) {
    const args = [
      'scripts/build-plugin.mjs',
      '--outdir',
      join(out, 'node'),
      '--http-outdir',
      join(out, 'http'),
      '--curl-outdir',
      join(out, 'curl'),
      '--no-env-file',
      '--quiet',
    ];
    const r = spawnSync(process.execPath, args, { env: { PATH: process.env.PATH ?? '', ...env }, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
  }
}, 60_000);
afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  rmSync(work, { recursive: true, force: true });
});
beforeEach(() => {
  seen.length = 0;
  reply = { status: 200, body: ANSWER };
});

/**
 * The exec argv of a generated manifest. Placeholders (if any) are filled in in the file's text, as
 * docs/STASH.md does with sed, before the YAML is read.
 */
function execOf(file: string): string[] {
  const text = readFileSync(file, 'utf8')
    .replaceAll(HTTP_HOOK_PLACEHOLDERS.url, `http://127.0.0.1:${port}`)
    .replaceAll(HTTP_HOOK_PLACEHOLDERS.token, TOKEN)
    .replace(/NOT CONFIGURED: [^.]*\. /, ''); // sed -e 's|NOT CONFIGURED: [^.]*\. ||'
  const m = parse(text) as { exec: string[]; interface: string; description: string };
  expect(m.interface).toBe('raw');
  expect(m.description).not.toContain(TOKEN);
  expect(m.description).toMatch(/^Posts scene saves/);
  return m.exec;
}

/**
 * Starts argv as Stash does (exec.Command: no shell, argv[0] from PATH) with `input` on stdin through
 * a pipe, closed after the input (Go's StdinPipe). Node hands a child a socket pair for stdin, on which
 * open("/dev/stdin") fails, so `cat` provides the pipe: sh -c 'cat | exec "$@"'.
 */
function runExec(argv: string[], input: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', 'cat | exec "$@"', 'sh', ...argv], { env: { PATH: path }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(input);
  });
}

/** A plugin input as Stash marshals it (no trailing newline); big and non-ASCII to catch any re-encoding. */
function stashInput(type = 'Scene.Update.Post', id = 45) {
  return JSON.stringify({
    server_connection: {
      Scheme: 'http',
      Host: '0.0.0.0',
      Port: 9999,
      SessionCookie: {
        Name: 'session',
        Value: 'c00k1e',
        Path: '',
        Domain: '',
        Expires: '0001-01-01T00:00:00Z',
        RawExpires: '',
        MaxAge: 0,
        Secure: false,
        HttpOnly: false,
        SameSite: 0,
        Raw: '',
        Unparsed: null,
      },
      Dir: '/root/.stash',
      PluginDir: '/root/.stash/plugins/stash2plex',
    },
    args: {
      hookContext: {
        id,
        type,
        input: { id: String(id), title: 'Ünïcödé — "quoted" & <tagged>', details: 'x'.repeat(200_000), clientMutationId: null },
        inputFields: ['title', 'details', 'id'],
      },
    },
  });
}

const variants = [
  { name: 'wget', dir: 'http', available: !!BUSYBOX },
  { name: 'curl', dir: 'curl', available: CURL },
] as const;

describe.each(variants)('the $name manifest', ({ name, dir, available }) => {
  it.skipIf(!available).each(['configured', 'placeholders'] as const)(
    `${name} (%s manifest): the server gets exactly the input, the process prints exactly the answer`,
    async (which) => {
      const argv = execOf(join(built[which], dir, 'stash2plex.yml'));
      expect(argv[0]).toBe(name);
      for (const input of [stashInput(), stashInput('Performer.Update.Post', 7)]) {
        seen.length = 0;
        const r = await runExec(argv, input);
        expect(r.code, r.stderr).toBe(0);
        expect(r.stdout).toBe(ANSWER);
        expect(r.stderr).toBe('');
        expect(seen).toHaveLength(1);
        const req = seen[0];
        expect(req.method).toBe('POST');
        expect(req.url).toBe('/api/stash/hook');
        expect(req.headers.authorization).toBe(`Bearer ${TOKEN}`);
        expect(req.headers['content-type']).toBe('application/json');
        // BusyBox wget says just "Wget" (GNU wget adds its version): the Alpine tool really ran.
        expect(req.headers['user-agent']).toMatch(name === 'wget' ? /^Wget$/ : /^curl\//);
        expect(req.body.equals(Buffer.from(input, 'utf8'))).toBe(true);
      }
    },
    30_000,
  );

  it.skipIf(!available)(`${name}: an HTTP error exits non-zero (Stash logs the hook as failed)`, async () => {
    reply = { status: 401, body: '{"error":"missing or wrong token: send Authorization: Bearer <HOOK_TOKEN>"}\n' };
    const r = await runExec(execOf(join(built.configured, dir, 'stash2plex.yml')), stashInput());
    expect(r.code).not.toBe(0);
    if (name === 'curl') {
      // --fail-with-body: the endpoint's one {"error": …} object on stdout, exit 22.
      expect(r.code).toBe(22);
      expect(JSON.parse(r.stdout)).toEqual({ error: expect.stringMatching(/wrong token/) as string });
    } else {
      // BusyBox wget prints nothing on stdout and one line on stderr.
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/401/);
    }
  });
});
