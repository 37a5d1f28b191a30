// Plex HTTP client (fetch, no SDK): identity, sections, item resolution by file path, reads and edits.
// Every failure leaves as a SyncError made by classify(); the token travels only in a header and is
// scrubbed from every message, so errors may be logged and stored in failedReason as they are.
import type { PathMapping } from '../core/config.js';
import { classify, SyncError } from '../core/errors.js';
import { discardBody, readBoundedText, ResponseTooLarge } from '../core/bounded-body.js';
import { redact, type Logger } from '../core/log.js';
import { keys, ownershipKey, type RedisConnection } from '../core/redis.js';
import type { PlexEdit, PlexItem, PlexPoster } from '../model/types.js';
import { encodeEdit, itemFromMetadata, parseItem } from './edits.js';
import { recordPathHint } from './path-hints.js';
import {
  allowedSections,
  baseName,
  folderOf,
  inLocationStyle,
  mapPath,
  normalisePlexPath,
  pickSection,
  suggestPathMap,
  titleGuess,
  type PlexSection,
  type SectionMatch,
} from './paths.js';
import { parseIdentity, parseMetadataList, parsePosters, parseSections, PlexResponseError, type PlexMetadata } from './schemas.js';

export const PLEX_PRODUCT = 'stash2plex';
export const PLEX_CLIENT_VERSION = '0.1.0';
export const DEFAULT_TIMEOUT_MS = 15_000;
export const SECTIONS_TTL_MS = 60_000;
/** Default of PLEX_MAX_RESPONSE_BYTES: far above any page of a listing. */
export const PLEX_DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024 * 1024;
/** `/identity` is a few hundred bytes; the probe reads no more than this, whatever the setting. */
export const IDENTITY_MAX_BYTES = 64 * 1024;
/**
 * Page size of every listing (the `file=` and `title=` searches and the scan alike): a server may ignore
 * a filter and answer a whole section, so no listing is ever unbounded. Plex pages up to 1000 well.
 */
export const LIST_PAGE_SIZE = 1_000;
/** Keys of one `GET /library/metadata/{k1},{k2},…` (python-plexapi's X_PLEX_CONTAINER_SIZE, the page it asks for). */
export const ITEMS_PER_REQUEST = 100;
/** Safety stop of one paged listing (1000 × 5000 = five million items). */
const MAX_LIST_PAGES = 5_000;
const LIBRARY_IDENTIFIER = 'com.plexapp.plugins.library';
/** Longest URL of one `GET /library/metadata/{k1},{k2},…`: well under what proxies and Plex's web server take. */
export const ITEM_BATCH_MAX_URL = 8 * 1024;

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
  /** Where an aborted oversized answer and a new PATH_MAP suggestion are reported. */
  log?: Pick<Logger, 'warn'>;
}

/** A Plex file found by the base-name fallback. */
interface SameFile {
  item: PlexMetadata;
  file: string;
}

export type { PlexSection } from './paths.js';

export interface PlexIdentity {
  machineIdentifier: string;
  version: string;
  latencyMs: number;
}

/** One file of a Plex item, as a listing shows it (`file` normalised: '/' separators). */
export interface PlexFile {
  ratingKey: string;
  file: string;
  /** Part.size in bytes; null when Plex does not say. */
  size: number | null;
}

export interface ResolvedItem {
  ratingKey: string;
  sectionKey: string;
  /** The item as read to verify a cached ratingKey (fresh: the caller need not read it again). */
  item?: PlexItem;
}

/** How an item is read (one request per item, or coalesced: src/core/batcher.ts). */
export type ItemReader = (ratingKey: string, sectionKey: string) => Promise<PlexItem>;

interface RequestOptions {
  query?: URLSearchParams;
  headers?: Record<string, string>;
  body?: Uint8Array<ArrayBuffer>;
  timeoutMs?: number;
  /** false for /identity, which needs no token (it proves the server is up, not the token). */
  auth?: boolean;
  /** Largest body read (default: the client's maxResponseBytes). */
  maxBytes?: number;
}

/** "GET /library/sections/1/all" — the description of a request used in every error message. */
const label = (method: string, path: string) => `${method} ${path}`;

export class PlexClient {
  private readonly base: string;
  private readonly token: string;
  private readonly libraries: string[] | null;
  private readonly pathMap: PathMapping[];
  readonly matchFallback: 'basename' | 'none';
  private readonly hintsKey: string;
  private readonly timeoutMs: number;
  private readonly redis: RedisConnection | undefined;
  private readonly cacheKey: string;
  private readonly ownKey: (ratingKey: string) => string;
  private readonly clientIdentifier: string | null;
  private readonly listPageSize: number;
  private readonly sectionsTtlMs: number;
  private readonly maxResponseBytes: number;
  private readonly log: Pick<Logger, 'warn'> | undefined;
  private sectionsCache: { at: number; value: Promise<PlexSection[]> } | null = null;

  constructor(opts: PlexClientOptions) {
    this.base = opts.url.replace(/\/+$/, '');
    this.token = opts.token;
    this.libraries = opts.libraries?.length ? opts.libraries : null;
    this.pathMap = opts.pathMap ?? [];
    this.matchFallback = opts.matchFallback ?? 'basename';
    const k = keys(opts.prefix ?? 's2p');
    this.hintsKey = k.plexPathHints;
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.redis = opts.redis;
    this.cacheKey = k.plexPathCache;
    this.ownKey = (ratingKey) => ownershipKey(k, ratingKey);
    this.clientIdentifier = opts.clientIdentifier;
    this.listPageSize = Math.min(Math.max(1, opts.listPageSize ?? LIST_PAGE_SIZE), LIST_PAGE_SIZE);
    this.sectionsTtlMs = opts.sectionsTtlMs ?? SECTIONS_TTL_MS;
    this.maxResponseBytes = opts.maxResponseBytes ?? PLEX_DEFAULT_MAX_RESPONSE_BYTES;
    this.log = opts.log;
  }

  // ---- transport --------------------------------------------------------------------------------

  /** A SyncError whose message is guaranteed free of the token (defence in depth over classify). */
  private scrub(err: SyncError): SyncError {
    const message = redact(err.message, [this.token]);
    return message === err.message ? err : new SyncError(err.type, message, err.status);
  }

  private fail(failure: { status: number } | { error: unknown }, what: string): SyncError {
    return this.scrub(classify('plex', failure, what));
  }

  /** One HTTP request; any non-2xx status or network failure (incl. timeout) throws a SyncError. */
  private async request(method: string, path: string, opts: RequestOptions = {}): Promise<Response> {
    const what = label(method, path);
    const qs = opts.query?.toString();
    const headers: Record<string, string> = {
      Accept: 'application/json',
      'X-Plex-Product': PLEX_PRODUCT,
      'X-Plex-Version': PLEX_CLIENT_VERSION,
      ...opts.headers,
    };
    if (this.clientIdentifier !== null) headers['X-Plex-Client-Identifier'] = this.clientIdentifier;
    if (opts.auth !== false) headers['X-Plex-Token'] = this.token;
    let res: Response;
    try {
      res = await fetch(`${this.base}${path}${qs ? `?${qs}` : ''}`, {
        method,
        headers,
        body: opts.body,
        signal: AbortSignal.timeout(opts.timeoutMs ?? this.timeoutMs),
      });
    } catch (error) {
      throw this.fail({ error }, what);
    }
    if (!res.ok) {
      await discardBody(res);
      throw this.fail({ status: res.status }, what);
    }
    return res;
  }

  /**
   * The body as text, bounded: the read shares the request's timeout (the signal covers it), and an
   * answer over the limit is aborted and is an unreadable answer (PlexTemporaryError), never a crash.
   */
  private async body(method: string, path: string, res: Response, maxBytes = this.maxResponseBytes): Promise<string> {
    try {
      return await readBoundedText(res, maxBytes);
    } catch (error) {
      if (!(error instanceof ResponseTooLarge)) throw this.fail({ error }, label(method, path));
      this.log?.warn({ request: label(method, path), bytes: error.bytes, limit: error.limit }, 'Plex answer too large: aborted');
      throw this.unreadable(method, path, error.message);
    }
  }

  /** Request + JSON body. */
  private async json(method: string, path: string, opts: RequestOptions = {}): Promise<{ json: unknown; res: Response }> {
    const res = await this.request(method, path, opts);
    const text = await this.body(method, path, res, opts.maxBytes);
    try {
      return { json: JSON.parse(text), res };
    } catch {
      throw this.unreadable(method, path, 'body is not JSON');
    }
  }

  /** Request whose answer carries nothing we need; the body is read so the connection can be reused. */
  private async send(method: string, path: string, opts: RequestOptions = {}): Promise<void> {
    const res = await this.request(method, path, opts);
    await this.body(method, path, res, opts.maxBytes);
  }

  /**
   * A 2xx answer we cannot read (an HTML proxy page, a truncated body): not a status classify() knows,
   * and not a network failure. Treated like a bad gateway: a temporary server-side problem.
   */
  private unreadable(method: string, path: string, why: string): SyncError {
    return this.scrub(new SyncError('PlexTemporaryError', `${label(method, path)} → unreadable response (${why})`));
  }

  /** Parses with a pure parser, turning a shape problem into a SyncError for this request. */
  private parsed<T>(method: string, path: string, parse: () => T): T {
    try {
      return parse();
    } catch (err) {
      if (err instanceof PlexResponseError && err.kind === 'missing') throw this.fail({ status: 404 }, label(method, path));
      throw this.unreadable(method, path, err instanceof Error ? err.message : String(err));
    }
  }

  // ---- server ----------------------------------------------------------------------------------

  /** GET /identity (no token): proves the server answers. Its own timeout, e.g. HEALTH_TIMEOUT_MS. */
  async identity(timeoutMs?: number): Promise<PlexIdentity> {
    const started = performance.now();
    const { json } = await this.json('GET', '/identity', { auth: false, timeoutMs, maxBytes: IDENTITY_MAX_BYTES });
    const latencyMs = Math.round(performance.now() - started);
    return { ...this.parsed('GET', '/identity', () => parseIdentity(json)), latencyMs };
  }

  /** GET /library/sections with the token: throws PlexAuthError when Plex rejects it. */
  async checkToken(): Promise<void> {
    const sections = await this.fetchSections();
    this.sectionsCache = { at: Date.now(), value: Promise.resolve(sections) };
  }

  private async fetchSections(): Promise<PlexSection[]> {
    const { json } = await this.json('GET', '/library/sections');
    return this.parsed('GET', '/library/sections', () => parseSections(json));
  }

  /** The library sections, kept in memory for ~60 s (concurrent callers share one request). */
  async sections(force = false): Promise<PlexSection[]> {
    const c = this.sectionsCache;
    if (!force && c && Date.now() - c.at < this.sectionsTtlMs) return c.value;
    const value = this.fetchSections();
    const entry = { at: Date.now(), value };
    this.sectionsCache = entry;
    // A failed fetch is not cached: the next call tries again.
    value.catch(() => {
      if (this.sectionsCache === entry) this.sectionsCache = null;
    });
    return value;
  }

  // ---- items -----------------------------------------------------------------------------------

  /** GET /library/metadata/{ratingKey}: the full item (tags, summary, locks, files). */
  async getItem(ratingKey: string, sectionKey = ''): Promise<PlexItem> {
    const path = `/library/metadata/${encodeURIComponent(ratingKey)}`;
    const { json } = await this.json('GET', path);
    return this.parsed('GET', path, () => parseItem(json, sectionKey));
  }

  /** The URL budget of a batched read's keys (ITEM_BATCH_MAX_URL less the rest of the URL), and each key's cost. */
  get itemBatchBudget(): number {
    return ITEM_BATCH_MAX_URL - `${this.base}/library/metadata/`.length;
  }

  static itemKeyCost(ratingKey: string): number {
    return encodeURIComponent(ratingKey).length + 1; // the comma
  }

  /**
   * One `GET /library/metadata/{k1},{k2},…`: each item, or per key the error of its read. Plex leaves a
   * missing key out of its answer (PlexNotFound for that key alone) and answers 404 when none exists; a
   * failure of the request is every key's, named per key. The caller keeps within ITEMS_PER_REQUEST
   * and itemBatchBudget.
   */
  async readItems(ratingKeys: readonly string[]): Promise<Map<string, PlexItem | SyncError>> {
    const path = `/library/metadata/${ratingKeys.map((k) => encodeURIComponent(k)).join(',')}`;
    const each = (key: string) => `/library/metadata/${encodeURIComponent(key)}${ratingKeys.length > 1 ? ` (read with ${ratingKeys.length - 1} more)` : ''}`;
    const perKey = (err: SyncError) =>
      new Map(ratingKeys.map((k) => [k, this.scrub(new SyncError(err.type, err.message.replace(path, each(k)), err.status))]));
    let items: PlexMetadata[];
    try {
      const { json } = await this.json('GET', path, { headers: { 'X-Plex-Container-Start': '0', 'X-Plex-Container-Size': String(ratingKeys.length) } });
      items = this.parsed('GET', path, () => parseMetadataList(json)).items;
    } catch (err) {
      if (err instanceof SyncError) return perKey(err);
      throw err;
    }
    const byKey = new Map(items.map((m) => [m.ratingKey, m]));
    return new Map(
      ratingKeys.map((k) => {
        const m = byKey.get(k);
        return [k, m ? itemFromMetadata(m) : this.scrub(new SyncError('PlexNotFound', `GET ${each(k)} → not in Plex's answer (no such item)`, 404))];
      }),
    );
  }

  /**
   * Several items in one request, `GET /library/metadata/{k1},{k2},…` (python-plexapi plexapi/base.py
   * `fetchItems` with a list of keys), ITEMS_PER_REQUEST keys a request. An item Plex does not have is
   * absent from the answer (and from the map); none of them at all is a 404, read as none.
   */
  async getItems(ratingKeys: readonly string[]): Promise<Map<string, PlexItem>> {
    const out = new Map<string, PlexItem>();
    const unique = [...new Set(ratingKeys)];
    for (let i = 0; i < unique.length; i += ITEMS_PER_REQUEST) {
      for (const [key, read] of await this.readItems(unique.slice(i, i + ITEMS_PER_REQUEST))) {
        if (!(read instanceof SyncError)) out.set(key, read);
        else if (read.type !== 'PlexNotFound') throw read;
      }
    }
    return out;
  }

  /** A Stash file's path as Plex would hold it: PATH_MAP applied, '/' separators (the path cache's key). */
  plexPathOf(stashPath: string): string {
    return normalisePlexPath(mapPath(stashPath, this.pathMap));
  }

  /**
   * The path cache's entries for these Stash files, in one HMGET: the ratingKey and the Plex file it
   * stood for (unverified: the caller checks the item still holds it). Null where there is none, and
   * everywhere without Redis or when Redis fails (the cache is advisory).
   */
  async cachedMatches(stashPaths: readonly string[]): Promise<({ ratingKey: string; file: string } | null)[]> {
    const targets = stashPaths.map((p) => this.plexPathOf(p));
    if (!this.redis || targets.length === 0) return targets.map(() => null);
    const entries = await this.redis.hmget(this.cacheKey, ...targets).catch(() => targets.map(() => null));
    return entries.map((entry, i) => {
      if (!entry) return null;
      const { ratingKey, file } = cacheEntry(entry, targets[i]!);
      return { ratingKey, file: normalisePlexPath(file) };
    });
  }

  /** Whether an allowed library's location holds the (mapped) file: a folder scan could then bring it in. Cached sections only. */
  async covers(stashPath: string): Promise<boolean> {
    return pickSection(await this.sections(), this.plexPathOf(stashPath), this.libraries) !== null;
  }

  /** Every file of the allowed libraries, a listing page (LIST_PAGE_SIZE items) at a time. */
  async *libraryFiles(): AsyncGenerator<PlexFile[]> {
    for (const section of allowedSections(await this.sections(), this.libraries)) {
      for await (const items of this.pages(section.key, {})) {
        yield items.flatMap((m) =>
          m.Media.flatMap((md) => md.Part).flatMap((p) => (p.file ? [{ ratingKey: m.ratingKey, file: normalisePlexPath(p.file), size: p.size ?? null }] : [])),
        );
      }
    }
  }

  /**
   * The Plex item holding a Stash file (docs/MATCHING.md): path mapped, section chosen by longest location
   * prefix, then the cached ratingKey (verified), the `file=` filter and the title filter, each followed by
   * an exact comparison of Part.file. When those find nothing, one paged pass over the allowed libraries
   * looks for the exact path and (MATCH_FALLBACK=basename, `size` known) for the one part with the same
   * base name, any case, and the same size. Throws PlexNotFound (none) or AmbiguousMatch (several).
   */
  async resolveItem(stashPath: string, size: number | null = null, read: ItemReader = (k, s) => this.getItem(k, s)): Promise<ResolvedItem> {
    const plexPath = mapPath(stashPath, this.pathMap);
    const target = normalisePlexPath(plexPath);
    const match = await this.sectionMatch(plexPath);
    const cached = await this.fromCache(target, match?.section.key ?? '', read);
    if (cached) return cached;
    if (match) {
      const sectionKey = match.section.key;
      // `file=` is undocumented and may be ignored (the whole section comes back): paged, matches only.
      const byFile = await this.search(sectionKey, target, { file: inLocationStyle(plexPath, match.location) });
      if (byFile.length > 0) return this.settle(byFile, target, sectionKey);
      const guess = titleGuess(plexPath);
      const byTitle = guess ? await this.search(sectionKey, target, { title: guess }) : [];
      if (byTitle.length > 0) return this.settle(byTitle, target, sectionKey);
    }
    const fallback = this.matchFallback === 'basename' && size !== null && Number.isFinite(size);
    if (!match && !fallback) throw this.noSection(stashPath, plexPath);
    // Last resort: every page (all of it, so a second holder is noticed), keeping matches only.
    const sections = match && !fallback ? [match.section] : allowedSections(await this.sections(), this.libraries);
    const found = await this.scanFor(sections, target, fallback ? size : null);
    if (found.exact.length > 0 || !fallback) return this.settle(found.exact, target, match?.section.key ?? '');
    if (found.sameFile.length === 1) return this.acceptSameFile(found.sameFile[0]!, stashPath, target);
    if (found.sameFile.length > 1) {
      const where = found.sameFile.map((f) => `${f.item.ratingKey} (${f.file})`).join(', ');
      throw this.scrub(new SyncError('AmbiguousMatch', `no item holds ${target}; several files named ${baseName(target)} of ${size} bytes: ${where}`));
    }
    if (!match) throw this.noSection(stashPath, plexPath, ` and no Plex file is named ${baseName(target)} with ${size} bytes`);
    throw this.notHeld(target, match.section.key);
  }

  private async sectionMatch(plexPath: string): Promise<SectionMatch | null> {
    // A library added in the last minute is not in the cached list yet: look once more, fresh.
    return pickSection(await this.sections(), plexPath, this.libraries) ?? pickSection(await this.sections(true), plexPath, this.libraries);
  }

  private noSection(stashPath: string, plexPath: string, more = ''): SyncError {
    const mapped = plexPath === normalisePlexPath(stashPath) ? '' : ` (mapped from ${stashPath})`;
    const scope = this.libraries ? `the libraries ${this.libraries.map((l) => `"${l}"`).join(', ')}` : 'any movie library';
    return this.scrub(new SyncError('PlexNotFound', `no location of ${scope} contains ${plexPath}${mapped}${more}; check PATH_MAP and PLEX_LIBRARIES`));
  }

  private notHeld(target: string, sectionKey: string): SyncError {
    return this.scrub(new SyncError('PlexNotFound', `no item in library section ${sectionKey} holds ${target} (not scanned yet?)`));
  }

  /** One paged pass over `sections`: items holding the target, and parts with its base name and `size` (when given). */
  private async scanFor(sections: readonly PlexSection[], target: string, size: number | null): Promise<{ exact: PlexMetadata[]; sameFile: SameFile[] }> {
    const name = baseName(target).toLowerCase();
    const exact: PlexMetadata[] = [];
    const sameFile: SameFile[] = [];
    for (const section of sections) {
      for await (const items of this.pages(section.key, {})) {
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

  /** The fallback's match: cached with the Plex file it stands for, and the PATH_MAP that would have found it suggested. */
  private async acceptSameFile(found: SameFile, stashPath: string, target: string): Promise<ResolvedItem> {
    const { ratingKey } = found.item;
    await this.cacheSet(target, ratingKey, found.file);
    const location = pickSection(await this.sections(), found.file, this.libraries)?.location;
    const pair = suggestPathMap(stashPath, found.file, location);
    if (pair && this.redis) await recordPathHint(this.redis, this.hintsKey, { pair, stashPath, plexPath: found.file, at: Date.now() }, this.log);
    return { ratingKey, sectionKey: found.item.librarySectionID ?? '' };
  }

  /**
   * Where a scan would find a Stash file Plex does not hold: the library whose location is the longest
   * prefix of the mapped path, and the folder in Plex's terms. Null when no allowed library covers it.
   */
  async scanTarget(stashPath: string): Promise<{ sectionKey: string; folder: string } | null> {
    const plexPath = mapPath(stashPath, this.pathMap);
    const match = await this.sectionMatch(plexPath);
    const folder = folderOf(plexPath);
    return match && folder ? { sectionKey: match.section.key, folder: inLocationStyle(folder, match.location) } : null;
  }

  /** GET /library/sections/{key}/refresh?path=<folder>: Plex scans that folder in the background (python-plexapi LibrarySection.update). */
  async refreshFolder(sectionKey: string, folder: string): Promise<void> {
    await this.send('GET', `/library/sections/${encodeURIComponent(sectionKey)}/refresh`, { query: new URLSearchParams({ path: folder }) });
  }

  /** Exactly one distinct item: cache and return it; several: AmbiguousMatch; none: PlexNotFound. */
  private async settle(found: PlexMetadata[], target: string, sectionKey: string): Promise<ResolvedItem> {
    const ratingKeys = [...new Set(found.map((m) => m.ratingKey))];
    if (ratingKeys.length > 1) {
      throw this.scrub(new SyncError('AmbiguousMatch', `items ${ratingKeys.join(', ')} of library section ${sectionKey} all hold ${target}`));
    }
    if (ratingKeys.length === 0) throw this.notHeld(target, sectionKey);
    const ratingKey = ratingKeys[0]!;
    await this.cacheSet(target, ratingKey);
    return { ratingKey, sectionKey: found[0]!.librarySectionID ?? sectionKey };
  }

  /** Items of one (filtered) listing whose Part.file is exactly the target: every page, keeping only those. */
  private async search(sectionKey: string, target: string, filter: Record<string, string> = {}): Promise<PlexMetadata[]> {
    const found: PlexMetadata[] = [];
    for await (const items of this.pages(sectionKey, filter)) found.push(...items.filter((m) => holds(m, target)));
    return found;
  }

  /**
   * The pages of `GET /library/sections/{key}/all?type=1&<filter>`, each bounded by
   * X-Plex-Container-Start/-Size, until the server's totalSize is reached (or a short or empty page, or
   * an over-long one: a server that ignored paging sent everything at once).
   */
  private async *pages(sectionKey: string, filter: Record<string, string>): AsyncGenerator<PlexMetadata[]> {
    const path = `/library/sections/${encodeURIComponent(sectionKey)}/all`;
    const size = this.listPageSize;
    for (let page = 0, start = 0; page < MAX_LIST_PAGES; page++, start += size) {
      const { json, res } = await this.json('GET', path, {
        query: new URLSearchParams({ type: '1', ...filter }),
        headers: { 'X-Plex-Container-Start': String(start), 'X-Plex-Container-Size': String(size) },
      });
      const { items, totalSize } = this.parsed('GET', path, () => parseMetadataList(json));
      yield items;
      const total = totalSize ?? numberHeader(res, 'X-Plex-Container-Total-Size');
      if (items.length !== size || (total !== null && start + items.length >= total)) return;
    }
  }

  // ---- path cache (advisory: a Redis problem only costs a search) --------------------------------

  /**
   * A cached entry is `ratingKey`, or `ratingKey<TAB>plexFile` when the base-name fallback found the
   * file under another path; either way the item must still hold that file.
   */
  private async fromCache(target: string, sectionKey: string, read: ItemReader): Promise<ResolvedItem | null> {
    if (!this.redis) return null;
    let entry: string | null;
    try {
      entry = await this.redis.hget(this.cacheKey, target);
    } catch {
      return null;
    }
    if (!entry) return null;
    const { ratingKey, file } = cacheEntry(entry, target);
    try {
      const item = await read(ratingKey, sectionKey);
      const held = normalisePlexPath(file);
      if (item.files.some((f) => normalisePlexPath(f) === held)) return { ratingKey, sectionKey: item.sectionKey || sectionKey, item };
    } catch (err) {
      // Deleted item (404): stale. Anything else (Plex down…) is the caller's problem.
      if (!(err instanceof SyncError && err.type === 'PlexNotFound')) throw err;
    }
    await this.redis.hdel(this.cacheKey, target).catch(() => undefined);
    // What stash2plex set on that item is no longer about this file: forget it (only fill from now on).
    await this.redis.del(this.ownKey(ratingKey)).catch(() => undefined);
    return null;
  }

  private async cacheSet(target: string, ratingKey: string, plexFile?: string): Promise<void> {
    await this.redis?.hset(this.cacheKey, target, plexFile ? `${ratingKey}\t${plexFile}` : ratingKey).catch(() => undefined);
  }

  // ---- edits -----------------------------------------------------------------------------------

  /**
   * Applies an edit: one PUT for scalars and tags (if any), one rating call (if userRating is defined;
   * null clears with -1). Sends nothing for an empty edit. Returns the number of requests sent.
   */
  async applyEdit(sectionKey: string, ratingKey: string, edit: PlexEdit): Promise<number> {
    let sent = 0;
    const params = encodeEdit(edit);
    if ([...params.keys()].length > 0) {
      await this.editItem(sectionKey, ratingKey, params);
      sent++;
    }
    if (edit.userRating !== undefined) {
      const rating = edit.userRating === null ? -1 : edit.userRating;
      const query = new URLSearchParams({ key: ratingKey, identifier: LIBRARY_IDENTIFIER, rating: String(rating) });
      await this.send('PUT', '/:/rate', { query });
      sent++;
    }
    return sent;
  }

  /** PUT /library/sections/{key}/all?type=1&id={ratingKey}&<params>. */
  private async editItem(sectionKey: string, ratingKey: string, params: URLSearchParams): Promise<void> {
    const query = new URLSearchParams({ type: '1', id: ratingKey });
    for (const [k, v] of params) query.append(k, v);
    await this.send('PUT', `/library/sections/${encodeURIComponent(sectionKey)}/all`, { query });
  }

  /** Uploads a poster from bytes, then locks it (`thumb.locked=1`) so an agent refresh keeps it. */
  async uploadPoster(sectionKey: string, ratingKey: string, bytes: Uint8Array, contentType: string): Promise<void> {
    await this.send('POST', `/library/metadata/${encodeURIComponent(ratingKey)}/posters`, {
      body: new Uint8Array(bytes), // a copy on its own ArrayBuffer: what fetch's BodyInit accepts
      headers: { 'Content-Type': contentType },
    });
    await this.editItem(sectionKey, ratingKey, new URLSearchParams({ 'thumb.locked': '1' }));
  }

  // ---- posters (what a restore needs) ------------------------------------------------------------

  /**
   * GET /library/metadata/{ratingKey}/posters: every poster Plex offers for the item, the selected one
   * marked (python-plexapi plexapi/mixins.py PosterMixin `posters()`).
   */
  async posters(ratingKey: string): Promise<PlexPoster[]> {
    const path = `/library/metadata/${encodeURIComponent(ratingKey)}/posters`;
    const { json } = await this.json('GET', path);
    return this.parsed('GET', path, () => parsePosters(json));
  }

  /**
   * PUT /library/metadata/{ratingKey}/poster?url=<the poster's ratingKey>: selects one of the item's
   * posters again (python-plexapi plexapi/media.py BaseResource `select()`, used by `setPoster`).
   */
  async selectPoster(ratingKey: string, posterKey: string): Promise<void> {
    await this.send('PUT', `/library/metadata/${encodeURIComponent(ratingKey)}/poster`, { query: new URLSearchParams({ url: posterKey }) });
  }
}

/** A path cache entry: `ratingKey`, or `ratingKey<TAB>plexFile` when the item holds the file under another path. */
function cacheEntry(entry: string, target: string): { ratingKey: string; file: string } {
  const [ratingKey = '', file = target] = entry.split('\t');
  return { ratingKey, file };
}

/** Whether an item has a part whose file is exactly the (normalised) target. */
function holds(m: PlexMetadata, target: string): boolean {
  return m.Media.some((md) => md.Part.some((p) => typeof p.file === 'string' && normalisePlexPath(p.file) === target));
}

function numberHeader(res: Response, name: string): number | null {
  const v = Number(res.headers.get(name));
  return res.headers.has(name) && Number.isFinite(v) ? v : null;
}
