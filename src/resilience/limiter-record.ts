// The limiters record (hash at keys().limiters): each worker process's adaptive concurrency limiters, so
// the dashboard (any process) shows them. Written only by publishLimiters (the workers, each its own
// field), read back only through readLimiters, both with one schema. A worker that died leaves a field
// behind: it reads as stale after LIMITER_STALE_MS and the next write of any worker removes it.
import { z } from 'zod';
import type { Keys, RedisConnection } from '../core/redis.js';
import type { LimiterSnapshot } from './limiter.js';
import { tolerant, wrongType } from './tolerant-read.js';

/** How often a worker publishes its limiters. */
export const LIMITER_PUBLISH_MS = 1_000;
/** A worker's entry older than this is a dead worker's: not shown, and pruned. */
export const LIMITER_STALE_MS = 15_000;

const snapshotSchema = z.object({
  target: z.enum(['plex', 'stash']),
  adaptive: z.boolean(),
  limit: z.number().int().nonnegative(),
  ceiling: z.number().int().nonnegative(),
  inFlight: z.number().int().nonnegative(),
  waiting: z.number().int().nonnegative(),
  latencyMs: z.number().nonnegative().nullable(),
  baselineMs: z.number().nonnegative().nullable(),
});
const entrySchema = z.object({ at: z.number().nonnegative(), limiters: z.array(snapshotSchema) });

/** One worker's limiters as the dashboard shows them. */
export interface WorkerLimiters {
  worker: string;
  at: number;
  limiters: LimiterSnapshot[];
}

/** Writes this worker's limiters (its own field), refreshes the key's expiry and drops dead workers' fields. */
export async function publishLimiters(
  redis: RedisConnection,
  redisKeys: Pick<Keys, 'limiters'>,
  worker: string,
  limiters: readonly LimiterSnapshot[],
  now: number,
): Promise<void> {
  const entries = await redis.hgetall(redisKeys.limiters);
  const stale = Object.entries(entries)
    .filter(([field, raw]) => field !== worker && !fresh(parseEntry(raw), now))
    .map(([field]) => field);
  const batch = redis.multi().hset(redisKeys.limiters, worker, JSON.stringify({ at: now, limiters }));
  if (stale.length) batch.hdel(redisKeys.limiters, ...stale);
  await batch.pexpire(redisKeys.limiters, LIMITER_STALE_MS).exec();
}

/** Removes this worker's field (a worker stopping). */
export async function forgetLimiters(redis: RedisConnection, redisKeys: Pick<Keys, 'limiters'>, worker: string): Promise<void> {
  await redis.hdel(redisKeys.limiters, worker);
}

function parseEntry(raw: string): z.infer<typeof entrySchema> | null {
  try {
    const parsed = entrySchema.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

const fresh = (entry: { at: number } | null, now: number) => entry !== null && now - entry.at <= LIMITER_STALE_MS;

/** The live workers' limiters, by worker id; a damaged or stale entry is left out (damaged: with a warning). */
export async function readLimiters(
  redis: RedisConnection,
  redisKeys: Pick<Keys, 'limiters'>,
  now: number,
  warnings: string[],
): Promise<WorkerLimiters[]> {
  const raw = await tolerant(redis.hgetall(redisKeys.limiters));
  if (raw === null || wrongType(raw, 'limiters', warnings)) return [];
  const out: WorkerLimiters[] = [];
  for (const [worker, text] of Object.entries(raw)) {
    const entry = parseEntry(text);
    if (entry === null) warnings.push(`stored limiters of ${worker}: unreadable: ignored`);
    else if (fresh(entry, now)) out.push({ worker, ...entry });
  }
  return out.sort((a, b) => a.worker.localeCompare(b.worker));
}
