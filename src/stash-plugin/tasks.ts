// The Stash plugin's tasks (args.mode) and their calls back to Stash. Loaded only for a task: the build
// bundles this module into dist/stash-plugin/stash2plex-tasks.cjs, which hooks never load (a hook reads
// its settings with src/hook/settings.ts), so the scene-save path never pays for the
// Stash client and zod.
//
// The report tasks (Health Check, Queue Status, Outage Summary, Recover Outage Jobs, Reconcile Outage
// Windows, Reconcile Library) need ioredis, BullMQ, the config and the Plex client: those are imported inside their
// handlers (esbuild bundles them here but runs their module code only when a handler imports them), so
// the queueing tasks do not pay for them. Their text is in ./task-reports.ts.
import type { Queue } from 'bullmq';
import type { Config } from '../core/config.js';
import type { Logger } from '../core/log.js';
import type { RedisConnection } from '../core/redis.js';
import type { Outage } from '../resilience/outages.js';
import type { CleanAction } from '../sync/queue-clean.js';
import type { JobReason, SyncJobData } from '../model/inbox-item.js';
import { StashClient, STASH_DEFAULT_PAGE_SIZE } from '../stash-api/client.js';
import { keys, SYNC_QUEUE } from '../core/keys.js';
import { EXPLAIN_SCENE_SETTING, PLUGIN_TASKS, type TaskMode } from './task-list.js';
import { numberArg } from './task-args.js';
import type { PluginLogLevel } from '../hook/log-lines.js';
import type { RedisSettings } from '../hook/settings.js';
import { sessionCookieOf, stashUrl } from '../hook/stash-connection.js';
import { PLUGIN_IDS } from '../hook/settings.js';
import { readPluginSettings } from '../hook/stash-plugin-config.js';
import { plexRouteOf, type DashboardTimeouts, type PlexRoute } from './dashboard-task.js';
import { PROGRESS_LOG_MS, type TaskOutput } from './plex-via-dashboard.js';
import type { PluginInput } from '../hook/input.js';
import { InboxWriter } from '../hook/inbox-writer.js';
import { parseRedisUrl } from '../hook/mini-redis.js';
import { replaySpool } from '../hook/spool.js';
import {
  healthReport,
  outageLabel,
  outageSummaryReport,
  outageWhen,
  plexLines,
  queueStatusReport,
  reconcileSummary,
  recoverReport,
  restoreReport,
  asTaskArgs,
  type DirectProbe,
  type FailedBreakdown,
  type Report,
} from './task-reports.js';

export interface TaskContext {
  input: PluginInput;
  env: Record<string, string | undefined>;
  /** Where the spool lives (the plugin folder). */
  dir: string;
  redis: RedisSettings;
  log: (level: PluginLogLevel, msg: string) => void;
  progress: (fraction: number) => void;
  now?: () => number;
  /** Page size of the Stash walks (default 100). */
  perPage?: number;
  /** Most failed jobs Queue Status reads the error type of (default FAILED_SCAN_CAP). */
  failedScanCap?: number;
  /** How long the stash2plex dashboard may be silent when a task asks it (default DASHBOARD_TIMEOUTS). */
  dashboardTimeouts?: DashboardTimeouts;
}

export type TaskHandler = (ctx: TaskContext) => Promise<string>;

/** Sync Recent Scenes' default window. */
export const DEFAULT_RECENT_HOURS = 24;

/** A Stash client for the server that ran the plugin (its session cookie; STASH_API_KEY if set). */
export function stashClientFor(input: PluginInput, env: Record<string, string | undefined>, timeoutMs?: number): StashClient {
  const url = stashUrl(input.server_connection);
  if (!url.ok) throw new Error(url.error);
  return new StashClient({
    url: url.url,
    apiKey: env.STASH_API_KEY?.trim() || undefined,
    sessionCookie: sessionCookieOf(input.server_connection),
    timeoutMs,
  });
}

/** Where Redis is, without the password: for messages. */
function redisWhere(url: string): string {
  try {
    const t = parseRedisUrl(url);
    return `${t.host}:${t.port}`;
  } catch {
    return 'Redis';
  }
}

/** The inbox stream, open for a task (after the spool was replayed into it). */
interface InboxSession {
  /** Spooled hook events delivered when it opened. */
  readonly replayed: number;
  /** Entries stored so far. */
  readonly queued: number;
  /** Ids skipped so far because they were not numeric. */
  readonly skipped: number;
  /** XADDs one scene entry per numeric id; resolves with how many were stored, throws on a Redis failure. */
  add(ids: readonly string[], reason: JobReason, event: string): Promise<number>;
}

/** Opens the inbox, replays the spool into it, runs `fn`, closes. Errors name the task (`label`). */
async function withInbox<T>(ctx: TaskContext, label: string, fn: (inbox: InboxSession) => Promise<T>): Promise<T> {
  const now = ctx.now ?? Date.now;
  let writer: InboxWriter;
  try {
    writer = await InboxWriter.open(ctx.redis.url, keys(ctx.redis.prefix).inbox, { connectTimeoutMs: 2_000, commandTimeoutMs: 15_000 });
  } catch (err) {
    throw new Error(`${label}: Redis unreachable at ${redisWhere(ctx.redis.url)}: ${(err as Error).message}`, { cause: err });
  }
  try {
    const replay = await replaySpool(ctx.dir, (jobs) => writer.add(jobs));
    if (replay.replayed) ctx.log('info', `replayed ${replay.replayed} spooled hook events`);
    if (replay.error) throw new Error(`${label}: Redis failed while replaying the spool: ${replay.error.message}`);
    const session = {
      replayed: replay.replayed,
      queued: 0,
      skipped: 0,
      async add(ids: readonly string[], reason: JobReason, event: string): Promise<number> {
        const enqueuedAt = now();
        const jobs: SyncJobData[] = [];
        for (const id of ids) {
          if (/^\d{1,18}$/.test(id)) jobs.push({ sceneId: id, reason, event, enqueuedAt });
          else session.skipped++;
        }
        if (jobs.length === 0) return 0;
        const r = await writer.add(jobs);
        session.queued += r.delivered;
        if (r.error || r.delivered < jobs.length) {
          throw new Error(`${label}: Redis failed after ${session.queued} scenes: ${r.error?.message ?? 'not stored'}`);
        }
        return r.delivered;
      },
    };
    return await fn(session);
  } finally {
    writer.close();
  }
}

/** ctx.progress, skipping repeats of the same fraction. */
function progressOf(ctx: TaskContext): (f: number) => void {
  let shown = -1;
  return (f: number) => {
    if (f !== shown) ctx.progress((shown = f));
  };
}

/**
 * XADDs one 'manual' inbox entry per scene id of each page, after replaying the spool. Progress is
 * queued/total (total may be an estimate: scenes come and go during the walk).
 */
async function queuePages(ctx: TaskContext, label: string, mode: TaskMode, total: number, pages: AsyncIterable<string[]>): Promise<string> {
  return withInbox(ctx, label, async (inbox) => {
    const progress = progressOf(ctx);
    progress(0);
    let page = 0;
    for await (const ids of pages) {
      page++;
      await inbox.add(ids, 'manual', mode);
      const { queued } = inbox;
      const of = total > 0 ? `/${Math.max(total, queued)}` : '';
      ctx.log('info', `${label}: page ${page}: ${queued}${of} scenes queued`);
      if (total > 0) progress(queued / Math.max(total, queued));
    }
    progress(1);
    const { queued, skipped, replayed } = inbox;
    if (skipped) ctx.log('warning', `${label}: ${skipped} scene ids were not numeric and were skipped`);
    const spooled = replayed ? ` (and ${replayed} spooled hook events)` : '';
    return `${label}: queued ${queued} scene${queued === 1 ? '' : 's'} for Plex in ${page} page${page === 1 ? '' : 's'}${spooled}`;
  });
}

const syncAll: TaskHandler = async (ctx) => {
  const client = stashClientFor(ctx.input, ctx.env);
  const perPage = ctx.perPage ?? STASH_DEFAULT_PAGE_SIZE;
  // Every scene was updated after the epoch: this window's count is the number of scenes.
  const { count } = await client.findScenesUpdated({ window: { since: 0 }, clock: await client.clock(), page: 1, perPage: 1 });
  ctx.log('info', `Sync All Scenes: ${count} scenes in Stash`);
  return queuePages(ctx, 'Sync All Scenes', 'sync_all', count, client.allSceneIds(perPage));
};

const syncRecent: TaskHandler = async (ctx) => {
  const hours = numberArg(ctx.input.args, 'hours') ?? DEFAULT_RECENT_HOURS;
  if (!Number.isFinite(hours) || hours <= 0 || hours > 24 * 366 * 100) {
    throw new Error('Sync Recent Scenes: args.hours must be a positive number of hours');
  }
  const client = stashClientFor(ctx.input, ctx.env);
  const perPage = ctx.perPage ?? STASH_DEFAULT_PAGE_SIZE;
  // The plugin runs on Stash's host (one clock), but its zone is Stash's to tell: asked every run.
  const clock = await client.clock();
  const window = { since: (ctx.now ?? Date.now)() - hours * 3_600_000 };
  const { count } = await client.findScenesUpdated({ window, clock, page: 1, perPage: 1 });
  ctx.log(
    'info',
    `Sync Recent Scenes: ${count} scenes changed in the last ${hours} h and the hour before; those of the last ${hours} h are queued`,
  );
  return queuePages(ctx, 'Sync Recent Scenes', 'sync_recent', count, client.scenesUpdatedIn(window, clock, perPage));
};

// ---- report and recovery tasks: the supervisor's state in Redis ------------------------------------

/** How long a task waits for Redis to answer before giving up. */
const TASK_REDIS_TIMEOUT_MS = 5_000;
/** Queue Status reads the failedReason of at most this many failed jobs, the most recent first. */
export const FAILED_SCAN_CAP = 10_000;
const FAILED_SCAN_PAGE = 1_000;

/**
 * Settings a task takes from its environment (or the plugin folder's .env) besides Redis: the ramp's
 * (so Queue Status reads the ramp as the supervisor runs it), the probe timeout, the error strategies
 * (default error types of Recover Outage Jobs), and PLEX_URL / PLEX_TOKEN / PLEX_CLIENT_ID for Health Check's
 * own probe.
 * Everything else of the environment is Stash's business and is ignored.
 */
const TASK_CONFIG_VARIABLES = [
  'RAMP_INITIAL_RATE',
  'RAMP_TARGET_RATE',
  'RAMP_DURATION_MS',
  'HEALTH_TIMEOUT_MS',
  'ERROR_STRATEGIES',
  'PLEX_URL',
  'PLEX_CLIENT_ID',
  'PLEX_TOKEN',
] as const;

/** A Redis-only Config: REDIS_URL / REDIS_PREFIX as resolved for the plugin, the rest from TASK_CONFIG_VARIABLES (and `more`). */
async function taskConfig(ctx: TaskContext, label: string, more: readonly string[] = []): Promise<Config> {
  const { parseConfig } = await import('../core/config.js');
  const env: Record<string, string | undefined> = { REDIS_URL: ctx.redis.url, REDIS_PREFIX: ctx.redis.prefix };
  for (const name of [...TASK_CONFIG_VARIABLES, ...more]) if (ctx.env[name]?.trim()) env[name] = ctx.env[name];
  try {
    return parseConfig(env, { plex: false, stash: false });
  } catch (err) {
    throw new Error(`${label}: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * The config with the settings a user changes in Stash merged in, as the workers merge them
 * (src/core/stash-settings.ts): Reconcile Library and Restore judge a scene as the workers sync it. Read
 * with the plugin's own session; when Stash cannot answer, the plugin's environment applies, said once.
 */
async function withStashSideSettings(ctx: TaskContext, config: Config, label: string): Promise<Config> {
  const [{ mergeStashSettings }, { parseConfig }] = await Promise.all([import('../core/stash-settings.js'), import('../core/config.js')]);
  let saved: Record<string, unknown> = {};
  try {
    const url = stashUrl(ctx.input.server_connection);
    if (!url.ok) throw new Error(url.error);
    saved = await readPluginSettings({
      url: url.url,
      pluginId: PLUGIN_IDS,
      apiKey: ctx.env.STASH_API_KEY?.trim() || undefined,
      sessionCookie: sessionCookieOf(ctx.input.server_connection),
    });
  } catch (err) {
    ctx.log(
      'warning',
      `${label}: the plugin's settings could not be read from Stash (${(err as Error).message}): the plugin's environment applies`,
    );
  }
  const merged = mergeStashSettings(saved, config.source ?? {});
  for (const p of merged.settings) if (p.problem) ctx.log('warning', `${label}: ${p.problem}: ${p.value ?? '(unset)'} applies`);
  return { ...parseConfig(merged.env, { plex: false, stash: false }), source: config.source };
}

interface TaskState {
  redis: RedisConnection;
  queue: Queue<SyncJobData>;
  close(): Promise<void>;
}

/** An ioredis connection that answered a PING within TASK_REDIS_TIMEOUT_MS. */
async function openRedis(ctx: TaskContext, config: Config, label: string): Promise<RedisConnection> {
  const { connectRedis } = await import('../core/redis.js');
  // Commands fail fast instead of waiting through reconnects: a task reports, it does not wait.
  const redis = connectRedis(config, { maxRetriesPerRequest: 1, connectTimeout: TASK_REDIS_TIMEOUT_MS });
  let lastError: Error | undefined;
  redis.on('error', (err: Error) => (lastError = err)); // reported once, below or by the failing command
  let timer: NodeJS.Timeout | undefined;
  const answered = await Promise.race([
    redis.ping().then(
      () => true,
      (err: Error) => ((lastError ??= err), false),
    ),
    new Promise<false>((r) => (timer = setTimeout(() => r(false), TASK_REDIS_TIMEOUT_MS))),
  ]);
  clearTimeout(timer);
  if (!answered) {
    redis.disconnect();
    const why = lastError?.message || `no answer within ${TASK_REDIS_TIMEOUT_MS / 1000} s`;
    // A reply (WRONGPASS, NOAUTH…) means Redis is there but will not serve us: the operator must act.
    const refused = /^(WRONGPASS|NOAUTH|NOPERM|ERR)\b/.test(why);
    throw new Error(
      `${label}: ${refused ? `Redis at ${redisWhere(ctx.redis.url)} refused the connection` : `Redis unreachable at ${redisWhere(ctx.redis.url)}`}: ${why}`,
    );
  }
  return redis;
}

/** An ioredis connection that answered a PING within TASK_REDIS_TIMEOUT_MS, and the `sync` queue on it. */
async function openState(ctx: TaskContext, config: Config, label: string): Promise<TaskState> {
  const [{ closeQuietly }, { createSyncQueue }] = await Promise.all([import('../core/redis.js'), import('../sync/queue.js')]);
  const redis = await openRedis(ctx, config, label);
  const queue = createSyncQueue(redis, config.redis.prefix);
  return {
    redis,
    queue,
    async close() {
      await queue.close().catch(() => undefined);
      await closeQuietly(redis);
    },
  };
}

async function withState<T>(ctx: TaskContext, config: Config, label: string, fn: (st: TaskState) => Promise<T>): Promise<T> {
  const st = await openState(ctx, config, label);
  try {
    return await fn(st);
  } finally {
    await st.close();
  }
}

async function probeClientIdOf(st: TaskState, config: Config): Promise<string | null> {
  const { probeClientId } = await import('../plex/client-id.js');
  return probeClientId(st.redis, keys(config.redis.prefix).plexClientId, config.plex.clientId, TASK_REDIS_TIMEOUT_MS);
}

/** The status document; what the reader had to repair or drop in Redis is logged as warnings. */
async function readStatus(ctx: TaskContext, st: TaskState, config: Config, now: number) {
  const { readStatusSources, shapeStatus } = await import('../supervisor/status.js');
  const sources = await readStatusSources({ redis: st.redis, keys: keys(config.redis.prefix), queues: [st.queue], now });
  for (const w of sources.snapshot.warnings) ctx.log('warning', w);
  return shapeStatus(sources, config, now);
}

/** Prints a report's lines at their levels; its summary is the task's result. */
function emit(ctx: TaskContext, report: Report): string {
  for (const line of report.lines) ctx.log(line.level, line.text);
  return report.summary;
}

/** GET /identity on PLEX_URL (no token needed), as the supervisor probes, as the installation's one device. */
async function probePlex(config: Config, clientId: Promise<string | null>): Promise<DirectProbe> {
  const { plexClientFrom } = await import('../plex/from-config.js');
  const { probeIdentity } = await import('../plex/probe.js');
  const plex = plexClientFrom(config, { use: 'health', clientIdentifier: await clientId });
  const probe = await probeIdentity(plex, config.health.timeoutMs, Date.now);
  return probe.ok ? { ok: true, latencyMs: probe.latencyMs ?? 0 } : { ok: false, error: probe.error ?? 'no answer' };
}

const healthCheck: TaskHandler = async (ctx) => {
  const label = 'Health Check';
  const now = (ctx.now ?? Date.now)();
  const config = await taskConfig(ctx, label);
  // The direct probe runs alongside the Redis reads, and is reported even when Redis is unreachable
  // (then it sends no client identifier: PLEX_CLIENT_ID unset and the shared one unknown).
  const opening = openState(ctx, config, label);
  const clientId = opening.then(
    (st) => probeClientIdOf(st, config),
    () => config.plex.clientId,
  );
  const route = plexRouteOf(ctx.env, 'url');
  const probing =
    route.where === 'here'
      ? probePlex(config, clientId)
      : route.where === 'dashboard'
        ? import('./plex-via-dashboard.js').then((m) => m.probeViaDashboard(route.target, outputOf(ctx)))
        : Promise.resolve(null);
  // Half a dashboard set up (one of the two, or a value that cannot work) is said, not passed over.
  if (route.where === 'nowhere' && (ctx.env.STASH2PLEX_URL?.trim() || ctx.env.HOOK_TOKEN?.trim()))
    ctx.log('warning', `${label}: no direct probe by the stash2plex dashboard: ${route.dashboard}`);
  let status;
  try {
    const st = await opening;
    try {
      status = await readStatus(ctx, st, config, now);
    } finally {
      await clientId; // read before the connection closes
      await st.close();
    }
  } catch (err) {
    const probe = await probing;
    if (probe) for (const line of plexLines(probe, null, { now }).lines) ctx.log(line.level, line.text);
    throw err;
  }
  return emit(ctx, healthReport({ status, probe: await probing }, { now }));
};

/** The failed set by error type, most recent first, at most FAILED_SCAN_CAP jobs, in pages. */
async function failedBreakdown(st: TaskState, cap: number, progress: (f: number) => void): Promise<FailedBreakdown> {
  const [{ parseFailedReason }, { JOB_FIELDS, queueInternals }] = await Promise.all([
    import('../core/errors.js'),
    import('../dlq/bullmq-internals.js'),
  ]);
  const bull = queueInternals(st.queue);
  const failedKey = bull.failedKey;
  const total = await st.redis.zcard(failedKey);
  const want = Math.min(total, cap);
  const byType: Record<string, number> = {};
  let scanned = 0;
  for (let start = 0; start < want; start += FAILED_SCAN_PAGE) {
    const ids = await st.redis.zrevrange(failedKey, start, Math.min(want, start + FAILED_SCAN_PAGE) - 1);
    if (ids.length === 0) break; // the set shrank meanwhile
    const pipe = st.redis.pipeline();
    for (const id of ids) pipe.hget(bull.jobKey(id), JOB_FIELDS.failedReason);
    for (const [err, reason] of (await pipe.exec()) ?? []) {
      if (err) throw err;
      if (reason === null) continue; // removed meanwhile
      const type = parseFailedReason(reason as string) ?? 'unclassified';
      byType[type] = (byType[type] ?? 0) + 1;
      scanned++;
    }
    progress(Math.min(1, (start + ids.length) / want));
  }
  return { total, scanned, byType, capped: total > cap };
}

const queueStatus: TaskHandler = async (ctx) => {
  const label = 'Queue Status';
  const now = (ctx.now ?? Date.now)();
  const config = await taskConfig(ctx, label);
  const progress = progressOf(ctx);
  const cap = ctx.failedScanCap ?? FAILED_SCAN_CAP;
  const { status, failed } = await withState(ctx, config, label, async (st) => {
    const status = await readStatus(ctx, st, config, now);
    const failedJobs = status.queues[SYNC_QUEUE]?.failed ?? 0;
    if (failedJobs > FAILED_SCAN_PAGE) ctx.log('info', `${label}: reading the error types of ${Math.min(failedJobs, cap)} failed jobs…`);
    progress(0);
    return { status, failed: await failedBreakdown(st, cap, progress) };
  });
  progress(1);
  return emit(ctx, queueStatusReport({ status, failed, ramp: config.ramp }, { now }));
};

async function readOutageHistory(
  ctx: TaskContext,
  st: TaskState,
  config: Config,
  now: number,
): Promise<{ outages: Outage[]; observedSince: number | null }> {
  const { readSnapshot } = await import('../resilience/store.js');
  const snapshot = await readSnapshot(st.redis, keys(config.redis.prefix), now);
  for (const w of snapshot.warnings) ctx.log('warning', w);
  return { outages: snapshot.outages, observedSince: snapshot.observedSince };
}

async function readOutages(ctx: TaskContext, st: TaskState, config: Config, now: number): Promise<Outage[]> {
  return (await readOutageHistory(ctx, st, config, now)).outages;
}

const outageSummary: TaskHandler = async (ctx) => {
  const label = 'Outage Summary';
  const now = (ctx.now ?? Date.now)();
  const config = await taskConfig(ctx, label);
  const { outages, observedSince } = await withState(ctx, config, label, (st) => readOutageHistory(ctx, st, config, now));
  return emit(ctx, outageSummaryReport(outages, { now }, observedSince));
};

/** A string arg (defaultArgs arrive as strings; API callers may send numbers); blank → undefined. */
function stringArg(ctx: TaskContext, name: string): string | undefined {
  const v = (ctx.input.args as Record<string, unknown>)[name];
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  if (typeof v !== 'string') return undefined;
  return v.trim() || undefined;
}

/** Logger for runRequeue: its warnings and errors reach Stash's log, its info lines only Stash's debug. */
function taskLogger(ctx: TaskContext): Logger {
  const at = (level: PluginLogLevel) => (a: unknown, b?: unknown) => {
    const msg = typeof a === 'string' ? a : typeof b === 'string' ? b : '';
    // The refusal is the report's own warning line: not twice.
    if (msg) ctx.log(level === 'warning' && msg.startsWith('requeue: breaker not CLOSED') ? 'debug' : level, msg);
  };
  const logger = { trace: at('trace'), debug: at('debug'), info: at('debug'), warn: at('warning'), error: at('error'), fatal: at('error') };
  return Object.assign(logger, { child: () => logger }) as unknown as Logger;
}

/**
 * Recover Outage Jobs (dry run or real): runRequeue over the latest outage's window by default. Args:
 * `outage` (latest, all or an outage id), `since` / `until` (ISO time, epoch ms or a duration back from
 * now, e.g. 2h; they replace the outage, so the default `outage: latest` gives way to them), `errors`
 * (comma list of error types; default PlexServerDown). Never forced: while the breaker is not CLOSED a
 * real run is refused, as the CLI without --force.
 */
function recoverTask(dryRun: boolean): TaskHandler {
  return async (ctx) => {
    const label = dryRun ? 'Recover Outage Jobs (dry run)' : 'Recover Outage Jobs';
    const now = (ctx.now ?? Date.now)();
    const config = await taskConfig(ctx, label);
    const since = stringArg(ctx, 'since');
    const until = stringArg(ctx, 'until');
    let outage = stringArg(ctx, 'outage');
    if ((since !== undefined || until !== undefined) && (outage === undefined || outage === 'latest')) outage = undefined;
    const errors = stringArg(ctx, 'errors')
      ?.split(',')
      .map((e) => e.trim())
      .filter(Boolean);
    const [{ runRequeue, RedisUnreachableError }, { RequeueInputError, errorSetFrom }] = await Promise.all([
      import('../dlq/requeue.js'),
      import('../dlq/select.js'),
    ]);
    const inputError = (err: unknown) => (err instanceof RequeueInputError ? new Error(`${label}: ${asTaskArgs(err.message)}`) : err);
    let types: string[];
    try {
      types = errorSetFrom({ errors, strategies: config.errorStrategies });
    } catch (err) {
      throw inputError(err);
    }
    let window: string;
    if (since !== undefined || until !== undefined) window = `the window from ${since ?? 'the beginning'} to ${until ?? 'now'}`;
    else {
      // No outage recorded is a normal state, not an error: say so (runRequeue would reject the input).
      const outages = await withState(ctx, config, label, (st) => readOutages(ctx, st, config, now));
      if (outages.length === 0) {
        ctx.progress(1);
        return `${label}: no outage recorded, so no outage window to recover (npm run requeue -- --since 2h recovers a time window instead)`;
      }
      const latest = [...outages].sort((a, b) => b.startedAt - a.startedAt)[0];
      if (outage === undefined || outage === 'latest') window = `the latest outage, ${outageWhen(latest, { now })}`;
      else if (outage === 'all') window = `all ${outages.length} recorded outages`;
      else window = `outage ${outage}`;
    }
    ctx.log('info', `${label}: failed jobs of ${window}; error types ${types.join(', ')}`);
    const progress = progressOf(ctx);
    progress(0);
    let loggedAt = Date.now();
    let summary: Awaited<ReturnType<typeof runRequeue>>;
    try {
      summary = await runRequeue(
        config,
        { dryRun, outage, since, until, errors },
        {
          log: taskLogger(ctx),
          now,
          connectTimeoutMs: TASK_REDIS_TIMEOUT_MS,
          onProgress: (p) => {
            if (p.inWindow > 0) progress(Math.min(1, p.examined / p.inWindow));
            if (Date.now() - loggedAt >= PROGRESS_LOG_MS) {
              loggedAt = Date.now();
              ctx.log(
                'info',
                `${label}: ${p.examined}/${p.inWindow} failed jobs examined, ${p.requeued} ${dryRun ? 'to requeue' : 'requeued'}`,
              );
            }
          },
        },
      );
    } catch (err) {
      if (err instanceof RequeueInputError) throw inputError(err);
      if (err instanceof RedisUnreachableError)
        throw new Error(`${label}: Redis unreachable at ${redisWhere(ctx.redis.url)}: ${err.message}`, { cause: err });
      throw err;
    }
    progress(1);
    return emit(ctx, recoverReport(summary, label));
  };
}

/**
 * Reconcile Outage Windows: for every recorded outage, oldest first, the scenes Stash changed from its
 * start to its end (an ongoing one: to now), queried wide and kept exact (StashClient.scenesUpdatedIn),
 * as 'reconcile' inbox entries (bulk priority). A scene is queued once per run even when windows overlap.
 * The task writes the inbox like Sync All (the workers enqueue), never BullMQ.
 */
const reconcileOutages: TaskHandler = async (ctx) => {
  const label = 'Reconcile Outage Windows';
  const now = (ctx.now ?? Date.now)();
  const config = await taskConfig(ctx, label);
  const outages = await withState(ctx, config, label, (st) => readOutages(ctx, st, config, now));
  const progress = progressOf(ctx);
  if (outages.length === 0) {
    progress(1);
    return `${label}: no outage recorded, nothing to reconcile`;
  }
  const client = stashClientFor(ctx.input, ctx.env);
  const stashClock = await client.clock();
  const perPage = ctx.perPage ?? STASH_DEFAULT_PAGE_SIZE;
  const windows = [...outages].sort((a, b) => a.startedAt - b.startedAt);
  const clock = { now };
  ctx.log('info', `${label}: ${windows.length} outage window${windows.length === 1 ? '' : 's'} to reconcile, oldest first`);
  return withInbox(ctx, label, async (inbox) => {
    progress(0);
    const seen = new Set<string>();
    let repeated = 0;
    for (const [i, o] of windows.entries()) {
      // Outage times are the supervisor's clock, taken to agree with this host's within
      // STASH_WINDOW_TOLERANCE_MS; this host's against Stash's is measured (StashClock.aheadMs).
      const window = { since: o.startedAt, until: o.endedAt ?? undefined };
      // The query's count (for the progress bar) reaches an hour beyond the window on each side.
      const { count } = await client.findScenesUpdated({ window, clock: stashClock, page: 1, perPage: 1 });
      const which = `${label}: ${i + 1}/${windows.length} ${outageLabel(o, clock)}`;
      const before = inbox.queued;
      let walked = 0;
      for await (const ids of client.scenesUpdatedIn(window, stashClock, perPage)) {
        const fresh = ids.filter((id) => !seen.has(id));
        for (const id of fresh) seen.add(id);
        repeated += ids.length - fresh.length;
        await inbox.add(fresh, 'reconcile', 'reconcile_outages');
        walked += ids.length;
        progress((i + (count > 0 ? Math.min(1, walked / count) : 1)) / windows.length);
      }
      progress((i + 1) / windows.length);
      ctx.log('info', `${which}: ${walked} scene${walked === 1 ? '' : 's'} changed in Stash, ${inbox.queued - before} queued`);
    }
    if (inbox.skipped) ctx.log('warning', `${label}: ${inbox.skipped} scene ids were not numeric and were skipped`);
    return reconcileSummary({ outages: windows.length, queued: inbox.queued, repeated, replayed: inbox.replayed });
  });
};

/**
 * Where a task that reads Plex finds no PLEX_URL / PLEX_TOKEN: the plugin keeps no Plex credentials unless
 * given them; the stash2plex dashboard has them, and the task asks it when STASH2PLEX_URL and HOOK_TOKEN
 * are in the plugin folder's .env (./plex-via-dashboard.ts); its status page and the command have them too.
 * `route` is why the dashboard was no way; none for a task the dashboard does not run for the plugin.
 */
const PLEX_ELSEWHERE = (command: string, route?: PlexRoute) =>
  route?.where === 'nowhere'
    ? `in the plugin folder's .env, or STASH2PLEX_URL and HOOK_TOKEN there so the task asks the stash2plex dashboard, which has them (${route.dashboard}); or run it on the status page, or ${command}`
    : `in the plugin folder's .env (the stash2plex dashboard runs only the dry run for a task); or run it where stash2plex has them, without copying them: its status page, or ${command}`;

/** The task's log and progress bar, for a run on the dashboard. */
const outputOf = (ctx: TaskContext): TaskOutput => ({ log: ctx.log, progress: progressOf(ctx), timeouts: ctx.dashboardTimeouts });

/**
 * What Reconcile Library takes from the plugin's environment besides TASK_CONFIG_VARIABLES: how a sync
 * finds items and what it sets, so the task judges a scene as the workers would sync it.
 */
const RECONCILE_CONFIG_VARIABLES = [
  'PLEX_LIBRARIES',
  'PATH_MAP',
  'MATCH_FALLBACK',
  'PLEX_SCAN_MISSING',
  'PLEX_MAX_RESPONSE_BYTES',
  'SYNC_MODE',
  'SYNC_FIELDS',
  'SYNC_POSTER',
  'SYNC_STUDIO_COLLECTION',
  'SYNC_REQUIRE',
  'PRESERVE_PLEX_EDITS',
  'MAX_TAGS',
  'COLLECTION_SOURCES',
  'COLLECTION_TAGS',
  'COLLECTION_TAG_PARENT',
  'COLLECTION_PERFORMERS_MIN',
] as const;

/**
 * Reconcile Library (dry run or real): every scene and its Plex item, by gap class (src/sync/library-gaps.ts),
 * and the scenes a sync would fix as 'reconcile' inbox entries (bulk priority; the workers enqueue them,
 * deduplicated). Needs PLEX_URL and PLEX_TOKEN (and PATH_MAP…) in the plugin's environment, else asks the
 * dashboard (STASH2PLEX_URL, HOOK_TOKEN: ./plex-via-dashboard.ts), which runs it with its own settings.
 */
function reconcileLibraryTask(dryRun: boolean): TaskHandler {
  return async (ctx) => {
    const label = dryRun ? 'Reconcile Library (dry run)' : 'Reconcile Library';
    const route = plexRouteOf(ctx.env, 'url and token');
    if (route.where === 'dashboard')
      return (await import('./plex-via-dashboard.js')).reconcileViaDashboard(route.target, outputOf(ctx), dryRun);
    const config = await withStashSideSettings(ctx, await taskConfig(ctx, label, RECONCILE_CONFIG_VARIABLES), label);
    const [
      { runLibraryReconcile, LibraryReconcileUnavailable, RECONCILE_LIBRARY_EVENT },
      { reportLines, reportSummary },
      { ReconcileIndexLost },
      { readsPerformerSceneCounts },
    ] = await Promise.all([
      import('../sync/library-reconcile-run.js'),
      import('../sync/library-gaps.js'),
      import('../core/errors.js'),
      import('../core/config.js'),
    ]);
    const stash = stashClientFor(ctx.input, ctx.env);
    stash.setPerformerSceneCounts(readsPerformerSceneCounts(config.sync));
    const progress = progressOf(ctx);
    progress(0);
    let loggedAt = Date.now();
    const run = (st: TaskState, toInbox?: (ids: string[]) => Promise<number>) =>
      runLibraryReconcile(config, {
        dryRun,
        log: taskLogger(ctx),
        redis: st.redis,
        stash,
        toInbox,
        perPage: ctx.perPage,
        onProgress: (p) => {
          progress(Math.min(1, p.scanned / Math.max(1, p.total)));
          if (Date.now() - loggedAt < PROGRESS_LOG_MS) return;
          loggedAt = Date.now();
          ctx.log('info', `${label}: ${p.scanned}/${p.total} scenes read${dryRun ? '' : `, ${p.sentToInbox} sent to the workers`}`);
        },
      });
    try {
      const report = await withState(ctx, config, label, (st) =>
        dryRun ? run(st) : withInbox(ctx, label, (inbox) => run(st, (ids) => inbox.add(ids, 'reconcile', RECONCILE_LIBRARY_EVENT))),
      );
      progress(1);
      for (const line of reportLines(report).slice(0, -1)) ctx.log('info', line);
      return reportSummary(report);
    } catch (err) {
      if (err instanceof LibraryReconcileUnavailable)
        throw new Error(`${label}: ${err.message} ${PLEX_ELSEWHERE('npm run reconcile', route)}`, { cause: err });
      if (err instanceof ReconcileIndexLost) throw new Error(`${label} stopped: ${err.message}`, { cause: err });
      throw err;
    }
  };
}

/**
 * Restore Plex Metadata (dry run or real): every scene whose Plex item has kept originals (a task takes
 * no scene list), and every collection, as `npm run restore -- --all`. Needs PLEX_URL and PLEX_TOKEN in the plugin's environment;
 * the dry run, else, asks the dashboard (./plex-via-dashboard.ts).
 */
function restoreTask(dryRun: boolean): TaskHandler {
  return async (ctx) => {
    const label = dryRun ? 'Restore Plex Metadata (dry run)' : 'Restore Plex Metadata';
    // A real restore writes to Plex: the hook token does not allow it (docs/THREAT-MODEL.md).
    const route = dryRun ? plexRouteOf(ctx.env, 'url and token') : undefined;
    if (route?.where === 'dashboard')
      return (await import('./plex-via-dashboard.js')).restoreDryRunViaDashboard(route.target, outputOf(ctx));
    const config = await withStashSideSettings(ctx, await taskConfig(ctx, label, ['PLEX_MAX_RESPONSE_BYTES', 'PATH_MAP']), label);
    const { runRestore, RestoreUnavailable } = await import('../restore/from-config.js');
    const progress = progressOf(ctx);
    progress(0);
    let loggedAt = Date.now();
    const onProgress = (p: { examined: number; restored: number }) => {
      if (Date.now() - loggedAt < PROGRESS_LOG_MS) return;
      loggedAt = Date.now();
      ctx.log('info', `${label}: ${p.examined} scenes examined, ${p.restored} ${dryRun ? 'would be restored' : 'restored'}`);
    };
    try {
      const summary = await withState(ctx, config, label, (st) =>
        runRestore(config, { scope: { all: true }, dryRun, log: taskLogger(ctx), redis: st.redis, onProgress }),
      );
      progress(1);
      return emit(ctx, restoreReport(summary));
    } catch (err) {
      if (err instanceof RestoreUnavailable)
        throw new Error(`${label}: ${err.message} ${PLEX_ELSEWHERE('npm run restore -- --all', route)}`, { cause: err });
      throw err;
    }
  };
}

/**
 * The scene Explain Scene explains: `args.sceneId` (an API caller's runPluginTask), else the plugin
 * setting "Scene to explain" as saved in Stash (its task page passes no arguments).
 */
async function sceneToExplain(ctx: TaskContext, label: string): Promise<string> {
  const given = (ctx.input.args as Record<string, unknown>).sceneId;
  if (typeof given === 'string' || typeof given === 'number') return String(given).trim();
  const url = stashUrl(ctx.input.server_connection);
  if (!url.ok) throw new Error(`${label}: ${url.error}`);
  const [{ readPluginSettings }, { PLUGIN_ID }] = await Promise.all([
    import('../hook/stash-plugin-config.js'),
    import('../hook/settings.js'),
  ]);
  const settings = await readPluginSettings({
    url: url.url,
    pluginId: PLUGIN_ID,
    apiKey: ctx.env.STASH_API_KEY?.trim() || undefined,
    sessionCookie: sessionCookieOf(ctx.input.server_connection),
  }).catch((err: Error) => {
    throw new Error(`${label}: the plugin's settings could not be read from Stash: ${err.message}`);
  });
  const saved = settings[EXPLAIN_SCENE_SETTING];
  if (typeof saved === 'string' && saved.trim()) return saved.trim();
  if (typeof saved === 'number') return String(saved);
  throw new Error(
    `${label}: say which scene: set "Scene to explain" in the plugin's settings (Settings → Plugins → stash2plex), save, then run the task`,
  );
}

/**
 * Explain Scene: what the next sync of one scene would do and why (src/explain/, as `npm run explain`),
 * one log line per line of it. Changes nothing. Needs PLEX_URL and PLEX_TOKEN in the plugin's environment,
 * else asks the dashboard (./plex-via-dashboard.ts).
 */
async function explainTask(ctx: TaskContext): Promise<string> {
  const label = 'Explain Scene';
  const sceneId = await sceneToExplain(ctx, label);
  const route = plexRouteOf(ctx.env, 'url and token');
  if (route.where === 'dashboard')
    return (await import('./plex-via-dashboard.js')).explainViaDashboard(route.target, outputOf(ctx), sceneId);
  const config = await taskConfig(ctx, label, RECONCILE_CONFIG_VARIABLES);
  const [
    { explainFromConfig, ExplainUnavailable },
    { ExplainInputError },
    { explanationLines },
    { closeQuietly },
    { readsPerformerSceneCounts },
  ] = await Promise.all([
    import('../explain/from-config.js'),
    import('../explain/explain.js'),
    import('../explain/report.js'),
    import('../core/redis.js'),
    import('../core/config.js'),
  ]);
  const stash = stashClientFor(ctx.input, ctx.env);
  stash.setPerformerSceneCounts(readsPerformerSceneCounts(config.sync));
  // Redis alone, no queue: a BullMQ queue writes its meta key on its own, and explain changes nothing.
  const redis = await openRedis(ctx, config, label);
  try {
    const e = await explainFromConfig(config, sceneId, { redis, stash, log: taskLogger(ctx) });
    for (const line of explanationLines(e)) ctx.log('info', line);
    ctx.progress(1);
    return `scene ${e.scene.id}: next sync: ${e.next}`;
  } catch (err) {
    if (err instanceof ExplainUnavailable)
      throw new Error(`${label}: ${err.message} ${PLEX_ELSEWHERE('npm run explain -- <sceneId>', route)}`, { cause: err });
    if (err instanceof ExplainInputError)
      throw new Error(`${label}: ${err.message} (the plugin setting "Scene to explain")`, { cause: err });
    throw err;
  } finally {
    await closeQuietly(redis);
  }
}

/** Default of Purge Failed Jobs Older Than N Days' args.days (its tasks pass 7 or 30: Stash's Tasks page passes only defaultArgs). */
export const DEFAULT_PURGE_DAYS = 30;

/** Clear Failed Jobs, Purge Failed Jobs Older Than N Days (args.days), Clear Pending Queue; each with a dry run. */
function cleanTask(name: string, action: CleanAction, dryRun: boolean): TaskHandler {
  return async (ctx) => {
    const days = action === 'purge_failed' ? (numberArg(ctx.input.args, 'days') ?? DEFAULT_PURGE_DAYS) : undefined;
    const named = days !== undefined && Number.isInteger(days) && days >= 0 ? name.replace(' N ', ` ${days} `) : name;
    const label = dryRun ? `${named} (dry run)` : named;
    const config = await taskConfig(ctx, label);
    const { cleanQueue, cleanSummaryText, validDays } = await import('../sync/queue-clean.js');
    if (action === 'purge_failed' && !validDays(days)) throw new Error(`${label}: args.days must be a whole number of days, 0 or more`);
    const summary = await withState(ctx, config, label, (st) =>
      cleanQueue(st.queue, st.redis, { action, dryRun, days }, (ctx.now ?? Date.now)()),
    );
    ctx.progress(1);
    return cleanSummaryText(summary, label);
  };
}

/** One handler per task of PLUGIN_TASKS (a task without a handler does not compile). */
export const TASK_HANDLERS: Record<TaskMode, TaskHandler> = {
  sync_all: syncAll,
  sync_recent: syncRecent,
  health_check: healthCheck,
  queue_status: queueStatus,
  outage_summary: outageSummary,
  recover_dry_run: recoverTask(true),
  recover: recoverTask(false),
  reconcile_outages: reconcileOutages,
  reconcile_library_dry_run: reconcileLibraryTask(true),
  reconcile_library: reconcileLibraryTask(false),
  restore_dry_run: restoreTask(true),
  restore: restoreTask(false),
  explain_scene: explainTask,
  clear_failed_dry_run: cleanTask('Clear Failed Jobs', 'clear_failed', true),
  clear_failed: cleanTask('Clear Failed Jobs', 'clear_failed', false),
  purge_failed_dry_run: cleanTask('Purge Failed Jobs Older Than N Days', 'purge_failed', true),
  purge_failed: cleanTask('Purge Failed Jobs Older Than N Days', 'purge_failed', false),
  clear_pending_dry_run: cleanTask('Clear Pending Queue', 'clear_pending', true),
  clear_pending: cleanTask('Clear Pending Queue', 'clear_pending', false),
};

/** Runs a task; resolves with its summary, rejects with a message fit for `{"error": …}`. */
export async function runTask(mode: TaskMode, ctx: TaskContext): Promise<string> {
  const handler = TASK_HANDLERS[mode];
  if (!handler) throw new Error(`unknown task mode "${mode}" (known: ${PLUGIN_TASKS.map((t) => t.mode).join(', ')})`);
  return handler(ctx);
}
