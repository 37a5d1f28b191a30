// The probe port of POST /api/health-check: through the supervisor when it runs in this process (it
// records the result), else a direct GET /identity. Concurrent requests share one probe in flight.
import type { Config } from '../core/config.js';
import type { Keys, RedisConnection } from '../core/redis.js';
import type { PlexClient } from '../plex/client.js';
import { plexClientFrom } from '../plex/from-config.js';
import { probeClientId } from '../plex/client-id.js';
import { probeIdentity } from '../plex/probe.js';
import type { ProbeResult } from '../plex/probe.js';

export type Probe = () => Promise<ProbeResult>;

export interface DirectProbeDeps {
  config: Config;
  redis: RedisConnection;
  keys: Keys;
  now: () => number;
  /** How long the client id may take to read from Redis. */
  redisTimeoutMs: number;
}

/** GET /identity on PLEX_URL, as the installation's one device. */
export function directProbe(deps: DirectProbeDeps): Probe {
  const { config } = deps;
  let plex: PlexClient | undefined;
  // Without Redis (and PLEX_CLIENT_ID) a probe sends no identifier, and the client is not kept, so the
  // next probe asks Redis again.
  const probeClient = async (): Promise<PlexClient> => {
    const clientIdentifier = await probeClientId(deps.redis, deps.keys.plexClientId, config.plex.clientId, deps.redisTimeoutMs);
    const client = plexClientFrom(config, { use: 'health', clientIdentifier });
    if (clientIdentifier !== null) plex = client;
    return client;
  };
  return async () => {
    if (!config.plex.url) return { ok: false, latencyMs: null, error: 'PLEX_URL is not set', at: deps.now() };
    return probeIdentity(plex ?? (await probeClient()), config.health.timeoutMs, deps.now);
  };
}

/** `probe`, with callers that come while one runs sharing its result. */
export function sharedInFlight(probe: Probe): Probe {
  let probing: Promise<ProbeResult> | undefined;
  return () => {
    probing ??= probe().finally(() => {
      probing = undefined;
    });
    return probing;
  };
}
