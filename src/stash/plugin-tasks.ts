// The Stash plugin's tasks (args.mode) and its calls back to Stash. Loaded only when needed: the
// build bundles this module into dist/stash-plugin/stash2plex-tasks.cjs, which the hook loads at most
// once a minute (to refresh the plugin settings), so the scene-save path never pays for the Stash
// client and zod.
import type { SyncJobData } from '../sync/job.js';
import { StashClient, STASH_DEFAULT_PAGE_SIZE } from './client.js';
import { keys } from '../keys.js';
import {
  PLUGIN_ID,
  PLUGIN_TASKS,
  numberArg,
  sessionCookieOf,
  stashUrl,
  type PluginInput,
  type PluginLogLevel,
  type RedisSettings,
  type TaskMode,
} from './plugin-io.js';
import { InboxWriter, parseRedisUrl, replaySpool } from './spool.js';

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
}

export type TaskHandler = (ctx: TaskContext) => Promise<string>;

/** Sync Recent Scenes' default window. */
export const DEFAULT_RECENT_HOURS = 24;
/** The plugin and Stash share a clock, but allow for a save racing the task start. */
const RECENT_SKEW_MS = 60_000;

/** A Stash client for the server that ran the plugin (its session cookie; STASH_API_KEY if set). */
export function stashClientFor(input: PluginInput, env: Record<string, string | undefined>, timeoutMs?: number): StashClient {
  const url = stashUrl(input.server_connection);
  if (!url.ok) throw new Error(url.error);
  return new StashClient({
    url: url.url,
    apiKey: env.STASH_API_KEY?.trim() || undefined,
    sessionCookie: sessionCookieOf(input.server_connection),
    timeoutMs,
    // Stash compares updated_at as text in its local zone; it runs the plugin, so it shares ours.
    serverUtcOffsetMinutes: -new Date().getTimezoneOffset(),
  });
}

/** The plugin's settings in Stash (only the keys the plugin uses). */
export async function fetchPluginSettings(
  input: PluginInput,
  env: Record<string, string | undefined>,
  timeoutMs = 3_000,
): Promise<Record<string, unknown>> {
  const all = await stashClientFor(input, env, timeoutMs).pluginSettings(PLUGIN_ID);
  const out: Record<string, unknown> = {};
  for (const k of ['redisUrl', 'redisPrefix']) if (all[k] !== undefined && all[k] !== null) out[k] = all[k];
  return out;
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

/**
 * XADDs one 'manual' inbox entry per scene id of each page, after replaying the spool. Progress is
 * queued/total (total may be an estimate: scenes come and go during the walk).
 */
async function queuePages(ctx: TaskContext, label: string, mode: TaskMode, total: number, pages: AsyncIterable<string[]>): Promise<string> {
  const now = ctx.now ?? Date.now;
  let writer: InboxWriter;
  try {
    writer = await InboxWriter.open(ctx.redis.url, keys(ctx.redis.prefix).inbox, { connectTimeoutMs: 2_000, commandTimeoutMs: 15_000 });
  } catch (err) {
    throw new Error(`${label}: Redis unreachable at ${redisWhere(ctx.redis.url)}: ${(err as Error).message}`);
  }
  try {
    const replay = await replaySpool(ctx.dir, (jobs) => writer.add(jobs));
    if (replay.replayed) ctx.log('info', `replayed ${replay.replayed} spooled hook events`);
    if (replay.error) throw new Error(`${label}: Redis failed while replaying the spool: ${replay.error.message}`);
    let shown = -1;
    const progress = (f: number) => {
      if (f !== shown) ctx.progress((shown = f));
    };
    progress(0);
    let queued = 0;
    let page = 0;
    let skipped = 0;
    for await (const ids of pages) {
      page++;
      const enqueuedAt = now();
      const jobs: SyncJobData[] = [];
      for (const id of ids) {
        if (/^\d{1,18}$/.test(id)) jobs.push({ sceneId: id, reason: 'manual', event: mode, enqueuedAt });
        else skipped++;
      }
      const r = await writer.add(jobs);
      queued += r.delivered;
      if (r.error || r.delivered < jobs.length) {
        throw new Error(`${label}: Redis failed after ${queued} scenes: ${r.error?.message ?? 'not stored'}`);
      }
      const of = total > 0 ? `/${Math.max(total, queued)}` : '';
      ctx.log('info', `${label}: page ${page}: ${queued}${of} scenes queued`);
      if (total > 0) progress(queued / Math.max(total, queued));
    }
    progress(1);
    if (skipped) ctx.log('warning', `${label}: ${skipped} scene ids were not numeric and were skipped`);
    const replayed = replay.replayed ? ` (and ${replay.replayed} spooled hook events)` : '';
    return `${label}: queued ${queued} scene${queued === 1 ? '' : 's'} for Plex in ${page} page${page === 1 ? '' : 's'}${replayed}`;
  } finally {
    writer.close();
  }
}

const syncAll: TaskHandler = async (ctx) => {
  const client = stashClientFor(ctx.input, ctx.env);
  const perPage = ctx.perPage ?? STASH_DEFAULT_PAGE_SIZE;
  // Every scene was updated after the epoch: this window's count is the number of scenes.
  const { count } = await client.findScenesUpdated({ since: new Date(0), page: 1, perPage: 1 });
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
  const since = new Date((ctx.now ?? Date.now)() - hours * 3_600_000 - RECENT_SKEW_MS);
  const { count } = await client.findScenesUpdated({ since, page: 1, perPage: 1 });
  ctx.log('info', `Sync Recent Scenes: ${count} scenes changed in the last ${hours} h`);
  return queuePages(ctx, 'Sync Recent Scenes', 'sync_recent', count, client.scenesUpdatedSince(since, undefined, perPage));
};

/** One handler per task of PLUGIN_TASKS (a task without a handler does not compile). */
export const TASK_HANDLERS: Record<TaskMode, TaskHandler> = {
  sync_all: syncAll,
  sync_recent: syncRecent,
};

/** Runs a task; resolves with its summary, rejects with a message fit for `{"error": …}`. */
export async function runTask(mode: TaskMode, ctx: TaskContext): Promise<string> {
  const handler = TASK_HANDLERS[mode];
  if (!handler) throw new Error(`unknown task mode "${mode}" (known: ${PLUGIN_TASKS.map((t) => t.mode).join(', ')})`);
  return handler(ctx);
}
