// What "changes nothing" is checked against: every Redis key under a prefix with its serialized value
// (DUMP: type and content), and every item of the Plex simulator.
import type { RedisConnection } from '../../src/core/redis.js';
import type { PlexSimulator } from '../../src/sim/plex.js';

/** Each key under `prefix` → its DUMP in base64 (TTLs left out: they move with time alone). */
export async function redisSnapshot(redis: RedisConnection, prefix: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
    cursor = next;
    for (const k of found) out[k] = ((await redis.dumpBuffer(k)) ?? Buffer.alloc(0)).toString('base64');
  } while (cursor !== '0');
  return out;
}

/** Every item the Plex simulator holds, as it shows them. */
export const plexSnapshot = (plex: PlexSimulator) => JSON.stringify(plex.items());
