// The stored check of PLEX_LIBRARIES against Plex's sections (JSON at keys().plexLibraryCheck): written
// (by the supervisor leader, fenced) and read only through here.
import type { Keys, RedisConnection } from '../core/redis.js';
import type { FencedOp } from '../resilience/lease.js';

/** The last check as the status shows it. */
export interface LibraryCheck {
  libraryProblems: string[];
  librariesCheckedAt: number | null;
}

/** Pure: the stored library check (JSON written by libraryCheckWrite); anything unreadable reads as not checked. */
export function parseLibraryCheck(raw: string | null): LibraryCheck {
  try {
    const v = raw ? (JSON.parse(raw) as { checkedAt?: unknown; problems?: unknown }) : null;
    if (v && typeof v.checkedAt === 'number' && Array.isArray(v.problems)) {
      return { libraryProblems: v.problems.filter((p): p is string => typeof p === 'string'), librariesCheckedAt: v.checkedAt };
    }
  } catch {
    /* not checked */
  }
  return { libraryProblems: [], librariesCheckedAt: null };
}

/** The stored check, as text for parseLibraryCheck (a key of the wrong Redis type reads as none). */
export function readLibraryCheckText(redis: RedisConnection, k: Pick<Keys, 'plexLibraryCheck'>): Promise<string | null> {
  return redis.get(k.plexLibraryCheck);
}

/** The fenced write that stores a check made at `checkedAt`. */
export function libraryCheckWrite(k: Pick<Keys, 'plexLibraryCheck'>, checkedAt: number, problems: readonly string[]): FencedOp {
  return { cmd: 'SET', key: k.plexLibraryCheck, args: [JSON.stringify({ checkedAt, problems })] };
}
