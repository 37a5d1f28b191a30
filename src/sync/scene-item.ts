// The scene → item hint (keys().plexSceneItem: Stash scene id → ratingKey of the Plex item the scene
// last synced to). Written by the processor once a scene's match is checked, read by the processor (to
// read the item alongside the scene), Reconcile Library (a scene whose file moved) and restore (which
// item a scene's originals are on); only here.
import type { Keys, RedisConnection } from '../core/redis.js';

/** Hint entries read per HSCAN step when walking them all. */
const SCAN_PAGE = 500;

/** The item scene `sceneId` last synced to; null when none is known. */
export function readSceneItem(redis: RedisConnection, redisKeys: Pick<Keys, 'plexSceneItem'>, sceneId: string): Promise<string | null> {
  return redis.hget(redisKeys.plexSceneItem, sceneId);
}

/** The items these scenes last synced to, in their order (null where none is known): one HMGET. */
export function readSceneItems(
  redis: RedisConnection,
  redisKeys: Pick<Keys, 'plexSceneItem'>,
  sceneIds: readonly string[],
): Promise<(string | null)[]> {
  return sceneIds.length === 0 ? Promise.resolve([]) : redis.hmget(redisKeys.plexSceneItem, ...sceneIds);
}

export async function rememberSceneItem(
  redis: RedisConnection,
  redisKeys: Pick<Keys, 'plexSceneItem'>,
  sceneId: string,
  ratingKey: string,
): Promise<void> {
  await redis.hset(redisKeys.plexSceneItem, { [sceneId]: ratingKey });
}

export async function forgetSceneItem(redis: RedisConnection, redisKeys: Pick<Keys, 'plexSceneItem'>, sceneId: string): Promise<void> {
  await redis.hdel(redisKeys.plexSceneItem, sceneId);
}

/** Every hint as [sceneId, ratingKey], a page at a time (HSCAN: never the whole hash at once). */
export async function* sceneItemPages(redis: RedisConnection, redisKeys: Pick<Keys, 'plexSceneItem'>): AsyncGenerator<[string, string][]> {
  let cursor = '0';
  do {
    const [next, flat] = await redis.hscan(redisKeys.plexSceneItem, cursor, 'COUNT', SCAN_PAGE);
    cursor = next;
    const pairs: [string, string][] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) pairs.push([flat[i], flat[i + 1]]);
    if (pairs.length > 0) yield pairs;
  } while (cursor !== '0');
}
