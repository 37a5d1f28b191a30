// The supervisor role: its own Redis connection, the queues it steers, the Plex probe.
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import { PlexClient } from '../plex/client.js';
import { closeQuietly, connectRedis, keys } from '../redis.js';
import { createSyncQueue } from '../sync/queue.js';
import { Supervisor, type SupervisorOptions } from './supervisor.js';

export interface SupervisorRole {
  supervisor: Supervisor;
  stop(): Promise<void>;
}

export async function startSupervisorRole(
  config: Config,
  log: Logger,
  extra: Partial<Pick<SupervisorOptions, 'leaseTtlMs' | 'tickMs' | 'onRecovered' | 'id'>> = {},
): Promise<SupervisorRole> {
  const redis = connectRedis(config);
  const queue = createSyncQueue(redis, config.redis.prefix);
  const plex = new PlexClient({ url: config.plex.url, token: config.plex.token, timeoutMs: config.health.timeoutMs });
  const supervisor = new Supervisor({ config, log, redis, keys: keys(config.redis.prefix), queues: [queue], plex, ...extra });
  await supervisor.start();
  log.info({ id: supervisor.id }, 'supervisor started');
  return {
    supervisor,
    async stop() {
      await supervisor.stop();
      await queue.close();
      await closeQuietly(redis);
    },
  };
}
