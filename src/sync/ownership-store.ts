// The ownership record in Redis: one small hash per Plex item, `<own>:<ratingKey>` (src/core/keys.ts),
// under the same persistence (AOF) as the queue. Older installs kept poster hashes in one hash of
// their own (`posterHashes`): moved into the records once, when a worker starts.
import { ownershipKey, type Keys, type RedisConnection } from '../core/redis.js';
import { carriedRecord, confirmation, type Decision, type OwnershipRecord } from './ownership.js';

/** The hash length of ownership.valueHash; a legacy poster entry is the full SHA-256, cut to it. */
const HASH_HEX = 16;
/** Legacy entries moved per HSCAN step. */
const MIGRATE_PAGE = 500;

export async function readOwnership(redis: RedisConnection, redisKeys: Pick<Keys, 'own'>, ratingKey: string): Promise<OwnershipRecord> {
  return await redis.hgetall(ownershipKey(redisKeys, ratingKey));
}

/** Records what an edit is about to set, before it is sent: a lost answer then cannot make it look like a person's edit. */
export async function recordIntents(
  redis: RedisConnection,
  redisKeys: Pick<Keys, 'own'>,
  ratingKey: string,
  intents: OwnershipRecord,
): Promise<void> {
  await writeOwnership(redis, redisKeys, ratingKey, intents);
}

/** Confirms a decision after Plex took its edit (see ownership.confirmation). */
export async function confirmOwnership(
  redis: RedisConnection,
  redisKeys: Pick<Keys, 'own'>,
  ratingKey: string,
  record: OwnershipRecord,
  decision: Pick<Decision, 'owned' | 'intents' | 'released'>,
): Promise<void> {
  const { set, drop } = confirmation(record, decision);
  if (Object.keys(set).length === 0 && drop.length === 0) return;
  const key = ownershipKey(redisKeys, ratingKey);
  const tx = redis.multi();
  if (Object.keys(set).length > 0) tx.hset(key, set);
  if (drop.length > 0) tx.hdel(key, ...drop);
  await tx.exec();
}

/**
 * Moves the record of an item proven gone to the item that replaced it (the same file, a new ratingKey),
 * as intents (ownership.carriedRecord), unless the new item has a record of its own.
 */
export async function carryOwnership(redis: RedisConnection, redisKeys: Pick<Keys, 'own'>, from: string, to: string): Promise<void> {
  const carried = carriedRecord(await readOwnership(redis, redisKeys, from));
  if (Object.keys(carried).length > 0 && (await redis.exists(ownershipKey(redisKeys, to))) === 0)
    await redis.hset(ownershipKey(redisKeys, to), carried);
  await forgetOwnership(redis, redisKeys, from);
}

/** Records the fields just set (after Plex took the edit). */
export async function writeOwnership(
  redis: RedisConnection,
  redisKeys: Pick<Keys, 'own'>,
  ratingKey: string,
  owned: OwnershipRecord,
): Promise<void> {
  const entries = Object.entries(owned) as [keyof OwnershipRecord, string][];
  if (entries.length === 0) return;
  await redis.hset(ownershipKey(redisKeys, ratingKey), Object.fromEntries(entries));
}

/** Forgets an item proven gone (never on one 404: see PlexClient.confirmGone). */
export async function forgetOwnership(redis: RedisConnection, redisKeys: Pick<Keys, 'own'>, ratingKey: string): Promise<void> {
  await redis.del(ownershipKey(redisKeys, ratingKey));
}

/**
 * Moves the legacy poster hashes into the ownership records (a record's own poster wins) and deletes
 * them. Idempotent, so workers starting together may all run it. Returns how many entries moved.
 */
export async function migrateLegacyPosterHashes(redis: RedisConnection, redisKeys: Pick<Keys, 'own' | 'posterHashes'>): Promise<number> {
  let cursor = '0';
  let moved = 0;
  do {
    const [next, flat] = await redis.hscan(redisKeys.posterHashes, cursor, 'COUNT', MIGRATE_PAGE);
    cursor = next;
    if (flat.length === 0) continue;
    const pipe = redis.pipeline();
    for (let i = 0; i + 1 < flat.length; i += 2) pipe.hsetnx(ownershipKey(redisKeys, flat[i]), 'poster', flat[i + 1].slice(0, HASH_HEX));
    pipe.hdel(redisKeys.posterHashes, ...flat.filter((_, i) => i % 2 === 0));
    await pipe.exec();
    moved += flat.length / 2;
  } while (cursor !== '0');
  return moved;
}
