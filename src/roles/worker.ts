// The worker role: inbox ingest + the sync worker, wired to Redis, Plex and Stash.
import type { Config } from '../core/config.js';
import type { Logger } from '../core/log.js';
import { plexClientFrom } from '../plex/from-config.js';
import { sharedPlexClientId } from '../plex/client-id.js';
import { closeQuietly, connectRedis, keys } from '../core/redis.js';
import { StashClient } from '../stash-api/client.js';
import { stashVersionNote, type StashServerInfo } from '../stash-api/stash-version.js';
import { breakerGate } from '../resilience/gate.js';
import { InboxIngest } from '../sync/ingest.js';
import { createSyncQueue } from '../sync/queue.js';
import { batchedPlex, batchedStash } from '../sync/batched-reads.js';
import { folderScanner } from '../sync/scan-missing.js';
import { migrateLegacyPosterHashes } from '../sync/ownership-store.js';
import { landedInFailedSet } from '../sync/failure-policy.js';
import { closeWorker, createSyncWorker, type SyncWorkerOptions } from '../sync/worker.js';
import { collectWhenIdle } from '../sync/idle-gc.js';

export interface WorkerRole {
  /** Resolves while Redis answers (heartbeat). */
  ping(): Promise<unknown>;
  stop(): Promise<void>;
}

/** One error line for each job that lands in the failed set (the dead-letter queue). */
function logFailedSetArrivals(worker: ReturnType<typeof createSyncWorker>, log: Logger): void {
  worker.on('failed', (job, err) => {
    if (job && landedInFailedSet(err.name, job.attemptsMade, job.opts.attempts)) {
      log.error({ jobId: job.id, sceneId: job.data?.sceneId, failedReason: err.message }, 'job moved to the failed set');
    }
  });
}

/** What a caller (all-in-one, the demo, tests) may set on the sync worker. */
type WorkerExtras = Partial<
  Pick<SyncWorkerOptions, 'gate' | 'onAttempt' | 'holdMs' | 'lockDurationMs' | 'stalledIntervalMs' | 'summaryIntervalMs'>
>;

export async function startWorkerRole(config: Config, log: Logger, extra: WorkerExtras = {}): Promise<WorkerRole> {
  const k = keys(config.redis.prefix);
  const connection = connectRedis(config);
  const blocking = connectRedis(config);
  const queue = createSyncQueue(connection, config.redis.prefix, config.keepFailed);
  const clientIdentifier = await sharedPlexClientId(connection, k.plexClientId, config.plex.clientId);
  const migrated = await migrateLegacyPosterHashes(connection, k);
  if (migrated > 0) log.info({ migrated }, 'worker: moved legacy poster hashes into the ownership records');
  const plex = plexClientFrom(config, { use: 'sync', clientIdentifier, redis: connection, log });
  const stash = new StashClient({
    url: config.stash.url,
    apiKey: config.stash.apiKey,
    maxResponseBytes: config.stash.maxResponseBytes,
    posterMaxBytes: config.stash.posterMaxBytes,
    log,
  });
  // Read once, before any job: a Stash that does not answer is asked again by the first batch of scenes.
  await stash.server().then(
    (server) => logStashVersion(log, server),
    (err: Error) => log.warn({ err: err.message }, 'worker: Stash version not read (asked again with the first batch of scenes)'),
  );
  const gate = extra.gate ?? breakerGate(connection, k);
  // A batch is full when every job of this worker is in it: no more can join.
  const readBatch = { maxKeys: Math.min(config.worker.readBatch, config.worker.concurrency) };
  const { scanMissing, scanCooldownMs, notFound } = config.matching;
  const scanner = {
    plex,
    redis: connection,
    scannedKey: k.plexScanned,
    lastScanKey: k.plexLastScan,
    cooldownMs: scanCooldownMs,
    gate,
    log,
  };
  const worker = createSyncWorker({
    connection,
    prefix: config.redis.prefix,
    concurrency: config.worker.concurrency,
    // A crashed worker's jobs go back to the queue once their lock expires (checked as often).
    lockDurationMs: config.worker.lockMs,
    stalledIntervalMs: config.worker.lockMs,
    strategies: config.errorStrategies,
    deps: {
      plex: batchedPlex(plex, readBatch),
      stash: batchedStash(stash, readBatch),
      redis: connection,
      keys: k,
      sync: config.sync,
      scanMissing: scanMissing ? folderScanner(scanner) : undefined,
      notFound,
      gate,
    },
    signalsKey: k.signals,
    log,
    ...extra,
    gate,
  });
  worker.on('error', (err) => log.warn({ err: err.message }, 'worker: Redis error'));
  if (collectWhenIdle(worker)) log.debug('worker: a full GC runs when the worker goes idle after a run of jobs (--expose-gc)');
  logFailedSetArrivals(worker, log);
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
      await ingest.stop();
      await closeWorker(worker);
      await queue.close();
      await closeQuietly(blocking);
      await closeQuietly(connection);
    },
  };
}

/** The one line about the Stash server a worker talks to: what it reads scenes with, or that it is too old. */
function logStashVersion(log: Logger, server: StashServerInfo): void {
  const note = stashVersionNote(server);
  log[note.level]({ stashVersion: server.version }, `worker: ${note.message}`);
}
