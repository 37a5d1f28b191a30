// `node dist/stash-plugin/stash2plex.cjs`: the Stash plugin process (interface raw), for hooks and tasks,
// bundled as stash2plex-hook.cjs, which the loader stash2plex.cjs runs from V8's code cache
// (workers/stash-plugin-loader.ts; a recorded event asks for the cache to be written when there is none).
// stdin: one JSON object from Stash; stdout: exactly one JSON line ({"output": …} or {"error": …});
// stderr: log lines with Stash's level prefixes.
//
// Stash waits for the hook on every scene save, so the hook path loads only the hook's input (checked by
// hand), decision and spool, the inbox item (no dependencies) and a minimal Redis client (on a TCP handle
// of its own, src/hook/tcp-handle.ts, or node:net on first use): the decision comes first and a skip
// does no network work at all, nor reads a .env; a record reads the Redis settings from the environment
// or from a 60 s cache of Stash's plugin settings (refreshed by one GraphQL POST over node:http,
// src/stash-api/plugin-settings.ts), XADDs to the inbox (after replaying the spool) and exits. The tasks
// and the Stash client live in stash2plex-tasks.cjs beside it, loaded for a task only
// (scripts/build-plugin.mjs maps the dynamic import below to it).
import { closeSync, existsSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { format, parseEnv } from 'node:util';
import { keys } from '../src/core/keys.js';
import { decideHook, itemOfDecision } from '../src/hook/decide.js';
import { MAX_INPUT_BYTES, errorOutput, output, parsePluginInput, type PluginInput } from '../src/hook/input.js';
import {
  PLUGIN_ID,
  PLUGIN_TASKS,
  envDecidesSettings,
  hookRedisTransport,
  isTaskMode,
  logLine,
  progressLine,
  resolveRedisSettings,
  sessionCookieOf,
  stashUrl,
  type PluginLogLevel,
  type SettingsResult,
} from '../src/stash-plugin/plugin-io.js';
import { readPluginSettings } from '../src/stash-api/plugin-settings.js';
import { appendToSpool } from '../src/hook/spool.js';
import { readStdin } from '../src/hook/stdin.js';
import { itemLabel } from '../src/model/inbox-item.js';
import { recordJob } from '../src/hook/inbox-writer.js';
import { RedisReplyError } from '../src/hook/mini-redis.js';
import { requestCodeCacheSave } from '../src/stash-plugin/code-cache-request.js';

type Env = Record<string, string | undefined>;

const errno = (err: unknown) => (err as NodeJS.ErrnoException)?.code;

const loadTasks = () => import('../src/stash-plugin/tasks.js');

/** Plugin settings read from Stash are reused this long (most hooks then make no Stash call). */
const SETTINGS_TTL_MS = 60_000;
const SETTINGS_CACHE_FILE = 'stash2plex.settings.json';
/** The hook's Redis budget: Stash is waiting. The connection is left to the exit (finish) to close. */
const HOOK_REDIS = { connectTimeoutMs: 1_000, commandTimeoutMs: 2_000, leaveOpen: true };

const USAGE = `Usage: node stash2plex.cjs < input.json
The stash2plex Stash plugin (interface raw). Stash runs it with one JSON object on stdin: on
Scene.Update.Post / Scene.Create.Post hooks it records the scene in Redis (<prefix>:inbox) for the
stash2plex workers; on Performer/Studio/Tag.Update.Post (a rename) and Tag.Merge.Post it records one
event the workers fan out to every scene carrying it. While Redis is unreachable events go to a spool
file in the plugin folder, replayed by the next run. With args.mode it runs a task
(${PLUGIN_TASKS.map((t) => t.mode).join(', ')}).
Prints one JSON line on stdout ({"output": …} or {"error": …}) and logs on stderr.

Settings: REDIS_URL and REDIS_PREFIX (environment, or .env in the working directory) override the
plugin settings redisUrl and redisPrefix in Stash (defaults redis://127.0.0.1:6379 and s2p).
STASH_API_KEY, if set, authenticates the tasks' Stash calls instead of the session cookie.
HOOK_REDIS_TRANSPORT=net makes the hook reach Redis through node:net (default auto: a TCP handle of its
own for an IP address, node:net otherwise).
`;

// ---- output: exactly one stdout line per run ------------------------------------------------------

/**
 * Writes straight to the file descriptor. process.stdout/stderr would do, but on a pipe (as Stash
 * runs us) their first use loads node:net and node:stream, a few ms a skip need not spend. Falls
 * back to the stream if the descriptor is non-blocking and full (EAGAIN).
 */
let viaStream = false;
function writeFd(fd: 1 | 2, text: string): void {
  let data: Buffer | undefined;
  let off = 0;
  if (!viaStream) {
    try {
      // The string as it is, no Buffer made, in the common case of one whole write.
      off = writeSync(fd, text);
      if (off === Buffer.byteLength(text)) return;
      data = Buffer.from(text, 'utf8');
      while (off < data.length) off += writeSync(fd, data, off);
      return;
    } catch (err) {
      if (errno(err) !== 'EAGAIN') return; // stdout/stderr gone: nothing sensible left to do
      viaStream = true;
    }
  }
  data ??= Buffer.from(text, 'utf8');
  (fd === 1 ? process.stdout : process.stderr).write(data.subarray(off));
}

const log = (level: PluginLogLevel, msg: string) => writeFd(2, logLine(level, msg));
// Nothing but the result may reach stdout: stray console output (a dependency's) goes to stderr.
console.log = console.info = console.debug = (...a: unknown[]) => log('info', format(...a));

let finished = false;
function finish(line: string, code: number): void {
  if (finished) return;
  finished = true;
  process.exitCode = code;
  writeFd(1, line);
  // Exit now: a lingering keep-alive socket (the settings fetch) must not keep Stash waiting.
  if (!viaStream) return process.exit(code);
  process.stdout.write('', () => process.exit(code));
}

function fail(message: string): void {
  log('error', message);
  finish(errorOutput(message), 1);
}

// ---- input ----------------------------------------------------------------------------------------

/**
 * How long the plugin waits for the end of its input. Stash writes one JSON object and closes stdin; a
 * caller that never closes it would otherwise hold the hook, and Stash with it, for ever.
 * S2P_HOOK_STDIN_TIMEOUT_MS overrides it (tests).
 */
const STDIN_TIMEOUT_MS = Number(process.env.S2P_HOOK_STDIN_TIMEOUT_MS) > 0 ? Number(process.env.S2P_HOOK_STDIN_TIMEOUT_MS) : 10_000;

/** The environment over a .env in the working directory (Stash runs plugins in their folder). */
function environment(): Env {
  // util.parseEnv is Node ≥ 20.12: before that (undefined in the CommonJS bundle), the environment alone.
  if (typeof parseEnv !== 'function') return process.env;
  let text: string;
  try {
    // Most plugin folders have none: existsSync spares the run a thrown ENOENT.
    if (!existsSync('.env')) return process.env;
    text = readFileSync('.env', 'utf8');
  } catch {
    return process.env;
  }
  return { ...parseEnv(text), ...process.env };
}

/** The plugin folder (spool, settings cache): PluginDir of the input, else this script's folder. */
function pluginDir(input: PluginInput): string {
  const given = input.server_connection.PluginDir;
  if (given) {
    // `<dir>/.` exists only for a directory (on POSIX; Windows normalises the dot away, and a file given
    // as PluginDir then fails at the spool, reported); existsSync makes no Stats object, statSync would.
    if (existsSync(`${given}/.`)) return given;
    log('warning', 'server_connection.PluginDir is not a directory: using the plugin script folder');
  }
  return dirname(resolve(process.argv[1] ?? '.'));
}

// ---- settings: environment, else Stash's plugin settings (cached) ---------------------------------

interface SettingsCache {
  at: number;
  settings: Record<string, unknown>;
}

function readSettingsCache(dir: string): SettingsCache | null {
  try {
    const v = JSON.parse(readFileSync(join(dir, SETTINGS_CACHE_FILE), 'utf8')) as SettingsCache;
    return typeof v?.at === 'number' && v.settings && typeof v.settings === 'object' ? v : null;
  } catch {
    return null;
  }
}

function writeSettingsCache(dir: string, settings: Record<string, unknown>): void {
  const file = join(dir, SETTINGS_CACHE_FILE);
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    const fd = openSync(tmp, 'w', 0o600); // may hold a Redis password
    try {
      writeSync(fd, JSON.stringify({ at: Date.now(), settings } satisfies SettingsCache));
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
  } catch (err) {
    log('debug', `settings cache not written: ${(err as Error).message}`);
  }
}

/** The plugin's settings in Stash, only the keys the plugin uses (they are cached in a file). */
async function fetchPluginSettings(input: PluginInput, env: Env): Promise<Record<string, unknown>> {
  const url = stashUrl(input.server_connection);
  if (!url.ok) throw new Error(url.error);
  const all = await readPluginSettings({
    url: url.url,
    pluginId: PLUGIN_ID,
    apiKey: env.STASH_API_KEY?.trim() || undefined,
    sessionCookie: sessionCookieOf(input.server_connection),
  });
  const out: Record<string, unknown> = {};
  for (const k of ['redisUrl', 'redisPrefix']) if (all[k] !== undefined && all[k] !== null) out[k] = all[k];
  return out;
}

async function redisSettings(input: PluginInput, env: Env, dir: string): Promise<SettingsResult> {
  if (envDecidesSettings(env)) return resolveRedisSettings(env);
  const cached = readSettingsCache(dir);
  const age = cached ? Date.now() - cached.at : Infinity;
  if (cached && age >= 0 && age < SETTINGS_TTL_MS) return resolveRedisSettings(env, cached.settings);
  try {
    const settings = await fetchPluginSettings(input, env);
    writeSettingsCache(dir, settings);
    return resolveRedisSettings(env, settings);
  } catch (err) {
    log(
      'warning',
      `could not read the plugin settings from Stash (${(err as Error).message}): using ${cached ? 'the last ones read' : 'the defaults'}`,
    );
    return resolveRedisSettings(env, cached?.settings ?? {});
  }
}

// ---- hook and tasks -------------------------------------------------------------------------------

/** `env` is read only when the event is recorded: a skip needs no settings. */
async function runHook(input: PluginInput, env: () => Env): Promise<void> {
  const decision = decideHook(input);
  if (decision.action === 'reject') return fail(decision.error);
  if (decision.action === 'skip') {
    log('debug', `stash2plex: skipped: ${decision.why}`);
    return finish(output(`skipped: ${decision.why}`), 0);
  }
  // A scene job, or a fan-out event (a rename): recorded, spooled and replayed alike. The fan-out itself
  // (finding the scenes) is the workers' job, never the hook's.
  const item = itemOfDecision(decision);
  if (item === null) return fail(`unsupported hook decision ${decision.action}`);
  const dir = pluginDir(input);
  const scene = itemLabel(item);
  const queued = decision.action === 'record' ? `queued ${scene}` : `queued ${scene}: every scene with it is re-synced`;
  try {
    const vars = env();
    const settings = await redisSettings(input, vars, dir);
    if (!settings.ok) {
      appendToSpool(dir, item);
      log('error', `stash2plex: ${settings.error}; ${scene} spooled until it is fixed`);
      return finish(output(`spooled ${scene} (${settings.error})`), 0);
    }
    const { url, prefix } = settings.settings;
    const { transport, warning } = hookRedisTransport(vars);
    if (warning) log('warning', `stash2plex: ${warning}`);
    const r = await recordJob(dir, { url, key: keys(prefix).inbox }, item, { ...HOOK_REDIS, transport });
    if (r.replayed) log('info', `stash2plex: replayed ${r.replayed} spooled events`);
    if (r.delivered) {
      requestCodeCacheSave();
      return finish(output(queued), 0);
    }
    const why = r.error?.message ?? 'unknown error';
    // Unreachable is an outage (a warning); a refusal (WRONGPASS, NOAUTH, OOM…) needs the operator.
    const refused = r.error instanceof RedisReplyError;
    const what = refused ? 'Redis refused the entry' : 'Redis unreachable';
    log(refused ? 'error' : 'warning', `stash2plex: ${what} (${why}): ${scene} spooled in ${dir}`);
    return finish(output(`spooled ${scene} (${what}: ${why})`), 0);
  } catch (err) {
    // Neither Redis nor the spool took it.
    return fail(`${scene} NOT recorded: ${(err as Error).message}`);
  }
}

async function runTaskMode(input: PluginInput, env: Env, mode: string): Promise<void> {
  if (!isTaskMode(mode)) return fail(`unknown task mode "${mode}" (known: ${PLUGIN_TASKS.map((t) => t.mode).join(', ')})`);
  const dir = pluginDir(input);
  const settings = await redisSettings(input, env, dir);
  if (!settings.ok) return fail(settings.error);
  const tasks = await loadTasks();
  try {
    const summary = await tasks.runTask(mode, {
      input,
      env,
      dir,
      redis: settings.settings,
      log,
      progress: (f) => writeFd(2, progressLine(f)),
    });
    log('info', summary);
    finish(output(summary), 0);
  } catch (err) {
    fail((err as Error).message);
  }
}

async function main(): Promise<void> {
  if (process.argv.includes('--help') || process.argv.includes('-h')) return finish(USAGE, 0);
  const raw = await readStdin(MAX_INPUT_BYTES, STDIN_TIMEOUT_MS);
  if (raw === null) return fail(`invalid plugin input: larger than ${MAX_INPUT_BYTES} bytes`);
  if (raw === 'timeout') return fail(`invalid plugin input: stdin did not end within ${STDIN_TIMEOUT_MS} ms (Stash sends one JSON object and closes it)`);
  const parsed = parsePluginInput(raw.toString('utf8'));
  if (!parsed.ok) return fail(parsed.error);
  const { input } = parsed;
  if (input.args.hookContext) return runHook(input, environment);
  if (input.args.mode !== undefined) return runTaskMode(input, environment(), input.args.mode);
  return fail('invalid plugin input: args has neither hookContext (a hook) nor mode (a task)');
}

main().catch((err: unknown) => {
  log('error', `stash2plex: internal error: ${(err as Error)?.stack ?? String(err)}`);
  fail(`internal error: ${(err as Error)?.message ?? String(err)}`);
});
