// The supervisor role: its own Redis connection, the queues it steers, the Plex probe.
import type { Config } from '../core/config.js';
import type { Logger } from '../core/log.js';
import { plexClientFrom } from '../plex/from-config.js';
import { sharedPlexClientId } from '../plex/client-id.js';
import { closeQuietly, connectRedis, keys, watchRedis } from '../core/redis.js';
import { DependencyReport } from '../core/dependency-report.js';
import { stashProblem } from '../core/dependency-check.js';
import { StashClient } from '../stash-api/client.js';
import { createSyncQueue } from '../sync/queue.js';
import { Reconciler } from '../supervisor/reconciler.js';
import { Supervisor, type SupervisorOptions } from '../supervisor/supervisor.js';
import { StashSettings } from '../settings/reload.js';

export interface SupervisorRole {
  supervisor: Supervisor;
  /** Resolves while Redis answers (heartbeat). */
  ping(): Promise<unknown>;
  stop(): Promise<void>;
}

export async function startSupervisorRole(
  config: Config,
  log: Logger,
  extra: Partial<Pick<SupervisorOptions, 'leaseTtlMs' | 'tickMs' | 'onRecovered' | 'id' | 'report'>> = {},
): Promise<SupervisorRole> {
  const report = extra.report ?? new DependencyReport(log);
  const redis = connectRedis(config);
  watchRedis(redis, report, config);
  const queue = createSyncQueue(redis, config.redis.prefix, config.keepFailed);
  watchRedis(queue, report, config, (err) => log.warn({ err: err.message }, 'supervisor: queue error'));
  const k = keys(config.redis.prefix);
  const clientIdentifier = await sharedPlexClientId(redis, k.plexClientId, config.plex.clientId);
  const plex = plexClientFrom(config, { use: 'health', clientIdentifier, log });
  // Reconciliation and the Stash checks need Stash; a supervisor configured without STASH_URL runs without them.
  let reconciler: Reconciler | undefined;
  const stashSettings = { url: config.stash.url, apiKey: config.stash.apiKey, maxResponseBytes: config.stash.maxResponseBytes, log };
  const stashHealth = config.stash.url ? new StashClient({ ...stashSettings, timeoutMs: config.health.timeoutMs }) : null;
  const supervisor: Supervisor = new Supervisor({
    config,
    log,
    redis,
    keys: k,
    queues: [queue],
    plex,
    onRecovered: (outage) => reconciler?.outageEnded(outage),
    onLeaderTick: (now, breaker) => reconciler?.tick(now, breaker),
    ...extra,
    report,
    stash: stashHealth
      ? { version: () => stashHealth.checkServer(), url: config.stash.url, apiKeySet: config.stash.apiKey !== null }
      : undefined,
  });
  if (config.stash.url) {
    reconciler = new Reconciler({
      stash: new StashClient(stashSettings),
      queue,
      strategies: config.errorStrategies,
      redis,
      checkpointKey: k.reconcileCheckpoint,
      settledKey: k.reconcileSettled,
      inboxKey: k.inbox,
      intervalMs: config.reconcile.intervalMs,
      afterOutage: config.reconcile.afterOutage,
      write: (ops) => supervisor.write(ops),
      log,
      onStashFault: (err) => report.fail(stashProblem(err, { url: config.stash.url, apiKeySet: config.stash.apiKey !== null })),
    });
  } else log.warn('STASH_URL is not set: reconciliation after outages and at checkpoints is off');
  // The supervisor applies none of them itself: it reads them so that the status page shows them even
  // while no worker runs (the record is written by whichever process read them last).
  const settings = config.source ? new StashSettings({ config, role: 'supervisor', redis, keys: k, log, apply: () => undefined }) : null;
  await settings?.start();
  await supervisor.start();
  log.info({ id: supervisor.id }, 'supervisor started');
  return {
    supervisor,
    ping: () => redis.ping(),
    async stop() {
      await settings?.stop();
      await supervisor.stop();
      await reconciler?.idle();
      await queue.close();
      await closeQuietly(redis);
    },
  };
}
