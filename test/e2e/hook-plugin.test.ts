// The Stash plugin as Stash runs it: the built bundle (built here into a temporary folder with no
// node_modules anywhere above it, so it must be self-contained), real stdin JSON, the run's Redis, and
// a fake Stash GraphQL server for the plugin settings and the tasks.
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { STASH_WINDOW_WIDENING_MS } from '../../src/stash-api/client.js';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { PLUGIN_TASKS } from '../../src/stash-plugin/task-list.js';
import { STASH_SETTINGS } from '../../src/core/config.js';
import { PLUGIN_IDS } from '../../src/hook/settings.js';
import { codeCacheIdentity, openCodeCache, sealCodeCache } from '../../src/stash-plugin/code-cache-format.js';
import { decodeInboxEntry } from '../../src/model/job.js';
import type { FanoutEvent, SyncJobData } from '../../src/model/inbox-item.js';
import { stdinPipe } from '../../bench/lib.js';
import { freePort } from '../helpers/ports.js';
import { bulkSceneUpdateHooks, sceneUpdateHook, scenesUpdateHooks, stashPluginInput } from '../helpers/stash-scene-hooks.js';
import { testRedis, testRedisUrl, uniquePrefix } from '../helpers/redis.js';

const COOKIE = 'session-cookie-secret-5e1f';
let buildDir: string;
let plugin: string;
let redis: Redis;
let stash: FakeStash;
const dirs: string[] = [];

/** Stash's log level prefix of a plugin's stderr line (\x01 level \x02). */
const LEVEL = (level: string) => `${String.fromCharCode(1)}${level}${String.fromCharCode(2)}`;
/** A stderr line at `level` (a character or a class such as [tdiwep]) whose text matches `rest`. */
const logLine = (level: string, rest: RegExp) => new RegExp(`^${LEVEL(level)}${rest.source}`, 'm');

interface BuiltManifest {
  name: string;
  hooks: { triggeredBy: string[] }[];
  tasks: { name: string; defaultArgs: { mode: string } }[];
  settings: Record<string, { type: string }>;
}

// ---- a fake Stash: the plugin's GraphQL calls ------------------------------------------------------

/** The variables of the documents the fake answers. */
interface FakeVariables {
  page?: number;
  per_page?: number;
  updated?: { value: string; modifier: string };
}

interface FakeStash {
  port: number;
  /** `include`: the plugin ids a PluginConfiguration asked for (string literals in the document). */
  requests: { op: string; variables: FakeVariables; include?: string[]; cookie: string | undefined }[];
  settings: Record<string, unknown> | null;
  sceneIds: string[];
  recentIds: string[];
  close(): Promise<void>;
}

async function startFakeStash(): Promise<FakeStash> {
  const state: Omit<FakeStash, 'port' | 'close'> = { requests: [], settings: null, sceneIds: [], recentIds: [] };
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      const {
        operationName: op,
        variables = {},
        query,
      } = JSON.parse(body) as { operationName: string; variables?: FakeVariables; query: string };
      const literals = /plugins\(include: \[((?:"(?:[^"\\]|\\.)*"(?:, )?)+)\]\)/.exec(String(query))?.[1];
      const include = literals === undefined ? undefined : (JSON.parse(`[${literals}]`) as string[]);
      state.requests.push({ op, variables, ...(include === undefined ? {} : { include }), cookie: req.headers.cookie });
      if (req.headers.cookie !== `session=${COOKIE}`) {
        res.writeHead(401).end();
        return;
      }
      const [pg, per] = [variables.page ?? 1, variables.per_page ?? 0];
      const page = (list: string[]) => list.slice((pg - 1) * per, pg * per);
      let data: unknown;
      if (op === 'PluginConfiguration') {
        // The settings are the first id's (the stash2plex plugin's), as Stash keys them by plugin id.
        data = { configuration: { plugins: state.settings && include !== undefined ? { [include[0]]: state.settings } : {} } };
      } else if (op === 'FindScenesUpdated') {
        const list = String(variables.updated?.value).startsWith('1969') ? state.sceneIds : state.recentIds;
        // Changed a minute ago: inside any recent window (what comes back is kept by its updated_at).
        const updated_at = `${new Date(Date.now() - 60_000).toISOString().slice(0, 19)}Z`;
        data = { findScenes: { count: list.length, scenes: page(list).map((id) => ({ id, updated_at })) } };
      } else if (op === 'StashVersion') {
        data = { version: { version: 'v0.30.1' } };
      } else if (op === 'StashClock') {
        const newest = [{ updated_at: '2026-01-01T00:00:00Z' }];
        data = {
          scenes: { scenes: newest },
          performers: { performers: [] },
          studios: { studios: [] },
          tags: { tags: [] },
          groups: { groups: [] },
        };
      } else if (op === 'FindSceneIdsPage') {
        data = { findScenes: { count: state.sceneIds.length, scenes: page(state.sceneIds).map((id) => ({ id })) } };
      } else {
        res.writeHead(422, { 'content-type': 'application/json' }).end(JSON.stringify({ errors: [{ message: `unknown ${op}` }] }));
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ data }));
    });
  });
  await new Promise<void>((r) => server.listen(0, r)); // all interfaces: "localhost" may be ::1 or 127.0.0.1
  return Object.assign(state, {
    port: (server.address() as { port: number }).port,
    close: () => new Promise<void>((r) => server.close(() => r())),
  });
}

// ---- running the plugin -----------------------------------------------------------------------------

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  /** The one stdout line, parsed. */
  result: { output?: unknown; error?: string };
}

interface RunOptions {
  env?: Record<string, string>;
  cwd?: string;
  /** The plugin file (default: the built one). */
  script?: string;
  /** Node options before the script (e.g. a preload). */
  nodeArgs?: string[];
  /** stdin a pipe holding the input, as Stash gives it (bench/lib.ts stdinPipe), not a socket pair. */
  pipe?: boolean;
  /** Run as this user and group (the test runs as root: a file mode then binds only another user). */
  user?: { uid: number; gid: number };
}

function runPlugin(input: string | Buffer, opts: RunOptions = {}): Promise<Run> {
  const pipe = opts.pipe ? stdinPipe(newPluginDir(), String(input)) : null;
  if (opts.pipe && !pipe) throw new Error('no mkfifo: cannot give the plugin a pipe');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), opts.script ?? plugin], {
      env: { PATH: process.env.PATH ?? '', ...opts.env },
      cwd: opts.cwd ?? tmpdir(),
      stdio: [pipe?.fd ?? 'pipe', 'pipe', 'pipe'],
      ...opts.user,
    });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    if (child.stdin) {
      child.stdin.on('error', () => undefined); // the plugin stops reading an oversized input
      child.stdin.end(input);
    }
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      pipe?.close();
      const lines = stdout.split('\n').filter(Boolean);
      let result: Run['result'] = {};
      try {
        result = lines.length === 1 ? (JSON.parse(lines[0]) as Run['result']) : {};
      } catch {
        /* asserted by the caller */
      }
      resolve({ code, stdout, stderr, result });
    });
  });
}

/** Exactly one JSON object on stdout; every stderr line carries a Stash level prefix; no secret. */
function expectWellFormed(r: Run) {
  expect(r.stdout.endsWith('\n')).toBe(true);
  expect(r.stdout.split('\n').filter(Boolean)).toHaveLength(1);
  expect(Object.keys(JSON.parse(r.stdout) as object).length).toBe(1);
  expect(r.stdout).not.toMatch(/\n\s+at /); // no stack trace
  for (const line of r.stderr.split('\n').filter(Boolean)) expect(line).toMatch(logLine('[tdiwep]', /.*/));
  expect(r.stdout + r.stderr).not.toContain(COOKIE);
}

function newPluginDir(): string {
  const d = mkdtempSync(join(tmpdir(), 's2p-plugin-dir-'));
  dirs.push(d);
  return d;
}

function pluginInput(dir: string, args: Record<string, unknown>, conn: Record<string, unknown> = {}): string {
  return JSON.stringify({
    server_connection: {
      Scheme: 'http',
      Host: '0.0.0.0',
      Port: stash.port,
      SessionCookie: { Name: 'session', Value: COOKIE, Path: '', Domain: '', Expires: '0001-01-01T00:00:00Z' },
      Dir: dir,
      PluginDir: dir,
      ...conn,
    },
    args,
  });
}

const edit = (dir: string, id: unknown = 7, inputFields: string[] = ['title', 'id'], type = 'Scene.Update.Post') =>
  pluginInput(dir, { hookContext: { id, type, input: { id: String(id), title: 'New title', organized: null }, inputFields } });

async function inbox(prefix: string): Promise<SyncJobData[]> {
  const entries = (await redis.xrange(`${prefix}:inbox`, '-', '+')) as [string, string[]][];
  return entries.map(([, flat]) => {
    const d = decodeInboxEntry(flat);
    if (d.ok && d.job) return d.job;
    throw new Error(d.ok ? 'not a scene entry' : d.error);
  });
}

/** Every inbox entry, scene jobs and fan-outs, in order. */
async function inboxItems(prefix: string): Promise<({ scene: SyncJobData } | { fanout: FanoutEvent })[]> {
  const entries = (await redis.xrange(`${prefix}:inbox`, '-', '+')) as [string, string[]][];
  return entries.map(([, flat]) => {
    const d = decodeInboxEntry(flat);
    if (!d.ok) throw new Error(d.error);
    return d.job ? { scene: d.job } : { fanout: d.fanout };
  });
}

const renameInput = (
  dir: string,
  type: string,
  id: unknown,
  inputFields: string[] | null,
  input: Record<string, unknown> = { id: String(id), name: 'Renamed' },
) => pluginInput(dir, { hookContext: { id, type, input, inputFields } });

const spoolLines = (dir: string) =>
  existsSync(join(dir, 'stash2plex.spool.jsonl'))
    ? readFileSync(join(dir, 'stash2plex.spool.jsonl'), 'utf8').split('\n').filter(Boolean)
    : [];

beforeAll(async () => {
  buildDir = mkdtempSync(join(tmpdir(), 's2p-plugin-build-'));
  dirs.push(buildDir);
  execFileSync(process.execPath, ['scripts/build-plugin.mjs', '--outdir', buildDir, '--quiet', '--no-env-file'], { stdio: 'inherit' });
  plugin = join(buildDir, 'stash2plex.cjs');
  redis = testRedis();
  stash = await startFakeStash();
});
afterAll(async () => {
  redis.disconnect();
  await stash.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
beforeEach(() => {
  stash.requests.length = 0;
  stash.settings = null;
});

describe('the built plugin folder', () => {
  it('holds the bundles and a manifest Stash understands', () => {
    // (A .v8cache appears beside them once a hook has recorded an event: the code cache.)
    const files = readdirSync(buildDir)
      .filter((f) => !f.endsWith('.v8cache'))
      .sort();
    expect(files).toEqual(['stash2plex-hook.cjs', 'stash2plex-tasks.cjs', 'stash2plex.cjs', 'stash2plex.sh', 'stash2plex.yml']);
    // The hook bundle holds no package (scripts/build-plugin.mjs refuses one): zod/mini made it 41 KiB.
    expect(statSync(join(buildDir, 'stash2plex-hook.cjs')).size).toBeLessThan(32 * 1024);
    // The loader, run before every hook, is a few lines (with the code cache's header check).
    expect(statSync(plugin).size).toBeLessThan(3 * 1024);
    const m = parseYaml(readFileSync(join(buildDir, 'stash2plex.yml'), 'utf8')) as BuiltManifest;
    const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    expect(m).toMatchObject({ name: 'stash2plex', version, interface: 'raw', exec: ['sh', '{pluginDir}/stash2plex.sh'] });
    expect(m.hooks[0].triggeredBy).toEqual(['Scene.Update.Post', 'Scene.Create.Post']);
    expect(m.hooks[1].triggeredBy).toEqual([
      'Performer.Update.Post',
      'Studio.Update.Post',
      'Tag.Update.Post',
      'Tag.Merge.Post',
      'Group.Update.Post',
      'Movie.Update.Post',
    ]);
    expect(m.tasks.map((t) => t.name)).toEqual(PLUGIN_TASKS.map((t) => t.name));
    expect(m.tasks.map((t) => t.defaultArgs.mode)).toEqual(PLUGIN_TASKS.map((t) => t.mode));
    expect(m.tasks.map((t) => t.defaultArgs.mode)).toEqual(expect.arrayContaining(['sync_all', 'sync_recent']));
    expect(m.settings).toMatchObject({
      redisUrl: { type: 'STRING' },
      redisPrefix: { type: 'STRING' },
    });
    expect(Object.keys(m.settings).sort()).toEqual(
      ['redisPrefix', 'redisUrl', 'explainSceneId', ...STASH_SETTINGS.map((x) => x[0])].sort(),
    );
  });
});

describe('hook', () => {
  it('records a relevant edit: one JSON line, one inbox entry, no Stash call with env settings', async () => {
    const dir = newPluginDir();
    const prefix = uniquePrefix('hook');
    const r = await runPlugin(edit(dir, 7), { env: { REDIS_URL: testRedisUrl(), REDIS_PREFIX: prefix } });
    expectWellFormed(r);
    expect(r.code).toBe(0);
    expect(r.result).toEqual({ output: 'queued scene 7' });
    const jobs = await inbox(prefix);
    expect(jobs).toEqual([
      { sceneId: '7', reason: 'hook', event: 'Scene.Update.Post', fields: ['title', 'id'], enqueuedAt: expect.any(Number) as unknown },
    ]);
    expect(Math.abs(jobs[0].enqueuedAt - Date.now())).toBeLessThan(30_000);
    expect(stash.requests).toEqual([]);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('records every scene of scenesUpdate (input: the array of all the inputs) and bulkSceneUpdate, stdin as Stash writes it', async () => {
    const dir = newPluginDir();
    const prefix = uniquePrefix('saves');
    const hooks = [
      sceneUpdateHook(44, 'New title'),
      ...scenesUpdateHooks(45, 46, { title: 'Parsed', date: '2024-05-06', tag: '7' }),
      ...bulkSceneUpdateHooks([47, 48, 49], { performer: '3', tag: '7' }),
    ];
    for (const hookContext of hooks) {
      const stdin = stashPluginInput(hookContext, { port: stash.port, pluginDir: dir, cookie: { name: 'session', value: COOKIE } });
      const r = await runPlugin(stdin, { pipe: true, env: { REDIS_URL: testRedisUrl(), REDIS_PREFIX: prefix } });
      expectWellFormed(r);
      expect(r.code, r.stderr).toBe(0);
      expect(r.result).toEqual({ output: `queued scene ${hookContext.id}` });
    }
    expect((await inbox(prefix)).map((j) => [j.sceneId, j.fields])).toEqual(hooks.map((h) => [String(h.id), h.inputFields]));
  });

  it('skips an edit of fields Plex does not show before any network work', async () => {
    const input = (d: string) => edit(d, 7, ['organized', 'play_count', 'id']);
    const why = 'no field Plex shows';
    const dir = newPluginDir();
    const prefix = uniquePrefix('skip');
    // No Redis settings in the environment: a record would have to ask Stash; a skip asks nothing.
    const r = await runPlugin(input(dir));
    expectWellFormed(r);
    expect(r.code).toBe(0);
    expect(String(r.result.output)).toMatch(new RegExp(`^skipped: .*${why}`));
    expect(await redis.xlen(`${prefix}:inbox`)).toBe(0);
    expect(stash.requests).toEqual([]);
    expect(readdirSync(dir)).toEqual([]);
  });

  it.each([
    ['malformed JSON', () => '{"server_connection": {', /not JSON/],
    ['empty stdin', () => '', /stdin is empty/],
    [
      'huge stdin',
      (dir: string) => Buffer.from(edit(dir).replace('"New title"', `"${'x'.repeat(2 * 1024 * 1024)}"`)),
      /larger than 1048576 bytes/,
    ],
    ['a missing hookContext', (dir: string) => pluginInput(dir, {}), /neither hookContext .* nor mode/],
    ['a non-numeric id', (dir: string) => edit(dir, 'abc'), /args\.hookContext\.id must be a numeric scene id/],
    ['a hookContext without type', (dir: string) => pluginInput(dir, { hookContext: { id: 7 } }), /args\.hookContext\.type is missing/],
    [
      'no server_connection',
      () => JSON.stringify({ args: { hookContext: { id: 7, type: 'Scene.Update.Post' } } }),
      /server_connection is missing/,
    ],
  ])('rejects %s: {"error"}, non-zero exit, nothing recorded', async (_, input, message) => {
    const dir = newPluginDir();
    const prefix = uniquePrefix('bad');
    const r = await runPlugin(input(dir), { env: { REDIS_URL: testRedisUrl(), REDIS_PREFIX: prefix } });
    expectWellFormed(r);
    expect(r.code).not.toBe(0);
    expect(r.result.error).toMatch(message);
    expect(r.result.error).toMatch(/^invalid plugin input: /);
    expect(await redis.xlen(`${prefix}:inbox`)).toBe(0);
    expect(readdirSync(dir)).toEqual([]);
    expect(r.stderr).toMatch(logLine('e', /invalid plugin input/));
  });

  it('spools while Redis is unreachable (exit 0), and the next run replays it first', async () => {
    const dir = newPluginDir();
    const prefix = uniquePrefix('spool');
    const down = await runPlugin(edit(dir, 11), { env: { REDIS_URL: `redis://127.0.0.1:${await freePort()}`, REDIS_PREFIX: prefix } });
    expectWellFormed(down);
    expect(down.code).toBe(0);
    expect(String(down.result.output)).toMatch(/^spooled scene 11 \(Redis unreachable: .*ECONNREFUSED/);
    expect(down.stderr).toMatch(logLine('w', /.*spooled/));
    expect(spoolLines(dir)).toHaveLength(1);

    const up = await runPlugin(edit(dir, 12, ['tag_ids']), { env: { REDIS_URL: testRedisUrl(), REDIS_PREFIX: prefix } });
    expectWellFormed(up);
    expect(up.result).toEqual({ output: 'queued scene 12' });
    expect(up.stderr).toMatch(/replayed 1 spooled events/);
    const jobs = await inbox(prefix);
    expect(jobs.map((j) => [j.sceneId, j.fields])).toEqual([
      ['11', ['title', 'id']],
      ['12', ['tag_ids']],
    ]);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('spools when Redis refuses (bad credentials), logging an error, never the password', async () => {
    const dir = newPluginDir();
    const prefix = uniquePrefix('refused');
    const u = new URL(testRedisUrl());
    const r = await runPlugin(edit(dir, 13), { env: { REDIS_URL: `redis://nobody:pw-secret-2@${u.host}`, REDIS_PREFIX: prefix } });
    expectWellFormed(r);
    expect(r.code).toBe(0);
    expect(String(r.result.output)).toMatch(/^spooled scene 13 \(Redis refused the entry: WRONGPASS/);
    expect(r.stderr).toMatch(logLine('e', /stash2plex: Redis refused the entry/));
    expect(r.stdout + r.stderr).not.toContain('pw-secret-2');
    expect(spoolLines(dir)).toHaveLength(1);
    expect(await redis.xlen(`${prefix}:inbox`)).toBe(0);
  });

  it('concurrent hooks: spooled ones are delivered once, none lost', async () => {
    const dir = newPluginDir();
    const prefix = uniquePrefix('conc');
    const closed = `redis://127.0.0.1:${await freePort()}`;
    const downs = await Promise.all(
      [1, 2, 3, 4, 5, 6].map((id) => runPlugin(edit(dir, id), { env: { REDIS_URL: closed, REDIS_PREFIX: prefix } })),
    );
    for (const r of downs) expect(r.result.output).toMatch(/^spooled/);
    const ups = await Promise.all(
      [7, 8, 9].map((id) => runPlugin(edit(dir, id), { env: { REDIS_URL: testRedisUrl(), REDIS_PREFIX: prefix } })),
    );
    for (const r of ups) expect(r.result.output).toMatch(/^queued/);
    const got = (await inbox(prefix)).map((j) => Number(j.sceneId)).sort((a, b) => a - b);
    expect(got).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('reads redisUrl/redisPrefix from Stash with the session cookie, then from a 60 s cache', async () => {
    const dir = newPluginDir();
    const prefix = uniquePrefix('settings');
    stash.settings = { redisUrl: testRedisUrl(), redisPrefix: prefix, unrelated: true };
    const first = await runPlugin(edit(dir, 21));
    expectWellFormed(first);
    expect(first.result).toEqual({ output: 'queued scene 21' });
    expect(stash.requests).toEqual([{ op: 'PluginConfiguration', variables: {}, include: [...PLUGIN_IDS], cookie: `session=${COOKIE}` }]);
    const cache = join(dir, 'stash2plex.settings.json');
    expect(statSync(cache).mode & 0o777).toBe(0o600);
    expect((JSON.parse(readFileSync(cache, 'utf8')) as { settings: unknown }).settings).toEqual({
      redisUrl: testRedisUrl(),
      redisPrefix: prefix,
    });

    const second = await runPlugin(edit(dir, 22));
    expect(second.result).toEqual({ output: 'queued scene 22' });
    expect(stash.requests).toHaveLength(1); // from the cache

    // A stale cache is refreshed; if Stash cannot answer, the last settings read are used.
    writeFileSync(cache, JSON.stringify({ at: Date.now() - 61_000, settings: { redisUrl: testRedisUrl(), redisPrefix: prefix } }));
    const third = await runPlugin(edit(dir, 23), { cwd: dir });
    expect(third.result).toEqual({ output: 'queued scene 23' });
    expect(stash.requests).toHaveLength(2);
    writeFileSync(cache, JSON.stringify({ at: Date.now() - 61_000, settings: { redisUrl: testRedisUrl(), redisPrefix: prefix } }));
    const fourth = await runPlugin(edit(dir, 24), { env: { STASH_API_KEY: 'wrong-key' } }); // Stash answers 401
    expectWellFormed(fourth);
    expect(fourth.result).toEqual({ output: 'queued scene 24' });
    expect(fourth.stderr).toMatch(logLine('w', /could not read the plugin settings from Stash .*using the last ones read/));
    expect((await inbox(prefix)).map((j) => j.sceneId)).toEqual(['21', '22', '23', '24']);
  });

  it('REDIS_URL/REDIS_PREFIX in the environment win over Stash, also from the .env of the plugin folder (Stash runs it elsewhere)', async () => {
    const dir = newPluginDir();
    const prefix = uniquePrefix('dotenv');
    stash.settings = { redisUrl: 'redis://127.0.0.1:1', redisPrefix: 'never-used' };
    writeFileSync(join(dir, '.env'), `REDIS_URL=${testRedisUrl()}\nREDIS_PREFIX=${prefix}\n`);
    // Stash's working directory, with a .env of its own that must not be read.
    const stashCwd = newPluginDir();
    writeFileSync(join(stashCwd, '.env'), 'REDIS_URL=redis://127.0.0.1:1\nREDIS_PREFIX=wrong\n');
    const r = await runPlugin(edit(dir, 31), { cwd: stashCwd });
    expect(r.result).toEqual({ output: 'queued scene 31' });
    expect(stash.requests).toEqual([]);
    expect(await redis.xlen(`${prefix}:inbox`)).toBe(1);
  });

  it('an invalid redisUrl setting spools the event and says so loudly', async () => {
    const dir = newPluginDir();
    stash.settings = { redisUrl: 'http://user:pw-secret-1@somewhere' };
    const r = await runPlugin(edit(dir, 41));
    expectWellFormed(r);
    expect(r.code).toBe(0);
    expect(r.result.output).toBe('spooled scene 41 (plugin setting redisUrl must be a redis:// or rediss:// URL)');
    expect(r.stderr).toMatch(logLine('e', /.*redisUrl/));
    expect(r.stdout + r.stderr).not.toContain('pw-secret-1');
    expect(spoolLines(dir)).toHaveLength(1);
  });

  it('--help prints the usage', () => {
    const out = execFileSync(process.execPath, [plugin, '--help'], { encoding: 'utf8' });
    expect(out).toMatch(/^Usage: node stash2plex\.cjs/);
  });
});

describe('the hook as Stash runs it (stdin a pipe): what it loads', () => {
  /**
   * A preload that writes, at exit, the built-in modules the run loaded (`loaded`) and the files it
   * required (`required`), one per line.
   */
  function modulesPreload(): { nodeArgs: string[]; loaded(): string[]; required(): string[] } {
    const dir = newPluginDir();
    const file = join(dir, 'modules.txt');
    const files = join(dir, 'files.txt');
    const preload = join(dir, 'preload.cjs');
    writeFileSync(
      preload,
      `process.on('exit', () => { const fs = require('fs'); fs.writeFileSync(${JSON.stringify(file)}, process.moduleLoadList.join('\\n')); fs.writeFileSync(${JSON.stringify(files)}, Object.keys(require.cache).join('\\n')); });\n`,
    );
    const lines = (f: string) => () => readFileSync(f, 'utf8').split('\n');
    return { nodeArgs: ['--require', preload], loaded: lines(file), required: lines(files) };
  }

  it('a skip reads its pipe without loading node:net, node:stream or node:http', async () => {
    const dir = newPluginDir();
    const m = modulesPreload();
    const r = await runPlugin(pluginInput(dir, { hookContext: { id: 5, type: 'Scene.Update.Post', inputFields: ['organized'] } }), {
      pipe: true,
      nodeArgs: m.nodeArgs,
    });
    expectWellFormed(r);
    expect(r.result.output).toMatch(/^skipped: scene 5/);
    expect(m.loaded()).not.toContain('NativeModule net');
    expect(m.loaded()).not.toContain('NativeModule stream');
    expect(m.loaded()).not.toContain('NativeModule http');
  });

  it('a record from a pipe is queued over node:net, without the tasks bundle (ioredis) or node:http', async () => {
    const dir = newPluginDir();
    const prefix = uniquePrefix('pipe');
    const m = modulesPreload();
    const r = await runPlugin(edit(dir, 61), {
      pipe: true,
      nodeArgs: m.nodeArgs,
      env: { REDIS_URL: testRedisUrl(), REDIS_PREFIX: prefix },
    });
    expectWellFormed(r);
    expect(r.result).toEqual({ output: 'queued scene 61' });
    expect((await inbox(prefix)).map((j) => j.sceneId)).toEqual(['61']);
    expect(m.loaded()).toContain('NativeModule net');
    expect(m.loaded()).not.toContain('NativeModule http');
    // The loader alone was required: the hook bundle runs from it, and the tasks bundle (with ioredis,
    // BullMQ and zod) stays unloaded.
    expect(
      m
        .required()
        .filter((f) => f.startsWith(`${buildDir}/`))
        .map((f) => f.slice(buildDir.length + 1)),
    ).toEqual(['stash2plex.cjs']);
  });

  it('under --pending-deprecation it records with no DEP0111 warning (process.binding) for Stash to log', async () => {
    const dir = newPluginDir();
    const prefix = uniquePrefix('pending');
    const m = modulesPreload();
    const env = { REDIS_URL: testRedisUrl(), REDIS_PREFIX: prefix, NODE_PENDING_DEPRECATION: '1' };
    const r = await runPlugin(edit(dir, 64), { pipe: true, nodeArgs: m.nodeArgs, env });
    expectWellFormed(r);
    expect(r.result).toEqual({ output: 'queued scene 64' });
    expect(r.stderr).not.toMatch(/DEP0111|DeprecationWarning/);
    expect(m.loaded()).toContain('NativeModule net');
    expect((await inbox(prefix)).map((j) => j.sceneId)).toEqual(['64']);
  });

  it('a stale settings cache is refreshed from Stash without the tasks bundle', async () => {
    // Only the loader and the hook: a refresh that loaded stash2plex-tasks.cjs would fail and fall back.
    const alone = newPluginDir();
    for (const f of ['stash2plex.cjs', 'stash2plex-hook.cjs']) copyFileSync(join(buildDir, f), join(alone, f));
    const dir = newPluginDir();
    const prefix = uniquePrefix('refresh');
    stash.settings = { redisUrl: testRedisUrl(), redisPrefix: prefix };
    writeFileSync(
      join(dir, 'stash2plex.settings.json'),
      JSON.stringify({ at: Date.now() - 61_000, settings: { redisUrl: 'redis://127.0.0.1:1', redisPrefix: 'old' } }),
    );
    const r = await runPlugin(edit(dir, 62), { pipe: true, script: join(alone, 'stash2plex.cjs') });
    expectWellFormed(r);
    expect(r.result).toEqual({ output: 'queued scene 62' });
    expect(r.stderr).not.toMatch(/could not read the plugin settings/);
    expect(stash.requests).toEqual([{ op: 'PluginConfiguration', variables: {}, include: [...PLUGIN_IDS], cookie: `session=${COOKIE}` }]);
    expect((JSON.parse(readFileSync(join(dir, 'stash2plex.settings.json'), 'utf8')) as { settings: unknown }).settings).toEqual({
      redisUrl: testRedisUrl(),
      redisPrefix: prefix,
    });
    expect((await inbox(prefix)).map((j) => j.sceneId)).toEqual(['62']);
  });

  it('a pipe that is never closed still ends the run at the deadline', { timeout: 20_000 }, async () => {
    const dir = newPluginDir();
    const pipe = stdinPipe(newPluginDir(), '{"args": {"hookContext"', { keepOpen: true })!;
    const started = performance.now();
    const child = spawn(process.execPath, [plugin], {
      env: { PATH: process.env.PATH ?? '', S2P_HOOK_STDIN_TIMEOUT_MS: '500' },
      cwd: dir,
      stdio: [pipe.fd, 'pipe', 'ignore'],
    });
    let stdout = '';
    child.stdout!.on('data', (d) => (stdout += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    clearTimeout(timer);
    pipe.close();
    expect(code).toBe(1);
    expect(performance.now() - started).toBeGreaterThan(450);
    expect((JSON.parse(stdout) as { error: string }).error).toMatch(/stdin did not end within 500 ms/);
  });
});

describe('the code cache (stash2plex.cjs runs stash2plex-hook.cjs from it)', () => {
  /** A plugin folder of its own, as the build left it (no cache yet). */
  function freshInstall(): { folder: string; script: string; cacheName: string } {
    const folder = newPluginDir();
    for (const f of ['stash2plex.cjs', 'stash2plex-hook.cjs', 'stash2plex-tasks.cjs']) copyFileSync(join(buildDir, f), join(folder, f));
    const hash = createHash('sha256')
      .update(readFileSync(join(folder, 'stash2plex-hook.cjs')))
      .digest('hex')
      .slice(0, 16);
    return { folder, script: join(folder, 'stash2plex.cjs'), cacheName: `stash2plex-hook.cjs.${hash}.v8cache` };
  }
  const caches = (folder: string) => readdirSync(folder).filter((f) => f.endsWith('.v8cache'));

  it('is written by the first recorded event, named by the bundle hash, and then kept as it is', async () => {
    const { folder, script, cacheName } = freshInstall();
    const dir = newPluginDir();
    const prefix = uniquePrefix('cc');
    const env = { REDIS_URL: testRedisUrl(), REDIS_PREFIX: prefix };
    const skip = await runPlugin(pluginInput(dir, { hookContext: { id: 7, type: 'Scene.Update.Post', inputFields: ['organized'] } }), {
      script,
    });
    expect(skip.result.output).toMatch(/^skipped/);
    expect(caches(folder)).toEqual([]); // a skip compiles too little to be worth keeping
    const first = await runPlugin(edit(dir, 71), { script, env });
    expect(first.result).toEqual({ output: 'queued scene 71' });
    expect(caches(folder)).toEqual([cacheName]);
    const written = statSync(join(folder, cacheName));
    expect(written.size).toBeGreaterThan(1024);
    for (const id of [72, 73]) {
      const r = await runPlugin(edit(dir, id), { script, env });
      expect(r.result).toEqual({ output: `queued scene ${id}` });
    }
    // V8 took it: a rejected cache would have been written again.
    expect(statSync(join(folder, cacheName)).mtimeMs).toBe(written.mtimeMs);
    expect((await inbox(prefix)).map((j) => j.sceneId)).toEqual(['71', '72', '73']);
  });

  it('a damaged cache costs nothing but a rewrite; the cache of an earlier build is removed', async () => {
    const { folder, script, cacheName } = freshInstall();
    writeFileSync(join(folder, cacheName), 'not a V8 code cache');
    writeFileSync(join(folder, 'stash2plex-hook.cjs.0123456789abcdef.v8cache'), 'the cache of an earlier build');
    const dir = newPluginDir();
    const prefix = uniquePrefix('cc-bad');
    const r = await runPlugin(edit(dir, 74), { script, env: { REDIS_URL: testRedisUrl(), REDIS_PREFIX: prefix } });
    expectWellFormed(r);
    expect(r.result).toEqual({ output: 'queued scene 74' });
    expect(caches(folder)).toEqual([cacheName]);
    expect(readFileSync(join(folder, cacheName), 'utf8')).not.toBe('not a V8 code cache');
    expect(readdirSync(folder).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect((await inbox(prefix)).map((j) => j.sceneId)).toEqual(['74']);
  });

  // V8 deserializes a cache of the right length without checking its bytes: damaged ones crashed every
  // hook (a V8 fatal error, no answer to Stash, the event lost) until the cache's own header.
  const cacheOf = (folder: string, cacheName: string) => join(folder, cacheName);
  const identityOf = (cacheName: string) => codeCacheIdentity(cacheName.split('.').at(-2)!);
  /** The cache file as the loader would hand it to V8 (undefined: it would not). */
  const openCache = (folder: string, cacheName: string) => openCodeCache(readFileSync(cacheOf(folder, cacheName)), identityOf(cacheName));
  // A rewrite (a new file renamed into place) carries the time of writing: marking the file with a
  // time long past tells whether a run rewrote it (inode numbers are reused at once on some file systems).
  const MARK = new Date('2001-01-01T00:00:00Z');
  const mark = (file: string) => utimesSync(file, MARK, MARK);
  const rewritten = (file: string) => statSync(file).mtimeMs !== MARK.getTime();

  /** A fresh install whose cache the first recorded event (scene `firstId`) has written. */
  async function installWithCache(firstId: number, env: Record<string, string>, dir: string, user?: RunOptions['user']) {
    const install = freshInstall();
    if (user) for (const d of [install.folder, dir]) chmodSync(d, 0o777);
    const first = await runPlugin(edit(dir, firstId), { script: install.script, env, user });
    expect(first.result).toEqual({ output: `queued scene ${firstId}` });
    expect(caches(install.folder)).toEqual([install.cacheName]);
    return install;
  }

  it('a damaged cache of the right length: three hooks each answer once and record, the first rewrites the cache, the next use it', async () => {
    const dir = newPluginDir();
    const prefix = uniquePrefix('cc-damaged');
    const env = { REDIS_URL: testRedisUrl(), REDIS_PREFIX: prefix };
    const { folder, script, cacheName } = await installWithCache(90, env, dir);
    const file = cacheOf(folder, cacheName);
    const bytes = readFileSync(file);
    for (let at = 200; at < bytes.length; at += 97) bytes[at] ^= 0x5a;
    writeFileSync(file, bytes);
    mark(file);
    for (const id of [91, 92, 93]) {
      const r = await runPlugin(edit(dir, id), { script, env });
      expectWellFormed(r);
      expect(r.code, r.stderr).toBe(0);
      expect(r.result).toEqual({ output: `queued scene ${id}` });
      expect(openCache(folder, cacheName)).toBeDefined();
      // Rewritten by the first run only: V8 took the fresh cache after.
      expect(rewritten(file), `run of scene ${id}`).toBe(id === 91);
      mark(file);
    }
    expect((await inbox(prefix)).map((j) => j.sceneId)).toEqual(['90', '91', '92', '93']);
    expect(readdirSync(folder).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  // root reads any file whatever its mode: the unreadable case runs the plugin as nobody then.
  const asOther = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : undefined;
  it.each<[string, (file: string, v8: Uint8Array, identity: string) => void, RunOptions['user']]>([
    ['truncated', (file) => writeFileSync(file, readFileSync(file).subarray(0, 5000)), undefined],
    [
      'of another build (renamed into place)',
      (file, v8) => writeFileSync(file, sealCodeCache(v8, codeCacheIdentity('0123456789abcdef'))),
      undefined,
    ],
    [
      // Whole and ours by the header, but V8's own version hash (its header's second word) is another
      // V8's: V8 itself rejects it (cachedDataRejected), as a cache another Node wrote.
      'of another V8 (V8 rejects it)',
      (file, v8, identity) => {
        const other = Buffer.from(v8);
        other.writeUInt32LE((other.readUInt32LE(4) ^ 0x5a5a5a5a) >>> 0, 4);
        writeFileSync(file, sealCodeCache(other, identity));
        expect(openCodeCache(readFileSync(file), identity)).toBeDefined();
      },
      undefined,
    ],
    ['unreadable (mode 000)', (file) => chmodSync(file, 0o000), asOther],
  ])('a cache %s costs one run without it, which writes a fresh one the next run uses', async (_, spoil, user) => {
    const dir = newPluginDir();
    const prefix = uniquePrefix('cc-spoilt');
    const env = { REDIS_URL: testRedisUrl(), REDIS_PREFIX: prefix };
    const { folder, script, cacheName } = await installWithCache(94, env, dir, user);
    const file = cacheOf(folder, cacheName);
    spoil(file, openCache(folder, cacheName)!, identityOf(cacheName));
    mark(file);
    const second = await runPlugin(edit(dir, 95), { script, env, user });
    expectWellFormed(second);
    expect(second.result).toEqual({ output: 'queued scene 95' });
    expect(rewritten(file)).toBe(true);
    expect(openCache(folder, cacheName)).toBeDefined();
    mark(file);
    const third = await runPlugin(edit(dir, 96), { script, env, user });
    expect(third.result).toEqual({ output: 'queued scene 96' });
    expect(rewritten(file)).toBe(false);
    expect((await inbox(prefix)).map((j) => j.sceneId)).toEqual(['94', '95', '96']);
  });

  it('a hook that records nothing removes a damaged cache (no later run reads it; the next recorded event writes one)', async () => {
    const dir = newPluginDir();
    const prefix = uniquePrefix('cc-skip');
    const { folder, script, cacheName } = await installWithCache(97, { REDIS_URL: testRedisUrl(), REDIS_PREFIX: prefix }, dir);
    const bytes = readFileSync(cacheOf(folder, cacheName));
    bytes[bytes.length >> 1] ^= 0x01;
    writeFileSync(cacheOf(folder, cacheName), bytes);
    const skip = await runPlugin(pluginInput(dir, { hookContext: { id: 97, type: 'Scene.Update.Post', inputFields: ['organized'] } }), {
      script,
    });
    expectWellFormed(skip);
    expect(skip.result.output).toMatch(/^skipped/);
    expect(caches(folder)).toEqual([]);
  });

  it("the loader names the cache by the hook bundle's content hash (V8 checks the source by its length only)", () => {
    // V8 checks a cache against the source's length only; the build names the cache by the content.
    const { folder } = freshInstall();
    const loader = readFileSync(join(folder, 'stash2plex.cjs'), 'utf8');
    const hash = createHash('sha256')
      .update(readFileSync(join(folder, 'stash2plex-hook.cjs')))
      .digest('hex')
      .slice(0, 16);
    expect(loader).toContain(JSON.stringify(hash));
  });
});

describe('rename hooks (fan-out events)', () => {
  it.each([
    ['Performer.Update.Post', 'performer', ['name', 'id']],
    ['Studio.Update.Post', 'studio', ['name', 'id']],
    ['Tag.Update.Post', 'tag', ['name', 'id']],
    ['Tag.Merge.Post', 'tag', null],
  ] as const)('%s records one fan-out entry for the %s, no scene work in the hook', async (type, relation, fields) => {
    const dir = newPluginDir();
    const prefix = uniquePrefix('rename');
    const input =
      type === 'Tag.Merge.Post'
        ? renameInput(dir, type, 9, null, { source: ['3', '4'], destination: '9' })
        : renameInput(dir, type, 9, [...fields]);
    const r = await runPlugin(input, { env: { REDIS_URL: testRedisUrl(), REDIS_PREFIX: prefix } });
    expectWellFormed(r);
    expect(r.code).toBe(0);
    expect(r.result).toEqual({ output: `queued ${relation} 9: every scene with it is re-synced` });
    const items = await inboxItems(prefix);
    expect(items).toEqual([{ fanout: { relation, id: '9', event: type, enqueuedAt: expect.any(Number) as unknown } }]);
    expect(stash.requests).toEqual([]); // the fan-out (which scenes) is the workers' job
    expect(readdirSync(dir)).toEqual([]);
  });

  it('skips an edit Plex does not show (a performer birthdate) before any network work', async () => {
    const dir = newPluginDir();
    const r = await runPlugin(renameInput(dir, 'Performer.Update.Post', 9, ['birthdate', 'id'], { id: '9', birthdate: '1990-01-01' }));
    expectWellFormed(r);
    expect(r.code).toBe(0);
    expect(r.result.output).toBe('skipped: performer 9: no field Plex shows changed (birthdate, id)');
    expect(stash.requests).toEqual([]);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('rejects a bad id, naming what it should be', async () => {
    const dir = newPluginDir();
    const prefix = uniquePrefix('renamebad');
    const r = await runPlugin(renameInput(dir, 'Studio.Update.Post', 'x1', ['name']), {
      env: { REDIS_URL: testRedisUrl(), REDIS_PREFIX: prefix },
    });
    expectWellFormed(r);
    expect(r.code).toBe(1);
    expect(r.result.error).toBe('invalid plugin input: args.hookContext.id must be a numeric studio id');
    expect(await redis.xlen(`${prefix}:inbox`)).toBe(0);
  });

  it('spools a rename while Redis is unreachable; the next run replays it first, in order', async () => {
    const dir = newPluginDir();
    const prefix = uniquePrefix('renamespool');
    const closed = { REDIS_URL: `redis://127.0.0.1:${await freePort()}`, REDIS_PREFIX: prefix };
    const down = await runPlugin(renameInput(dir, 'Tag.Update.Post', 4, ['name', 'id']), { env: closed });
    expectWellFormed(down);
    expect(down.code).toBe(0);
    expect(String(down.result.output)).toMatch(/^spooled tag 4 \(Redis unreachable: .*ECONNREFUSED/);
    expect(spoolLines(dir).map((l) => JSON.parse(l) as unknown)).toEqual([
      { kind: 'fanout', relation: 'tag', id: '4', event: 'Tag.Update.Post', enqueuedAt: expect.any(Number) as unknown },
    ]);
    const scene = await runPlugin(edit(dir, 5), { env: closed });
    expect(String(scene.result.output)).toMatch(/^spooled scene 5/);

    const up = await runPlugin(renameInput(dir, 'Performer.Update.Post', 6, ['name', 'id']), {
      env: { REDIS_URL: testRedisUrl(), REDIS_PREFIX: prefix },
    });
    expect(up.result).toEqual({ output: 'queued performer 6: every scene with it is re-synced' });
    expect(up.stderr).toMatch(/replayed 2 spooled events/);
    const items = await inboxItems(prefix);
    expect(items.map((i) => ('scene' in i ? `scene ${i.scene.sceneId}` : `${i.fanout.relation} ${i.fanout.id} ${i.fanout.event}`))).toEqual(
      ['tag 4 Tag.Update.Post', 'scene 5', 'performer 6 Performer.Update.Post'],
    );
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe('tasks', () => {
  it('Sync All Scenes queues every scene page by page, with progress', async () => {
    const dir = newPluginDir();
    const prefix = uniquePrefix('all');
    stash.sceneIds = Array.from({ length: 250 }, (_, i) => String(i + 1));
    const r = await runPlugin(pluginInput(dir, { mode: 'sync_all' }), { env: { REDIS_URL: testRedisUrl(), REDIS_PREFIX: prefix } });
    expectWellFormed(r);
    expect(r.code).toBe(0);
    expect(r.result.output).toBe('Sync All Scenes: queued 250 scenes for Plex in 3 pages');
    const progress = [...r.stderr.matchAll(new RegExp(`^${LEVEL('p')}(.*)$`, 'gm'))].map((m) => Number(m[1]));
    expect(progress).toEqual([0, 0.4, 0.8, 1]);
    expect(r.stderr).toMatch(logLine('i', /Sync All Scenes: page 3: 250\/250 scenes queued$/));
    const jobs = await inbox(prefix);
    expect(jobs.map((j) => j.sceneId)).toEqual(stash.sceneIds);
    expect(new Set(jobs.map((j) => `${j.reason}/${j.event}`))).toEqual(new Set(['manual/sync_all']));
    expect(stash.requests.every((q) => q.cookie === `session=${COOKIE}`)).toBe(true);
  });

  it('Sync Recent Scenes asks Stash for the last `hours` and queues those scenes', async () => {
    const dir = newPluginDir();
    const prefix = uniquePrefix('recent');
    stash.recentIds = ['5', '9', '12'];
    const started = Date.now();
    const r = await runPlugin(pluginInput(dir, { mode: 'sync_recent', hours: '2' }), {
      env: { REDIS_URL: testRedisUrl(), REDIS_PREFIX: prefix },
    });
    const finished = Date.now();
    expectWellFormed(r);
    expect(r.result.output).toBe('Sync Recent Scenes: queued 3 scenes for Plex in 1 page');
    const windows = stash.requests.filter((q) => q.op === 'FindScenesUpdated').map((q) => q.variables.updated!);
    expect(windows.length).toBeGreaterThan(0);
    for (const w of windows) {
      expect(w?.modifier).toBe('GREATER_THAN');
      // 2 h back from when the task ran (between started and finished), widened by 61 min (DST, skew), a
      // second for Stash's strict comparison.
      const since = new Date(w?.value ?? '').getTime();
      expect(since).toBeLessThanOrEqual(finished - 2 * 3_600_000 - STASH_WINDOW_WIDENING_MS);
      expect(since).toBeGreaterThan(started - 2 * 3_600_000 - STASH_WINDOW_WIDENING_MS - 10_000);
    }
    expect((await inbox(prefix)).map((j) => [j.sceneId, j.reason, j.event])).toEqual([
      ['5', 'manual', 'sync_recent'],
      ['9', 'manual', 'sync_recent'],
      ['12', 'manual', 'sync_recent'],
    ]);
  });

  it('a task replays the spool first', async () => {
    const dir = newPluginDir();
    const prefix = uniquePrefix('taskspool');
    await runPlugin(edit(dir, 77), { env: { REDIS_URL: `redis://127.0.0.1:${await freePort()}`, REDIS_PREFIX: prefix } });
    stash.recentIds = ['78'];
    const r = await runPlugin(pluginInput(dir, { mode: 'sync_recent' }), { env: { REDIS_URL: testRedisUrl(), REDIS_PREFIX: prefix } });
    expect(r.result.output).toBe('Sync Recent Scenes: queued 1 scene for Plex in 1 page (and 1 spooled hook events)');
    expect((await inbox(prefix)).map((j) => j.sceneId)).toEqual(['77', '78']);
  });

  it.each([
    [
      'an unknown mode',
      { mode: 'drop_everything' },
      {},
      new RegExp(`unknown task mode "drop_everything" \\(known: ${PLUGIN_TASKS.map((t) => t.mode).join(', ')}\\)`),
    ],
    ['bad hours', { mode: 'sync_recent', hours: 'lots' }, {}, /args\.hours must be a positive number/],
    ['Redis down', { mode: 'sync_all' }, { down: true }, /Sync All Scenes: Redis unreachable at 127\.0\.0\.1:\d+: .*ECONNREFUSED/],
    ['Stash unreachable', { mode: 'sync_all' }, { stashPort: 1 }, /StashUnavailable|ECONNREFUSED|fetch failed/],
    ['no way to reach Stash', { mode: 'sync_all' }, { noConn: true }, /server_connection lacks Scheme, Host, Port/],
  ])(
    'fails with {"error"} and a non-zero exit on %s',
    async (_, args, opts: { down?: boolean; stashPort?: number; noConn?: boolean }, message) => {
      const dir = newPluginDir();
      const prefix = uniquePrefix('taskerr');
      stash.sceneIds = ['1', '2'];
      const url = opts.down ? `redis://127.0.0.1:${await freePort()}` : testRedisUrl();
      const conn = opts.noConn ? { Scheme: undefined, Host: undefined, Port: undefined } : opts.stashPort ? { Port: opts.stashPort } : {};
      const r = await runPlugin(pluginInput(dir, args, conn), { env: { REDIS_URL: url, REDIS_PREFIX: prefix } });
      expectWellFormed(r);
      expect(r.code).toBe(1);
      expect(r.result.error).toMatch(message);
      expect(await redis.xlen(`${prefix}:inbox`)).toBe(0);
    },
  );
});
