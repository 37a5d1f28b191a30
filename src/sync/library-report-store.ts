// The last Reconcile Library report (JSON at keys().reconcileReport, a dry run's too): written by a run
// (src/sync/library-reconcile-run.ts), read by the status and the Stash task; only here. Its schema is
// parseLibraryReport's (./library-gaps.ts).
import type { Keys, RedisConnection } from '../core/redis.js';
import { parseLibraryReport, type LibraryReport } from './library-gaps.js';

/** The stored report as text, for a reader that parses it later (parseLibraryReport). */
export function readLibraryReportText(redis: RedisConnection, redisKeys: Pick<Keys, 'reconcileReport'>): Promise<string | null> {
  return redis.get(redisKeys.reconcileReport);
}

/** The last report kept in Redis (null: none yet, or unreadable). */
export async function readLibraryReport(redis: RedisConnection, redisKeys: Pick<Keys, 'reconcileReport'>): Promise<LibraryReport | null> {
  return parseLibraryReport(await readLibraryReportText(redis, redisKeys));
}

export async function storeLibraryReport(
  redis: RedisConnection,
  redisKeys: Pick<Keys, 'reconcileReport'>,
  report: LibraryReport,
): Promise<void> {
  await redis.set(redisKeys.reconcileReport, JSON.stringify(report));
}
