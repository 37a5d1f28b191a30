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

/** Keeps a finished run's report; a failure kept before is forgotten (this run is the newest word). */
export async function storeLibraryReport(
  redis: RedisConnection,
  redisKeys: Pick<Keys, 'reconcileReport' | 'reconcileFailure'>,
  report: LibraryReport,
): Promise<void> {
  await redis.set(redisKeys.reconcileReport, JSON.stringify(report));
  await redis.del(redisKeys.reconcileFailure);
}

/** A run that did not finish: when it stopped, whether it was a dry run, why (one line, no secret). */
export interface LibraryRunFailure {
  failedAt: number;
  dryRun: boolean;
  error: string;
}

/** Keeps a failed run's record, so the last report is not shown as if it were current. */
export async function storeLibraryFailure(
  redis: RedisConnection,
  redisKeys: Pick<Keys, 'reconcileFailure'>,
  failure: LibraryRunFailure,
): Promise<void> {
  await redis.set(redisKeys.reconcileFailure, JSON.stringify({ ...failure, error: failure.error.slice(0, 500) }));
}

/** The stored failure as text, for parseLibraryFailure. */
export function readLibraryFailureText(redis: RedisConnection, redisKeys: Pick<Keys, 'reconcileFailure'>): Promise<string | null> {
  return redis.get(redisKeys.reconcileFailure);
}

/** Pure: the stored failure, or null (none, or unreadable). */
export function parseLibraryFailure(raw: string | null | undefined): LibraryRunFailure | null {
  try {
    const v = raw ? (JSON.parse(raw) as Partial<LibraryRunFailure>) : null;
    if (v && typeof v.failedAt === 'number' && typeof v.dryRun === 'boolean' && typeof v.error === 'string') {
      return { failedAt: v.failedAt, dryRun: v.dryRun, error: v.error };
    }
  } catch {
    /* unreadable: none */
  }
  return null;
}
