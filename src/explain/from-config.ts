// Explain wired to a config: a Stash client and a Plex client that writes nothing (PlexClientOptions
// readOnly; the shared client id read, never stored). Used by `npm run explain`, the status page and the
// Stash task Explain Scene.
import { readsPerformerSceneCounts, type Config } from '../core/config.js';
import type { Logger } from '../core/log.js';
import { keys, type RedisConnection } from '../core/redis.js';
import { readPlexClientId } from '../plex/client-id.js';
import { plexClientFrom } from '../plex/from-config.js';
import { StashClient } from '../stash-api/client.js';
import type { StashPort } from '../sync/processor.js';
import { explainScene, type Explanation } from './explain.js';

/** A setting explain needs is missing (the caller says it its way: exit 2, a 503). */
export class ExplainUnavailable extends Error {}

export interface ExplainRunOptions {
  redis: RedisConnection;
  log?: Pick<Logger, 'warn'>;
  /** Stash (default: a client of STASH_URL / STASH_API_KEY). */
  stash?: StashPort;
}

export async function explainFromConfig(config: Config, sceneId: string, opts: ExplainRunOptions): Promise<Explanation> {
  if (!config.plex.url || !config.plex.token) throw new ExplainUnavailable('explain needs PLEX_URL and PLEX_TOKEN');
  if (!opts.stash && !config.stash.url) throw new ExplainUnavailable('explain needs STASH_URL (and STASH_API_KEY if Stash asks for one)');
  const { redis, log } = opts;
  const k = keys(config.redis.prefix);
  const clientIdentifier = await readPlexClientId(redis, k.plexClientId, config.plex.clientId);
  const plex = plexClientFrom(config, { use: 'sync', clientIdentifier, redis, log, readOnly: true });
  const stash =
    opts.stash ??
    new StashClient({
      url: config.stash.url,
      apiKey: config.stash.apiKey,
      maxResponseBytes: config.stash.maxResponseBytes,
      posterMaxBytes: config.stash.posterMaxBytes,
      log,
      performerSceneCounts: readsPerformerSceneCounts(config.sync),
    });
  return explainScene({ plex, stash, redis, keys: k, sync: config.sync, matching: config.matching }, sceneId);
}
