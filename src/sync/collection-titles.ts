// Which of an item's collections are stash2plex's to take it out of: those it has put items in before
// (keys.plexCollectionTitles), never one a person made in Plex, even in SYNC_MODE=mirror. The titles a
// sync is about to send are recorded first, so a lost answer leaves them known; a collection synced
// before this record existed counts as a person's (kept: the safe side).
import type { Keys, RedisConnection } from '../core/redis.js';

const memberOf = (sectionKey: string, title: string) => `${sectionKey}\t${title.toLowerCase()}`;

/**
 * The item's collections (`current`) stash2plex has synced, plus the ones it wants (`wanted`), lower
 * case. A sync records the wanted ones it did not know yet (`record`); explain and Reconcile Library's
 * gap report only look. One round trip when nothing is new.
 */
export async function ourCollectionTitles(
  redis: RedisConnection,
  redisKeys: Pick<Keys, 'plexCollectionTitles'>,
  sectionKey: string,
  titlesOf: { current: readonly string[]; wanted: readonly string[] },
  record: boolean,
): Promise<Set<string>> {
  const wanted = new Set(titlesOf.wanted.map((t) => t.toLowerCase()));
  const titles = [...new Set([...titlesOf.current.map((t) => t.toLowerCase()), ...wanted])];
  if (titles.length === 0) return new Set();
  const known = await redis.smismember(redisKeys.plexCollectionTitles, ...titles.map((t) => memberOf(sectionKey, t)));
  const fresh = titles.filter((t, i) => known[i] !== 1 && wanted.has(t));
  if (record && fresh.length) await redis.sadd(redisKeys.plexCollectionTitles, ...fresh.map((t) => memberOf(sectionKey, t)));
  return new Set(titles.filter((t, i) => known[i] === 1 || wanted.has(t)));
}
