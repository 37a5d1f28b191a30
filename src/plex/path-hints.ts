// The PATH_MAP suggestions of the base-name fallback: kept in a bounded Redis hash (one field per pair,
// with the file that showed it), logged once per pair, read by the status page and the Health Check.
import { z } from 'zod';
import type { PathMapping } from '../core/config.js';
import type { Logger } from '../core/log.js';
import type { RedisConnection } from '../core/redis.js';

/** At most this many pairs are kept: more means PATH_MAP is badly off, and the first ones say so. */
export const MAX_PATH_HINTS = 20;

/** One suggestion: set `PATH_MAP=<pathMap>` (`from=to`), shown by a file matched under both paths. */
export interface PathHint {
  pathMap: string;
  stashPath: string;
  plexPath: string;
  at: number;
}

const stored = z.object({ stashPath: z.string(), plexPath: z.string(), at: z.number() });

export const pathMapText = (pair: PathMapping): string => `${pair.from}=${pair.to}`;

/** Pure: the status line of the suggestions (one PATH_MAP value joining them all), or null for none. */
export function pathHintLine(hints: readonly Pick<PathHint, 'pathMap'>[]): string | null {
  if (hints.length === 0) return null;
  return `Plex sees these files under another path; set PATH_MAP=${hints.map((h) => h.pathMap).join(';')}`;
}

/**
 * Records a suggestion; the first process to record a pair logs it (HSETNX). A full hash takes no new
 * pair (the bound is checked first, so concurrent writers may pass it by a few). Redis problems cost
 * only the hint.
 */
export async function recordPathHint(
  redis: RedisConnection,
  key: string,
  hint: Omit<PathHint, 'pathMap'> & { pair: PathMapping },
  log?: Pick<Logger, 'warn'>,
): Promise<void> {
  const pathMap = pathMapText(hint.pair);
  try {
    if ((await redis.hexists(key, pathMap)) || (await redis.hlen(key)) >= MAX_PATH_HINTS) return;
    const value = JSON.stringify({ stashPath: hint.stashPath, plexPath: hint.plexPath, at: hint.at });
    if ((await redis.hsetnx(key, pathMap, value)) !== 1) return;
  } catch {
    return;
  }
  log?.warn({ stashPath: hint.stashPath, plexPath: hint.plexPath, suggestion: `PATH_MAP=${pathMap}` }, pathHintLine([{ pathMap }])!);
}

/** The kept suggestions, oldest first; unreadable entries are left out. */
export async function readPathHints(redis: RedisConnection, key: string): Promise<PathHint[]> {
  const all = await redis.hgetall(key);
  const out: PathHint[] = [];
  for (const [pathMap, raw] of Object.entries(all)) {
    try {
      const v = stored.safeParse(JSON.parse(raw));
      if (v.success) out.push({ pathMap, ...v.data });
    } catch {
      /* skipped */
    }
  }
  return out.sort((a, b) => a.at - b.at);
}
