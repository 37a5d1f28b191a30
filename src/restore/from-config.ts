// Restore and resume wired to a config: the Plex client (the installation's one device), Redis, the sync
// queue. Used by `npm run restore`, the status page and the Stash tasks Restore Plex Metadata.
import type { Queue } from 'bullmq';
import type { Config } from '../core/config.js';
import type { Logger } from '../core/log.js';
import { closeQuietly, connectRedis, keys, type RedisConnection } from '../core/redis.js';
import type { SyncJobData } from '../model/inbox-item.js';
import { sharedPlexClientId } from '../plex/client-id.js';
import { plexClientFrom } from '../plex/from-config.js';
import { createSyncQueue, enqueueSyncBulk } from '../sync/queue.js';
import { RESUME_EVENT, resumeScenes, type ResumeSummary } from './resume.js';
import { restoreScenes, type RestoreOptions, type RestoreScope, type RestoreSummary } from './run.js';

/** Why a restore cannot start: a missing setting (each caller says it its way). */
export class RestoreUnavailable extends Error {}

export interface RestoreRunOptions extends RestoreOptions {
  log: Logger;
  /** Redis to use (default: a connection of its own, closed at the end). */
  redis?: RedisConnection;
}

export async function runRestore(config: Config, opts: RestoreRunOptions): Promise<RestoreSummary> {
  if (!config.plex.url || !config.plex.token) throw new RestoreUnavailable('Restore needs PLEX_URL and PLEX_TOKEN');
  const redis = opts.redis ?? connectRedis(config);
  try {
    const k = keys(config.redis.prefix);
    const clientIdentifier = await sharedPlexClientId(redis, k.plexClientId, config.plex.clientId);
    const plex = plexClientFrom(config, { use: 'sync', clientIdentifier, log: opts.log });
    const summary = await restoreScenes({ redis, keys: k, plex, log: opts.log }, opts);
    const { scenes: _listed, ...totals } = summary;
    opts.log.info(totals, `restore${summary.dryRun ? ' (dry run)' : ''}: ${summary.restored} scenes, ${summary.fields} fields`);
    return summary;
  } finally {
    if (!opts.redis) await closeQuietly(redis);
  }
}

export interface ResumeRunOptions {
  scope: RestoreScope;
  dryRun: boolean;
  redis?: RedisConnection;
  /** The sync queue to add to (default: one on `redis`, closed at the end). */
  queue?: Queue<SyncJobData>;
}

export async function runResume(config: Config, opts: ResumeRunOptions): Promise<ResumeSummary> {
  const redis = opts.redis ?? connectRedis(config);
  const ownQueue = opts.queue || opts.dryRun ? null : createSyncQueue(redis, config.redis.prefix, config.keepFailed);
  const queue = opts.queue ?? ownQueue;
  const enqueue = async (ids: string[]) => {
    const enqueuedAt = Date.now();
    await enqueueSyncBulk(
      queue!,
      ids.map((sceneId) => ({ sceneId, reason: 'manual' as const, event: RESUME_EVENT, enqueuedAt })),
      config.errorStrategies,
    );
  };
  try {
    return await resumeScenes({ redis, keys: keys(config.redis.prefix), enqueue }, opts);
  } finally {
    await ownQueue?.close().catch(() => undefined);
    if (!opts.redis) await closeQuietly(redis);
  }
}
