// The page scanner: walks the failed set (a sorted set scored by failure time) one score range at a
// time, by pages (ZRANGEBYSCORE … LIMIT), never whole, and loads per page only the fields selection
// needs (pipelined HMGET) and the requeue counts.
import type { Keys, RedisConnection } from '../core/redis.js';
import { JOB_FIELDS, type QueueInternals } from './bullmq-internals.js';
import { pipeRequeueCounts, requeueCountOf } from './requeue-counts.js';
import type { FailedJobInfo } from './select.js';

export interface FailedEntry {
  id: string;
  /** Failure time (the failed set's score). */
  score: number;
}

export interface PageJob extends FailedJobInfo {
  /** The deduplication id the job was added with (its scene's), null when none. */
  dedupId: string | null;
}

export interface ScanOptions {
  /** Entries read per page. */
  pageSize: number;
  /** Jobs handled already in this run (a requeued job may fail again and re-enter the range): not yielded. */
  seen: ReadonlySet<string>;
  /** Runs before each page is read (the caller re-checks the breaker there). */
  beforePage?: () => Promise<void>;
}

/**
 * Yields the entries of `[min, max]` in score order, page by page, each entry once. The cursor is the
 * last score read; entries at that score already yielded are skipped on the next page (the page is
 * widened by their number), so equal scores across a page boundary are neither lost nor repeated.
 * Pages with nothing new are not yielded.
 */
export async function* failedPages(
  redis: RedisConnection,
  failedKey: string,
  range: { min: number; max: number },
  scanOptions: ScanOptions,
): AsyncGenerator<FailedEntry[]> {
  let cursor = range.min;
  let seenAtCursor = new Set<string>();
  for (;;) {
    if (scanOptions.beforePage) await scanOptions.beforePage();
    const want = scanOptions.pageSize + seenAtCursor.size;
    const flat = await redis.zrangebyscore(failedKey, cursor, range.max, 'WITHSCORES', 'LIMIT', 0, want);
    const entries: FailedEntry[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const id = flat[i];
      if (!seenAtCursor.has(id) && !scanOptions.seen.has(id)) entries.push({ id, score: Number(flat[i + 1]) });
    }
    const exhausted = flat.length < want * 2;
    if (flat.length > 0) {
      const lastScore = Number(flat[flat.length - 1]);
      if (lastScore !== cursor) seenAtCursor = new Set();
      for (let i = 0; i + 1 < flat.length; i += 2) if (Number(flat[i + 1]) === lastScore) seenAtCursor.add(flat[i]);
      cursor = lastScore;
    }
    if (entries.length > 0) yield entries;
    if (exhausted) return;
  }
}

const toInt = (s: string | null | undefined) => {
  const n = s ? Number(s) : NaN;
  return Number.isFinite(n) ? n : null;
};

function sceneIdOf(data: string | null): string | null {
  if (!data) return null;
  try {
    const v = (JSON.parse(data) as { sceneId?: unknown }).sceneId;
    return typeof v === 'string' ? v : null;
  } catch {
    return null;
  }
}

/** What selection needs of each entry, in one round trip; entries removed meanwhile are left out. */
export async function loadPage(
  redis: RedisConnection,
  bull: QueueInternals,
  redisKeys: Keys,
  entries: readonly FailedEntry[],
): Promise<PageJob[]> {
  const pipe = redis.pipeline();
  for (const e of entries)
    pipe.hmget(bull.jobKey(e.id), JOB_FIELDS.data, JOB_FIELDS.failedReason, JOB_FIELDS.finishedOn, JOB_FIELDS.dedupId);
  pipeRequeueCounts(
    pipe,
    redisKeys,
    entries.map((e) => e.id),
  );
  const res = (await pipe.exec()) ?? [];
  const counts = (res[entries.length]?.[1] as (string | null)[] | undefined) ?? [];
  const out: PageJob[] = [];
  entries.forEach((e, i) => {
    const [data, failedReason, finishedOn, deid] = (res[i]?.[1] as (string | null)[] | undefined) ?? [];
    if (data === null && failedReason === null && finishedOn === null) return; // removed meanwhile
    out.push({
      id: e.id,
      finishedOn: toInt(finishedOn) ?? e.score,
      failedReason,
      sceneId: sceneIdOf(data ?? null),
      requeueCount: requeueCountOf(counts[i]),
      dedupId: deid ?? null,
    });
  });
  return out;
}
