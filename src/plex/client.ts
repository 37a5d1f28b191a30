// The Plex client: a facade composing the parts of src/plex (one idea each), so a process builds one
// object and its callers name only what they use (their ports). No logic lives here: each method is one
// part's. The transport (transport.ts) scrubs the token from every error, so errors may be logged and
// stored in failedReason as they are.
import { DEFAULT_PLEX_MAX_URL_BYTES, type PathMapping } from '../core/config.js';
import type { SyncError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { keys, type RedisConnection } from '../core/redis.js';
import type { PlexEdit, PlexItem, PlexPoster } from '../model/types.js';
import { BadItemLog } from './bad-items.js';
import { PlexEditor } from './editor.js';
import { BaseNameFallback } from './fallback.js';
import { PlexItems } from './items.js';
import { PlexListing, type PlexFile } from './listing.js';
import { PlexLocations } from './locations.js';
import { PlexPathCache } from './path-cache.js';
import type { PlexSection } from './paths.js';
import { PlexCollections, type PlexCollection } from './collections.js';
import { PlexPosters } from './posters.js';
import { PlexResolver, type ResolvedItem, type ResolveOptions } from './resolver.js';
import { PlexServer, type PlexIdentity } from './server.js';
import { PlexTransport } from './transport.js';
import type { RequestLimiter } from '../resilience/limiter.js';

export { ITEMS_PER_REQUEST } from './items.js';
export type { PlexCollection } from './collections.js';
export type { PlexFile } from './listing.js';
export type { PlexSection } from './paths.js';
export type { ItemReader, MatchVia, ResolvedItem, ResolveOptions } from './resolver.js';
export type { PlexIdentity } from './server.js';

export interface PlexClientOptions {
  url: string;
  token: string;
  /** Library section titles to search (null/empty: all movie-type sections). */
  libraries?: string[] | null;
  pathMap?: PathMapping[];
  /** MATCH_FALLBACK: after the exact path, the one file with the same base name and size (default 'basename'). */
  matchFallback?: 'basename' | 'none';
  /** Per-request timeout (default 15 s). */
  timeoutMs?: number;
  /** With redis, the path → ratingKey cache lives in `keys(prefix).plexPathCache`. */
  redis?: RedisConnection;
  prefix?: string;
  /**
   * X-Plex-Client-Identifier: Plex lists each one as a device, so every process passes the one shared id
   * (sharedPlexClientId). null sends none: only for an unauthenticated /identity probe when it is unknown.
   */
  clientIdentifier: string | null;
  /** Items per listing page (default and maximum LIST_PAGE_SIZE). */
  listPageSize?: number;
  /** How long the section list is kept in memory (default 60 s). */
  sectionsTtlMs?: number;
  /** Largest answer read (PLEX_MAX_RESPONSE_BYTES, default 64 MiB); a larger one is aborted. */
  maxResponseBytes?: number;
  /** Longest URL of a batched read or an edit request (PLEX_MAX_URL_BYTES, default 8 KiB). */
  maxUrlBytes?: number;
  /** Where an aborted oversized answer and a new PATH_MAP suggestion are reported. */
  log?: Pick<Logger, 'warn'>;
  /** The worker process's adaptive limit toward Plex, applied to every request (src/resilience/limiter.ts). */
  limiter?: RequestLimiter;
  /**
   * Resolution reads the path cache but writes nothing to Redis (no cache entry kept or dropped, no
   * PATH_MAP suggestion): `npm run explain`. The client must then not be asked to edit.
   */
  readOnly?: boolean;
}

export class PlexClient {
  readonly matchFallback: 'basename' | 'none';
  private readonly server: PlexServer;
  private readonly items: PlexItems;
  private readonly listing: PlexListing;
  private readonly locations: PlexLocations;
  private readonly cache: PlexPathCache;
  private readonly resolver: PlexResolver;
  private readonly editor: PlexEditor;
  private readonly poster: PlexPosters;
  private readonly collectionItems: PlexCollections;

  constructor(opts: PlexClientOptions) {
    const { log, redis } = opts;
    const k = keys(opts.prefix ?? 's2p');
    const libraries = opts.libraries?.length ? opts.libraries : null;
    const maxUrlBytes = opts.maxUrlBytes ?? DEFAULT_PLEX_MAX_URL_BYTES;
    this.matchFallback = opts.matchFallback ?? 'basename';
    const http = new PlexTransport(opts);
    const badItems = new BadItemLog(log, (text) => http.scrubText(text));
    this.server = new PlexServer(http, opts.sectionsTtlMs);
    this.items = new PlexItems(http, badItems, maxUrlBytes);
    this.listing = new PlexListing(http, this.server, badItems, { libraries, pageSize: opts.listPageSize, log });
    this.locations = new PlexLocations(this.server, opts.pathMap ?? [], libraries);
    this.cache = new PlexPathCache(redis, k, opts.readOnly === true);
    const fallback = new BaseNameFallback({
      listing: this.listing,
      locations: this.locations,
      cache: this.cache,
      redis: opts.readOnly ? undefined : redis,
      hintsKey: k.plexPathHints,
      log,
    });
    this.resolver = new PlexResolver({
      http,
      locations: this.locations,
      listing: this.listing,
      items: this.items,
      cache: this.cache,
      fallback,
      matchFallback: this.matchFallback,
    });
    this.editor = new PlexEditor(http, maxUrlBytes, log);
    this.poster = new PlexPosters(http, this.editor);
    this.collectionItems = new PlexCollections(http);
  }

  // ---- server.ts ---------------------------------------------------------------------------------

  /** PATH_MAP as changed in Stash's plugin settings: the next lookup maps with it. */
  setPathMap(pathMap: PathMapping[]): void {
    this.locations.setPathMap(pathMap);
  }

  identity(timeoutMs?: number): Promise<PlexIdentity> {
    return this.server.identity(timeoutMs);
  }

  checkToken(): Promise<void> {
    return this.server.checkToken();
  }

  sections(force = false): Promise<PlexSection[]> {
    return this.server.sections(force);
  }

  refreshFolder(sectionKey: string, folder: string): Promise<void> {
    return this.server.refreshFolder(sectionKey, folder);
  }

  // ---- items.ts ----------------------------------------------------------------------------------

  getItem(ratingKey: string, sectionKey = ''): Promise<PlexItem> {
    return this.items.getItem(ratingKey, sectionKey);
  }

  get itemBatchBudget(): number {
    return this.items.batchBudget;
  }

  readItems(ratingKeys: readonly string[]): Promise<Map<string, PlexItem | SyncError>> {
    return this.items.readItems(ratingKeys);
  }

  getItems(ratingKeys: readonly string[]): Promise<Map<string, PlexItem>> {
    return this.items.getItems(ratingKeys);
  }

  // ---- listing.ts, locations.ts ------------------------------------------------------------------

  libraryFiles(): AsyncGenerator<PlexFile[]> {
    return this.listing.libraryFiles();
  }

  plexPathOf(stashPath: string): string {
    return this.locations.plexPathOf(stashPath);
  }

  covers(stashPath: string): Promise<boolean> {
    return this.locations.covers(stashPath);
  }

  scanTarget(stashPath: string): Promise<{ sectionKey: string; folder: string } | null> {
    return this.locations.scanTarget(stashPath);
  }

  // ---- path-cache.ts -----------------------------------------------------------------------------

  cachedMatches(stashPaths: readonly string[]): Promise<({ ratingKey: string; file: string } | null)[]> {
    return this.resolver.cachedMatches(stashPaths);
  }

  syncedPaths(plexFiles: readonly string[]): Promise<boolean[]> {
    return this.cache.syncedPaths(plexFiles);
  }

  // ---- resolver.ts -------------------------------------------------------------------------------

  resolveItem(stashPath: string, size: number | null = null, opts: ResolveOptions = {}): Promise<ResolvedItem> {
    return this.resolver.resolveItem(stashPath, size, opts);
  }

  confirmGone(ratingKey: string, plexFile: string): Promise<boolean> {
    return this.resolver.confirmGone(ratingKey, plexFile);
  }

  // ---- collections.ts ----------------------------------------------------------------------------

  findCollection(sectionKey: string, title: string): Promise<PlexCollection | null> {
    return this.collectionItems.findCollection(sectionKey, title);
  }

  collection(ratingKey: string): Promise<PlexCollection> {
    return this.collectionItems.collection(ratingKey);
  }

  editCollection(
    sectionKey: string,
    ratingKey: string,
    fields: { title?: string; summary?: string },
    unlock?: readonly string[],
  ): Promise<void> {
    return this.collectionItems.editCollection(sectionKey, ratingKey, fields, unlock);
  }

  uploadCollectionPoster(sectionKey: string, ratingKey: string, bytes: Uint8Array, contentType: string): Promise<void> {
    return this.collectionItems.uploadCollectionPoster(sectionKey, ratingKey, bytes, contentType);
  }

  deleteCollection(ratingKey: string): Promise<void> {
    return this.collectionItems.deleteCollection(ratingKey);
  }

  // ---- editor.ts, posters.ts ---------------------------------------------------------------------

  applyEdit(sectionKey: string, ratingKey: string, edit: PlexEdit): Promise<number> {
    return this.editor.applyEdit(sectionKey, ratingKey, edit);
  }

  editBudget(sectionKey: string, ratingKey: string): number {
    return this.editor.editBudget(sectionKey, ratingKey);
  }

  /** Uploads bytes as the item's poster, locked (`thumb.locked=1`). */
  uploadPoster(sectionKey: string, ratingKey: string, bytes: Uint8Array, contentType: string): Promise<void> {
    return this.poster.uploadArtwork('poster', sectionKey, ratingKey, bytes, contentType);
  }

  /** Uploads bytes as the item's background, locked (`art.locked=1`). */
  uploadArt(sectionKey: string, ratingKey: string, bytes: Uint8Array, contentType: string): Promise<void> {
    return this.poster.uploadArtwork('art', sectionKey, ratingKey, bytes, contentType);
  }

  posters(ratingKey: string): Promise<PlexPoster[]> {
    return this.poster.artwork('poster', ratingKey);
  }

  arts(ratingKey: string): Promise<PlexPoster[]> {
    return this.poster.artwork('art', ratingKey);
  }

  selectPoster(ratingKey: string, posterKey: string): Promise<void> {
    return this.poster.selectArtwork('poster', ratingKey, posterKey);
  }

  selectArt(ratingKey: string, artKey: string): Promise<void> {
    return this.poster.selectArtwork('art', ratingKey, artKey);
  }
}
