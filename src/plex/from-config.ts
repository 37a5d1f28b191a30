// The one way a process builds its Plex client from the configuration (PLEX_*, MATCH_FALLBACK).
import type { Config } from '../core/config.js';
import type { Logger } from '../core/log.js';
import type { RedisConnection } from '../core/redis.js';
import type { RequestLimiter } from '../resilience/limiter.js';
import { PlexClient } from './client.js';

export interface PlexClientExtras {
  /** The installation's one id (sharedPlexClientId), or null for an /identity probe that could not learn it (probeClientId). */
  clientIdentifier: string | null;
  /** 'health': requests time out after HEALTH_TIMEOUT_MS (the probe, the token and library checks); 'sync': the client's default. */
  use: 'sync' | 'health';
  /** Keeps the path → ratingKey cache and path hints in Redis (the workers). */
  redis?: RedisConnection;
  log?: Pick<Logger, 'warn'>;
  /** The worker role's adaptive limit toward Plex (src/resilience/limiter.ts). */
  limiter?: RequestLimiter;
  /** Resolution writes nothing to Redis (`npm run explain`). */
  readOnly?: boolean;
}

export function plexClientFrom(config: Config, extras: PlexClientExtras): PlexClient {
  const { use, ...rest } = extras;
  return new PlexClient({
    url: config.plex.url,
    token: config.plex.token,
    libraries: config.plex.libraries,
    pathMap: config.plex.pathMap,
    matchFallback: config.matching.fallback,
    prefix: config.redis.prefix,
    maxResponseBytes: config.plex.maxResponseBytes,
    maxUrlBytes: config.plex.maxUrlBytes,
    ...(use === 'health' ? { timeoutMs: config.health.timeoutMs } : {}),
    ...rest,
  });
}
