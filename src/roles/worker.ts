// The worker role: inbox ingest + the sync worker, wired to Redis, Plex and Stash.
import { readsPerformerSceneCounts, type Config } from '../core/config.js';
import type { Logger } from '../core/log.js';
import { plexClientFrom } from '../plex/from-config.js';
import { sharedPlexClientId } from '../plex/client-id.js';
import { closeQuietly, connectRedis, keys, watchRedis, type RedisConnection } from '../core/redis.js';
import { DependencyReport } from '../core/dependency-report.js';
import { StashClient } from '../stash-api/client.js';
import type { PlexClient } from '../plex/client.js';
import { breakerGate, type BreakerGate } from '../resilience/gate.js';
import { InboxIngest } from '../sync/ingest.js';
import { createSyncQueue } from '../sync/queue.js';
import { batchedPlex, batchedStash } from '../sync/batched-reads.js';
import { folderScanner } from '../sync/scan-missing.js';
import { migrateLegacyPosterHashes } from '../sync/ownership-store.js';
import { landedInFailedSet } from '../sync/failure-policy.js';
import { closeWorker, createSyncWorker, type SyncWorkerOptions } from '../sync/worker.js';
import type { SyncDeps } from '../sync/processor.js';
import { collectWhenIdle } from '../sync/idle-gc.js';
import { cachedImageSecret } from '../sync/image-links.js';
import { ConcurrencyLimiter, type RequestLimiter } from '../resilience/limiter.js';
import { forgetLimiters, LIMITER_PUBLISH_MS, publishLimiters } from '../resilience/limiter-record.js';
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { startChecks } from './start-checks.js';
import { reportSyncOutcome } from './sync-outcomes.js';
import { StashSettings } from '../settings/reload.js';

export interface WorkerRole {
  /** Resolves while Redis answers (heartbeat). */
  ping(): Promise<unknown>;
  stop(): Promise<void>;
}

/** How the worker shares a process: the process's one dependency report; whether the libraries are checked here. */
export interface WorkerRoleShared {
  report?: DependencyReport;
  /** False when a supervisor in the same process checks PLEX_LIBRARIES (npm start). */
  checkLibraries?: boolean;
}

/** What a caller (all-in-one, the demo, tests) may set on the sync worker. */
type WorkerExtras = Partial<
  Pick<SyncWorkerOptions, 'gate' | 'onAttempt' | 'holdMs' | 'lockDurationMs' | 'stalledIntervalMs' | 'summaryIntervalMs'>
>;

export async function startWorkerRole(
  config: Config,
  log: Logger,
  extra: WorkerExtras = {},
  shared: WorkerRoleShared = {},
): Promise<WorkerRole> {
  const report = shared.report ?? new DependencyReport(log);
  const k = keys(config.redis.prefix);
  const { connection, blocking, queue } = workerConnections(config, log, report);
  const clientIdentifier = await sharedPlexClientId(connection, k.plexClientId, config.plex.clientId);
  const migrated = await migrateLegacyPosterHashes(connection, k);
  if (migrated > 0) log.info({ migrated }, 'worker: moved legacy poster hashes into the ownership records');
  const limiters = startLimiters(config, connection, log);
  const plex = plexClientFrom(config, { use: 'sync', clientIdentifier, redis: connection, log, limiter: limiters.plex });
  const stash = stashClientOf(config, log, limiters.stash);
  // Checked once before any job, then again with backoff until each answers (a job that meets a fault
  // later reports it too): one line naming the setting.
  const checks = startChecks({
    report,
    log,
    who: 'worker',
    plex: {
      client: plex,
      url: config.plex.url,
      timeoutMs: config.health.timeoutMs,
      libraries: shared.checkLibraries === false ? null : config.plex.libraries,
    },
    stash: { client: stash, url: config.stash.url, apiKeySet: config.stash.apiKey !== null },
  });
  await checks.firstRound;
  const gate = extra.gate ?? breakerGate(connection, k);
  const deps = syncDeps(config, log, { plex, stash, connection, gate });
  const settings = await startStashSettings(config, log, connection, settingsApplier(deps, plex, stash));
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
    onOutcome: (outcome) => reportSyncOutcome(outcome, report, config),
    ...extra,
    gate,
  });
  watchRedis(worker, report, config, (err) => log.warn({ err: err.message }, 'worker: Redis error'));
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
      checks.stop();
      await settings?.stop();
      await ingest.stop();
      await closeWorker(worker);
      await queue.close();
      await limiters.stop();
      await closeQuietly(blocking);
      await closeQuietly(connection);
    },
  };
}

/** The worker's two connections and its queue handle, their Redis faults told through `report`. */
function workerConnections(config: Config, log: Logger, report: DependencyReport) {
  const connection = connectRedis(config);
  const blocking = connectRedis(config);
  watchRedis(connection, report, config);
  watchRedis(blocking, report, config);
  const queue = createSyncQueue(connection, config.redis.prefix, config.keepFailed);
  watchRedis(queue, report, config, (err) => log.warn({ err: err.message }, 'worker: queue error'));
  return { connection, blocking, queue };
}

/** What a sync needs: the batched clients, Redis, the folder scanner (PLEX_SCAN_MISSING), the gate. */
function syncDeps(
  config: Config,
  log: Logger,
  d: { plex: ReturnType<typeof plexClientFrom>; stash: StashClient; connection: RedisConnection; gate: BreakerGate },
): SyncDeps {
  const k = keys(config.redis.prefix);
  // A batch is full when every job of this worker is in it: no more can join.
  const readBatch = { maxKeys: Math.min(config.worker.readBatch, config.worker.concurrency) };
  const { scanMissing, scanCooldownMs, notFound } = config.matching;
  return {
    plex: batchedPlex(d.plex, readBatch),
    stash: batchedStash(d.stash, readBatch),
    redis: d.connection,
    keys: k,
    sync: config.sync,
    posterMaxBytes: config.stash.posterMaxBytes,
    imageSecret: cachedImageSecret(d.connection, k),
    scanMissing: scanMissing
      ? folderScanner({
          plex: d.plex,
          redis: d.connection,
          scannedKey: k.plexScanned,
          lastScanKey: k.plexLastScan,
          cooldownMs: scanCooldownMs,
          gate: d.gate,
          log,
        })
      : undefined,
    notFound,
    gate: d.gate,
    collections: { plex: d.plex, keys: k },
  };
}

/** The settings a user changes in Stash, read now and every STASH_SETTINGS_INTERVAL_MS (none for a config built without an environment). */
async function startStashSettings(config: Config, log: Logger, redis: RedisConnection, apply: (next: Config) => void) {
  if (!config.source) return null;
  const settings = new StashSettings({ config, role: 'worker', redis, keys: keys(config.redis.prefix), log, apply });
  await settings.start();
  return settings;
}

/** Read per job: the settings a user changes in Stash replace sync and notFound in deps, PATH_MAP and the scene read in the clients. */
function settingsApplier(deps: SyncDeps, plex: PlexClient, stash: StashClient): (next: Config) => void {
  return (next) => {
    deps.sync = next.sync;
    deps.notFound = next.matching.notFound;
    plex.setPathMap(next.plex.pathMap);
    stash.setPerformerSceneCounts(readsPerformerSceneCounts(next.sync));
  };
}

/** The worker's Stash client, through its limiter. */
function stashClientOf(config: Config, log: Logger, limiter: RequestLimiter): StashClient {
  const { url, apiKey, maxResponseBytes, posterMaxBytes } = config.stash;
  return new StashClient({
    url,
    apiKey,
    maxResponseBytes,
    posterMaxBytes,
    log,
    limiter,
    performerSceneCounts: readsPerformerSceneCounts(config.sync),
  });
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
