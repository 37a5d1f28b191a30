// The one X-Plex-Client-Identifier of an installation. Plex lists every identifier as a device (and
// may notify the owner of each new one), so every process (worker, supervisor, dashboard, the plugin's
// tasks) sends the same: PLEX_CLIENT_ID, else the id the first process generated and stored in Redis.
import { randomUUID } from 'node:crypto';
import type { RedisConnection } from '../core/redis.js';
import { PLEX_PRODUCT } from './transport.js';

/** A fresh identifier, e.g. `stash2plex-5f0c…`: stable once stored, unlike a host or container name. */
export const newPlexClientId = (): string => `${PLEX_PRODUCT}-${randomUUID()}`;

/**
 * `configured` when set; otherwise the id stored under `key`, stored first (SET NX) by whichever process
 * comes first, so concurrent first starts still agree. Waits for Redis like any other command.
 */
export async function sharedPlexClientId(redis: RedisConnection, key: string, configured: string | null): Promise<string> {
  if (configured) return configured;
  for (let attempt = 0; attempt < 3; attempt++) {
    await redis.set(key, newPlexClientId(), 'NX');
    const id = await redis.get(key);
    if (id) return id; // null only if someone deleted the key in between: store again
  }
  throw new Error(`${key}: the Plex client identifier could not be stored`);
}

/**
 * The shared id without storing one: `configured`, else the stored id, else null (send none). For a
 * command that must change nothing (`npm run explain`): a request without an id makes no device either.
 */
export async function readPlexClientId(redis: RedisConnection, key: string, configured: string | null): Promise<string | null> {
  return configured ?? (await redis.get(key));
}

/**
 * For the unauthenticated /identity probe only: the shared id, or null (send none) when Redis does not
 * answer within `timeoutMs`. A probe must report Plex, not Redis; without a token it makes no device.
 */
export async function probeClientId(
  redis: RedisConnection,
  key: string,
  configured: string | null,
  timeoutMs: number,
): Promise<string | null> {
  if (configured) return configured;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), timeoutMs)));
  try {
    return await Promise.race([sharedPlexClientId(redis, key, null).catch(() => null), late]);
  } finally {
    clearTimeout(timer);
  }
}
