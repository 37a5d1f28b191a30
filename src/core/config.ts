// The one place that turns the environment (and an optional .env) into a typed, validated config.
// Defaults live here and nowhere else; .env.example and the README's configuration table mirror them.
import { existsSync, readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';
import { z } from 'zod';
import { hostHeaderName } from './host-name.js';
import { DEFAULT_ERROR_STRATEGIES, errorStrategiesSchema, type ErrorStrategies } from './errors.js';

/** A setting that is missing or wrong; `variable` names the environment variable. */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    readonly problem: string,
  ) {
    super(`${variable}: ${problem}`);
    this.name = 'ConfigError';
  }
}

export type Env = Record<string, string | undefined>;

const bool = z
  .string()
  .trim()
  .toLowerCase()
  .refine((v) => ['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'].includes(v), 'must be true or false')
  .transform((v) => ['true', '1', 'yes', 'on'].includes(v));
const int = (min: number) =>
  z
    .string()
    .trim()
    .regex(/^\d+$/, `must be a whole number of at least ${min}`)
    .transform(Number)
    .refine((n) => n >= min, `must be a whole number of at least ${min}`);
const num = (min: number, max = Infinity) =>
  z
    .string()
    .trim()
    .refine((s) => s !== '' && Number.isFinite(Number(s)), 'must be a number')
    .transform(Number)
    .refine((n) => n >= min && n <= max, max === Infinity ? `must be at least ${min}` : `must be between ${min} and ${max}`);
const httpUrl = z
  .string()
  .trim()
  .refine((s) => {
    try {
      return ['http:', 'https:'].includes(new URL(s).protocol);
    } catch {
      return false;
    }
  }, 'must be an http:// or https:// URL')
  .transform((s) => s.replace(/\/+$/, ''));
const redisUrl = z
  .string()
  .trim()
  .refine((s) => {
    try {
      return ['redis:', 'rediss:'].includes(new URL(s).protocol);
    } catch {
      return false;
    }
  }, 'must be a redis:// or rediss:// URL');
const list = z.string().transform((s) =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean),
);
const nonEmpty = z.string().trim().min(1, 'must not be empty');
/** Host names (a port, if given, is ignored), as the dashboard compares them with a request's Host. */
const hostList = list.transform((names, ctx) => {
  const out = names.map(hostHeaderName);
  const bad = names.find((_, i) => out[i] === null);
  if (bad !== undefined) ctx.addIssue({ code: 'custom', message: `"${bad}" is not a host name` });
  return out.filter((n): n is string => n !== null);
});

export interface PathMapping {
  from: string;
  to: string;
}

const pathMap = z.string().transform((s, ctx) => {
  const out: PathMapping[] = [];
  for (const part of s
    .split(';')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const eq = part.indexOf('=');
    if (eq <= 0 || eq === part.length - 1) {
      ctx.addIssue({ code: 'custom', message: `"${part}" is not stashPrefix=plexPrefix` });
      return z.NEVER;
    }
    out.push({ from: part.slice(0, eq).trim(), to: part.slice(eq + 1).trim() });
  }
  return out;
});

const errorStrategiesJson = z.string().transform((s, ctx) => {
  let raw: unknown;
  try {
    raw = JSON.parse(s);
  } catch {
    ctx.addIssue({ code: 'custom', message: 'must be a JSON object' });
    return z.NEVER;
  }
  const parsed = errorStrategiesSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    ctx.addIssue({ code: 'custom', message: `${issue.path.join('.') || 'value'}: ${issue.message}` });
    return z.NEVER;
  }
  return parsed.data;
});

/** Plex fields stash2plex can sync (SYNC_FIELDS); `date` is originallyAvailableAt, `rating` the user rating. */
export const SYNC_FIELD_NAMES = [
  'title',
  'summary',
  'studio',
  'date',
  'genres',
  'actors',
  'rating',
  'poster',
  'collection',
  'background',
  'actorphotos',
  'contentrating',
  'originaltitle',
  'sorttitle',
  'tagline',
  'labels',
] as const;
export type SyncField = (typeof SYNC_FIELD_NAMES)[number];
/** SYNC_FIELDS names left out of its default: each needs a choice (a sort title, a tagline, labels). */
const SYNC_FIELDS_OFF_BY_DEFAULT: readonly SyncField[] = ['sorttitle', 'tagline', 'labels'];
/** Where Plex collections come from (COLLECTION_SOURCES; tags: COLLECTION_TAGS, performers: COLLECTION_PERFORMERS_MIN): src/sync/collections.ts. */
export const COLLECTION_SOURCE_NAMES = ['groups', 'studio', 'parentstudio'] as const;
export type CollectionSource = (typeof COLLECTION_SOURCE_NAMES)[number];
/** How a poster is cut from its source (POSTER_STYLE): as it is, the centre 2:3, or the whole frame in 2:3 with bars. */
export const POSTER_STYLES = ['screenshot', 'crop', 'letterbox'] as const;
export type PosterStyle = (typeof POSTER_STYLES)[number];
/** Where a poster comes from (POSTER_FROM): the scene's screenshot, or the front cover of a Stash group the scene is in. */
export const POSTER_SOURCES = ['screenshot', 'group'] as const;
export type PosterSource = (typeof POSTER_SOURCES)[number];
/** What a scene must have before it is synced (SYNC_REQUIRE); `none` alone lets every scene through. */
export const SYNC_REQUIREMENTS = ['metadata', 'organized', 'stashid'] as const;
export type SyncRequirement = (typeof SYNC_REQUIREMENTS)[number];
/** How long and how many failed jobs BullMQ keeps (FAILED_KEEP_DAYS, FAILED_KEEP_MAX); days 0: no age limit. */
export interface FailedRetention {
  days: number;
  max: number;
}
export const DEFAULT_KEEP_FAILED: FailedRetention = { days: 30, max: 50_000 };
/**
 * Longest URL of any Plex request (PLEX_MAX_URL_BYTES): nginx's default request-line buffer
 * (`large_client_header_buffers 4 8k`, 414 beyond), half of Node's 16 KiB header limit (431 beyond).
 */
export const DEFAULT_PLEX_MAX_URL_BYTES = 8 * 1024;

/** A comma list of names out of `allowed` (each at most once); `none` alone (when allowed) is the empty list. */
const namesOf = <T extends string>(allowed: readonly T[], withNone: boolean) =>
  list.transform((names, ctx) => {
    const choices = `${allowed.join(', ')}${withNone ? ' or none' : ''}`;
    if (withNone && names.length === 1 && names[0] === 'none') return [] as T[];
    const bad = names.find((n) => !(allowed as readonly string[]).includes(n));
    if (bad !== undefined || names.length === 0) {
      ctx.addIssue({
        code: 'custom',
        message: `${bad === undefined ? 'must not be empty' : `"${bad}" is unknown`}: a comma list of ${choices}`,
      });
      return z.NEVER;
    }
    return [...new Set(names)] as T[];
  });

/** Each variable: its parser and its default (undefined = unset). Order is the order of .env.example. */
export const VARIABLES = {
  REDIS_URL: [redisUrl, 'redis://127.0.0.1:6379'],
  REDIS_CLUSTER_NODES: [list, undefined],
  REDIS_PREFIX: [
    z
      .string()
      .trim()
      .regex(/^[^\s:]+$/, 'must be non-empty, without spaces or colons'),
    's2p',
  ],
  PLEX_URL: [httpUrl, undefined],
  PLEX_TOKEN: [nonEmpty, undefined],
  PLEX_CLIENT_ID: [
    z
      .string()
      .trim()
      .regex(/^[\x21-\x7e]{1,128}$/, 'must be 1 to 128 printable characters without spaces'),
    undefined,
  ],
  PLEX_LIBRARIES: [list, undefined],
  PATH_MAP: [pathMap, undefined],
  MATCH_FALLBACK: [z.enum(['basename', 'none'], { message: 'must be basename or none' }), 'basename'],
  PLEX_SCAN_MISSING: [bool, 'true'],
  PLEX_SCAN_COOLDOWN_MS: [int(0), '600000'],
  PLEX_NOT_FOUND: [z.enum(['retry', 'skip'], { message: 'must be retry or skip' }), 'retry'],
  STASH_URL: [httpUrl, undefined],
  STASH_API_KEY: [nonEmpty, undefined],
  WORKER_CONCURRENCY: [int(1), '32'],
  READ_BATCH: [int(1).refine((n) => n <= 100, 'must be a whole number from 1 to 100'), '100'],
  JOB_LOCK_MS: [int(1000), '30000'],
  ADAPTIVE_CONCURRENCY: [bool, 'true'],
  SYNC_MODE: [z.enum(['mirror', 'merge'], { message: 'must be mirror or merge' }), 'mirror'],
  SYNC_POSTER: [bool, 'true'],
  SYNC_STUDIO_COLLECTION: [bool, 'false'],
  SYNC_FIELDS: [namesOf(SYNC_FIELD_NAMES, false), SYNC_FIELD_NAMES.filter((f) => !SYNC_FIELDS_OFF_BY_DEFAULT.includes(f)).join(',')],
  SYNC_REQUIRE: [namesOf(SYNC_REQUIREMENTS, true), 'metadata'],
  PRESERVE_PLEX_EDITS: [bool, 'false'],
  MAX_TAGS: [int(1), '200'],
  FAILED_KEEP_DAYS: [int(0), String(DEFAULT_KEEP_FAILED.days)],
  FAILED_KEEP_MAX: [int(1), String(DEFAULT_KEEP_FAILED.max)],
  PLEX_MAX_RESPONSE_BYTES: [int(1024), String(64 * 1024 * 1024)],
  STASH_MAX_RESPONSE_BYTES: [int(1024), String(32 * 1024 * 1024)],
  POSTER_MAX_BYTES: [int(1024), String(20 * 1024 * 1024)],
  PLEX_MAX_URL_BYTES: [int(1024), String(DEFAULT_PLEX_MAX_URL_BYTES)],
  POSTER_STYLE: [z.enum(POSTER_STYLES, { message: `must be ${POSTER_STYLES.join(', ')}` }), 'screenshot'],
  POSTER_FROM: [z.enum(POSTER_SOURCES, { message: `must be ${POSTER_SOURCES.join(' or ')}` }), 'screenshot'],
  // Set but empty leaves Plex's content rating alone (contentRatingEmpty); unset is the default.
  CONTENT_RATING: [z.string().trim().max(64, 'must be at most 64 characters'), 'XXX'],
  TAGLINE_FROM_DETAILS: [bool, 'false'],
  LABEL_TAGS: [list, undefined],
  COLLECTION_SOURCES: [namesOf(COLLECTION_SOURCE_NAMES, true), 'groups'],
  COLLECTION_TAGS: [list, undefined],
  COLLECTION_TAG_PARENT: [nonEmpty, undefined],
  COLLECTION_PERFORMERS_MIN: [int(0), '0'],
  COLLECTION_PRUNE: [bool, 'false'],
  BREAKER_FAILURE_THRESHOLD: [int(1), '5'],
  BREAKER_RECOVERY_TIMEOUT_MS: [int(0), '60000'],
  BREAKER_TRIAL_CALLS: [int(1), '10'],
  BREAKER_TRIAL_ERROR_RATE: [num(0, 1).refine((n) => n > 0, 'must be above 0 and at most 1'), '0.2'],
  HEALTH_TIMEOUT_MS: [int(1), '5000'],
  HEALTH_INTERVAL_MS: [int(1), '5000'],
  HEALTH_MAX_INTERVAL_MS: [int(1), '60000'],
  HEALTH_CLOSED_INTERVAL_MS: [int(0), '30000'],
  HEALTH_TOKEN_RECHECK_MS: [int(100), '5000'],
  RAMP_INITIAL_RATE: [num(0.001), '5'],
  RAMP_TARGET_RATE: [num(0.001), '20'],
  RAMP_DURATION_MS: [int(0), '300000'],
  RAMP_ERROR_THRESHOLD: [num(0, 1), '0.3'],
  RAMP_ERROR_WINDOW_MS: [int(1), '60000'],
  RAMP_RESTORE_AFTER_MS: [int(0), '5000'],
  PLEX_MAX_RATE: [num(0.001), undefined],
  OUTAGE_HISTORY_SIZE: [int(1), '30'],
  RECONCILE_AFTER_OUTAGE: [bool, 'true'],
  RECONCILE_INTERVAL_MS: [int(0), '900000'],
  HOOK_TOKEN: [nonEmpty, undefined],
  HOOK_SPOOL_DIR: [nonEmpty, 'data/hook-spool'],
  DASHBOARD_HOST: [nonEmpty, '127.0.0.1'],
  DASHBOARD_PORT: [int(0).refine((n) => n <= 65535, 'must be a port number'), '3000'],
  DASHBOARD_USER: [nonEmpty, 'admin'],
  DASHBOARD_PASSWORD: [nonEmpty, undefined],
  DASHBOARD_ALLOWED_HOSTS: [hostList, undefined],
  DASHBOARD_PUBLIC_URL: [httpUrl, undefined],
  IMAGE_RATE_PER_MINUTE: [int(1), '600'],
  ERROR_STRATEGIES: [errorStrategiesJson, undefined],
  LOG_LEVEL: [z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], { message: 'must be a pino level' }), 'info'],
  LOG_FORMAT: [z.enum(['pretty', 'json'], { message: 'must be pretty or json' }), undefined],
  STASH_SETTINGS_INTERVAL_MS: [int(1000), '30000'],
} as const satisfies Record<string, readonly [z.ZodType<unknown, string>, string | undefined]>;

export type VariableName = keyof typeof VARIABLES;
export const VARIABLE_NAMES = Object.keys(VARIABLES) as VariableName[];
/** The contract's default of each variable, for .env.example and --help. */
export const DEFAULTS: Record<VariableName, string | undefined> = Object.fromEntries(
  VARIABLE_NAMES.map((k) => [k, VARIABLES[k][1]]),
) as Record<VariableName, string | undefined>;

/** Stash's plugin setting types (stashapp/stash pkg/plugin/config.go SettingConfig; STRING when absent). */
export type StashSettingType = 'STRING' | 'NUMBER' | 'BOOLEAN';
/** One setting a user changes in Stash: its plugin setting key, the variable it stands for, Stash's type, label, help. */
export type StashSetting = readonly [key: string, variable: VariableName, type: StashSettingType, label: string, help: string];

/**
 * The settings a user changes in Stash (Settings → Plugins → stash2plex), one line each: every manifest
 * carries them (src/stash-plugin/manifest.ts) and the workers and supervisor read them from Stash every
 * STASH_SETTINGS_INTERVAL_MS (src/settings/). A value left empty in Stash falls back to the variable, then
 * to its default. Add a Stash-side setting here: the manifests, the reload and the status page follow.
 */
export const STASH_SETTINGS: readonly StashSetting[] = [
  ['syncFields', 'SYNC_FIELDS', 'STRING', 'Fields synced to Plex', `comma list out of ${SYNC_FIELD_NAMES.join(', ')}`],
  ['syncRequire', 'SYNC_REQUIRE', 'STRING', 'Scenes synced only with', `comma list out of ${SYNC_REQUIREMENTS.join(', ')}; or none`],
  ['syncMode', 'SYNC_MODE', 'STRING', 'Sync mode', 'mirror (Plex genres and actors exactly as Stash) or merge (only adds)'],
  ['preservePlexEdits', 'PRESERVE_PLEX_EDITS', 'BOOLEAN', 'Keep edits made in Plex', 'leave a field alone once someone changed it in Plex'],
  ['maxTags', 'MAX_TAGS', 'NUMBER', 'Most tags per scene', 'genres and actors sent to Plex per scene'],
  ['plexNotFound', 'PLEX_NOT_FOUND', 'STRING', 'Scene not in Plex', 'retry (the job waits for Plex to scan the file) or skip'],
  ['pathMap', 'PATH_MAP', 'STRING', 'Path map', 'stashPrefix=plexPrefix;… when Stash and Plex see files under different paths'],
  [
    'contentRating',
    'CONTENT_RATING',
    'STRING',
    'Content rating',
    "set on every scene in Plex (XXX); take contentrating out of the fields to leave Plex's",
  ],
  [
    'taglineFromDetails',
    'TAGLINE_FROM_DETAILS',
    'BOOLEAN',
    'Tagline from details',
    "the first line of a scene's details as Plex's tagline",
  ],
  [
    'labelTags',
    'LABEL_TAGS',
    'STRING',
    'Tags sent as Plex labels',
    "comma list of Stash tag names; a scene's tags among them become labels",
  ],
  [
    'collectionSources',
    'COLLECTION_SOURCES',
    'STRING',
    'Plex collections from',
    `comma list out of ${COLLECTION_SOURCE_NAMES.join(', ')}; or none`,
  ],
  [
    'collectionTags',
    'COLLECTION_TAGS',
    'STRING',
    'Tags that are collections',
    'comma list of tag names, or * for the tags under COLLECTION_TAG_PARENT',
  ],
  [
    'collectionPerformersMin',
    'COLLECTION_PERFORMERS_MIN',
    'NUMBER',
    'Performer collections from',
    'scenes a performer needs for a collection of its own (0: none)',
  ],
  [
    'collectionTagParent',
    'COLLECTION_TAG_PARENT',
    'STRING',
    'Parent of collection tags',
    'with Tags that are collections = *: the tag whose children are collections',
  ],
  [
    'collectionPrune',
    'COLLECTION_PRUNE',
    'BOOLEAN',
    'Delete emptied collections',
    'delete a collection stash2plex created once its last member left',
  ],
  [
    'posterStyle',
    'POSTER_STYLE',
    'STRING',
    'Poster style',
    `${POSTER_STYLES.join(', ')}: as it is, the centre 2:3, or the whole frame in 2:3 with bars`,
  ],
  [
    'posterFrom',
    'POSTER_FROM',
    'STRING',
    'Poster from',
    `${POSTER_SOURCES.join(' or ')}: the scene's screenshot, or a group's front cover`,
  ],
];

export interface Config {
  redis: { url: string; clusterNodes: string[] | null; prefix: string };
  plex: {
    url: string;
    token: string;
    clientId: string | null;
    libraries: string[] | null;
    pathMap: PathMapping[];
    maxRate: number | null;
    /** Largest Plex answer read (bytes); a larger one is aborted. */
    maxResponseBytes: number;
    /** Longest Plex request URL (bytes): an edit is split into several requests to stay under it. */
    maxUrlBytes: number;
  };
  /**
   * Finding a scene's Plex item (docs/MATCHING.md): the fallback after the exact path, whether a file not
   * found makes Plex scan its folder (at most once per folder per scanCooldownMs), and whether a scene Plex
   * does not hold is retried or completed as skipped.
   */
  matching: { fallback: 'basename' | 'none'; scanMissing: boolean; scanCooldownMs: number; notFound: 'retry' | 'skip' };
  /** Largest GraphQL answer and largest screenshot read (bytes); a larger screenshot is not uploaded. */
  stash: { url: string; apiKey: string | null; maxResponseBytes: number; posterMaxBytes: number };
  /** readBatch: most scene (or Plex item) reads of concurrent jobs coalesced into one request; 1: none. */
  /**
   * adaptiveConcurrency: requests at once toward Plex and toward Stash follow their latency, at most
   * `concurrency` (src/resilience/concurrency-limit.ts); false: a fixed `concurrency`.
   */
  worker: { concurrency: number; lockMs: number; readBatch: number; adaptiveConcurrency: boolean };
  sync: {
    mode: 'mirror' | 'merge';
    /** SYNC_FIELDS, less `poster` with SYNC_POSTER=false, plus `collection` with SYNC_STUDIO_COLLECTION=true. */
    fields: SyncField[];
    /** SYNC_REQUIRE; empty for `none`. */
    require: SyncRequirement[];
    preservePlexEdits: boolean;
    maxTags: number;
    /** POSTER_STYLE: how the poster is cut from its source. */
    posterStyle: PosterStyle;
    /** POSTER_FROM: the screenshot, or a Stash group's front cover when the scene is in a group that has one. */
    posterFrom: PosterSource;
    /** DASHBOARD_PUBLIC_URL: where Plex fetches performer photos (src/sync/image-links.ts); null: no actor photos. */
    imageBaseUrl: string | null;
    /** CONTENT_RATING: the content rating of every scene (SYNC_FIELDS `contentrating`; set empty, the field is left out). */
    contentRating: string;
    /** LABEL_TAGS: the Stash tag names a scene's tags become Plex labels among (SYNC_FIELDS `labels`). */
    labelTags: string[];
    /** The collections SYNC_FIELDS `collection` makes (src/sync/collections.ts); absent: the studio's alone. */
    collections?: CollectionSettings;
  };
  /** Failed sync jobs kept (BullMQ removeOnFail). */
  keepFailed: FailedRetention;
  /** trialCalls, trialErrorRate: how HALF_OPEN is judged (src/resilience/breaker.ts). */
  breaker: { failureThreshold: number; recoveryTimeoutMs: number; trialCalls: number; trialErrorRate: number };
  health: { timeoutMs: number; intervalMs: number; maxIntervalMs: number; closedIntervalMs: number; tokenRecheckMs: number };
  /** restoreAfterMs: a halved ramp is restored once no outage-class error came for this long. */
  ramp: {
    initialRate: number;
    targetRate: number;
    durationMs: number;
    errorThreshold: number;
    errorWindowMs: number;
    restoreAfterMs: number;
  };
  outageHistorySize: number;
  reconcile: { afterOutage: boolean; intervalMs: number };
  hookToken: string | null;
  /** Where the HTTP hook spools events Redis did not take (a subfolder per REDIS_PREFIX). */
  hookSpoolDir: string;
  /** allowedHosts: extra Host names accepted besides loopback ones (DNS rebinding defence). */
  /**
   * allowedHosts: extra Host names accepted besides loopback ones (DNS rebinding defence); imageRatePerMinute:
   * the performer image route's limit (IMAGE_RATE_PER_MINUTE; the route is open to any Host, like /healthz).
   */
  dashboard: {
    host: string;
    port: number;
    user: string;
    password: string | null;
    allowedHosts: string[];
    imageRatePerMinute: number;
  };
  errorStrategies: ErrorStrategies;
  logLevel: string;
  /** LOG_FORMAT; null: pretty on a terminal, JSON otherwise (src/core/log.ts). */
  logFormat: 'pretty' | 'json' | null;
  /** How often workers and supervisor read the plugin's settings from Stash (STASH_SETTINGS). */
  stashSettingsIntervalMs: number;
  /** The text of every stash2plex variable this config was parsed from: what a reload of Stash's settings merges over. */
  source?: Env;
}

/** Which groups of required settings a process needs (a dashboard needs no Stash, the hook no Plex). */
export interface Needs {
  plex?: boolean;
  stash?: boolean;
}

/** Reads `.env` from `cwd` (if present) under the environment: the environment wins. */
export function environmentWithDotenv(env: Env = process.env, cwd = process.cwd()): Env {
  const file = `${cwd}/.env`;
  if (!existsSync(file)) return env;
  const fromFile = parseEnv(readFileSync(file, 'utf8')) as Env;
  return { ...fromFile, ...env };
}

function read<K extends VariableName>(env: Env, name: K): z.output<(typeof VARIABLES)[K][0]> | undefined {
  const [schema, fallback] = VARIABLES[name];
  const given = env[name];
  const raw = given === undefined || given.trim() === '' ? fallback : given;
  if (raw === undefined) return undefined;
  const parsed = (schema as z.ZodType).safeParse(raw);
  if (!parsed.success) throw new ConfigError(name, parsed.error.issues[0]?.message ?? 'invalid value');
  return parsed.data as z.output<(typeof VARIABLES)[K][0]>;
}

function required<T>(name: VariableName, value: T | undefined): T {
  if (value === undefined) throw new ConfigError(name, 'is required but not set');
  return value;
}

/** SYNC_FIELDS with the older switches folded in: SYNC_POSTER=false drops `poster`, SYNC_STUDIO_COLLECTION=true adds `collection`. */
function syncFields(fields: SyncField[], poster: boolean, studioCollection: boolean): SyncField[] {
  const out = fields.filter((f) => poster || f !== 'poster');
  return studioCollection && !out.includes('collection') ? [...out, 'collection'] : out;
}

/** Reads one variable of the environment being parsed (its default when unset, ConfigError when bad). */
type Reader = <K extends VariableName>(name: K) => z.output<(typeof VARIABLES)[K][0]> | undefined;

function healthSettings(r: Reader): Config['health'] {
  const health = {
    timeoutMs: r('HEALTH_TIMEOUT_MS')!,
    intervalMs: r('HEALTH_INTERVAL_MS')!,
    maxIntervalMs: r('HEALTH_MAX_INTERVAL_MS')!,
    closedIntervalMs: r('HEALTH_CLOSED_INTERVAL_MS')!,
    tokenRecheckMs: r('HEALTH_TOKEN_RECHECK_MS')!,
  };
  if (health.maxIntervalMs < health.intervalMs) {
    throw new ConfigError('HEALTH_MAX_INTERVAL_MS', `must be at least HEALTH_INTERVAL_MS (${health.intervalMs})`);
  }
  return health;
}

function rampSettings(r: Reader): Config['ramp'] {
  const ramp = {
    initialRate: r('RAMP_INITIAL_RATE')!,
    targetRate: r('RAMP_TARGET_RATE')!,
    durationMs: r('RAMP_DURATION_MS')!,
    errorThreshold: r('RAMP_ERROR_THRESHOLD')!,
    errorWindowMs: r('RAMP_ERROR_WINDOW_MS')!,
    restoreAfterMs: r('RAMP_RESTORE_AFTER_MS')!,
  };
  if (ramp.targetRate < ramp.initialRate) {
    throw new ConfigError('RAMP_TARGET_RATE', `must be at least RAMP_INITIAL_RATE (${ramp.initialRate})`);
  }
  return ramp;
}

function redisSettings(r: Reader): Config['redis'] {
  const clusterNodes = r('REDIS_CLUSTER_NODES');
  for (const node of clusterNodes ?? []) {
    if (!/^[^:\s]+:\d{1,5}$/.test(node)) throw new ConfigError('REDIS_CLUSTER_NODES', `"${node}" is not host:port`);
  }
  return { url: r('REDIS_URL')!, clusterNodes: clusterNodes?.length ? clusterNodes : null, prefix: r('REDIS_PREFIX')! };
}

/** The Plex and Stash connections; their URLs (and Plex's token) are required only by processes that need them. */
function serverSettings(r: Reader, needs: Needs): Pick<Config, 'plex' | 'stash' | 'matching'> {
  const plexUrl = r('PLEX_URL');
  const plexToken = r('PLEX_TOKEN');
  const stashUrl = r('STASH_URL');
  if (needs.plex) {
    required('PLEX_URL', plexUrl);
    required('PLEX_TOKEN', plexToken);
  }
  if (needs.stash) required('STASH_URL', stashUrl);
  return {
    plex: {
      url: plexUrl ?? '',
      token: plexToken ?? '',
      clientId: r('PLEX_CLIENT_ID') ?? null,
      libraries: r('PLEX_LIBRARIES')?.length ? r('PLEX_LIBRARIES')! : null,
      pathMap: r('PATH_MAP') ?? [],
      maxRate: r('PLEX_MAX_RATE') ?? null,
      maxResponseBytes: r('PLEX_MAX_RESPONSE_BYTES')!,
      maxUrlBytes: r('PLEX_MAX_URL_BYTES')!,
    },
    matching: {
      fallback: r('MATCH_FALLBACK')!,
      scanMissing: r('PLEX_SCAN_MISSING')!,
      scanCooldownMs: r('PLEX_SCAN_COOLDOWN_MS')!,
      notFound: r('PLEX_NOT_FOUND')!,
    },
    stash: {
      url: stashUrl ?? '',
      apiKey: r('STASH_API_KEY') ?? null,
      maxResponseBytes: r('STASH_MAX_RESPONSE_BYTES')!,
      posterMaxBytes: r('POSTER_MAX_BYTES')!,
    },
  };
}

/**
 * The field switches of issue 24 folded into SYNC_FIELDS: CONTENT_RATING set empty drops `contentrating`
 * (Plex's is left alone, its lock released if stash2plex set it), TAGLINE_FROM_DETAILS=true adds `tagline`,
 * a LABEL_TAGS naming any tag adds `labels`.
 */
function fieldSwitches(fields: SyncField[], contentRatingEmpty: boolean, tagline: boolean, labels: boolean): SyncField[] {
  const out = fields.filter((f) => !contentRatingEmpty || f !== 'contentrating');
  for (const [on, field] of [[tagline, 'tagline'] as const, [labels, 'labels'] as const]) if (on && !out.includes(field)) out.push(field);
  return out;
}

/** CONTENT_RATING given but empty: leave Plex's alone (read() takes an empty value for unset, which means the default). */
const contentRatingEmpty = (env: Env) => env.CONTENT_RATING !== undefined && env.CONTENT_RATING.trim() === '';

function syncSettings(r: Reader, env: Env): Config['sync'] {
  const empty = contentRatingEmpty(env);
  const labelTags = r('LABEL_TAGS') ?? [];
  const fields = syncFields(r('SYNC_FIELDS')!, r('SYNC_POSTER')!, r('SYNC_STUDIO_COLLECTION')!);
  return {
    mode: r('SYNC_MODE')!,
    fields: fieldSwitches(fields, empty, r('TAGLINE_FROM_DETAILS')!, labelTags.length > 0),
    require: r('SYNC_REQUIRE')!,
    preservePlexEdits: r('PRESERVE_PLEX_EDITS')!,
    maxTags: r('MAX_TAGS')!,
    posterStyle: r('POSTER_STYLE')!,
    posterFrom: r('POSTER_FROM')!,
    imageBaseUrl: r('DASHBOARD_PUBLIC_URL') ?? null,
    contentRating: empty ? '' : r('CONTENT_RATING')!,
    labelTags,
    collections: collectionSettings(r),
  };
}

/**
 * COLLECTION_SOURCES (SYNC_STUDIO_COLLECTION=true adds `studio`), COLLECTION_TAGS (`*`: the scene's tags
 * whose parent is the tag named COLLECTION_TAG_PARENT), COLLECTION_PERFORMERS_MIN (0: no performer
 * collections), COLLECTION_PRUNE (delete a collection stash2plex created once its last member left).
 */
export interface CollectionSettings {
  sources: CollectionSource[];
  tags: string[];
  tagParent: string | null;
  performersMin: number;
  prune: boolean;
}

/** Whether a scene read needs each performer's `scene_count` (Stash counts it per read): performer collections are on. */
export function readsPerformerSceneCounts(sync: Pick<Config['sync'], 'fields' | 'collections'>): boolean {
  return sync.fields.includes('collection') && (sync.collections?.performersMin ?? 0) > 0;
}

function collectionSettings(r: Reader): CollectionSettings {
  const sources = r('COLLECTION_SOURCES')!;
  return {
    sources: r('SYNC_STUDIO_COLLECTION')! && !sources.includes('studio') ? [...sources, 'studio'] : sources,
    tags: r('COLLECTION_TAGS') ?? [],
    tagParent: r('COLLECTION_TAG_PARENT') ?? null,
    performersMin: r('COLLECTION_PERFORMERS_MIN')!,
    prune: r('COLLECTION_PRUNE')!,
  };
}

/** Pure: env → Config. Throws ConfigError naming the first bad variable. */
export function parseConfig(env: Env, needs: Needs = { plex: true, stash: true }): Config {
  const r: Reader = (k) => read(env, k);
  const servers = serverSettings(r, needs);
  const health = healthSettings(r);
  const ramp = rampSettings(r);
  return {
    redis: redisSettings(r),
    ...servers,
    worker: {
      concurrency: r('WORKER_CONCURRENCY')!,
      lockMs: r('JOB_LOCK_MS')!,
      readBatch: r('READ_BATCH')!,
      adaptiveConcurrency: r('ADAPTIVE_CONCURRENCY')!,
    },
    sync: syncSettings(r, env),
    keepFailed: { days: r('FAILED_KEEP_DAYS')!, max: r('FAILED_KEEP_MAX')! },
    breaker: {
      failureThreshold: r('BREAKER_FAILURE_THRESHOLD')!,
      recoveryTimeoutMs: r('BREAKER_RECOVERY_TIMEOUT_MS')!,
      trialCalls: r('BREAKER_TRIAL_CALLS')!,
      trialErrorRate: r('BREAKER_TRIAL_ERROR_RATE')!,
    },
    health,
    ramp,
    outageHistorySize: r('OUTAGE_HISTORY_SIZE')!,
    reconcile: { afterOutage: r('RECONCILE_AFTER_OUTAGE')!, intervalMs: r('RECONCILE_INTERVAL_MS')! },
    hookToken: r('HOOK_TOKEN') ?? null,
    hookSpoolDir: r('HOOK_SPOOL_DIR')!,
    dashboard: {
      host: r('DASHBOARD_HOST')!,
      port: r('DASHBOARD_PORT')!,
      user: r('DASHBOARD_USER')!,
      password: r('DASHBOARD_PASSWORD') ?? null,
      allowedHosts: r('DASHBOARD_ALLOWED_HOSTS') ?? [],
      imageRatePerMinute: r('IMAGE_RATE_PER_MINUTE')!,
    },
    errorStrategies: { ...DEFAULT_ERROR_STRATEGIES, ...(r('ERROR_STRATEGIES') ?? {}) },
    logLevel: r('LOG_LEVEL')!,
    logFormat: r('LOG_FORMAT') ?? null,
    stashSettingsIntervalMs: r('STASH_SETTINGS_INTERVAL_MS')!,
    source: Object.fromEntries(VARIABLE_NAMES.filter((k) => env[k] !== undefined).map((k) => [k, env[k]])),
  };
}

/** One variable's raw text checked by its parser: the problem in words when it does not parse. */
export function checkVariable(name: VariableName, raw: string): { ok: true } | { ok: false; problem: string } {
  try {
    read({ [name]: raw }, name);
    return { ok: true };
  } catch (err) {
    return { ok: false, problem: err instanceof ConfigError ? err.problem : String(err) };
  }
}

/** The secrets of a config, for redaction. */
export function secretsOf(config: Config): string[] {
  const out = [config.plex.token, config.stash.apiKey, config.dashboard.password, config.hookToken];
  try {
    const password = decodeURIComponent(new URL(config.redis.url).password);
    if (password) out.push(password);
  } catch {
    /* validated already */
  }
  return out.filter((s): s is string => !!s && s.length >= 4);
}

/** Imperative shell for entry points: load env + .env, or print one line and exit 2. */
export function loadConfigOrExit(needs?: Needs, env: Env = process.env): Config {
  try {
    return parseConfig(environmentWithDotenv(env), needs);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`stash2plex: configuration error: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}
