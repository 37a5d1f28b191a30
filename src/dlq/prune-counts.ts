// The requeue counts (`requeueCounts`, src/core/keys.ts) outlive their jobs: BullMQ removes failed jobs by
// age and number (FAILED_KEEP_DAYS, FAILED_KEEP_MAX) and completed ones at once, but the hash is ours.
// After a real requeue run, the counts of jobs that no longer exist go, so the hash stays as small as the
// set of jobs that can still be requeued.
import type { RedisConnection } from '../core/redis.js';

/** Fields looked at per HSCAN step (and job keys checked per round trip). */
const PRUNE_PAGE = 500;

/** Deletes the counts of jobs whose hash (`jobKey(id)`) is gone; returns how many went. */
export async function pruneRequeueCounts(redis: RedisConnection, countsKey: string, jobKey: (id: string) => string): Promise<number> {
  let cursor = '0';
  let pruned = 0;
  do {
    const [next, flat] = await redis.hscan(countsKey, cursor, 'COUNT', PRUNE_PAGE);
    cursor = next;
    const ids = flat.filter((_, i) => i % 2 === 0);
    if (ids.length === 0) continue;
    const pipe = redis.pipeline();
    for (const id of ids) pipe.exists(jobKey(id));
    const exists = (await pipe.exec()) ?? [];
    const gone = ids.filter((_, i) => exists[i]?.[1] === 0);
    if (gone.length > 0) pruned += await redis.hdel(countsKey, ...gone);
  } while (cursor !== '0');
  return pruned;
}
