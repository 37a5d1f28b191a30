// The ownership record in Redis: one small hash per Plex item, `<own>:<ratingKey>` (src/core/keys.ts),
// under the same persistence (AOF) as the queue. Older installs kept poster hashes in one hash of
// their own (`posterHashes`): read as the record's poster, and moved on the next write.
import { ownershipKey, type Keys, type RedisConnection } from '../core/redis.js';
import type { OwnershipRecord } from './ownership.js';

/** The hash length of ownership.valueHash; a legacy poster entry is the full SHA-256, cut to it. */
const HASH_HEX = 16;

export async function readOwnership(redis: RedisConnection, k: Pick<Keys, 'own' | 'posterHashes'>, ratingKey: string): Promise<OwnershipRecord> {
  const [record, legacyPoster] = await Promise.all([redis.hgetall(ownershipKey(k, ratingKey)), redis.hget(k.posterHashes, ratingKey)]);
  const out = record as OwnershipRecord;
  if (out.poster === undefined && legacyPoster) out.poster = legacyPoster.slice(0, HASH_HEX);
  return out;
}

/** Records the fields just set (after Plex took the edit). */
export async function writeOwnership(redis: RedisConnection, k: Pick<Keys, 'own' | 'posterHashes'>, ratingKey: string, owned: OwnershipRecord): Promise<void> {
  const entries = Object.entries(owned) as [keyof OwnershipRecord, string][];
  if (entries.length === 0) return;
  await redis.hset(ownershipKey(k, ratingKey), Object.fromEntries(entries));
  if (owned.poster !== undefined) await redis.hdel(k.posterHashes, ratingKey);
}

/** Forgets an item that no longer exists (or no longer holds the scene's file). */
export async function forgetOwnership(redis: RedisConnection, k: Pick<Keys, 'own' | 'posterHashes'>, ratingKey: string): Promise<void> {
  await Promise.all([redis.del(ownershipKey(k, ratingKey)), redis.hdel(k.posterHashes, ratingKey)]);
}
