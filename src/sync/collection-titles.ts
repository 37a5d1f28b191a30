// Which of an item's collections are stash2plex's to take it out of: those it has put items in before
// (keys.plexCollectionTitles), never one a person made in Plex, even in SYNC_MODE=mirror. The titles a
// sync is about to send are recorded first, so a lost answer leaves them known; a collection synced
// before this record existed counts as a person's (kept: the safe side).
import type { Keys, RedisConnection } from '../core/redis.js';

const memberOf = (sectionKey: string, title: string) => `${sectionKey}\t${title.toLowerCase()}`;

/** The item's collection titles (lower case) that are stash2plex's, and the wanted ones not recorded yet. */
async function lookUp(
  redis: RedisConnection,
  key: string,
  sectionKey: string,
  current: readonly string[],
  wanted: readonly string[],
): Promise<{ ours: Set<string>; fresh: string[] }> {
  const titles = [...new Set([...current, ...wanted].map((t) => t.toLowerCase()))];
  if (titles.length === 0) return { ours: new Set(), fresh: [] };
  const known = await redis.smismember(key, ...titles.map((t) => memberOf(sectionKey, t)));
  const wantedLower = new Set(wanted.map((t) => t.toLowerCase()));
  return {
    ours: new Set(titles.filter((t, i) => known[i] === 1 || wantedLower.has(t))),
    fresh: titles.filter((t, i) => known[i] !== 1 && wantedLower.has(t)),
  };
}

/**
 * The item's collections (`current`) stash2plex has synced, plus the ones it wants (`wanted`), lower
 * case; records the wanted ones it did not know yet. One round trip when nothing is new.
 */
export async function ourCollectionTitles(
  redis: RedisConnection,
  redisKeys: Pick<Keys, 'plexCollectionTitles'>,
  sectionKey: string,
  current: readonly string[],
  wanted: readonly string[],
): Promise<Set<string>> {
  const { ours, fresh } = await lookUp(redis, redisKeys.plexCollectionTitles, sectionKey, current, wanted);
  if (fresh.length) await redis.sadd(redisKeys.plexCollectionTitles, ...fresh.map((t) => memberOf(sectionKey, t)));
  return ours;
}

/** The same set, recording nothing: for what only looks (explain, Reconcile Library's gap report). */
export async function ourCollectionTitlesReadOnly(
  redis: RedisConnection,
  redisKeys: Pick<Keys, 'plexCollectionTitles'>,
  sectionKey: string,
  current: readonly string[],
  wanted: readonly string[],
): Promise<Set<string>> {
  return (await lookUp(redis, redisKeys.plexCollectionTitles, sectionKey, current, wanted)).ours;
}
