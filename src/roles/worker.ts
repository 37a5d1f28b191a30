// The worker role: inbox ingest + the sync worker, wired to Redis, Plex and Stash.
import type { Config } from '../core/config.js';
import type { Logger } from '../core/log.js';
import { plexClientFrom } from '../plex/from-config.js';
import type { PlexClient } from '../plex/client.js';
import { sharedPlexClientId } from '../plex/client-id.js';
import { closeQuietly, connectRedis, keys, type RedisConnection } from '../core/redis.js';
import { StashClient } from '../stash-api/client.js';
import { stashVersionNote, type StashServerInfo } from '../stash-api/stash-version.js';
import { breakerGate, type BreakerGate } from '../resilience/gate.js';
import { InboxIngest } from '../sync/ingest.js';
import { createSyncQueue } from '../sync/queue.js';
import { batchedPlex, batchedStash } from '../sync/batched-reads.js';
import { folderScanner } from '../sync/scan-missing.js';
import { migrateLegacyPosterHashes } from '../sync/ownership-store.js';
import { landedInFailedSet } from '../sync/failure-policy.js';
import { closeWorker, createSyncWorker, type SyncWorkerOptions } from '../sync/worker.js';
import { collectWhenIdle } from '../sync/idle-gc.js';
import type { SyncDeps } from '../sync/processor.js';
import { StashSettings } from '../settings/reload.js';

export interface WorkerRole {
  /** Resolves while Redis answers (heartbeat). */
  ping(): Promise<unknown>;
  stop(): Promise<void>;
}

export async function startWorkerRole(
  config: Config,
  log: Logger,
  extra: Partial<Pick<SyncWorkerOptions, 'gate' | 'onAttempt' | 'holdMs' | 'lockDurationMs' | 'stalledIntervalMs'>> = {},
): Promise<WorkerRole> {
  const k = keys(config.redis.prefix);
  const connection = connectRedis(config);
  const blocking = connectRedis(config);
  const queue = createSyncQueue(connection, config.redis.prefix, config.keepFailed);
  const clientIdentifier = await sharedPlexClientId(connection, k.plexClientId, config.plex.clientId);
  const migrated = await migrateLegacyPosterHashes(connection, k);
  if (migrated > 0) log.info({ migrated }, 'worker: moved legacy poster hashes into the ownership records');
  const plex = plexClientFrom(config, { use: 'sync', clientIdentifier, redis: connection, log });
  const stash = await stashClientOf(config, log);
  const gate = extra.gate ?? breakerGate(connection, k);
  // Read per job: the settings a user changes in Stash replace sync and notFound here, PATH_MAP in the client.
  const deps = syncDepsOf(config, log, { plex, stash, connection, gate });
  const settings = await startStashSettings(config, log, connection, (next) => {
    deps.sync = next.sync;
    deps.notFound = next.matching.notFound;
    plex.setPathMap(next.plex.pathMap);
  });
  const worker = createSyncWorker({
    connection,
    prefix: config.redis.prefix,
    concurrency: config.worker.concurrency,
    // A crashed worker's jobs go back to the queue once their lock expires (checked as often).
    lockDurationMs: config.worker.lockMs,
    stalledIntervalMs: config.worker.lockMs,
    strategies: config.errorStrategies,
    deps,
    signalsKey: k.signals,
    log,
    ...extra,
    gate,
  });
  worker.on('error', (err) => log.warn({ err: err.message }, 'worker: Redis error'));
  if (collectWhenIdle(worker)) log.debug('worker: a full GC runs when the worker goes idle after a run of jobs (--expose-gc)');
  worker.on('failed', (job, err) => {
    if (job && landedInFailedSet(err.name, job.attemptsMade, job.opts.attempts)) {
      log.error({ jobId: job.id, sceneId: job.data?.sceneId, failedReason: err.message }, 'job moved to the failed set');
    }
  });
  const ingest = new InboxIngest({
    connection: blocking,
    inboxKey: k.inbox,
    queue,
    strategies: config.errorStrategies,
    log,
    scenesWith: (relation, id) => stash.sceneIdsWith(relation, id),
  });
  await ingest.start();
  log.info({ concurrency: config.worker.concurrency, readBatch: config.worker.readBatch, prefix: config.redis.prefix }, 'worker started');
  return {
    ping: () => connection.ping(),
    async stop() {
      await settings?.stop();
      await ingest.stop();
      await closeWorker(worker);
      await queue.close();
      await closeQuietly(blocking);
      await closeQuietly(connection);
    },
  };
}

/** What the processor needs, per job. */
function syncDepsOf(
  config: Config,
  log: Logger,
  io: { plex: PlexClient; stash: StashClient; connection: RedisConnection; gate: BreakerGate },
): SyncDeps {
  const { plex, stash, connection, gate } = io;
  const k = keys(config.redis.prefix);
  // A batch is full when every job of this worker is in it: no more can join.
  const readBatch = { maxKeys: Math.min(config.worker.readBatch, config.worker.concurrency) };
  const { scanMissing, scanCooldownMs, notFound } = config.matching;
  return {
    plex: batchedPlex(plex, readBatch),
    stash: batchedStash(stash, readBatch),
    redis: connection,
    keys: k,
    sync: config.sync,
    scanMissing: scanMissing
      ? folderScanner({
          plex,
          redis: connection,
          scannedKey: k.plexScanned,
          lastScanKey: k.plexLastScan,
          cooldownMs: scanCooldownMs,
          gate,
          log,
        })
      : undefined,
    notFound,
    gate,
  };
}

/** The settings a user changes in Stash, read now and every STASH_SETTINGS_INTERVAL_MS (none for a config built without an environment). */
async function startStashSettings(config: Config, log: Logger, redis: RedisConnection, apply: (next: Config) => void) {
  if (!config.source) return null;
  const settings = new StashSettings({ config, role: 'worker', redis, keys: keys(config.redis.prefix), log, apply });
  await settings.start();
  return settings;
}

/** The worker's Stash client, its server's version logged (read once, before any job). */
async function stashClientOf(config: Config, log: Logger): Promise<StashClient> {
  const stash = new StashClient({
    url: config.stash.url,
    apiKey: config.stash.apiKey,
    maxResponseBytes: config.stash.maxResponseBytes,
    posterMaxBytes: config.stash.posterMaxBytes,
    log,
  });
  // A Stash that does not answer is asked again by the first batch of scenes.
  await stash.server().then(
    (server) => logStashVersion(log, server),
    (err: Error) => log.warn({ err: err.message }, 'worker: Stash version not read (asked again with the first batch of scenes)'),
  );
  return stash;
}

/** The one line about the Stash server a worker talks to: what it reads scenes with, or that it is too old. */
function logStashVersion(log: Logger, server: StashServerInfo): void {
  const note = stashVersionNote(server);
  log[note.level]({ stashVersion: server.version }, `worker: ${note.message}`);
}
