// The Stash plugin's process contract beyond the hook's input and output (src/hook/input.ts), pure: the
// plugin's task arguments, the Stash URL it derives, the Redis settings it resolves, its stderr log and
// progress lines (Stash's level prefixes: stashapp/stash pkg/plugin/common/log/log.go), and the
// manifests (stash2plex.yml) the build writes.
//
// Bundled into the hook (dist/stash-plugin/stash2plex.cjs, which Stash waits for on every scene save):
// it imports nothing but the hook's input module, its Redis client's URL reader and the Stash version
// bounds (constants), never `zod` (~450 KB, 20–30 ms) nor anything that does.
import { parseRedisUrl, REDIS_TRANSPORTS, type RedisTransport } from '../hook/mini-redis.js';
import { HTTP_HOOK_PATH, RENAME_HOOK_TRIGGERS, SCENE_HOOK_TRIGGERS, type PluginArgs, type ServerConnection } from '../hook/input.js';
import { STASH_MIN_VERSION, STASH_PLUGIN_MIN_VERSION } from '../stash-api/stash-version.js';

/** The plugin id: the manifest's file name (stash2plex.yml), the key of its settings in Stash. */
export const PLUGIN_ID = 'stash2plex';

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';
export const DEFAULT_REDIS_PREFIX = 's2p';

// ---- tasks: the one list (manifest entries and the modes the plugin accepts) -----------------------

export interface PluginTaskDef {
  /** Shown in Stash's Tasks page. */
  name: string;
  description: string;
  /** `args.mode` the task runs with. */
  mode: string;
  /** Further defaultArgs (values arrive as strings). */
  args?: Record<string, string>;
}

/**
 * Every task of the plugin, in the order Stash shows them. Add a task here (and its handler in
 * src/stash-plugin/tasks.ts, which the type system then demands): the build writes the manifest from
 * this list.
 */
export const PLUGIN_TASKS = [
  {
    name: 'Sync All Scenes',
    description: 'Queue every Stash scene for a sync to Plex (bulk priority: fresh edits still go first).',
    mode: 'sync_all',
  },
  {
    name: 'Sync Recent Scenes',
    description: 'Queue the scenes changed in the last 24 hours for a sync to Plex.',
    mode: 'sync_recent',
    args: { hours: '24' },
  },
  {
    name: 'Health Check',
    description:
      "Is Plex up (a direct probe when PLEX_URL is in the plugin's environment, else the supervisor's last probe), the breaker state and the queue size.",
    mode: 'health_check',
  },
  {
    name: 'Queue Status',
    description: 'Queue counts, failed jobs by error type, the breaker and the recovery ramp, and the last 3 outages.',
    mode: 'queue_status',
  },
  {
    name: 'Outage Summary',
    description: 'Plex outages recorded by the supervisor: count, total downtime, MTTR, MTBF, availability, detection delay and the last 10.',
    mode: 'outage_summary',
  },
  {
    name: 'Recover Outage Jobs (dry run)',
    description: 'Shows which failed jobs of the latest outage (PlexServerDown) Recover Outage Jobs would move back to the queue. Moves nothing.',
    mode: 'recover_dry_run',
    args: { outage: 'latest' },
  },
  {
    name: 'Recover Outage Jobs',
    description: 'Moves the failed jobs of the latest outage (PlexServerDown) back to the queue; refused while the breaker is not CLOSED.',
    mode: 'recover',
    args: { outage: 'latest' },
  },
  {
    name: 'Reconcile Outage Windows',
    description: 'Queues the scenes Stash changed during each recorded outage for a sync to Plex (bulk priority: fresh edits still go first).',
    mode: 'reconcile_outages',
  },
  {
    name: 'Reconcile Library (dry run)',
    description:
      'Reads every scene and its Plex item and reports the gaps: not in Plex, in Plex with no synced field set, drifted in Plex, never synced. Queues nothing.',
    mode: 'reconcile_library_dry_run',
  },
  {
    name: 'Reconcile Library',
    description: 'Reports the gaps as the dry run does, then queues the scenes a sync would fix (bulk priority). Needs PLEX_URL and PLEX_TOKEN in the plugin environment.',
    mode: 'reconcile_library',
  },
  {
    name: 'Restore Plex Metadata (dry run)',
    description:
      'Shows what Restore Plex Metadata would put back: for every scene whose Plex item stash2plex wrote to, the values and locks Plex had before. Changes nothing. Needs PLEX_URL and PLEX_TOKEN in the plugin environment.',
    mode: 'restore_dry_run',
  },
  {
    name: 'Restore Plex Metadata',
    description:
      'Puts back what Plex had before stash2plex wrote to it, for every scene it wrote to (a task takes no scene list: npm run restore -- --scene ID restores one), leaves fields changed in Plex since, and keeps those scenes out of sync until resumed. Run the dry run first.',
    mode: 'restore',
  },
  {
    name: 'Clear Failed Jobs (dry run)',
    description: 'Counts the failed sync jobs Clear Failed Jobs would remove. Removes nothing.',
    mode: 'clear_failed_dry_run',
  },
  {
    name: 'Clear Failed Jobs',
    description: 'Removes every failed sync job (the dead-letter queue): they can no longer be recovered.',
    mode: 'clear_failed',
  },
  {
    name: 'Purge Failed Jobs Older Than N Days (dry run)',
    description: 'Counts the failed sync jobs that failed more than args.days (default 30) days ago. Removes nothing.',
    mode: 'purge_failed_dry_run',
    args: { days: '30' },
  },
  {
    name: 'Purge Failed Jobs Older Than N Days',
    description: 'Removes the failed sync jobs that failed more than args.days (default 30) days ago.',
    mode: 'purge_failed',
    args: { days: '30' },
  },
  {
    name: 'Clear Pending Queue (dry run)',
    description: 'Counts the waiting and delayed sync jobs Clear Pending Queue would remove. Removes nothing.',
    mode: 'clear_pending_dry_run',
  },
  {
    name: 'Clear Pending Queue',
    description: 'Removes the waiting and delayed sync jobs (running ones finish); their scenes sync again on their next edit or reconciliation.',
    mode: 'clear_pending',
  },
] as const satisfies readonly PluginTaskDef[];
export type TaskMode = (typeof PLUGIN_TASKS)[number]['mode'];

export function isTaskMode(mode: string): mode is TaskMode {
  return PLUGIN_TASKS.some((t) => t.mode === mode);
}

/** The manifests' hook entries: the same in every variant (Node, wget, curl). */
function pluginHooks() {
  return [
    {
      name: 'Queue scene for Plex',
      description: 'Records the new or edited scene in the stash2plex queue (nothing for fields Plex does not show).',
      triggeredBy: [...SCENE_HOOK_TRIGGERS],
    },
    {
      name: 'Re-sync scenes after a rename',
      description:
        'Renaming a performer, studio or tag (or merging tags) records one event: the stash2plex workers re-sync every scene carrying it. Other edits (a birthdate, a favourite) are skipped.',
      triggeredBy: [...RENAME_HOOK_TRIGGERS],
    },
  ];
}

/** The stash2plex.yml object (YAML-serialised by scripts/build-plugin.mjs). */
export function pluginManifest(version: string) {
  return {
    name: 'stash2plex',
    description:
      'Keeps Plex metadata in step with Stash: every scene save, and every rename of a performer, studio or tag, is queued (in Redis) for a sync to Plex. ' +
      `Needs Stash ${STASH_PLUGIN_MIN_VERSION} or newer (older ones cannot load it) and Node.js 20 or newer on the Stash host.`,
    version,
    exec: ['node', '{pluginDir}/stash2plex.cjs'],
    interface: 'raw',
    hooks: pluginHooks(),
    tasks: PLUGIN_TASKS.map((t) => ({
      name: t.name,
      description: t.description,
      defaultArgs: { mode: t.mode, ...('args' in t ? t.args : {}) },
    })),
    settings: {
      redisUrl: {
        displayName: 'Redis URL',
        description: `redis:// or rediss:// URL of stash2plex's Redis (password in the URL). Default ${DEFAULT_REDIS_URL}. The REDIS_URL environment variable overrides it.`,
        type: 'STRING',
      },
      redisPrefix: {
        displayName: 'Redis key prefix',
        description: `Prefix of stash2plex's Redis keys, as REDIS_PREFIX of the workers. Default ${DEFAULT_REDIS_PREFIX}. The REDIS_PREFIX environment variable overrides it.`,
        type: 'STRING',
      },
    },
  };
}

// ---- HTTP variants: manifests whose exec posts the plugin input to the dashboard ------------------
//
// For Stash installs without Node.js (Stash's Docker image is Alpine: BusyBox wget is there, curl and
// Node are not). The exec is a command-line client that posts stdin (the plugin input) to
// `POST <STASH2PLEX_URL>/api/stash/hook` and prints the answer, which is already the plugin output
// (`{"output": …}` / `{"error": …}`). Hooks only: the tasks need Node.js; no spool: while stash2plex is
// unreachable the event is not recorded and checkpoint reconciliation catches the scene up.

export { HTTP_HOOK_PATH };
export const HTTP_HOOK_VARIANTS = ['wget', 'curl'] as const;
export type HttpHookVariant = (typeof HTTP_HOOK_VARIANTS)[number];
/** Written in place of what the build was not given; `sed` or a rebuild with the variables replaces them. */
export const HTTP_HOOK_PLACEHOLDERS = { url: '<STASH2PLEX_URL>', token: '<HOOK_TOKEN>' } as const;
/** curl's whole-request limit: Stash waits for the hook (the endpoint answers within ~3 s, Redis down or not). */
export const CURL_MAX_TIME_S = 10;

/** Where the HTTP hook posts; a missing piece is written as its placeholder. */
export interface HttpHookTarget {
  /** STASH2PLEX_URL, normalised: scheme, host, port and an optional base path, no trailing slash. */
  url?: string;
  /** HOOK_TOKEN. */
  token?: string;
}

export type HttpHookTargetResult = { ok: true; target: HttpHookTarget; missing: string[] } | { ok: false; variable: string; error: string };

/** RFC 6750 b64token: what may follow `Bearer ` in the header. `openssl rand -hex 32` gives one. */
const BEARER_TOKEN_RE = /^[A-Za-z0-9\-._~+/]+=*$/;

/**
 * STASH2PLEX_URL (the dashboard as Stash reaches it, e.g. http://stash2plex:3000) and HOOK_TOKEN from
 * the environment; unset or blank ones are listed in `missing` (the manifest gets placeholders). A set
 * but unusable value is an error naming the variable (never echoing the token).
 */
export function resolveHttpHookTarget(env: Record<string, string | undefined>): HttpHookTargetResult {
  const target: HttpHookTarget = {};
  const missing: string[] = [];
  const rawUrl = env.STASH2PLEX_URL?.trim();
  if (!rawUrl) missing.push('STASH2PLEX_URL');
  else {
    let u: URL;
    try {
      u = new URL(rawUrl);
    } catch {
      return { ok: false, variable: 'STASH2PLEX_URL', error: 'must be an http:// or https:// URL, e.g. http://stash2plex:3000' };
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') {
      return { ok: false, variable: 'STASH2PLEX_URL', error: 'must be an http:// or https:// URL, e.g. http://stash2plex:3000' };
    }
    if (u.username || u.password) return { ok: false, variable: 'STASH2PLEX_URL', error: 'must not carry credentials (the hook authenticates with HOOK_TOKEN)' };
    if (u.search || u.hash) return { ok: false, variable: 'STASH2PLEX_URL', error: 'must not have a query or a fragment' };
    if (u.pathname.endsWith(HTTP_HOOK_PATH)) {
      return { ok: false, variable: 'STASH2PLEX_URL', error: `is the dashboard's base URL, without ${HTTP_HOOK_PATH}` };
    }
    if (u.href.includes('{')) return { ok: false, variable: 'STASH2PLEX_URL', error: 'must not contain braces' };
    target.url = `${u.origin}${u.pathname.replace(/\/+$/, '')}`;
  }
  const token = env.HOOK_TOKEN?.trim();
  if (!token) missing.push('HOOK_TOKEN');
  else if (!BEARER_TOKEN_RE.test(token)) {
    return {
      ok: false,
      variable: 'HOOK_TOKEN',
      error: 'must be a bearer token: letters, digits and - . _ ~ + / (RFC 6750), e.g. the output of `openssl rand -hex 32`',
    };
  } else target.token = token;
  return { ok: true, target, missing };
}

/** The exec argv of an HTTP variant (placeholders for what `target` lacks). */
export function httpHookExec(variant: HttpHookVariant, target: HttpHookTarget = {}): string[] {
  const endpoint = `${target.url ?? HTTP_HOOK_PLACEHOLDERS.url}${HTTP_HOOK_PATH}`;
  const auth = `Authorization: Bearer ${target.token ?? HTTP_HOOK_PLACEHOLDERS.token}`;
  const json = 'Content-Type: application/json';
  if (variant === 'wget') {
    // BusyBox wget (`busybox wget --help`): -q quiet, -O - body to stdout, --post-file reads the body
    // (Stash's JSON on stdin) whole before the request. On an HTTP error it prints nothing on stdout
    // and exits 1: Stash logs wget's one stderr line as the error.
    return ['wget', '-q', '-O', '-', '--header', auth, '--header', json, '--post-file', '/dev/stdin', endpoint];
  }
  // --fail-with-body (curl ≥ 7.76): on an HTTP error print the body (the endpoint's {"error": …}) and exit 22.
  return ['curl', '-sS', '--fail-with-body', '--max-time', String(CURL_MAX_TIME_S), '-X', 'POST', '-H', auth, '-H', json, '--data-binary', '@-', endpoint];
}

/** The stash2plex.yml of an HTTP variant: hooks only, no tasks, no settings. */
export function httpPluginManifest(version: string, variant: HttpHookVariant, target: HttpHookTarget = {}) {
  const missing = [target.url ? null : 'STASH2PLEX_URL', target.token ? null : 'HOOK_TOKEN'].filter((v): v is string => v !== null);
  const tool = variant === 'wget' ? 'BusyBox wget' : 'curl';
  // The placeholders appear in exec only: filling them in with sed must not copy the token into the
  // description, which Stash shows to every user of its UI.
  const notice = missing.length ? `NOT CONFIGURED: rebuild with ${missing.join(' and ')} set, or fill in the placeholders of exec. ` : '';
  return {
    name: `stash2plex (HTTP hook, ${variant})`,
    description:
      `${notice}Posts scene saves and performer, studio and tag renames to stash2plex (POST ${HTTP_HOOK_PATH}) with ${tool}: nothing to install on the Stash host. ` +
      'Hooks only (the tasks need Node.js: the stash2plex plugin of dist/stash-plugin), no spool: while stash2plex is down, its checkpoint reconciliation catches edited scenes up. ' +
      `Needs Stash ${STASH_MIN_VERSION} or newer.`,
    version,
    exec: httpHookExec(variant, target),
    interface: 'raw',
    hooks: pluginHooks(),
  };
}

// ---- task arguments -------------------------------------------------------------------------------

/** `args.hours` etc. arrive as strings (task defaultArgs) or numbers (API callers). */
export function numberArg(args: PluginArgs, name: string): number | undefined {
  const v = (args as Record<string, unknown>)[name];
  if (v === undefined || v === null || v === '') return undefined;
  const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v.trim()) : NaN;
  return Number.isFinite(n) ? n : NaN;
}

// ---- Stash URL ------------------------------------------------------------------------------------

/**
 * `Scheme://Host:Port` of the Stash server that ran the plugin. Stash listens on `0.0.0.0` (or `::`)
 * and reports that as its host: the plugin then talks to `localhost`. Null with the reason when the
 * input lacks a piece.
 */
export function stashUrl(conn: ServerConnection): { ok: true; url: string } | { ok: false; error: string } {
  const missing = (['Scheme', 'Host', 'Port'] as const).filter((k) => conn[k] === undefined || conn[k] === '');
  if (missing.length) return { ok: false, error: `server_connection lacks ${missing.join(', ')}: cannot reach Stash` };
  const scheme = conn.Scheme!.toLowerCase();
  if (scheme !== 'http' && scheme !== 'https') return { ok: false, error: `server_connection.Scheme must be http or https` };
  const port = Number(conn.Port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) return { ok: false, error: 'server_connection.Port must be a port number' };
  let host = conn.Host!.trim();
  if (['0.0.0.0', '::', '[::]', ''].includes(host)) host = 'localhost';
  else if (host.includes(':') && !host.startsWith('[')) host = `[${host}]`;
  return { ok: true, url: `${scheme}://${host}:${port}` };
}

/** The session cookie in StashClient's shape, or undefined. */
export function sessionCookieOf(conn: ServerConnection): { name: string; value: string } | undefined {
  const c = conn.SessionCookie;
  return c && c.Name && c.Value ? { name: c.Name, value: c.Value } : undefined;
}

// ---- Redis settings -------------------------------------------------------------------------------

export interface RedisSettings {
  url: string;
  prefix: string;
}

export type SettingsResult = { ok: true; settings: RedisSettings } | { ok: false; error: string };

/** Whether the environment alone decides both settings (then Stash need not be asked). */
export function envDecidesSettings(env: Record<string, string | undefined>): boolean {
  return !!env.REDIS_URL?.trim() && !!env.REDIS_PREFIX?.trim();
}

/**
 * REDIS_URL / REDIS_PREFIX from the environment override the plugin settings `redisUrl` /
 * `redisPrefix`; unset (or blank) falls back to the defaults. Same rules as src/core/config.ts.
 */
export function resolveRedisSettings(env: Record<string, string | undefined>, plugin: Record<string, unknown> = {}): SettingsResult {
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
    return { ok: false, error: path ? `${url.from} must end in a database number, if anything` : `${url.from} must be a redis:// or rediss:// URL` };
  }
  if (!/^[^\s:]+$/.test(prefix.value)) return { ok: false, error: `${prefix.from} must be non-empty, without spaces or colons` };
  return { ok: true, settings: { url: url.value, prefix: prefix.value } };
}

/**
 * HOOK_REDIS_TRANSPORT: how the hook reaches Redis (src/hook/mini-redis.ts). Unset: 'auto'. A value it
 * does not know is reported, and node:net (the transport that needs nothing of Node's internals) used.
 */
export function hookRedisTransport(env: Record<string, string | undefined>): { transport: RedisTransport; warning?: string } {
  const given = env.HOOK_REDIS_TRANSPORT?.trim();
  if (!given) return { transport: 'auto' };
  if ((REDIS_TRANSPORTS as readonly string[]).includes(given)) return { transport: given as RedisTransport };
  return { transport: 'net', warning: `HOOK_REDIS_TRANSPORT must be one of ${REDIS_TRANSPORTS.join(', ')}: using net` };
}

// ---- stderr ---------------------------------------------------------------------------------------

export type PluginLogLevel = 'trace' | 'debug' | 'info' | 'warning' | 'error';
const LEVEL_LETTER: Record<PluginLogLevel | 'progress', string> = {
  trace: 't',
  debug: 'd',
  info: 'i',
  warning: 'w',
  error: 'e',
  progress: 'p',
};

const prefix = (letter: string) => `\x01${letter}\x02`;

/**
 * stderr log line(s) for Stash: each line of `msg` gets the level prefix (an unprefixed line would be
 * logged as an error). Control bytes that would confuse the framing are dropped.
 */
export function logLine(level: PluginLogLevel, msg: string): string {
  const p = prefix(LEVEL_LETTER[level]);
  const text = String(msg);
  // The common one-line message without control bytes takes no regular expression (the hook's skip logs
  // one, and a regular expression is compiled on its first use in a run).
  if (!text.includes('\n') && !text.includes('\r') && !text.includes('\x01') && !text.includes('\x02')) return `${p}${text}\n`;
  return text
    .replace(/[\x01\x02]/g, '')
    .split(/\r?\n/)
    .map((l) => `${p}${l}\n`)
    .join('');
}

/** A progress line: Stash shows `fraction` (clamped to 0..1) as the task's progress bar. */
export function progressLine(fraction: number): string {
  const f = Number.isFinite(fraction) ? Math.min(1, Math.max(0, fraction)) : 0;
  return `${prefix('p')}${Number(f.toFixed(4))}\n`;
}
