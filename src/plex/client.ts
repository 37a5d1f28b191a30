// Plex HTTP client (fetch, no SDK): identity, sections, item resolution by file path, reads and edits.
// Every failure leaves as a SyncError made by classify(); the token travels only in a header and is
// scrubbed from every message, so errors may be logged and stored in failedReason as they are.
import { DEFAULT_PLEX_MAX_URL_BYTES, type PathMapping } from '../core/config.js';
import { classify, errorCode, SyncError } from '../core/errors.js';
import { discardBody, readBoundedText, ResponseTooLarge } from '../core/bounded-body.js';
import { redact, type Logger } from '../core/log.js';
import { keys, type RedisConnection } from '../core/redis.js';
import type { PlexEdit, PlexItem, PlexPoster } from '../model/types.js';
import { editUnits, planEdit, requestBytes, requestParams, type EditUnit } from './edit-split.js';
import { itemFromMetadata, parseItem } from './edits.js';
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
import {
  parseIdentity,
  parseListingPage,
  parseMetadataList,
  parsePosters,
  parseSections,
  PlexResponseError,
  type BadItem,
  type MetadataList,
  type PlexMetadata,
} from './schemas.js';

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
/**
 * Keys of one `GET /library/metadata/{k1},{k2},…`, stash2plex's own bound (with ITEM_BATCH_MAX_URL), each
 * request asking for all its keys' items as one page. python-plexapi (plexapi/base.py fetchItems) puts
 * every key into one URL, however many, and pages the answer by X_PLEX_CONTAINER_SIZE (100).
 */
export const ITEMS_PER_REQUEST = 100;
/** Safety stop of one paged listing (1000 × 5000 = five million items). */
const MAX_LIST_PAGES = 5_000;
const LIBRARY_IDENTIFIER = 'com.plexapp.plugins.library';
/** Keys read at once when a multi-key read must be read again key by key (after a 404 of the whole read). */
const SINGLE_READS_AT_ONCE = 4;
/** Malformed items remembered as already logged (each is logged once); past this many the memory starts over. */
const MAX_NOTED_BAD_ITEMS = 10_000;

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

/** How a file was matched to an item: its exact path, or the base-name-and-size fallback. */
export type MatchVia = 'path' | 'fallback';

export interface ResolvedItem {
  ratingKey: string;
  sectionKey: string;
  /** The item as read to verify a cached ratingKey (fresh: the caller need not read it again). */
  item?: PlexItem;
  /** How the file was found: its exact path, or the base-name-and-size fallback (docs/MATCHING.md). */
  via: MatchVia;
  /** Whether the path cache gave it (verified by reading the item). */
  cached: boolean;
}

/** How an item is read (one request per item, or coalesced: src/core/batcher.ts). */
export type ItemReader = (ratingKey: string, sectionKey: string) => Promise<PlexItem>;

export interface ResolveOptions {
  /** How to read an item while resolving (default: getItem). */
  read?: ItemReader;
  /**
   * Told of a cached ratingKey proven gone (its section answered a listing, and a second, single read
   * was still 404), with the item now holding the file, if one does. What to forget is the caller's
   * business (the ownership records belong to src/sync); one 404 alone never gets here.
   */
  onGone?: (ratingKey: string, replacedBy: string | null) => Promise<void>;
  /**
   * The item the scene last synced to (its hint). A base-name match onto it at a path where a sync found
   * a Stash file exactly is the scene's own file before Stash moved or renamed it, which Plex has not
   * scanned at its new place yet: not taken, so the file is not found and a folder scan can bring it in.
   */
  lastSyncedTo?: string;
}

/** A path cache entry (see cacheEntry): the item, the Plex file it stands for, when a fallback match was cached. */
interface CacheEntry {
  ratingKey: string;
  file: string;
  via: MatchVia;
  cachedAt: number;
}

/** What a cached entry turned out to be: the item, an item that moved on, a 404, or a fallback match to check again. */
type CacheVerdict = { kind: 'hit'; resolved: ResolvedItem } | { kind: 'moved' } | { kind: 'missing' } | { kind: 'recheck' };

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

/** How a connection closed under a request shows (undici's codes included): on a reused connection, not an outage yet. */
const STALE_CONNECTION_CODES = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET']);

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
  private readonly lastScanKey: string;
  private readonly clientIdentifier: string | null;
  private readonly listPageSize: number;
  private readonly sectionsTtlMs: number;
  private readonly maxResponseBytes: number;
  private readonly maxUrlBytes: number;
  private readonly log: Pick<Logger, 'warn'> | undefined;
  private sectionsCache: { at: number; value: Promise<PlexSection[]> } | null = null;
  /** Malformed items already logged (their ratingKey), so a listing read again does not log them again. */
  private readonly notedBadItems = new Set<string>();
  /**
   * Per section key, whether its listing takes `file=`: true once it answered one, false once it answered
   * 400 (not asked again in this process), or the first ask still under way (the others wait for it).
   */
  private readonly fileFilterTaken = new Map<string, boolean | Promise<unknown>>();

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
    this.lastScanKey = k.plexLastScan;
    this.clientIdentifier = opts.clientIdentifier;
    this.listPageSize = Math.min(Math.max(1, opts.listPageSize ?? LIST_PAGE_SIZE), LIST_PAGE_SIZE);
    this.sectionsTtlMs = opts.sectionsTtlMs ?? SECTIONS_TTL_MS;
    this.maxResponseBytes = opts.maxResponseBytes ?? PLEX_DEFAULT_MAX_RESPONSE_BYTES;
    this.maxUrlBytes = opts.maxUrlBytes ?? DEFAULT_PLEX_MAX_URL_BYTES;
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
    const send = () =>
      fetch(`${this.base}${path}${qs ? `?${qs}` : ''}`, { method, headers, body: opts.body, signal: AbortSignal.timeout(opts.timeoutMs ?? this.timeoutMs) });
    let res: Response;
    try {
      res = await send().catch((error: unknown) => {
        // A kept-alive connection the server closed just as it was reused: a GET is safe to send once more.
        if (method === 'GET' && STALE_CONNECTION_CODES.has(errorCode(error) ?? '')) return send();
        throw error;
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

  /**
   * One item of an answer that does not parse: not an outage (the server answered, and the rest of the
   * answer is read), and asking again gets the same item. Permanent, for that item's job alone.
   */
  private malformedItem(what: string, reason: string): SyncError {
    return this.scrub(new SyncError('PlexBadResponse', `${what} → malformed item (${reason})`));
  }

  /** Parses with a pure parser, turning a shape problem into a SyncError for this request. */
  private parsed<T>(method: string, path: string, parse: () => T): T {
    try {
      return parse();
    } catch (err) {
      if (err instanceof PlexResponseError && err.kind === 'missing') throw this.fail({ status: 404 }, label(method, path));
      if (err instanceof PlexResponseError && err.kind === 'malformed-item') throw this.malformedItem(label(method, path), err.message);
      throw this.unreadable(method, path, err instanceof Error ? err.message : String(err));
    }
  }

  /** Logs each malformed item left out of an answer, once per item (a listing is read again and again). */
  private noteBadItems(what: string, bad: readonly BadItem[]): void {
    for (const { ratingKey, reason } of bad) {
      const id = ratingKey ?? `? ${reason}`;
      if (this.notedBadItems.has(id)) continue;
      if (this.notedBadItems.size >= MAX_NOTED_BAD_ITEMS) this.notedBadItems.clear();
      this.notedBadItems.add(id);
      this.log?.warn({ request: redact(what, [this.token]), ratingKey, reason }, 'Plex answered a malformed item: left out');
    }
  }

  // ---- server ----------------------------------------------------------------------------------

  /**
   * A 404 for a path every Plex answers (`/identity`, `/library/sections`, the listing of a section Plex
   * still lists) is not about an item: a reverse proxy answers so while Plex restarts. It is an outage
   * (PlexTemporaryError), never a sign that something is gone.
   */
  private notFromPlex(err: unknown): unknown {
    if (!(err instanceof SyncError && err.type === 'PlexNotFound' && err.status === 404)) return err;
    return this.scrub(new SyncError('PlexTemporaryError', `${err.message} for a path Plex always has (a proxy answering while Plex is away?)`, 404));
  }

  /** GET /identity (no token): proves the server answers. Its own timeout, e.g. HEALTH_TIMEOUT_MS. */
  async identity(timeoutMs?: number): Promise<PlexIdentity> {
    const started = performance.now();
    const { json } = await this.json('GET', '/identity', { auth: false, timeoutMs, maxBytes: IDENTITY_MAX_BYTES }).catch((err: unknown) => {
      throw this.notFromPlex(err);
    });
    const latencyMs = Math.round(performance.now() - started);
    return { ...this.parsed('GET', '/identity', () => parseIdentity(json)), latencyMs };
  }

  /** GET /library/sections with the token: throws PlexAuthError when Plex rejects it. */
  async checkToken(): Promise<void> {
    const sections = await this.fetchSections();
    this.sectionsCache = { at: Date.now(), value: Promise.resolve(sections) };
  }

  private async fetchSections(): Promise<PlexSection[]> {
    const { json } = await this.json('GET', '/library/sections').catch((err: unknown) => {
      throw this.notFromPlex(err);
    });
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

  /** The URL budget of a batched read's keys (PLEX_MAX_URL_BYTES less the rest of the URL), and each key's cost. */
  get itemBatchBudget(): number {
    return this.maxUrlBytes - `${this.base}/library/metadata/`.length;
  }

  static itemKeyCost(ratingKey: string): number {
    return encodeURIComponent(ratingKey).length + 1; // the comma
  }

  /**
   * One `GET /library/metadata/{k1},{k2},…`: each item, or per key the error of its read. A key missing
   * from the answer is PlexNotFound for that key alone; an item with a bad field is PlexBadResponse for
   * that key alone. A 404 of the whole read (Plex may answer so when one key is gone: docs/REAL-SERVERS.md)
   * reads each key alone, so only a key that 404s alone is not found. Any other failure of the request is
   * every key's, named per key. The caller keeps within ITEMS_PER_REQUEST and itemBatchBudget.
   */
  async readItems(ratingKeys: readonly string[]): Promise<Map<string, PlexItem | SyncError>> {
    const path = `/library/metadata/${ratingKeys.map((k) => encodeURIComponent(k)).join(',')}`;
    const each = (key: string) => `/library/metadata/${encodeURIComponent(key)}${ratingKeys.length > 1 ? ` (read with ${ratingKeys.length - 1} more)` : ''}`;
    let list: MetadataList;
    try {
      const { json } = await this.json('GET', path, { headers: { 'X-Plex-Container-Start': '0', 'X-Plex-Container-Size': String(ratingKeys.length) } });
      list = this.parsed('GET', path, () => parseMetadataList(json));
    } catch (err) {
      if (!(err instanceof SyncError)) throw err;
      if (err.type === 'PlexNotFound' && ratingKeys.length > 1) return this.readEach(ratingKeys);
      return new Map(ratingKeys.map((k) => [k, this.scrub(new SyncError(err.type, err.message.replace(path, each(k)), err.status))]));
    }
    const byKey = new Map(list.items.map((m) => [m.ratingKey, m]));
    const badByKey = new Map(list.bad.flatMap((b) => (b.ratingKey !== null ? [[b.ratingKey, b.reason] as const] : [])));
    // A bad item without a readable ratingKey belongs to one of the keys not answered: alone, it is that
    // key's; among several, each of those keys is read alone to tell it from the ones really gone.
    const unplaced = list.bad.filter((b) => b.ratingKey === null || !ratingKeys.includes(b.ratingKey));
    const unanswered = ratingKeys.filter((k) => !byKey.has(k) && !badByKey.has(k));
    if (unplaced.length > 0 && unanswered.length === 1) badByKey.set(unanswered[0]!, unplaced[0]!.reason);
    const again = unplaced.length > 0 && unanswered.length > 1 ? await this.readEach(unanswered) : new Map<string, PlexItem | SyncError>();
    return new Map(
      ratingKeys.map((k) => {
        const m = byKey.get(k);
        if (m) return [k, itemFromMetadata(m)];
        const reason = badByKey.get(k);
        if (reason !== undefined) return [k, this.malformedItem(`GET ${each(k)}`, reason)];
        return [k, again.get(k) ?? this.scrub(new SyncError('PlexNotFound', `GET ${each(k)} → not in Plex's answer (no such item)`, 404))];
      }),
    );
  }

  /** Each key read alone (a few at a time), as one map. */
  private async readEach(ratingKeys: readonly string[]): Promise<Map<string, PlexItem | SyncError>> {
    const out = new Map<string, PlexItem | SyncError>();
    let next = 0;
    const reader = async () => {
      while (next < ratingKeys.length) {
        const key = ratingKeys[next++]!;
        out.set(key, (await this.readItems([key])).get(key)!);
      }
    };
    await Promise.all(Array.from({ length: Math.min(SINGLE_READS_AT_ONCE, ratingKeys.length) }, reader));
    return new Map(ratingKeys.map((k) => [k, out.get(k)!]));
  }

  /**
   * Several items in one request, `GET /library/metadata/{k1},{k2},…` (python-plexapi plexapi/base.py
   * `fetchItems` with a list of keys), ITEMS_PER_REQUEST keys a request. An item Plex does not have is
   * absent from the map; so is a malformed item (logged once with its key). Other failures throw.
   */
  async getItems(ratingKeys: readonly string[]): Promise<Map<string, PlexItem>> {
    const out = new Map<string, PlexItem>();
    const unique = [...new Set(ratingKeys)];
    for (let i = 0; i < unique.length; i += ITEMS_PER_REQUEST) {
      for (const [key, read] of await this.readItems(unique.slice(i, i + ITEMS_PER_REQUEST))) {
        if (!(read instanceof SyncError)) out.set(key, read);
        else if (read.type === 'PlexBadResponse') this.noteBadItems(`GET /library/metadata/${key}`, [{ ratingKey: key, reason: read.message }]);
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
   * A cached item that answers 404 is looked for afresh; it is reported gone (onGone) only once proven.
   */
  async resolveItem(stashPath: string, size: number | null = null, opts: ResolveOptions = {}): Promise<ResolvedItem> {
    const read = opts.read ?? ((k, s) => this.getItem(k, s));
    const plexPath = mapPath(stashPath, this.pathMap);
    const target = normalisePlexPath(plexPath);
    const match = await this.sectionMatch(plexPath);
    const cached = await this.cachedEntry(target);
    const verdict = cached ? await this.verifyCached(cached, target, match?.section.key ?? '', read) : null;
    if (verdict?.kind === 'hit') return verdict.resolved;
    const fresh = () => this.resolveFresh(stashPath, plexPath, size, match, opts.lastSyncedTo);
    return verdict?.kind === 'missing' ? this.resolveAfterMissing(cached!, target, fresh, opts) : fresh();
  }

  /**
   * The cached item answered 404: perhaps gone, perhaps a proxy's answer while Plex restarts. Nothing is
   * dropped on that alone: the file is looked for afresh, and the cached item is reported gone only when
   * a second read after a normal answer from its section still says 404.
   */
  private async resolveAfterMissing(cached: CacheEntry, target: string, fresh: () => Promise<ResolvedItem>, opts: ResolveOptions): Promise<ResolvedItem> {
    let found: ResolvedItem;
    try {
      found = await fresh();
    } catch (err) {
      if (err instanceof SyncError && err.type === 'PlexNotFound' && (await this.confirmGone(cached.ratingKey, cached.file))) {
        await this.redis?.hdel(this.cacheKey, target).catch(() => undefined);
        await opts.onGone?.(cached.ratingKey, null);
      }
      throw err;
    }
    if (found.ratingKey !== cached.ratingKey && (await this.confirmGone(cached.ratingKey, cached.file))) await opts.onGone?.(cached.ratingKey, found.ratingKey);
    return found;
  }

  /**
   * Whether an item is proven gone: the section holding `plexFile` answers a listing normally, and a
   * single read of the key, after it, is still 404. Any other answer (an error, the item) is no proof.
   */
  async confirmGone(ratingKey: string, plexFile: string): Promise<boolean> {
    try {
      const section = pickSection(await this.sections(), plexFile, this.libraries)?.section.key;
      if (section === undefined) return false;
      const path = `/library/sections/${encodeURIComponent(section)}/all`;
      const { json } = await this.json('GET', path, { query: new URLSearchParams({ type: '1' }), headers: { 'X-Plex-Container-Start': '0', 'X-Plex-Container-Size': '1' } });
      this.parsed('GET', path, () => parseListingPage(json));
    } catch {
      return false;
    }
    try {
      await this.getItem(ratingKey);
      return false;
    } catch (err) {
      return err instanceof SyncError && err.type === 'PlexNotFound';
    }
  }

  /** Resolution without the cache: the filtered searches, then the paged pass (and its fallback). */
  private async resolveFresh(stashPath: string, plexPath: string, size: number | null, match: SectionMatch | null, lastSyncedTo?: string): Promise<ResolvedItem> {
    const target = normalisePlexPath(plexPath);
    if (match) {
      const sectionKey = match.section.key;
      // `file=` is undocumented and may be ignored (the whole section comes back): paged, matches only.
      const byFile = await this.searchByFile(sectionKey, target, inLocationStyle(plexPath, match.location));
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
    const sameFile = await this.notLeftBehind(found.sameFile, lastSyncedTo);
    if (sameFile.length === 1) return this.acceptSameFile(sameFile[0]!, stashPath, target);
    if (sameFile.length > 1) {
      const where = sameFile.map((f) => `${f.item.ratingKey} (${f.file})`).join(', ');
      throw this.scrub(new SyncError('AmbiguousMatch', `no item holds ${target}; several files named ${baseName(target)} of ${size} bytes: ${where}`));
    }
    const left = found.sameFile.length > 0 ? ` (its last item ${lastSyncedTo} still shows it at ${found.sameFile[0]!.file}: moved or renamed in Stash, not scanned by Plex at its new place yet?)` : '';
    if (!match) throw this.noSection(stashPath, plexPath, left || ` and no Plex file is named ${baseName(target)} with ${size} bytes`);
    throw this.notHeld(target, match.section.key, left);
  }

  /**
   * The base-name matches less the one a moved file left behind: the item the scene last synced to
   * (ResolveOptions.lastSyncedTo) holding the file at a path where a sync found a Stash file exactly
   * (the path cache holds that very path). That is the scene's own file at its old place, not a copy
   * under another path (docs/MATCHING.md). The cache is advisory: without Redis, or when it fails, none is
   * left out.
   */
  private async notLeftBehind(found: SameFile[], lastSyncedTo: string | undefined): Promise<SameFile[]> {
    const suspects = found.filter((f) => f.item.ratingKey === lastSyncedTo);
    if (suspects.length === 0) return found;
    const synced = await this.syncedPaths(suspects.map((f) => f.file));
    const left = new Set(suspects.filter((_, i) => synced[i]));
    return found.filter((f) => !left.has(f));
  }

  /**
   * For each Plex file, whether a sync found a Stash file at exactly that path (the path cache holds it
   * as an exact match, keyed by that very path). One HMGET; all false without Redis or when it fails.
   */
  async syncedPaths(plexFiles: readonly string[]): Promise<boolean[]> {
    if (!this.redis || plexFiles.length === 0) return plexFiles.map(() => false);
    const targets = plexFiles.map((f) => normalisePlexPath(f));
    const entries = await this.redis.hmget(this.cacheKey, ...targets).catch(() => targets.map(() => null));
    return entries.map((e, i) => e !== null && e !== '' && cacheEntry(e, targets[i]!).via === 'path');
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

  private notHeld(target: string, sectionKey: string, more = ''): SyncError {
    return this.scrub(new SyncError('PlexNotFound', `no item in library section ${sectionKey} holds ${target}${more || ' (not scanned yet?)'}`));
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
    return { ratingKey, sectionKey: found.item.librarySectionID ?? '', via: 'fallback', cached: false };
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
    return { ratingKey, sectionKey: found[0]!.librarySectionID ?? sectionKey, via: 'path', cached: false };
  }

  /** Items of one (filtered) listing whose Part.file is exactly the target: every page, keeping only those. */
  private async search(sectionKey: string, target: string, filter: Record<string, string> = {}): Promise<PlexMetadata[]> {
    const found: PlexMetadata[] = [];
    for await (const items of this.pages(sectionKey, filter)) found.push(...items.filter((m) => holds(m, target)));
    return found;
  }

  /**
   * The `file=` search of a section, unless the section refused it: a Plex that answers 400 to the filter
   * is asked no more in this process (logged once), and resolution goes on as after an empty answer (the
   * title search, then the paged listing). Until a section's first answer, other asks wait for it.
   */
  private async searchByFile(sectionKey: string, target: string, file: string): Promise<PlexMetadata[]> {
    let taken = this.fileFilterTaken.get(sectionKey);
    while (taken instanceof Promise) {
      await taken.catch(() => undefined);
      taken = this.fileFilterTaken.get(sectionKey);
    }
    if (taken === false) return [];
    const search = this.search(sectionKey, target, { file });
    if (taken === undefined) this.fileFilterTaken.set(sectionKey, search);
    try {
      const found = await search;
      this.fileFilterTaken.set(sectionKey, true);
      return found;
    } catch (err) {
      if (!(err instanceof SyncError && err.type === 'PlexBadRequest' && err.status === 400)) {
        if (this.fileFilterTaken.get(sectionKey) === search) this.fileFilterTaken.delete(sectionKey);
        throw err;
      }
      this.fileFilterTaken.set(sectionKey, false);
      this.log?.warn({ sectionKey }, 'Plex refuses the file= filter on this library section (400): files are found by title and by paged listing');
      return [];
    }
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
      }).catch((err: unknown) => this.listingFailed(err, sectionKey));
      const { items, bad, listed, totalSize } = this.parsed('GET', path, () => parseListingPage(json));
      // A malformed item is left out (logged once); the rest of the page, and the paging, go on.
      this.noteBadItems(label('GET', path), bad);
      yield items;
      const total = totalSize ?? numberHeader(res, 'X-Plex-Container-Total-Size');
      if (listed !== size || (total !== null && start + listed >= total)) return;
    }
  }

  /** A listing's 404 is the section's absence only while Plex no longer lists the section; otherwise it is not Plex's answer. */
  private async listingFailed(err: unknown, sectionKey: string): Promise<never> {
    if (err instanceof SyncError && err.type === 'PlexNotFound' && (await this.sections(true)).some((x) => x.key === sectionKey)) throw this.notFromPlex(err);
    throw err;
  }

  // ---- path cache (advisory: a Redis problem only costs a search) --------------------------------

  /** The path cache's entry for a Plex path, or null (none, no Redis, or Redis failing: the cache is advisory). */
  private async cachedEntry(target: string): Promise<CacheEntry | null> {
    const entry = await this.redis?.hget(this.cacheKey, target).catch(() => null);
    return entry ? cacheEntry(entry, target) : null;
  }

  /**
   * Reads a cached entry's item: a hit when it still holds the file; 'moved' when it holds others (a
   * successful read proves the entry stale: it is deleted); 'missing' on a 404 (proof of nothing yet:
   * kept); 'recheck' for a base-name match cached before the latest folder scan (the file may now be in
   * Plex under its own path). Anything else (Plex down…) is the caller's problem.
   */
  private async verifyCached(cached: CacheEntry, target: string, sectionKey: string, read: ItemReader): Promise<CacheVerdict> {
    if (cached.via === 'fallback' && cached.cachedAt <= Number((await this.redis?.get(this.lastScanKey).catch(() => null)) ?? 0)) return { kind: 'recheck' };
    let item: PlexItem;
    try {
      item = await read(cached.ratingKey, sectionKey);
    } catch (err) {
      if (err instanceof SyncError && err.type === 'PlexNotFound') return { kind: 'missing' };
      throw err;
    }
    const held = normalisePlexPath(cached.file);
    if (item.files.some((f) => normalisePlexPath(f) === held)) {
      return { kind: 'hit', resolved: { ratingKey: cached.ratingKey, sectionKey: item.sectionKey || sectionKey, item, via: cached.via, cached: true } };
    }
    await this.redis?.hdel(this.cacheKey, target).catch(() => undefined);
    return { kind: 'moved' };
  }

  /** A fallback match is cached with the Plex file it stands for and when, so a later folder scan can send it back to a search. */
  private async cacheSet(target: string, ratingKey: string, plexFile?: string): Promise<void> {
    await this.redis?.hset(this.cacheKey, target, plexFile ? `${ratingKey}\t${plexFile}\t${Date.now()}` : ratingKey).catch(() => undefined);
  }

  // ---- edits -----------------------------------------------------------------------------------

  /**
   * Applies an edit: the PUTs of its fields (as planEdit packs them within PLEX_MAX_URL_BYTES: usually
   * one), then one rating call (if userRating is defined; null clears with -1). Sends nothing for an empty
   * edit. Any request failing throws (what went before stays applied: sent again, it sets the same).
   * Returns the number of requests sent.
   */
  async applyEdit(sectionKey: string, ratingKey: string, edit: PlexEdit): Promise<number> {
    let sent = 0;
    for (const request of planEdit(editUnits(edit), this.editBudget(sectionKey, ratingKey))) sent += await this.sendEdit(sectionKey, ratingKey, request);
    if (edit.userRating !== undefined) {
      const rating = edit.userRating === null ? -1 : edit.userRating;
      const query = new URLSearchParams({ key: ratingKey, identifier: LIBRARY_IDENTIFIER, rating: String(rating) });
      await this.send('PUT', '/:/rate', { query });
      sent++;
    }
    return sent;
  }

  /** The bytes of query an edit request of this item may add: PLEX_MAX_URL_BYTES less the rest of its URL. */
  editBudget(sectionKey: string, ratingKey: string): number {
    return this.maxUrlBytes - `${this.base}${editPath(sectionKey)}?${editQuery(ratingKey)}`.length;
  }

  /**
   * One planned edit request. A proxy whose own limit is lower answers 414 (nginx) or 431 (Node) and
   * passes nothing on, so the request is sent once more split further (in halves of its size); what a
   * proxy still refuses fails (PlexBadRequest, naming PLEX_MAX_URL_BYTES). Returns the requests sent.
   */
  private async sendEdit(sectionKey: string, ratingKey: string, request: readonly EditUnit[]): Promise<number> {
    try {
      await this.editItem(sectionKey, ratingKey, requestParams(request));
      return 1;
    } catch (err) {
      const refused = err instanceof SyncError && (err.status === 414 || err.status === 431) ? err.status : null;
      const smaller = refused ? planEdit(request, Math.floor(requestBytes(request) / 2)) : [];
      if (smaller.length < 2) throw err;
      this.log?.warn({ request: label('PUT', editPath(sectionKey)), status: refused, queryBytes: requestBytes(request), parts: smaller.length }, 'a proxy refused a Plex edit URL as too long: sent again split (lower PLEX_MAX_URL_BYTES)');
      for (const part of smaller) await this.editItem(sectionKey, ratingKey, requestParams(part));
      return 1 + smaller.length;
    }
  }

  /** PUT /library/sections/{key}/all?type=1&id={ratingKey}&<params>. */
  private async editItem(sectionKey: string, ratingKey: string, params: URLSearchParams): Promise<void> {
    const query = editQuery(ratingKey);
    for (const [k, v] of params) query.append(k, v);
    await this.send('PUT', editPath(sectionKey), { query });
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

/**
 * A path cache entry: `ratingKey` (the exact path), or `ratingKey<TAB>plexFile<TAB>cachedAtMs` when the
 * base-name fallback found the file under another path (older entries lack the time: read as 0).
 */
function cacheEntry(entry: string, target: string): CacheEntry {
  const [ratingKey = '', file, cachedAt] = entry.split('\t');
  return file === undefined ? { ratingKey, file: target, via: 'path', cachedAt: 0 } : { ratingKey, file, via: 'fallback', cachedAt: Number(cachedAt) || 0 };
}

/** The edit call's path and the start of its query (python-plexapi plexapi/library.py `LibrarySection._edit`). */
const editPath = (sectionKey: string) => `/library/sections/${encodeURIComponent(sectionKey)}/all`;
const editQuery = (ratingKey: string) => new URLSearchParams({ type: '1', id: ratingKey });

/** Whether an item has a part whose file is exactly the (normalised) target. */
function holds(m: PlexMetadata, target: string): boolean {
  return m.Media.some((md) => md.Part.some((p) => typeof p.file === 'string' && normalisePlexPath(p.file) === target));
}

function numberHeader(res: Response, name: string): number | null {
  const v = Number(res.headers.get(name));
  return res.headers.has(name) && Number.isFinite(v) ? v : null;
}
