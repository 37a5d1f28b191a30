// The path cache (`plex:path`): Plex path → the item a sync found holding it. Its one reader and writer:
// the resolver, and Reconcile Library's look-ups (cachedMatches, syncedPaths), go through it. Advisory:
// an entry is verified on use, and without Redis, or while Redis fails, it answers nothing and keeps
// nothing (a search costs more; nothing is lost).
import type { Keys, RedisConnection } from '../core/redis.js';
import { normalisePlexPath } from './paths.js';

/** How a file was matched to an item: its exact path, or the base-name-and-size fallback. */
export type MatchVia = 'path' | 'fallback';

/** A path cache entry: the item, the Plex file it stands for, how it was matched, when a fallback match was cached. */
export interface CacheEntry {
  ratingKey: string;
  file: string;
  via: MatchVia;
  cachedAt: number;
}

/**
 * A stored entry read: `ratingKey` (the exact path), or `ratingKey<TAB>plexFile<TAB>cachedAtMs` when the
 * base-name fallback found the file under another path (older entries lack the time: read as 0).
 */
export function parseCacheEntry(entry: string, target: string): CacheEntry {
  const [ratingKey = '', file, cachedAt] = entry.split('\t');
  return file === undefined
    ? { ratingKey, file: target, via: 'path', cachedAt: 0 }
    : { ratingKey, file, via: 'fallback', cachedAt: Number(cachedAt) || 0 };
}

/** A stored entry written: a fallback match with the Plex file it stands for and when, so a later folder scan can send it back to a search. */
export function cacheValue(ratingKey: string, plexFile: string | undefined, now: number): string {
  return plexFile ? `${ratingKey}\t${plexFile}\t${now}` : ratingKey;
}

export class PlexPathCache {
  private readonly key: string;
  private readonly lastScanKey: string;

  constructor(
    private readonly redis: RedisConnection | undefined,
    redisKeys: Pick<Keys, 'plexPathCache' | 'plexLastScan'>,
    /** Reads only: set and drop do nothing (`npm run explain` resolves without changing anything). */
    private readonly readOnly = false,
  ) {
    this.key = redisKeys.plexPathCache;
    this.lastScanKey = redisKeys.plexLastScan;
  }

  /** The entry for a Plex path, or null (none, no Redis, or Redis failing). */
  async entry(target: string): Promise<CacheEntry | null> {
    const entry = await this.redis?.hget(this.key, target).catch(() => null);
    return entry ? parseCacheEntry(entry, target) : null;
  }

  /** Remembers the item holding a Plex path; `plexFile` when the fallback found it under another path. */
  async set(target: string, ratingKey: string, plexFile?: string): Promise<void> {
    if (this.readOnly) return;
    await this.redis?.hset(this.key, target, cacheValue(ratingKey, plexFile, Date.now())).catch(() => undefined);
  }

  /** Forgets a Plex path's entry (proven stale). */
  async drop(target: string): Promise<void> {
    if (this.readOnly) return;
    await this.redis?.hdel(this.key, target).catch(() => undefined);
  }

  /** When the latest folder scan was asked for (`plex:last-scan`, scan-missing.ts): fallback entries cached before it are checked again. */
  async lastScanAt(): Promise<number> {
    return Number((await this.redis?.get(this.lastScanKey).catch(() => null)) ?? 0);
  }

  /**
   * The entries for these Plex paths, in one HMGET: the ratingKey and the Plex file it stood for
   * (normalised; unverified: the caller checks the item still holds it). Null where there is none.
   */
  async matches(targets: readonly string[]): Promise<({ ratingKey: string; file: string } | null)[]> {
    if (!this.redis || targets.length === 0) return targets.map(() => null);
    const entries = await this.redis.hmget(this.key, ...targets).catch(() => targets.map(() => null));
    return entries.map((entry, i) => {
      if (!entry) return null;
      const { ratingKey, file } = parseCacheEntry(entry, targets[i]);
      return { ratingKey, file: normalisePlexPath(file) };
    });
  }

  /**
   * For each Plex file, whether a sync found a Stash file at exactly that path (the cache holds it as an
   * exact match, keyed by that very path). One HMGET; all false without Redis or when it fails.
   */
  async syncedPaths(plexFiles: readonly string[]): Promise<boolean[]> {
    if (!this.redis || plexFiles.length === 0) return plexFiles.map(() => false);
    const targets = plexFiles.map((f) => normalisePlexPath(f));
    const entries = await this.redis.hmget(this.key, ...targets).catch(() => targets.map(() => null));
    return entries.map((e, i) => e !== null && e !== '' && parseCacheEntry(e, targets[i]).via === 'path');
  }
}
