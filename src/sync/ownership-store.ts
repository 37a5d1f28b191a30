// The ownership record in Redis: one small hash per Plex item, `<own>:<ratingKey>` (src/core/keys.ts),
// under the same persistence (AOF) as the queue. Older installs kept poster hashes in one hash of
// their own (`posterHashes`): moved into the records once, when a worker starts.
import { ownershipKey, type Keys, type RedisConnection } from '../core/redis.js';
import type { OwnershipRecord } from './ownership.js';

/** The hash length of ownership.valueHash; a legacy poster entry is the full SHA-256, cut to it. */
const HASH_HEX = 16;
/** Legacy entries moved per HSCAN step. */
const MIGRATE_PAGE = 500;

export async function readOwnership(redis: RedisConnection, k: Pick<Keys, 'own'>, ratingKey: string): Promise<OwnershipRecord> {
  return (await redis.hgetall(ownershipKey(k, ratingKey))) as OwnershipRecord;
}

/** Records the fields just set (after Plex took the edit). */
export async function writeOwnership(redis: RedisConnection, k: Pick<Keys, 'own'>, ratingKey: string, owned: OwnershipRecord): Promise<void> {
  const entries = Object.entries(owned) as [keyof OwnershipRecord, string][];
  if (entries.length === 0) return;
  await redis.hset(ownershipKey(k, ratingKey), Object.fromEntries(entries));
}

/** Forgets an item that no longer exists (or no longer holds the scene's file). */
export async function forgetOwnership(redis: RedisConnection, k: Pick<Keys, 'own'>, ratingKey: string): Promise<void> {
  await redis.del(ownershipKey(k, ratingKey));
}

/**
 * Moves the legacy poster hashes into the ownership records (a record's own poster wins) and deletes
 * them. Idempotent, so workers starting together may all run it. Returns how many entries moved.
 */
export async function migrateLegacyPosterHashes(redis: RedisConnection, k: Pick<Keys, 'own' | 'posterHashes'>): Promise<number> {
  let cursor = '0';
  let moved = 0;
  do {
    const [next, flat] = await redis.hscan(k.posterHashes, cursor, 'COUNT', MIGRATE_PAGE);
    cursor = next;
    if (flat.length === 0) continue;
    const pipe = redis.pipeline();
    for (let i = 0; i + 1 < flat.length; i += 2) pipe.hsetnx(ownershipKey(k, flat[i]!), 'poster', flat[i + 1]!.slice(0, HASH_HEX));
    pipe.hdel(k.posterHashes, ...flat.filter((_, i) => i % 2 === 0));
    await pipe.exec();
    moved += flat.length / 2;
  } while (cursor !== '0');
  return moved;
}
