// The worker role: inbox ingest + the sync worker, wired to Redis, Plex and Stash.
import type { Config } from '../core/config.js';
import type { Logger } from '../core/log.js';
import { plexClientFrom } from '../plex/from-config.js';
import { sharedPlexClientId } from '../plex/client-id.js';
import { closeQuietly, connectRedis, keys } from '../core/redis.js';
import { cachedImageSecret } from '../sync/image-links.js';
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
import { ConcurrencyLimiter, type RequestLimiter } from '../resilience/limiter.js';
import { forgetLimiters, LIMITER_PUBLISH_MS, publishLimiters } from '../resilience/limiter-record.js';
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';

export interface WorkerRole {
  /** Resolves while Redis answers (heartbeat). */
  ping(): Promise<unknown>;
  stop(): Promise<void>;
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
  const limiters = startLimiters(config, connection, log);
  const plex = plexClientFrom(config, { use: 'sync', clientIdentifier, redis: connection, log, limiter: limiters.plex });
  const stash = await openStash(config, log, limiters.stash);
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
      posterMaxBytes: config.stash.posterMaxBytes,
      imageSecret: cachedImageSecret(connection, k),
      scanMissing: scanMissing ? folderScanner(scanner) : undefined,
      notFound,
      gate,
    },
    signalsKey: k.signals,
    log,
    ...extra,
    gate,
  });
  watchWorker(worker, log);
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
      await limiters.stop();
      await closeQuietly(blocking);
      await closeQuietly(connection);
    },
  };
}

/** The worker's own log lines: Redis errors, the idle GC, and each job that lands in the failed set. */
function watchWorker(worker: ReturnType<typeof createSyncWorker>, log: Logger): void {
  worker.on('error', (err) => log.warn({ err: err.message }, 'worker: Redis error'));
  if (collectWhenIdle(worker)) log.debug('worker: a full GC runs when the worker goes idle after a run of jobs (--expose-gc)');
  worker.on('failed', (job, err) => {
    if (job && landedInFailedSet(err.name, job.attemptsMade, job.opts.attempts)) {
      log.error({ jobId: job.id, sceneId: job.data?.sceneId, failedReason: err.message }, 'job moved to the failed set');
    }
  });
}

/** The worker's Stash client, through its limiter; the server's version read once, before any job. */
async function openStash(config: Config, log: Logger, limiter: RequestLimiter): Promise<StashClient> {
  const { url, apiKey, maxResponseBytes, posterMaxBytes } = config.stash;
  const stash = new StashClient({ url, apiKey, maxResponseBytes, posterMaxBytes, log, limiter });
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

/**
 * This worker's adaptive concurrency limiters, one toward Plex and one toward Stash (WORKER_CONCURRENCY
 * their ceiling, ADAPTIVE_CONCURRENCY=false fixed there), published to Redis every second for the
 * dashboard. A worker role is one per process: each adapts on its own, like a proxy in a mesh.
 */
function startLimiters(config: Config, redis: ReturnType<typeof connectRedis>, log: Logger) {
  const k = keys(config.redis.prefix);
  const opts = { ceiling: config.worker.concurrency, adaptive: config.worker.adaptiveConcurrency };
  const plex = ConcurrencyLimiter.forWorker('plex', opts);
  const stash = ConcurrencyLimiter.forWorker('stash', opts);
  const id = `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;
  let last: Promise<void> = Promise.resolve();
  const publish = () => {
    last = publishLimiters(redis, k, id, [plex.snapshot(), stash.snapshot()], Date.now()).catch((err: Error) =>
      log.debug({ err: err.message }, 'worker: limiters not published'),
    );
  };
  const timer = setInterval(publish, LIMITER_PUBLISH_MS);
  timer.unref();
  publish();
  return {
    plex,
    stash,
    async stop() {
      clearInterval(timer);
      await last;
      await forgetLimiters(redis, k, id).catch(() => undefined);
    },
  };
}
