// Which settings each command reads, for its --help (./cli.ts handleHelp): the command's own, with their
// effective values, rather than all of them. A new setting goes into the groups of the commands that
// read it (and into ./config.ts, its one definition).
import type { VariableName } from './config.js';

const REDIS = ['REDIS_URL', 'REDIS_CLUSTER_NODES', 'REDIS_PREFIX'] as const;
const LOGS = ['LOG_LEVEL', 'LOG_FORMAT'] as const;
const PLEX = ['PLEX_URL', 'PLEX_TOKEN', 'PLEX_CLIENT_ID', 'PLEX_LIBRARIES', 'PLEX_MAX_RESPONSE_BYTES', 'PLEX_MAX_URL_BYTES'] as const;
const STASH = ['STASH_URL', 'STASH_API_KEY', 'STASH_MAX_RESPONSE_BYTES'] as const;
const MATCHING = ['PATH_MAP', 'MATCH_FALLBACK', 'PLEX_SCAN_MISSING', 'PLEX_SCAN_COOLDOWN_MS', 'PLEX_NOT_FOUND'] as const;
const SYNC = [
  'SYNC_MODE',
  'SYNC_POSTER',
  'SYNC_STUDIO_COLLECTION',
  'SYNC_FIELDS',
  'SYNC_REQUIRE',
  'CONTENT_RATING',
  'TAGLINE_FROM_DETAILS',
  'LABEL_TAGS',
  'PRESERVE_PLEX_EDITS',
  'MAX_TAGS',
  'POSTER_MAX_BYTES',
  'POSTER_STYLE',
  'POSTER_FROM',
  'DASHBOARD_PUBLIC_URL',
  'COLLECTION_SOURCES',
  'COLLECTION_TAGS',
  'COLLECTION_TAG_PARENT',
  'COLLECTION_PERFORMERS_MIN',
  'COLLECTION_PRUNE',
] as const;
const WORKER = [
  'WORKER_CONCURRENCY',
  'READ_BATCH',
  'JOB_LOCK_MS',
  'ADAPTIVE_CONCURRENCY',
  'FAILED_KEEP_DAYS',
  'FAILED_KEEP_MAX',
  'ERROR_STRATEGIES',
] as const;
const SUPERVISOR = [
  'BREAKER_FAILURE_THRESHOLD',
  'BREAKER_RECOVERY_TIMEOUT_MS',
  'BREAKER_TRIAL_CALLS',
  'BREAKER_TRIAL_ERROR_RATE',
  'HEALTH_TIMEOUT_MS',
  'HEALTH_INTERVAL_MS',
  'HEALTH_MAX_INTERVAL_MS',
  'HEALTH_CLOSED_INTERVAL_MS',
  'HEALTH_TOKEN_RECHECK_MS',
  'RAMP_INITIAL_RATE',
  'RAMP_TARGET_RATE',
  'RAMP_DURATION_MS',
  'RAMP_ERROR_THRESHOLD',
  'RAMP_ERROR_WINDOW_MS',
  'RAMP_RESTORE_AFTER_MS',
  'PLEX_MAX_RATE',
  'OUTAGE_HISTORY_SIZE',
  'RECONCILE_AFTER_OUTAGE',
  'RECONCILE_INTERVAL_MS',
] as const;
const DASHBOARD = [
  'DASHBOARD_HOST',
  'DASHBOARD_PORT',
  'DASHBOARD_USER',
  'DASHBOARD_PASSWORD',
  'DASHBOARD_ALLOWED_HOSTS',
  'HOOK_TOKEN',
  'HOOK_SPOOL_DIR',
  'IMAGE_RATE_PER_MINUTE',
] as const;

const unique = (...groups: (readonly VariableName[])[]): VariableName[] => [...new Set(groups.flat())];

/** Per command (as `npm run <command>`, `start` for npm start): the settings it reads. */
export const COMMAND_SETTINGS = {
  worker: unique(REDIS, PLEX, STASH, MATCHING, SYNC, WORKER, LOGS),
  supervisor: unique(REDIS, PLEX, STASH, SUPERVISOR, LOGS),
  dashboard: unique(REDIS, PLEX, STASH, MATCHING, SYNC, DASHBOARD, ['HEALTH_TIMEOUT_MS', 'FAILED_KEEP_DAYS', 'FAILED_KEEP_MAX'], LOGS),
  start: unique(REDIS, PLEX, STASH, MATCHING, SYNC, WORKER, SUPERVISOR, DASHBOARD, LOGS),
  requeue: unique(REDIS, ['ERROR_STRATEGIES'], LOGS),
  restore: unique(REDIS, PLEX, ['PATH_MAP'], LOGS),
  reconcile: unique(REDIS, PLEX, STASH, MATCHING, SYNC, LOGS),
  explain: unique(REDIS, PLEX, STASH, MATCHING, SYNC, LOGS),
  // The demo and the simulators make their own settings: only these come from the environment.
  demo: unique(['REDIS_URL', 'DASHBOARD_PORT'], LOGS),
  sim: [] as VariableName[],
} as const satisfies Record<string, readonly VariableName[]>;

export type CommandName = keyof typeof COMMAND_SETTINGS;
