// The hook's settings, read here and nowhere else: the environment over the plugin folder's .env (found
// from the input's PluginDir or the script's path: Stash runs plugins in its own working directory), the
// plugin's settings in Stash (cached for 60 s in a file of the plugin folder, refreshed by one GraphQL
// POST: ./stash-plugin-config.ts), the plugin folder itself, and the stdin deadline. REDIS_URL /
// REDIS_PREFIX from the environment win over the plugin settings redisUrl / redisPrefix, which win over
// the defaults; STASH_API_KEY, if set, authenticates the refresh instead of the session cookie. The
// tasks read their Redis settings here too.
//
// Stash waits for the hook on every scene save, so nothing here runs for a skip, and a record with both
// Redis variables in its environment makes no Stash call at all.
import { closeSync, existsSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseEnv } from 'node:util';
import type { PluginInput } from './input.js';
import type { PluginLog } from './log-lines.js';
import { parseRedisUrl } from './mini-redis.js';
import { sessionCookieOf, stashUrl } from './stash-connection.js';
import { readPluginSettings } from './stash-plugin-config.js';

/** The plugin id: the manifest's file name (stash2plex.yml), the key of its settings in Stash. */
export const PLUGIN_ID = 'stash2plex';
/**
 * Every variant's id (one manifest file name each: Stash refuses two plugins of one id), in the order
 * their settings are looked for: whichever variant is installed, its settings are read.
 */
export const PLUGIN_IDS = [PLUGIN_ID, 'stash2plex-node', 'stash2plex-http', 'stash2plex-curl'] as const;
export type PluginVariantId = (typeof PLUGIN_IDS)[number];

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';
export const DEFAULT_REDIS_PREFIX = 's2p';

/** Plugin settings read from Stash are reused this long (most hooks then make no Stash call). */
export const SETTINGS_TTL_MS = 60_000;
export const SETTINGS_CACHE_FILE = 'stash2plex.settings.json';
/** The plugin settings the plugin uses: only these are kept in the cache file. */
const PLUGIN_SETTING_KEYS = ['redisUrl', 'redisPrefix'] as const;

export type Env = Record<string, string | undefined>;

// ---- Redis settings, pure ---------------------------------------------------------------------------

export interface RedisSettings {
  url: string;
  prefix: string;
}

export type SettingsResult = { ok: true; settings: RedisSettings } | { ok: false; error: string };

/** Whether the environment alone decides both settings (then Stash need not be asked). */
export function envDecidesSettings(env: Env): boolean {
  return !!env.REDIS_URL?.trim() && !!env.REDIS_PREFIX?.trim();
}

/**
 * REDIS_URL / REDIS_PREFIX from the environment override the plugin settings `redisUrl` /
 * `redisPrefix`; unset (or blank) falls back to the defaults. Same rules as src/core/config.ts.
 */
export function resolveRedisSettings(env: Env, plugin: Record<string, unknown> = {}): SettingsResult {
  const pick = (envName: string, key: string): { value: string; from: string } | undefined => {
    const e = env[envName]?.trim();
    if (e) return { value: e, from: envName };
    const p = plugin[key];
    if (typeof p === 'string' && p.trim()) return { value: p.trim(), from: `plugin setting ${key}` };
    return undefined;
  };
  const url = pick('REDIS_URL', 'redisUrl') ?? { value: DEFAULT_REDIS_URL, from: 'default' };
  const prefix = pick('REDIS_PREFIX', 'redisPrefix') ?? { value: DEFAULT_REDIS_PREFIX, from: 'default' };
  // Never echo the URL: it may carry a password.
  try {
    parseRedisUrl(url.value);
  } catch (err) {
    const path = /database number/.test((err as Error).message);
    return {
      ok: false,
      error: path ? `${url.from} must end in a database number, if anything` : `${url.from} must be a redis:// or rediss:// URL`,
    };
  }
  if (!/^[^\s:]+$/.test(prefix.value)) return { ok: false, error: `${prefix.from} must be non-empty, without spaces or colons` };
  return { ok: true, settings: { url: url.value, prefix: prefix.value } };
}

// ---- the environment, the plugin folder, the stdin deadline ---------------------------------------

/**
 * The environment over the .env of the plugin folder. Stash runs a plugin in its own working directory
 * (stashapp/stash pkg/plugin/config.go: "The current working directory is set to that of the stash
 * process"), so the folder is `dir` (pluginDir), never the working directory.
 */
export function pluginEnvironment(dir: string): Env {
  // util.parseEnv is Node ≥ 20.12: before that (undefined in the CommonJS bundle), the environment alone.
  if (typeof parseEnv !== 'function') return process.env;
  const file = join(dir, '.env');
  let text: string;
  try {
    // Most plugin folders have none: existsSync spares the run a thrown ENOENT.
    if (!existsSync(file)) return process.env;
    text = readFileSync(file, 'utf8');
  } catch {
    return process.env;
  }
  return { ...parseEnv(text), ...process.env };
}

/** The plugin folder (spool, settings cache): PluginDir of the input, else the plugin script's folder. */
export function pluginDir(input: PluginInput, log: PluginLog): string {
  const given = input.server_connection.PluginDir;
  if (given) {
    // `<dir>/.` exists only for a directory (on POSIX; Windows normalises the dot away, and a file given
    // as PluginDir then fails at the spool, reported); existsSync makes no Stats object, statSync would.
    if (existsSync(`${given}/.`)) return given;
    log('warning', 'server_connection.PluginDir is not a directory: using the plugin script folder');
  }
  return dirname(resolve(process.argv[1] ?? '.'));
}

/**
 * How long the plugin waits for the end of its input. Stash writes one JSON object and closes stdin; a
 * caller that never closes it would otherwise hold the hook, and Stash with it, for ever.
 * S2P_HOOK_STDIN_TIMEOUT_MS (the process environment only: stdin comes before any .env) overrides it (tests).
 */
export function stdinTimeoutMs(env: Env = process.env): number {
  const given = Number(env.S2P_HOOK_STDIN_TIMEOUT_MS);
  return given > 0 ? given : 10_000;
}

// ---- the plugin's settings in Stash, cached ---------------------------------------------------------

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

function writeSettingsCache(dir: string, settings: Record<string, unknown>, log: PluginLog): void {
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
    pluginId: PLUGIN_IDS,
    apiKey: env.STASH_API_KEY?.trim() || undefined,
    sessionCookie: sessionCookieOf(input.server_connection),
  });
  const out: Record<string, unknown> = {};
  for (const k of PLUGIN_SETTING_KEYS) if (all[k] !== undefined && all[k] !== null) out[k] = all[k];
  return out;
}

/**
 * The Redis settings of a run: the environment when it names both, else over the plugin settings from
 * the cache while fresh, else from Stash (then cached); when Stash cannot answer, the last ones read, or
 * the defaults, with a warning.
 */
export async function redisSettings(input: PluginInput, env: Env, dir: string, log: PluginLog): Promise<SettingsResult> {
  if (envDecidesSettings(env)) return resolveRedisSettings(env);
  const cached = readSettingsCache(dir);
  const age = cached ? Date.now() - cached.at : Infinity;
  if (cached && age >= 0 && age < SETTINGS_TTL_MS) return resolveRedisSettings(env, cached.settings);
  try {
    const settings = await fetchPluginSettings(input, env);
    writeSettingsCache(dir, settings, log);
    return resolveRedisSettings(env, settings);
  } catch (err) {
    log(
      'warning',
      `could not read the plugin settings from Stash (${(err as Error).message}): using ${cached ? 'the last ones read' : 'the defaults'}`,
    );
    return resolveRedisSettings(env, cached?.settings ?? {});
  }
}
