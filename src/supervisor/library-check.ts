// PLEX_LIBRARIES against the sections Plex answers with, and the stored result (JSON at
// keys().plexLibraryCheck): written only here (by the supervisor leader, fenced), read only here.
import type { Logger } from '../core/log.js';
import type { Keys, RedisConnection } from '../core/redis.js';
import type { FencedOp } from '../resilience/lease.js';
import { libraryProblems, type PlexSection } from '../plex/paths.js';

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
export function readLibraryCheckText(redis: RedisConnection, redisKeys: Pick<Keys, 'plexLibraryCheck'>): Promise<string | null> {
  return redis.get(redisKeys.plexLibraryCheck);
}

/** The fenced write that stores a check made at `checkedAt`. */
export function libraryCheckWrite(redisKeys: Pick<Keys, 'plexLibraryCheck'>, checkedAt: number, problems: readonly string[]): FencedOp {
  return { cmd: 'SET', key: redisKeys.plexLibraryCheck, args: [JSON.stringify({ checkedAt, problems })] };
}

export interface LibraryCheckerDeps {
  sections?: () => Promise<PlexSection[]>;
  libraries: readonly string[] | null;
  keys: Pick<Keys, 'plexLibraryCheck'>;
  write: (ops: FencedOp[]) => Promise<boolean>;
  log: Logger;
}

/**
 * Checks PLEX_LIBRARIES whenever the token check passes (at start, after each recovery): a missing title
 * or a library of another type is logged as an error (once, until the problems change) and stored for
 * the status page. Never an exit: Plex may be down at start, and a library may be added later.
 */
export class LibraryChecker {
  /** The problems last logged, so a recheck that finds the same says nothing new. */
  private logged = '';

  constructor(private readonly deps: LibraryCheckerDeps) {}

  async check(at: number): Promise<void> {
    if (!this.deps.sections) return;
    let problems: string[];
    try {
      problems = libraryProblems(await this.deps.sections(), this.deps.libraries);
    } catch {
      return; // the probes deal with an unreachable Plex
    }
    const text = problems.join('\n');
    if (text !== this.logged) for (const p of problems) this.deps.log.error(p);
    this.logged = text;
    await this.deps.write([libraryCheckWrite(this.deps.keys, at, problems)]);
  }
}
