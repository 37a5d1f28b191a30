// Reconcile Library wired to a config: the Plex and Stash clients, the sync queue (or another way to
// queue: the Stash task writes the inbox), the walk, and the report kept in Redis. Used by
// `npm run reconcile`, the status page and the Stash task Reconcile Library.
import type { Queue } from 'bullmq';
import { readsPerformerSceneCounts, type Config } from '../core/config.js';
import type { Logger } from '../core/log.js';
import { closeQuietly, connectRedis, keys, type RedisConnection } from '../core/redis.js';
import type { SyncJobData } from '../model/inbox-item.js';
import { sharedPlexClientId } from '../plex/client-id.js';
import type { PlexClient } from '../plex/client.js';
import { plexClientFrom } from '../plex/from-config.js';
import { StashClient } from '../stash-api/client.js';
import { reportSummary, type LibraryReport } from './library-gaps.js';
import { storeLibraryFailure, storeLibraryReport } from './library-report-store.js';
import { reconcileLibrary, type Handoff, type LibraryProgress, type LibraryStashPort } from './library-reconcile.js';
import { createSyncQueue, enqueueSyncBulkCounted } from './queue.js';

/** The `event` of the jobs a Reconcile Library run queues (reason 'reconcile': bulk priority). */
export const RECONCILE_LIBRARY_EVENT = 'reconcile_library';

export interface LibraryRunOptions {
  dryRun: boolean;
  log: Logger;
  onProgress?: (p: LibraryProgress) => void;
  /** Redis to use (default: a connection of its own, closed at the end). */
  redis?: RedisConnection;
  /** Stash (default: a client of STASH_URL / STASH_API_KEY). */
  stash?: LibraryStashPort;
  /** The sync queue to add to (default: one on `redis`, closed at the end). */
  queue?: Queue<SyncJobData>;
  /** Hands scene ids to the workers' inbox instead of the sync queue (the Stash task); answers the entries written. */
  toInbox?: (sceneIds: string[]) => Promise<number>;
  /** Stash page size (default 1000). */
  perPage?: number;
  /** Stops the run before its next page once fired. */
  signal?: AbortSignal;
}

/** Why a run cannot start: a missing setting (the caller says it its way). */
export class LibraryReconcileUnavailable extends Error {}

export { readLibraryReport } from './library-report-store.js';

function stashOf(config: Config, log: Logger): StashClient {
  if (!config.stash.url)
    throw new LibraryReconcileUnavailable('Reconcile Library needs STASH_URL (and STASH_API_KEY if Stash asks for one)');
  const { url, apiKey, maxResponseBytes } = config.stash;
  return new StashClient({ url, apiKey, maxResponseBytes, log, performerSceneCounts: readsPerformerSceneCounts(config.sync) });
}

async function plexOf(config: Config, redis: RedisConnection, log: Logger): Promise<PlexClient> {
  if (!config.plex.url || !config.plex.token) throw new LibraryReconcileUnavailable('Reconcile Library needs PLEX_URL and PLEX_TOKEN');
  const clientIdentifier = await sharedPlexClientId(redis, keys(config.redis.prefix).plexClientId, config.plex.clientId);
  return plexClientFrom(config, { use: 'sync', clientIdentifier, redis, log });
}

/** One run: walks the library, queues what a sync would fix (not in a dry run), keeps the report. */
export async function runLibraryReconcile(config: Config, opts: LibraryRunOptions): Promise<LibraryReport> {
  const stash = opts.stash ?? stashOf(config, opts.log);
  const redis = opts.redis ?? connectRedis(config);
  const k = keys(config.redis.prefix);
  const ownQueue = opts.dryRun || opts.toInbox || opts.queue ? null : createSyncQueue(redis, config.redis.prefix, config.keepFailed);
  const queue = opts.queue ?? ownQueue;
  const toQueue = async (ids: string[]): Promise<Handoff> => {
    const enqueuedAt = Date.now();
    const jobs = ids.map((sceneId) => ({ sceneId, reason: 'reconcile' as const, event: RECONCILE_LIBRARY_EVENT, enqueuedAt }));
    return { queued: await enqueueSyncBulkCounted(queue!, jobs, config.errorStrategies), sentToInbox: 0 };
  };
  const { toInbox } = opts;
  const handOff = toInbox ? async (ids: string[]): Promise<Handoff> => ({ queued: 0, sentToInbox: await toInbox(ids) }) : toQueue;
  try {
    const plex = await plexOf(config, redis, opts.log);
    const report = await reconcileLibrary({
      stash,
      plex,
      redis,
      keys: k,
      settings: { ...config.sync, scanMissing: config.matching.scanMissing },
      enqueue: opts.dryRun ? undefined : handOff,
      onProgress: opts.onProgress,
      log: opts.log,
      perPage: opts.perPage,
      signal: opts.signal,
    });
    await storeLibraryReport(redis, k, report);
    opts.log.info({ ...report }, `reconcile library: ${report.scanned} scenes read; ${reportSummary(report)}`);
    return report;
  } catch (err) {
    // Kept, so the status page does not show an earlier report as if it were this run's.
    const failure = { failedAt: Date.now(), dryRun: opts.dryRun === true, error: (err as Error).message };
    await storeLibraryFailure(redis, k, failure).catch(() => undefined);
    throw err;
  } finally {
    await ownQueue?.close().catch(() => undefined);
    if (!opts.redis) await closeQuietly(redis);
  }
}
