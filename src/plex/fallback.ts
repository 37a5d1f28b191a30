// The last resort of a resolution (docs/MATCHING.md): one paged pass over sections for the exact path
// and, with MATCH_FALLBACK=basename, the parts of the same base name (any case) and size; the guard that
// leaves out a moved file's own item at its old place; a fallback match accepted (cached with the Plex
// file it stands for, and the PATH_MAP that would have found it suggested).
import type { Logger } from '../core/log.js';
import type { RedisConnection } from '../core/redis.js';
import { holds, type PlexListing } from './listing.js';
import type { PlexLocations } from './locations.js';
import type { PlexPathCache } from './path-cache.js';
import { recordPathHint } from './path-hints.js';
import { baseName, suggestPathMap, type PlexSection } from './paths.js';
import type { PlexMetadata } from './schemas.js';

/** A Plex file found by the base-name fallback. */
export interface SameFile {
  item: PlexMetadata;
  file: string;
}

export interface FallbackDeps {
  listing: PlexListing;
  locations: PlexLocations;
  cache: PlexPathCache;
  /** With redis, PATH_MAP suggestions are kept in `hintsKey` (keys(prefix).plexPathHints). */
  redis: RedisConnection | undefined;
  hintsKey: string;
  log?: Pick<Logger, 'warn'>;
}

export class BaseNameFallback {
  constructor(private readonly deps: FallbackDeps) {}

  /** One paged pass over `sections`: items holding the target, and parts with its base name and `size` (when given). */
  async scanFor(
    sections: readonly PlexSection[],
    target: string,
    size: number | null,
  ): Promise<{ exact: PlexMetadata[]; sameFile: SameFile[] }> {
    const name = baseName(target).toLowerCase();
    const exact: PlexMetadata[] = [];
    const sameFile: SameFile[] = [];
    for (const section of sections) {
      for await (const items of this.deps.listing.pages(section.key, {})) {
        for (const listed of items) {
          // Listed items may lack librarySectionID (the container carries it): the edit call needs it.
          const item = { ...listed, librarySectionID: listed.librarySectionID ?? section.key };
          if (holds(item, target)) exact.push(item);
          else if (size !== null) {
            for (const p of item.Media.flatMap((m) => m.Part)) {
              if (p.file && p.size === size && baseName(p.file).toLowerCase() === name) sameFile.push({ item, file: p.file });
            }
          }
        }
      }
    }
    return { exact, sameFile };
  }

  /**
   * The base-name matches less the one a moved file left behind: the item the scene last synced to
   * (ResolveOptions.lastSyncedTo) holding the file at a path where a sync found a Stash file exactly
   * (the path cache holds that very path). That is the scene's own file at its old place, not a copy
   * under another path (docs/MATCHING.md). The cache is advisory: without Redis, or when it fails, none is
   * left out.
   */
  async notLeftBehind(found: SameFile[], lastSyncedTo: string | undefined): Promise<SameFile[]> {
    const suspects = found.filter((f) => f.item.ratingKey === lastSyncedTo);
    if (suspects.length === 0) return found;
    const synced = await this.deps.cache.syncedPaths(suspects.map((f) => f.file));
    const left = new Set(suspects.filter((_, i) => synced[i]));
    return found.filter((f) => !left.has(f));
  }

  /** The fallback's match: cached with the Plex file it stands for, and the PATH_MAP that would have found it suggested. */
  async accept(found: SameFile, stashPath: string, target: string): Promise<void> {
    const { redis, hintsKey, log } = this.deps;
    await this.deps.cache.set(target, found.item.ratingKey, found.file);
    const location = (await this.deps.locations.sectionOf(found.file))?.location;
    const pair = suggestPathMap(stashPath, found.file, location);
    if (pair && redis) await recordPathHint(redis, hintsKey, { pair, stashPath, plexPath: found.file, at: Date.now() }, log);
  }
}
