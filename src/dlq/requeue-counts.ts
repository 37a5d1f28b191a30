// The requeue counts (`requeueCounts`, src/core/keys.ts: job id → how often requeue moved it back),
// written and read only here: the mover counts each move, the page scanner reads them (a job moved back
// MAX_REQUEUES times stays), and a real run prunes them. They outlive their jobs: BullMQ removes failed
// jobs by age and number (FAILED_KEEP_DAYS, FAILED_KEEP_MAX) and completed ones at once, but the hash is
// ours. After a real requeue run, the counts of jobs that no longer exist go, so the hash stays as small
// as the set of jobs that can still be requeued.
import type { ChainableCommander } from 'ioredis';
import type { Keys, RedisConnection } from '../core/redis.js';

/** Fields looked at per HSCAN step (and job keys checked per round trip). */
const PRUNE_PAGE = 500;

/** Counts one more move back of job `jobId`. */
export async function countRequeue(redis: RedisConnection, redisKeys: Pick<Keys, 'requeueCounts'>, jobId: string): Promise<void> {
  await redis.hincrby(redisKeys.requeueCounts, jobId, 1);
}

/** Adds the read of the counts of `jobIds` to `pipe` (one reply: their counts as text, null for none). */
export function pipeRequeueCounts(pipe: ChainableCommander, redisKeys: Pick<Keys, 'requeueCounts'>, jobIds: readonly string[]): void {
  pipe.hmget(redisKeys.requeueCounts, ...jobIds);
}

/** A count as pipeRequeueCounts read it: 0 for none (or an unreadable one). */
export function requeueCountOf(raw: string | null | undefined): number {
  const n = raw ? Number(raw) : NaN;
  return Number.isFinite(n) ? n : 0;
}

/** Deletes the counts of jobs whose hash (`jobKey(id)`) is gone; returns how many went. */
export async function pruneRequeueCounts(
  redis: RedisConnection,
  redisKeys: Pick<Keys, 'requeueCounts'>,
  jobKey: (id: string) => string,
): Promise<number> {
  const countsKey = redisKeys.requeueCounts;
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
