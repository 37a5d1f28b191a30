// Scenes kept out of sync (the hash `syncExcluded`, src/core/keys.ts: scene id → why and when, JSON): a
// restored scene stays as the restore left it until someone brings it back (`npm run restore -- --resume`
// or "Sync again" on the status page). The processor skips such a scene before any Plex request.
import { z } from 'zod';
import type { Keys, RedisConnection } from '../core/redis.js';

export interface Exclusion {
  /** When it was excluded (epoch ms; 0 when the record is unreadable). */
  at: number;
  /** Why, e.g. "restored": shown on the status page and in the skipped job's result. */
  why: string;
  /** The Plex item it was restored on, when known. */
  ratingKey: string | null;
}

export interface ExcludedScene extends Exclusion {
  sceneId: string;
}

/** Most excluded scenes the status document lists (their count is always whole). */
export const EXCLUSIONS_LISTED = 20;
/** Entries read per HSCAN step when listing or walking exclusions. */
const SCAN_PAGE = 500;

const exclusionSchema = z.object({ at: z.number(), why: z.string(), ratingKey: z.string().nullable().default(null) });

/** Pure: a stored record; one that cannot be read still excludes its scene (the key says so), "unreadable". */
export function parseExclusion(raw: string): Exclusion {
  try {
    const r = exclusionSchema.safeParse(JSON.parse(raw));
    if (r.success) return r.data;
  } catch {
    /* not JSON */
  }
  return { at: 0, why: 'unreadable record', ratingKey: null };
}

/** Pure: the skipped result of an excluded scene's job: why, and how to bring it back. */
export function excludedReason(sceneId: string, exclusion: Exclusion): string {
  return `excluded from sync (${exclusion.why}): npm run restore -- --resume --scene ${sceneId}, or "Sync again" on the status page, brings it back`;
}

/** The scene's exclusion, or null when it is synced as usual. */
export async function readExclusion(
  redis: RedisConnection,
  redisKeys: Pick<Keys, 'syncExcluded'>,
  sceneId: string,
): Promise<Exclusion | null> {
  const raw = await redis.hget(redisKeys.syncExcluded, sceneId);
  return raw === null ? null : parseExclusion(raw);
}

export async function excludeScene(
  redis: RedisConnection,
  redisKeys: Pick<Keys, 'syncExcluded'>,
  sceneId: string,
  exclusion: Exclusion,
): Promise<void> {
  await redis.hset(redisKeys.syncExcluded, { [sceneId]: JSON.stringify(exclusion) });
}

/** Brings scenes back into sync; resolves with those that were excluded. */
export async function includeScenes(
  redis: RedisConnection,
  redisKeys: Pick<Keys, 'syncExcluded'>,
  sceneIds: readonly string[],
): Promise<string[]> {
  if (sceneIds.length === 0) return [];
  const pipe = redis.pipeline();
  for (const id of sceneIds) pipe.hdel(redisKeys.syncExcluded, id);
  const results = (await pipe.exec()) ?? [];
  return sceneIds.filter((_, i) => results[i]?.[1] === 1);
}

/** Those of `sceneIds` that are excluded, in their order. */
export async function excludedAmong(
  redis: RedisConnection,
  redisKeys: Pick<Keys, 'syncExcluded'>,
  sceneIds: readonly string[],
): Promise<string[]> {
  const pipe = redis.pipeline();
  for (const id of sceneIds) pipe.hexists(redisKeys.syncExcluded, id);
  const found = (await pipe.exec()) ?? [];
  return sceneIds.filter((_, i) => found[i]?.[1] === 1);
}

/** Every excluded scene id, a page at a time (HSCAN: never the whole hash at once). */
export async function* excludedSceneIds(redis: RedisConnection, redisKeys: Pick<Keys, 'syncExcluded'>): AsyncGenerator<string[]> {
  let cursor = '0';
  do {
    const [next, flat] = await redis.hscan(redisKeys.syncExcluded, cursor, 'COUNT', SCAN_PAGE);
    cursor = next;
    const ids = flat.filter((_, i) => i % 2 === 0);
    if (ids.length > 0) yield ids;
  } while (cursor !== '0');
}

/**
 * How many scenes are excluded, and at most `max` of them, newest first among those one HSCAN step
 * read (all of them while there are a few hundred at most): bounded whatever the hash's size. A key of
 * the wrong type (damaged) reads as none, with a warning: it must not take the status page down.
 */
export async function listExclusions(
  redis: RedisConnection,
  redisKeys: Pick<Keys, 'syncExcluded'>,
  warnings: string[] = [],
  max = EXCLUSIONS_LISTED,
): Promise<{ count: number; scenes: ExcludedScene[] }> {
  let count: number;
  let flat: string[];
  try {
    [count, [, flat]] = await Promise.all([
      redis.hlen(redisKeys.syncExcluded),
      redis.hscan(redisKeys.syncExcluded, '0', 'COUNT', SCAN_PAGE),
    ]);
  } catch (err) {
    if (!/^WRONGTYPE/.test((err as Error).message)) throw err;
    warnings.push(`${redisKeys.syncExcluded} is not a hash: no excluded scene shown`);
    return { count: 0, scenes: [] };
  }
  const scenes: ExcludedScene[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) scenes.push({ sceneId: flat[i], ...parseExclusion(flat[i + 1]) });
  scenes.sort((a, b) => b.at - a.at || Number(a.sceneId) - Number(b.sceneId));
  return { count, scenes: scenes.slice(0, max) };
}
