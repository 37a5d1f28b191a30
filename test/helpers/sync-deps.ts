// syncScene's dependencies against a test world, as a worker builds them from its config (the path cache
// in Redis; performers' scene counts read when performer collections are on).
import { parseConfig, readsPerformerSceneCounts } from '../../src/core/config.js';
import { keys, type RedisConnection } from '../../src/core/redis.js';
import { PlexClient } from '../../src/plex/client.js';
import type { RequestLimiter } from '../../src/resilience/limiter.js';
import { StashClient } from '../../src/stash-api/client.js';
import type { SyncDeps } from '../../src/sync/processor.js';
import type { World } from './world.js';

/** Under the world's settings plus `env`; `limiters`: each client's requests through one, as a worker's are. */
export function worldSyncDeps(
  world: World,
  redis: RedisConnection,
  env: Record<string, string> = {},
  limiters: { plex?: RequestLimiter; stash?: RequestLimiter } = {},
): SyncDeps & { plex: PlexClient; stash: StashClient } {
  const config = parseConfig({ ...world.env, ...env });
  const plex = new PlexClient({
    url: config.plex.url,
    token: config.plex.token,
    clientIdentifier: 'stash2plex-test',
    pathMap: config.plex.pathMap,
    redis,
    prefix: world.prefix,
    limiter: limiters.plex,
  });
  const { url, apiKey, posterMaxBytes } = config.stash;
  return {
    plex,
    stash: new StashClient({
      url,
      apiKey,
      posterMaxBytes,
      performerSceneCounts: readsPerformerSceneCounts(config.sync),
      limiter: limiters.stash,
    }),
    redis,
    keys: keys(world.prefix),
    sync: config.sync,
    posterMaxBytes,
  };
}
