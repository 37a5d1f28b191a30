// A Plex Media Server simulator: a real HTTP server on 127.0.0.1 that behaves like Plex where
// stash2plex touches it (plex-api.md), with fault injection (down / 503 / 401 / latency, a reverse
// proxy's 404/502 and its 414/431 for a request too long) and a request log. It is deliberately strict
// where Plex is loose in ways that could hide client bugs: the `file=` filter is not exact (or ignored,
// or refused with 400), `/all` items are partial, indexed tags replace the list (as on a real
// server; python-plexapi plexapi/mixins.py `editTags` re-sends the existing tags for that reason),
// unknown edit params → 400. Files "on disk" that Plex has not scanned yet become items when a section
// refresh covers their folder (`GET /library/sections/{key}/refresh?path=`, python-plexapi
// plexapi/library.py `LibrarySection.update(path=...)`), a moment later, as Plex scans in the background.
// Several items are read at once by `GET /library/metadata/{k1},{k2},…` (python-plexapi plexapi/base.py
// `fetchItems` with a list of keys): the ones that exist, paged by the container headers (or, with
// setMultiKeyReads('whole-404'), a 404 for the whole read when one is missing: real Plex's choice is not
// documented). An item's JSON can be overridden field by field (overrideItemJson), to serve a malformed item.
// Posters are a list per item, one selected (python-plexapi plexapi/mixins.py PosterMixin, plexapi/media.py
// `Poster`): the agent's (`metadata://posters/…`), each upload (`upload://posters/<sha1 of the bytes>`,
// added once and selected), listed by `GET /library/metadata/{key}/posters` and selected again by
// `PUT /library/metadata/{key}/poster?url=<its ratingKey>` (`Poster.select()`), which also locks it; a
// collection's posters the same way (src/sim/plex-collections.ts).
// Backgrounds the same way (ArtMixin: `POST|GET /library/metadata/{key}/arts`, `PUT .../art?url=`,
// `upload://arts/<sha1>`, locked as `art`). An actor's photo is its tag's (`actor[i].tag.thumb` beside
// `actor[i].tag.tag` in the edit call, python-plexapi issue #462 and pull request #510), so one actor
// shows the same photo on every item, read back as `Role[].thumb`.
import { createHash, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { decodeTagList } from '../plex/edits.js';
import { normalisePlexPath, relativeTo } from '../plex/paths.js';
import { simFileSize } from './file-size.js';
import { COLLECTION_TYPE, CollectionRequestError, SimCollections, type SimCollection } from './plex-collections.js';
import { seededRandom } from './seeded-random.js';
import { SimServer, type ServerModel } from './sim-server.js';

/**
 * 'proxy404' / 'proxy502': a reverse proxy in front of a Plex that is away (restarting): every path,
 * `/identity` included, answers 404 (Traefik's, Caddy's answer when the backend is gone) or 502 (nginx's).
 * 'flaky': a Plex that flaps, answering reads but failing a share of its writes (edits, ratings, poster
 * uploads and selections) with 503 at random, from a seeded sequence (setFlakyWrites).
 */
export type PlexSimMode = 'up' | 'down' | '503' | '401' | 'proxy404' | 'proxy502' | 'flaky';

/**
 * A reverse proxy's size limits in front of Plex (setProxyLimits): a request line
 * (`PUT /library/…?… HTTP/1.1`) longer than `requestLine` bytes is answered 414, as nginx does past one
 * `large_client_header_buffers` buffer (8 KiB by default); request line and headers together longer than
 * `headers` bytes are answered 431, as a Node-based proxy does past `http.maxHeaderSize` (16 KiB by
 * default). Either way the request never reaches Plex: nothing is applied.
 */
export interface ProxyLimits {
  requestLine?: number;
  headers?: number;
}

/** How an answer is lost after Plex applied an edit: the connection cut (a proxy timing out, a worker killed), or a proxy's 502. */
export type LostAnswer = 'cut' | 502;
/** How indexed tags (`genre[0].tag.tag=X`) apply: 'replace' the whole list (real Plex) or 'add' to it. */
export type TagEditMode = 'replace' | 'add';
/**
 * How `/all?file=` filters: 'folder' matches every item in the file's folder; 'none' matches nothing;
 * 'ignored' answers the whole section (the parameter is undocumented, a server may not know it);
 * 'rejected' answers 400 (a Plex version that refuses a filter it does not list for the section).
 */
export type FileFilterMode = 'folder' | 'none' | 'ignored' | 'rejected';
/**
 * How `GET /library/metadata/{k1},{k2},…` answers when some keys do not exist: 'leave-out' answers the
 * others (404 only when none exists); 'whole-404' answers 404 for the whole read (docs/REAL-SERVERS.md).
 */
export type MultiKeyReadMode = 'leave-out' | 'whole-404';

/**
 * Text fields an edit sets as `<field>.value` (and locks as `<field>.locked`), answered as attributes of the
 * same name when set: python-plexapi plexapi/mixins.py EditFieldMixin.editField and its ContentRatingMixin
 * (contentRating), OriginalTitleMixin (originalTitle), SortTitleMixin (titleSort), TaglineMixin (tagline);
 * plexapi/video.py Movie reads them back with `attrib.get` (absent when unset; titleSort falls back to the title).
 */
export const SIM_SCALARS = [
  'title',
  'titleSort',
  'summary',
  'studio',
  'tagline',
  'originallyAvailableAt',
  'contentRating',
  'originalTitle',
] as const;
export type SimScalar = (typeof SIM_SCALARS)[number];
/**
 * Tag fields an edit sets as `<field>[i].tag.tag` and removes as `<field>[].tag.tag-` (python-plexapi
 * plexapi/mixins.py EditTagsMixin._tagHelper; LabelMixin edits `label`, read back as `Label`).
 */
export const SIM_TAGS = ['genre', 'actor', 'collection', 'label', 'director', 'writer'] as const;
export type SimTag = (typeof SIM_TAGS)[number];
/** Fields that can carry a lock besides scalars and tags. */
const LOCKABLE_EXTRA = ['thumb', 'art'] as const;

/** How each tag field is named in metadata JSON (`actor` reads back as `Role`). */
const TAG_JSON: Record<SimTag, string> = {
  genre: 'Genre',
  actor: 'Role',
  collection: 'Collection',
  label: 'Label',
  director: 'Director',
  writer: 'Writer',
};

/** Route patterns, as recorded in the request log. */
export const ROUTES = {
  identity: '/identity',
  sections: '/library/sections',
  sectionAll: '/library/sections/:key/all',
  metadata: '/library/metadata/:key',
  posters: '/library/metadata/:key/posters',
  posterSelect: '/library/metadata/:key/poster',
  arts: '/library/metadata/:key/arts',
  artSelect: '/library/metadata/:key/art',
  rate: '/:/rate',
  refresh: '/library/sections/:key/refresh',
  unknown: 'unknown',
} as const;

export interface SimRequest {
  /** Epoch ms of arrival. */
  at: number;
  method: string;
  /** Path and query, with any X-Plex-Token removed. */
  path: string;
  route: string;
  /** Status answered (0 until answered). */
  status: number;
  /** Where the request carried a token, if anywhere. */
  tokenIn: 'header' | 'query' | null;
  /** X-Plex-Client-Identifier sent (header or query), if any. */
  clientId: string | null;
  /** X-Plex-Container-Start / -Size sent (header or query), if any. */
  containerStart: string | null;
  containerSize: string | null;
  /** Metadata entries answered by a listing (0 for anything else). */
  listed: number;
}

export type RequestFilter = { method?: string; route?: string; status?: number } | ((r: SimRequest) => boolean);

export interface PlexSimOptions {
  token: string;
  /** The server model from the start (slots and service time; SimServer.setServerModel): none by default. */
  model?: ServerModel;
  machineIdentifier?: string;
  /** Default 'replace', as on a real server. */
  tagEdits?: TagEditMode;
}

export interface SimSectionInput {
  key?: string;
  title: string;
  type?: string;
  locations: string[];
}

export interface SimSection {
  key: string;
  title: string;
  type: string;
  locations: string[];
}

export interface SimItemInput {
  sectionKey: string;
  title: string;
  file: string;
  /** Part.size of `file` in bytes (default simFileSize: the same for the same base name). */
  size?: number;
  /** Further files (parts) of the item (sizes by simFileSize). */
  extraFiles?: string[];
  summary?: string;
  studio?: string;
  originallyAvailableAt?: string;
  /** Values an agent may have set at scan time (not locked). */
  contentRating?: string;
  originalTitle?: string;
  titleSort?: string;
  tagline?: string;
  userRating?: number | null;
  genre?: string[];
  actor?: string[];
  collection?: string[];
  label?: string[];
  locked?: string[];
  /** A poster the agent found at scan time (not locked, as Plex leaves an agent's choice). */
  poster?: { bytes: Buffer; contentType: string };
  /** A background the agent found at scan time (not locked). */
  art?: { bytes: Buffer; contentType: string };
}

/** A snapshot of an item's internal state (what Plex would have in its database). */
export interface SimItemState extends Record<SimScalar, string>, Record<SimTag, string[]> {
  ratingKey: string;
  sectionKey: string;
  userRating: number | null;
  files: string[];
  /** Locked field names, sorted. */
  locked: string[];
  /** The selected poster (null: the item has none). */
  poster: { bytes: number; sha256: string; contentType: string } | null;
  /** Plex's URL (ratingKey) of the selected poster, and of every poster offered, in the order added. */
  posterKey: string | null;
  posters: string[];
  /** The selected background (null: none), its ratingKey, and every background offered. */
  art: { bytes: number; sha256: string; contentType: string } | null;
  artKey: string | null;
  arts: string[];
  /** Actor name → its photo's URL, for the actors of this item that have one. */
  actorThumbs: Record<string, string>;
  updatedAt: number;
}

/** A collection as Plex holds it (SimCollections). */
export interface SimCollectionState {
  ratingKey: string;
  sectionKey: string;
  title: string;
  summary: string;
  locked: string[];
  /** The selected poster (null: none), its ratingKey, and every poster offered, in the order added. */
  poster: { sha256: string; bytes: number; contentType: string } | null;
  posterKey: string | null;
  posters: string[];
  childCount: number;
}

/** A file Plex has not scanned yet: it becomes an item when a refresh covers its folder. */
export interface SimDiskFile {
  file: string;
  size?: number;
  /** Default: the base name without extension, as Plex's scanner names an unmatched file. */
  title?: string;
}

interface Item extends Record<SimScalar, string>, Record<SimTag, string[]> {
  ratingKey: string;
  sectionKey: string;
  userRating: number | null;
  files: string[];
  /** Part.size of each file, in the order of `files`. */
  sizes: number[];
  locked: Set<string>;
  /** Every poster offered (the agent's, each upload), and the ratingKey of the selected one. */
  posters: SimPoster[];
  selectedPoster: string | null;
  /** Every background offered, and the ratingKey of the selected one. */
  arts: SimPoster[];
  selectedArt: string | null;
  addedAt: number;
  updatedAt: number;
}

/** One poster of an item: Plex's URL of it (`ratingKey`), who supplied it, and what the image was. */
interface SimPoster {
  ratingKey: string;
  provider: string | null;
  bytes: number;
  sha256: string;
  contentType: string;
  /** The image itself (what Plex would serve for it). */
  data: Buffer;
}

/** A failure answered with an HTTP status (thrown inside handlers). */
class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

interface Ctx {
  req: IncomingMessage;
  url: URL;
  body: Buffer;
  json: boolean;
}

interface Reply {
  status?: number;
  body?: unknown;
  headers?: Record<string, string>;
}

const MAX_BODY = 32 * 1024 * 1024;
/** How much request line and headers the simulator's own HTTP parser takes (Node's default: 16 KiB). */
const SIM_MAX_HEADER_BYTES = 256 * 1024;
const PLEX_VERSION = '1.41.3.9314-a0bfb8370';
const LIBRARY_IDENTIFIER = 'com.plexapp.plugins.library';
const nowSeconds = () => Math.floor(Date.now() / 1000);
const dirOf = (p: string) => normalisePlexPath(p).replace(/\/[^/]*$/, '');

export class PlexSimulator extends SimServer<PlexSimMode> {
  readonly token: string;
  readonly machineIdentifier: string;
  /** Every request answered or being answered, oldest first (tokens removed from paths). */
  readonly requests: SimRequest[] = [];

  private fileFilter: FileFilterMode = 'folder';
  private multiKeyReads: MultiKeyReadMode = 'leave-out';
  /** Per item, fields whose JSON is replaced (undefined: left out) wherever the item is answered. */
  private readonly jsonOverrides = new Map<string, Record<string, unknown>>();
  private tagEdits: TagEditMode;
  private readonly deniedItems = new Set<string>();
  private lostAnswers: { count: number; answer: LostAnswer; route: string | null } = { count: 0, answer: 'cut', route: null };
  private proxyLimits: ProxyLimits = {};
  private flakyWrites = { share: 0.5, random: seededRandom(1) };
  private readonly sectionMap = new Map<string, SimSection & { uuid: string; createdAt: number }>();
  private readonly itemMap = new Map<string, Item>();
  /**
   * The listing's lookups, built on the first listing after items or their files change (a section's
   * items and a folder's, in the order they were added): a `file=` search of a 100 000-item library reads
   * its folder, not every item (the first-sync benchmark measures the server model, not this simulator).
   */
  private listingIndex: { bySection: Map<string, Item[]>; byFolder: Map<string, Item[]> } | null = null;
  private readonly collectionItems: SimCollections;
  /** Actor name → its photo's URL: a tag's, shared by every item the actor is in. */
  private readonly actorThumbs = new Map<string, string>();
  private readonly tagIds = new Map<string, number>();
  private readonly disk = new Map<string, SimDiskFile>();
  /** How long after a refresh request its files appear (Plex answers at once and scans in the background). */
  scanDelayMs = 20;
  private nextSectionKey = 1;
  private nextRatingKey = 1000;
  private nextId = 1;

  private constructor(opts: PlexSimOptions) {
    // Node's own 16 KiB header limit would answer 431 before any request is logged: the limits modelled
    // are setProxyLimits', so the simulator itself takes far longer requests (Plex's own limit is not documented).
    super('up', { maxHeaderSize: SIM_MAX_HEADER_BYTES, model: opts.model });
    this.token = opts.token;
    this.tagEdits = opts.tagEdits ?? 'replace';
    this.machineIdentifier = opts.machineIdentifier ?? randomUUID().replace(/-/g, '');
    this.collectionItems = new SimCollections({ items: () => this.itemMap.values() }, () => String(this.nextRatingKey++));
  }

  /** A collection of a section by title, as Plex holds it (undefined: none). */
  collection(sectionKey: string, title: string): SimCollectionState | undefined {
    const c = this.collectionItems.find(sectionKey, title);
    return c && this.collectionState(c);
  }

  /** Every collection, as Plex holds them. */
  collections(): SimCollectionState[] {
    return this.collectionItems.all().map((c) => this.collectionState(c));
  }

  /** A collection as a person edits it in Plex's own editor: the value, locked. */
  editCollectionAsUser(ratingKey: string, patch: { summary?: string; title?: string }): void {
    const q = new URLSearchParams({ id: ratingKey });
    for (const [field, value] of Object.entries(patch)) {
      q.set(`${field}.value`, value);
      q.set(`${field}.locked`, '1');
    }
    this.collectionItems.edit(this.collectionItems.get(ratingKey)!.sectionKey, q, (sec, from, to) =>
      this.renameCollectionTag(sec, from, to),
    );
  }

  private collectionState(c: SimCollection): SimCollectionState {
    const poster = this.collectionItems.selected(c);
    return {
      ratingKey: c.ratingKey,
      sectionKey: c.sectionKey,
      title: c.title,
      summary: c.summary,
      locked: [...c.locked].sort(),
      poster: poster && { sha256: poster.sha256, bytes: poster.bytes, contentType: poster.contentType },
      posterKey: c.selectedPoster,
      posters: c.posters.map((p) => p.ratingKey),
      childCount: this.collectionItems.childCount(c),
    };
  }

  /** The collection's tag follows its title on every member. */
  private renameCollectionTag(sectionKey: string, from: string, to: string): void {
    for (const item of this.itemMap.values())
      if (item.sectionKey === sectionKey) item.collection = item.collection.map((t) => (t === from ? to : t));
  }

  static async start(opts: PlexSimOptions & { port?: number }): Promise<PlexSimulator> {
    const sim = new PlexSimulator(opts);
    await sim.listen(opts.port ?? 0);
    return sim;
  }

  // ---- fault injection --------------------------------------------------------------------------
  // setMode/getMode/setLatencyMs/stop come from SimServer. 'down' really closes the listening socket
  // and every open connection (connection refused); 'up' listens again on the same port. 'proxy404' and
  // 'proxy502' answer every path as a reverse proxy does while Plex is away. '503' answers
  // every request 503 (as while Plex starts); '401' rejects every token (identity still answers, as it
  // needs none); 'flaky' fails a seeded random share of writes with 503 (setFlakyWrites).

  /**
   * Refuses (401) every request about these items while the token works elsewhere, as Plex does for a
   * token allowed to read but not to edit (a shared user's: pushingkarmaorg/python-plexapi#155). Empty
   * by default.
   */
  denyItems(ratingKeys: Iterable<string>): void {
    this.deniedItems.clear();
    for (const k of ratingKeys) this.deniedItems.add(k);
  }

  /**
   * The next `count` edit requests (the edit PUT, the rating call, poster uploads; or those of one route)
   * are applied, then their answer is lost: the connection cut, or a 502 as a proxy would answer after
   * its backend took the request. The client cannot tell whether Plex applied it.
   */
  loseAnswers(count: number, answer: LostAnswer = 'cut', route: string | null = null): void {
    this.lostAnswers = { count, answer, route };
  }

  /**
   * In mode 'flaky', the share of writes answered 503, drawn from a sequence seeded with `seed` (restarted
   * by each call): the n-th write since fails or not the same way every run. Half, seed 1, by default.
   */
  setFlakyWrites(share: number, seed: number): void {
    this.flakyWrites = { share: Math.min(1, Math.max(0, share)), random: seededRandom(seed) };
  }

  /** A reverse proxy's size limits in front of Plex (ProxyLimits); none by default. */
  setProxyLimits(limits: ProxyLimits): void {
    this.proxyLimits = { ...limits };
  }

  /** How `/all?file=` filters (FileFilterMode); 'folder' by default. */
  setFileFilter(mode: FileFilterMode): void {
    this.fileFilter = mode;
  }

  /** How a multi-key read answers when a key is missing (MultiKeyReadMode); 'leave-out' by default. */
  setMultiKeyReads(mode: MultiKeyReadMode): void {
    this.multiKeyReads = mode;
  }

  /**
   * Replaces fields of an item's JSON wherever it is answered (item reads and listings), e.g.
   * `{ userRating: '8.0' }` for a malformed item or `{ librarySectionID: undefined }` to leave a field
   * out. The item's state is untouched; null removes the override.
   */
  overrideItemJson(ratingKey: string, fields: Record<string, unknown> | null): void {
    if (fields === null) this.jsonOverrides.delete(ratingKey);
    else this.jsonOverrides.set(ratingKey, { ...fields });
  }

  /** An item's JSON with its override applied. */
  private overridden(ratingKey: string, json: Record<string, unknown>): Record<string, unknown> {
    const over = this.jsonOverrides.get(ratingKey);
    if (!over) return json;
    const out = { ...json, ...over };
    for (const [k, v] of Object.entries(over)) if (v === undefined) delete out[k];
    return out;
  }

  /** How indexed tags apply (TagEditMode); 'replace' by default, as on a real server. */
  setTagEdits(mode: TagEditMode): void {
    this.tagEdits = mode;
  }

  /** Distinct X-Plex-Client-Identifier values seen, in order of first use. */
  clientIds(): string[] {
    return [...new Set(this.requests.map((r) => r.clientId).filter((id): id is string => id !== null))];
  }

  // ---- counters ---------------------------------------------------------------------------------

  count(filter?: RequestFilter): number {
    if (!filter) return this.requests.length;
    const f = filter;
    const match =
      typeof f === 'function'
        ? f
        : (r: SimRequest) =>
            (f.method === undefined || r.method === f.method) &&
            (f.route === undefined || r.route === f.route) &&
            (f.status === undefined || r.status === f.status);
    return this.requests.filter(match).length;
  }

  /** Requests that edit: PUT of the section edit call, the rating call, poster uploads and selections (any status). */
  editCount(): number {
    return this.count((r) => PlexSimulator.isEdit(r));
  }

  static isEdit(this: void, r: SimRequest): boolean {
    return (
      (r.method === 'PUT' && r.route === ROUTES.sectionAll) ||
      r.route === ROUTES.rate ||
      (r.method === 'POST' && (r.route === ROUTES.posters || r.route === ROUTES.arts)) ||
      (r.method === 'DELETE' && r.route === ROUTES.metadata) ||
      (r.method === 'PUT' && (r.route === ROUTES.posterSelect || r.route === ROUTES.artSelect))
    );
  }

  resetCounters(): void {
    this.requests.length = 0;
  }

  // ---- library state ----------------------------------------------------------------------------

  addSection(input: SimSectionInput): string {
    const key = input.key ?? String(this.nextSectionKey++);
    if (this.sectionMap.has(key)) throw new Error(`section ${key} exists`);
    this.sectionMap.set(key, {
      key,
      title: input.title,
      type: input.type ?? 'movie',
      locations: [...input.locations],
      uuid: randomUUID(),
      createdAt: nowSeconds(),
    });
    return key;
  }

  /** Deletes a section and its items (as when a library is removed in Plex). */
  removeSection(key: string): boolean {
    for (const [ratingKey, item] of this.itemMap) if (item.sectionKey === key) this.itemMap.delete(ratingKey);
    this.listingIndex = null;
    return this.sectionMap.delete(key);
  }

  sections(): SimSection[] {
    return [...this.sectionMap.values()].map((s) => ({ key: s.key, title: s.title, type: s.type, locations: [...s.locations] }));
  }

  /** Adds a scanned item; returns its ratingKey (a numeric string Plex assigns). */
  addItem(input: SimItemInput): string {
    if (!this.sectionMap.has(input.sectionKey)) throw new Error(`no section ${input.sectionKey}`);
    const ratingKey = String(this.nextRatingKey++);
    this.listingIndex = null;
    const scalars = Object.fromEntries(SIM_SCALARS.map((f) => [f, ''])) as Record<SimScalar, string>;
    const tags = Object.fromEntries(SIM_TAGS.map((f) => [f, [] as string[]])) as Record<SimTag, string[]>;
    this.itemMap.set(ratingKey, {
      ...scalars,
      ...tags,
      title: input.title,
      summary: input.summary ?? '',
      studio: input.studio ?? '',
      originallyAvailableAt: input.originallyAvailableAt ?? '',
      contentRating: input.contentRating ?? '',
      originalTitle: input.originalTitle ?? '',
      titleSort: input.titleSort ?? '',
      tagline: input.tagline ?? '',
      genre: [...(input.genre ?? [])],
      actor: [...(input.actor ?? [])],
      collection: [...(input.collection ?? [])],
      label: [...(input.label ?? [])],
      ratingKey,
      sectionKey: input.sectionKey,
      userRating: input.userRating ?? null,
      files: [input.file, ...(input.extraFiles ?? [])],
      sizes: [input.size ?? simFileSize(input.file), ...(input.extraFiles ?? []).map(simFileSize)],
      locked: new Set(input.locked ?? []),
      posters: [],
      selectedPoster: null,
      arts: [],
      selectedArt: null,
      addedAt: nowSeconds(),
      updatedAt: nowSeconds(),
    });
    const added = this.itemMap.get(ratingKey)!;
    if (input.poster) addImage(added, 'poster', input.poster.bytes, input.poster.contentType, AGENT_PROVIDER);
    if (input.art) addImage(added, 'art', input.art.bytes, input.art.contentType, AGENT_PROVIDER);
    this.collectionItems.created(input.sectionKey, added.collection);
    return ratingKey;
  }

  /** Deletes an item (as when its file is removed and the library emptied of it). */
  removeItem(ratingKey: string): boolean {
    this.listingIndex = null;
    return this.itemMap.delete(ratingKey);
  }

  /**
   * An item's state as if edit calls had been made, without a request (a benchmark seeds a library that
   * is in sync already): the edit call's parameters, a user rating, a poster (locked like an upload).
   */
  seedItem(
    ratingKey: string,
    seed: {
      edit: URLSearchParams;
      userRating?: number | null;
      poster?: { bytes: Buffer; contentType: string };
      art?: { bytes: Buffer; contentType: string };
    },
  ): void {
    const item = this.itemMap.get(ratingKey);
    if (!item) throw new Error(`no item ${ratingKey}`);
    applyOps(item, parseEditParams(seed.edit), this.tagEdits, this.actorThumbs);
    this.collectionItems.created(item.sectionKey, item.collection);
    if (seed.userRating !== undefined) item.userRating = seed.userRating;
    if (seed.poster) {
      addImage(item, 'poster', seed.poster.bytes, seed.poster.contentType, null);
      item.locked.add('thumb');
    }
    if (seed.art) {
      addImage(item, 'art', seed.art.bytes, seed.art.contentType, null);
      item.locked.add('art');
    }
  }

  /** Points an item at other files (as after a move and rescan). */
  setItemFiles(ratingKey: string, files: string[]): void {
    const item = this.itemMap.get(ratingKey);
    if (!item) throw new Error(`no item ${ratingKey}`);
    item.files = [...files];
    item.sizes = files.map(simFileSize);
    this.listingIndex = null;
  }

  /**
   * A file moved or renamed on disk, and what Plex has made of it (Plex's scanner is closed source:
   * docs/REAL-SERVERS.md, "Moved and renamed files"):
   * - 'new-item' (what Plex usually does): its scan dropped the old item and made a bare one, with a new
   *   ratingKey, for the file at its new path (no metadata, no poster, nothing locked);
   * - 'same-item': Plex recognised the move: the item keeps its ratingKey and metadata, its part now the
   *   new path;
   * - 'unscanned': Plex has scanned neither folder yet: the old item still shows the old path, and the
   *   file is on disk at the new one until a refresh covers its folder.
   * Answers the ratingKey that holds the new path now (null while unscanned).
   */
  moveFile(from: string, to: string, outcome: 'new-item' | 'same-item' | 'unscanned' = 'new-item'): string | null {
    const old = [...this.itemMap.values()].find((i) => i.files.some((f) => normalisePlexPath(f) === normalisePlexPath(from)));
    if (!old) throw new Error(`no item holds ${from}`);
    const size = old.sizes[old.files.findIndex((f) => normalisePlexPath(f) === normalisePlexPath(from))];
    if (outcome === 'unscanned') {
      this.addFileOnDisk({ file: to, size });
      return null;
    }
    if (outcome === 'same-item') {
      old.files = old.files.map((f) => (normalisePlexPath(f) === normalisePlexPath(from) ? to : f));
      this.listingIndex = null;
      return old.ratingKey;
    }
    this.removeItem(old.ratingKey);
    const section = [...this.sectionMap.values()].find((x) => x.locations.some((loc) => relativeTo(to, normalisePlexPath(loc)) !== null));
    return this.addItem({
      sectionKey: section?.key ?? old.sectionKey,
      title: (to.split(/[\\/]/).pop() ?? to).replace(/\.[^.]*$/, ''),
      file: to,
      size,
    });
  }

  /** Puts a file "on disk" that Plex has not scanned: no item holds it until a refresh covers its folder. */
  addFileOnDisk(file: SimDiskFile): void {
    this.disk.set(normalisePlexPath(file.file), { ...file });
  }

  /** Files on disk not scanned yet. */
  unscannedFiles(): string[] {
    return [...this.disk.values()].map((f) => f.file);
  }

  item(ratingKey: string): SimItemState | undefined {
    const i = this.itemMap.get(ratingKey);
    return i ? snapshot(i, this.actorThumbs) : undefined;
  }

  items(): SimItemState[] {
    return [...this.itemMap.values()].map((i) => snapshot(i, this.actorThumbs));
  }

  /** The bytes of an item's selected poster or background (null: none). */
  image(ratingKey: string, kind: 'poster' | 'art'): Buffer | null {
    const i = this.itemMap.get(ratingKey);
    if (!i) return null;
    const { list, selected } = imagesOf(i, kind);
    return list.find((p) => p.ratingKey === selected)?.data ?? null;
  }

  // ---- HTTP -------------------------------------------------------------------------------------

  protected override async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://plex.invalid');
    const headerToken = req.headers['x-plex-token'];
    const queryToken = url.searchParams.get('X-Plex-Token');
    const entry: SimRequest = {
      at: Date.now(),
      method: req.method ?? 'GET',
      path: pathWithoutToken(url),
      route: routeOf(url.pathname),
      status: 0,
      tokenIn: typeof headerToken === 'string' ? 'header' : queryToken !== null ? 'query' : null,
      clientId: plexParam(req, url, 'X-Plex-Client-Identifier'),
      containerStart: plexParam(req, url, 'X-Plex-Container-Start'),
      containerSize: plexParam(req, url, 'X-Plex-Container-Size'),
      listed: 0,
    };
    if (this.isDown()) {
      req.socket.destroy();
      return;
    }
    this.requests.push(entry);
    const json = (req.headers.accept ?? '').includes('application/json');
    const refused = proxyRefusal(req, this.proxyLimits);
    if (refused) {
      entry.status = refused.status;
      write(res, refused.status, { body: refused.text }, json);
      return;
    }
    let reply: Reply;
    try {
      const body = await readBody(req);
      await this.delay();
      // Went down while this request waited: a dead server answers nothing.
      if (this.isDown()) {
        req.socket.destroy();
        return;
      }
      reply = this.handle({ req, url, body, json }, entry, typeof headerToken === 'string' ? headerToken : queryToken);
    } catch (err) {
      reply =
        err instanceof HttpError || err instanceof CollectionRequestError
          ? { status: err.status, body: err.message }
          : { status: 500, body: String(err) };
    }
    if (this.answerLost(entry, reply)) {
      if (this.lostAnswers.answer === 'cut') {
        req.socket.destroy();
        return;
      }
      reply = { status: 502, body: 'Bad Gateway' };
    }
    entry.status = reply.status ?? 200;
    write(res, entry.status, reply, json);
  }

  /** Whether this applied edit's answer is one of those loseAnswers() asked to lose (counted down). */
  private answerLost(entry: SimRequest, reply: Reply): boolean {
    const lost = this.lostAnswers;
    if (
      lost.count <= 0 ||
      (reply.status ?? 200) >= 400 ||
      !PlexSimulator.isEdit(entry) ||
      (lost.route !== null && entry.route !== lost.route)
    )
      return false;
    lost.count--;
    return true;
  }

  private handle(ctx: Ctx, entry: SimRequest, token: string | null): Reply {
    if (this.mode === '503') throw new HttpError(503, 'Service Unavailable');
    if (this.mode === 'proxy404') throw new HttpError(404, 'Not Found');
    if (this.mode === 'proxy502') throw new HttpError(502, 'Bad Gateway');
    const { method, route } = entry;
    if (route === ROUTES.identity && method === 'GET') return { body: this.identity() };
    if (this.mode === '401' || token !== this.token) throw new HttpError(401, 'Unauthorized');
    if (this.mode === 'flaky' && PlexSimulator.isEdit(entry) && this.flakyWrites.random() < this.flakyWrites.share) {
      throw new HttpError(503, 'Service Unavailable');
    }
    const key = ctx.url.pathname.split('/')[3] ?? '';
    if (this.deniedItems.size && this.itemsOf(route, key, ctx.url.searchParams).some((k) => this.deniedItems.has(k))) {
      throw new HttpError(401, 'Unauthorized');
    }
    switch (`${method} ${route}`) {
      case `GET ${ROUTES.sections}`:
        return { body: this.sectionsBody() };
      case `GET ${ROUTES.sectionAll}`: {
        const listing = this.listItems(key, ctx);
        entry.listed = listing.listed;
        return listing;
      }
      case `PUT ${ROUTES.sectionAll}`:
        this.edit(key, ctx.url.searchParams);
        return {};
      case `GET ${ROUTES.refresh}`:
      case `POST ${ROUTES.refresh}`: // the spec documents POST; python-plexapi sends GET, which Plex takes
        this.refresh(key, ctx.url.searchParams.get('path'));
        return {};
      case `GET ${ROUTES.metadata}`: {
        const collection = this.collectionItems.get(key);
        if (collection) return { body: this.collectionBody(collection) };
        return { body: key.includes(',') ? this.metadataListBody(key.split(','), ctx) : this.metadataBody(this.mustItem(key)) };
      }
      case `DELETE ${ROUTES.metadata}`:
        // Only collections: deleting media is not something the simulator models.
        if (!this.collectionItems.delete(key)) throw new HttpError(404, 'Not Found');
        return {};
      case `POST ${ROUTES.posters}`:
        if (this.collectionItems.get(key)) {
          this.collectionItems.uploadPoster(this.collectionItems.get(key)!, ctx.body, String(ctx.req.headers['content-type'] ?? ''));
          return {};
        }
        this.uploadImage(this.mustItem(key), 'poster', ctx);
        return {};
      case `POST ${ROUTES.arts}`:
        this.uploadImage(this.mustItem(key), route === ROUTES.arts ? 'art' : 'poster', ctx);
        return {};
      case `GET ${ROUTES.posters}`:
      case `GET ${ROUTES.arts}`: {
        const collection = route === ROUTES.posters ? this.collectionItems.get(key) : undefined;
        if (collection) return { body: imagesBody(key, collection.posters, collection.selectedPoster) };
        const item = this.mustItem(key);
        const { list, selected } = imagesOf(item, route === ROUTES.arts ? 'art' : 'poster');
        return { body: imagesBody(key, list, selected) };
      }
      case `PUT ${ROUTES.posterSelect}`:
        if (this.collectionItems.get(key)) {
          this.collectionItems.selectPoster(this.collectionItems.get(key)!, ctx.url.searchParams.get('url'));
          return {};
        }
        this.selectImage(this.mustItem(key), 'poster', ctx.url.searchParams.get('url'));
        return {};
      case `PUT ${ROUTES.artSelect}`:
        this.selectImage(this.mustItem(key), 'art', ctx.url.searchParams.get('url'));
        return {};
      case `PUT ${ROUTES.rate}`:
      case `GET ${ROUTES.rate}`: // the spec: it answers GET too
        this.rate(ctx.url.searchParams);
        return {};
      default:
        throw new HttpError(404, 'Not Found');
    }
  }

  /** The ratingKeys a request is about (none for listings). */
  private itemsOf(route: string, key: string, q: URLSearchParams): string[] {
    if (route === ROUTES.metadata) return key.split(',');
    if ([ROUTES.posters, ROUTES.posterSelect, ROUTES.arts, ROUTES.artSelect].includes(route as never)) return [key];
    if (route === ROUTES.sectionAll) return (q.get('id') ?? '').split(',');
    if (route === ROUTES.rate) return [q.get('key') ?? ''];
    return [];
  }

  private identity() {
    return { MediaContainer: { size: 0, claimed: true, machineIdentifier: this.machineIdentifier, version: PLEX_VERSION } };
  }

  private sectionsBody() {
    const Directory = [...this.sectionMap.values()].map((s) => ({
      allowSync: true,
      art: `/:/resources/movie-fanart.jpg`,
      composite: `/library/sections/${s.key}/composite/${s.createdAt}`,
      filters: true,
      refreshing: false,
      thumb: '/:/resources/movie.png',
      key: s.key,
      type: s.type,
      title: s.title,
      agent: 'tv.plex.agents.none',
      scanner: 'Plex Video Files Scanner',
      language: 'xn',
      uuid: s.uuid,
      updatedAt: s.createdAt,
      createdAt: s.createdAt,
      scannedAt: s.createdAt,
      content: true,
      directory: true,
      contentChangedAt: s.createdAt,
      hidden: 0,
      Location: s.locations.map((path, i) => ({ id: Number(s.key) * 100 + i, path })),
    }));
    return { MediaContainer: { size: Directory.length, allowSync: false, title1: 'Plex Library', Directory } };
  }

  /** GET /library/sections/{key}/all: partial items, filtered and paged like Plex. */
  private listItems(sectionKey: string, ctx: Ctx): Reply & { listed: number } {
    const section = this.sectionMap.get(sectionKey);
    if (!section) throw new HttpError(404, 'Not Found');
    const q = ctx.url.searchParams;
    const type = q.get('type');
    if (type === COLLECTION_TYPE) return this.listCollections(section, ctx);
    const index = this.listing();
    let items = index.bySection.get(sectionKey) ?? [];
    if (type !== null && type !== '1') items = [];
    const file = q.get('file');
    if (file !== null && this.fileFilter === 'rejected') throw new HttpError(400, 'Bad Request');
    // Not exact, like Plex may be: every item in the same folder as the file matches (or none, or all).
    if (file !== null && this.fileFilter !== 'ignored') {
      items = this.fileFilter === 'none' ? [] : (index.byFolder.get(dirOf(file)) ?? []).filter((i) => i.sectionKey === sectionKey);
    }
    const title = q.get('title');
    if (title !== null) items = items.filter((i) => i.title.toLowerCase().includes(title.toLowerCase()));
    const total = items.length;
    const start = intParam(plexParam(ctx.req, ctx.url, 'X-Plex-Container-Start'), 0);
    const size = intParam(plexParam(ctx.req, ctx.url, 'X-Plex-Container-Size'), total);
    const page = items.slice(start, start + size);
    return {
      listed: page.length,
      headers: { 'X-Plex-Container-Start': String(start), 'X-Plex-Container-Total-Size': String(total) },
      body: {
        MediaContainer: {
          size: page.length,
          totalSize: total,
          offset: start,
          librarySectionID: Number(section.key),
          librarySectionTitle: section.title,
          Metadata: page.map((i) => this.partial(i)),
        },
      },
    };
  }

  /** The listing's lookups (listingIndex), built again after items or their files changed. */
  private listing(): NonNullable<PlexSimulator['listingIndex']> {
    if (this.listingIndex) return this.listingIndex;
    const bySection = new Map<string, Item[]>();
    const byFolder = new Map<string, Item[]>();
    const push = (map: Map<string, Item[]>, key: string, item: Item) => {
      const list = map.get(key);
      if (list) list.push(item);
      else map.set(key, [item]);
    };
    for (const item of this.itemMap.values()) {
      push(bySection, item.sectionKey, item);
      for (const folder of new Set(item.files.map(dirOf))) push(byFolder, folder, item);
    }
    this.listingIndex = { bySection, byFolder };
    return this.listingIndex;
  }

  /** GET /library/sections/{key}/all?type=18: the section's collections (`title=`: containing it, any case), paged. */
  private listCollections(section: SimSection, ctx: Ctx): Reply & { listed: number } {
    const title = ctx.url.searchParams.get('title');
    const found = this.collectionItems
      .all()
      .filter((c) => c.sectionKey === section.key && (title === null || c.title.toLowerCase().includes(title.toLowerCase())));
    const start = intParam(plexParam(ctx.req, ctx.url, 'X-Plex-Container-Start'), 0);
    const page = found.slice(start, start + intParam(plexParam(ctx.req, ctx.url, 'X-Plex-Container-Size'), found.length));
    return {
      listed: page.length,
      headers: { 'X-Plex-Container-Start': String(start), 'X-Plex-Container-Total-Size': String(found.length) },
      body: {
        MediaContainer: {
          size: page.length,
          totalSize: found.length,
          offset: start,
          librarySectionID: Number(section.key),
          librarySectionTitle: section.title,
          Metadata: page.map((c) => this.collectionItems.json(c, section.title, false)),
        },
      },
    };
  }

  /** What `/all` lists: no tags, no summary (plex-api.md: partial items). */
  private partial(i: Item) {
    return this.overridden(i.ratingKey, {
      ratingKey: i.ratingKey,
      key: `/library/metadata/${i.ratingKey}`,
      guid: `local://${i.ratingKey}`,
      type: 'movie',
      title: i.title,
      addedAt: i.addedAt,
      updatedAt: i.updatedAt,
      Media: this.media(i),
    });
  }

  private media(i: Item) {
    return [
      {
        id: Number(i.ratingKey),
        Part: i.files.map((file, n) => ({
          id: Number(i.ratingKey) * 10 + n,
          key: `/library/parts/${i.ratingKey}${n}/file`,
          file,
          size: i.sizes[n],
        })),
      },
    ];
  }

  private tagId(field: SimTag, tag: string): number {
    const k = `${field}\u0000${tag}`;
    let id = this.tagIds.get(k);
    if (id === undefined) this.tagIds.set(k, (id = this.nextId++));
    return id;
  }

  /** GET /library/metadata/{key} of a collection (python-plexapi reads it as a `Directory`). */
  private collectionBody(c: SimCollection) {
    const section = this.sectionMap.get(c.sectionKey)!;
    return {
      MediaContainer: {
        size: 1,
        identifier: LIBRARY_IDENTIFIER,
        librarySectionID: Number(section.key),
        librarySectionTitle: section.title,
        Metadata: [this.collectionItems.json(c, section.title, true)],
      },
    };
  }

  /** GET /library/metadata/{key}: the full item. Empty values and arrays are left out, as Plex does. */
  private metadataBody(i: Item) {
    const section = this.sectionMap.get(i.sectionKey)!;
    return {
      MediaContainer: {
        size: 1,
        allowSync: true,
        identifier: LIBRARY_IDENTIFIER,
        librarySectionID: Number(section.key),
        librarySectionTitle: section.title,
        Metadata: [this.metadataOf(i)],
      },
    };
  }

  /**
   * GET /library/metadata/{k1},{k2},…: the items that exist, in the order asked, paged by
   * X-Plex-Container-Start/-Size (python-plexapi plexapi/base.py fetchItems asks so); none of them: 404
   * (in 'whole-404' mode, any missing: 404). The container names the section when all share one.
   */
  private metadataListBody(keys: string[], ctx: Ctx) {
    const found = keys.map((k) => this.itemMap.get(decodeURIComponent(k))).filter((i): i is Item => i !== undefined);
    if (found.length === 0 || (this.multiKeyReads === 'whole-404' && found.length < keys.length)) throw new HttpError(404, 'Not Found');
    const start = intParam(plexParam(ctx.req, ctx.url, 'X-Plex-Container-Start'), 0);
    const page = found.slice(start, start + intParam(plexParam(ctx.req, ctx.url, 'X-Plex-Container-Size'), found.length));
    const sections = new Set(found.map((i) => i.sectionKey));
    const section = sections.size === 1 ? { librarySectionID: Number([...sections][0]) } : {};
    return {
      MediaContainer: {
        size: page.length,
        totalSize: found.length,
        offset: start,
        allowSync: true,
        identifier: LIBRARY_IDENTIFIER,
        ...section,
        Metadata: page.map((i) => this.metadataOf(i)),
      },
    };
  }

  private metadataOf(i: Item): Record<string, unknown> {
    const section = this.sectionMap.get(i.sectionKey)!;
    const md: Record<string, unknown> = {
      ratingKey: i.ratingKey,
      key: `/library/metadata/${i.ratingKey}`,
      guid: `local://${i.ratingKey}`,
      type: 'movie',
      librarySectionID: Number(section.key),
      librarySectionKey: `/library/sections/${section.key}`,
      librarySectionTitle: section.title,
      addedAt: i.addedAt,
      updatedAt: i.updatedAt,
    };
    for (const f of SIM_SCALARS) if (i[f] !== '' || f === 'title') md[f] = i[f];
    if (i.userRating !== null) md.userRating = i.userRating;
    if (i.selectedPoster) md.thumb = `/library/metadata/${i.ratingKey}/thumb/${i.updatedAt}`;
    if (i.selectedArt) md.art = `/library/metadata/${i.ratingKey}/art/${i.updatedAt}`;
    md.Media = this.media(i);
    for (const f of SIM_TAGS) {
      if (!i[f].length) continue;
      md[TAG_JSON[f]] = i[f].map((tag) => {
        const thumb = f === 'actor' ? this.actorThumbs.get(tag) : undefined;
        return { id: this.tagId(f, tag), filter: `${f}=${this.tagId(f, tag)}`, tag, ...(thumb ? { thumb } : {}) };
      });
    }
    if (i.locked.size) md.Field = [...i.locked].sort().map((name) => ({ locked: true, name }));
    return this.overridden(i.ratingKey, md);
  }

  /** Schedules the scan of a section (or of one folder of it): every file on disk below becomes an item. */
  private refresh(sectionKey: string, path: string | null): void {
    const section = this.sectionMap.get(sectionKey);
    if (!section) throw new HttpError(404, 'Not Found');
    const under = (file: string, folder: string) => relativeTo(file, normalisePlexPath(folder)) !== null;
    const covered = [...this.disk.entries()].filter(
      ([file]) => section.locations.some((loc) => under(file, loc)) && (path === null || under(file, path)),
    );
    const t = setTimeout(() => {
      for (const [key, f] of covered) {
        if (!this.disk.delete(key)) continue;
        const title = f.title ?? (f.file.split(/[\\/]/).pop() ?? f.file).replace(/\.[^.]*$/, '');
        this.addItem({ sectionKey, title, file: f.file, size: f.size });
      }
    }, this.scanDelayMs);
    t.unref();
  }

  private mustItem(ratingKey: string): Item {
    const item = this.itemMap.get(ratingKey);
    if (!item) throw new HttpError(404, 'Not Found');
    return item;
  }

  /** PUT /library/sections/{key}/all?type=1&id=…&<edits>: validated completely, then applied. */
  private edit(sectionKey: string, q: URLSearchParams): void {
    if (!this.sectionMap.has(sectionKey)) throw new HttpError(404, 'Not Found');
    if (q.get('type') === COLLECTION_TYPE) {
      this.collectionItems.edit(sectionKey, q, (sec, from, to) => this.renameCollectionTag(sec, from, to));
      return;
    }
    if (q.get('type') !== '1') throw new HttpError(400, 'type must be 1');
    const ids = (q.get('id') ?? '').split(',').filter(Boolean);
    if (ids.length === 0) throw new HttpError(400, 'id is required');
    const items = ids.map((id) => {
      const item = this.itemMap.get(id);
      if (!item || item.sectionKey !== sectionKey) throw new HttpError(404, `no item ${id} in section ${sectionKey}`);
      return item;
    });
    const ops = parseEditParams(q);
    for (const item of items) applyOps(item, ops, this.tagEdits, this.actorThumbs);
    for (const item of items) this.collectionItems.created(sectionKey, item.collection);
  }

  private rate(q: URLSearchParams): void {
    const key = q.get('key');
    const ratingText = q.get('rating');
    if (!key || q.get('identifier') === null || ratingText === null || ratingText.trim() === '') {
      throw new HttpError(400, 'key, identifier and rating are required');
    }
    if (q.get('identifier') !== LIBRARY_IDENTIFIER) throw new HttpError(404, 'no such media provider');
    const rating = Number(ratingText);
    if (!Number.isFinite(rating) || (rating !== -1 && (rating < 0 || rating > 10))) throw new HttpError(400, 'rating must be 0..10 or -1');
    const item = this.mustItem(key);
    item.userRating = rating === -1 ? null : rating;
    item.updatedAt = nowSeconds();
  }

  /** POST /library/metadata/{key}/posters|arts: the upload joins the item's posters (backgrounds) once per image and is selected. */
  private uploadImage(item: Item, kind: ImageKind, ctx: Ctx): void {
    if (ctx.body.length === 0) throw new HttpError(400, 'empty image');
    addImage(item, kind, ctx.body, String(ctx.req.headers['content-type'] ?? 'application/octet-stream'), null);
    item.updatedAt = nowSeconds();
  }

  /**
   * PUT /library/metadata/{key}/poster|art?url=<an image's ratingKey> (python-plexapi `select()`): that
   * image becomes the item's. Strict where Plex may not be: the choice is also locked, as a choice made in
   * Plex's own editor is, so a client that means to leave it unlocked must say so.
   */
  private selectImage(item: Item, kind: ImageKind, url: string | null): void {
    if (!url) throw new HttpError(400, 'url is required');
    if (!imagesOf(item, kind).list.some((p) => p.ratingKey === url))
      throw new HttpError(404, `no ${kind} ${url} for item ${item.ratingKey}`);
    if (kind === 'art') item.selectedArt = url;
    else item.selectedPoster = url;
    item.locked.add(IMAGE_LOCK[kind]);
    item.updatedAt = nowSeconds();
  }
}

/** An item's two image lists: posters (`thumb`) and backgrounds (`art`). */
type ImageKind = 'poster' | 'art';
const IMAGE_LOCK: Record<ImageKind, string> = { poster: 'thumb', art: 'art' };

function imagesOf(i: Item, kind: ImageKind): { list: SimPoster[]; selected: string | null } {
  return kind === 'art' ? { list: i.arts, selected: i.selectedArt } : { list: i.posters, selected: i.selectedPoster };
}

/** GET /library/metadata/{key}/posters|arts: every image offered, the selected one marked (python-plexapi `Poster`, `Art`). */
function imagesBody(ratingKey: string, list: readonly { ratingKey: string; provider?: string | null }[], selected: string | null) {
  const Metadata = list.map((p) => {
    const url = `/library/metadata/${ratingKey}/file?url=${encodeURIComponent(p.ratingKey)}`;
    return {
      key: url,
      ratingKey: p.ratingKey,
      selected: p.ratingKey === selected,
      thumb: url,
      ...(p.provider ? { provider: p.provider } : {}),
    };
  });
  return {
    MediaContainer: { size: Metadata.length, identifier: LIBRARY_IDENTIFIER, mediaTagPrefix: '/system/bundle/media/flags/', Metadata },
  };
}

/** Who supplied a poster found at scan time: Plex's movie agent (its identifier). */
const AGENT_PROVIDER = 'tv.plex.agents.movie';

/**
 * Adds an image to an item's posters or backgrounds (once: the same bytes are the same image) and selects
 * it. An upload is `upload://posters/<sha1 of the bytes>` (`upload://arts/…` for a background;
 * python-plexapi tests/test_mixins.py finds its uploads so); an agent's `metadata://posters/<agent>_<sha1>`.
 */
function addImage(item: Item, kind: ImageKind, body: Buffer, contentType: string, provider: string | null): void {
  const sha1 = createHash('sha1').update(body).digest('hex');
  const folder = kind === 'art' ? 'arts' : 'posters';
  const ratingKey = provider ? `metadata://${folder}/${provider}_${sha1}` : `upload://${folder}/${sha1}`;
  const { list } = imagesOf(item, kind);
  if (!list.some((p) => p.ratingKey === ratingKey)) {
    const sha256 = createHash('sha256').update(body).digest('hex');
    list.push({ ratingKey, provider, bytes: body.length, sha256, contentType, data: Buffer.from(body) });
  }
  if (kind === 'art') item.selectedArt = ratingKey;
  else item.selectedPoster = ratingKey;
}

// ---- edit parameters (pure) -----------------------------------------------------------------------

type EditOp =
  | { kind: 'value'; field: SimScalar; value: string }
  | { kind: 'lock'; field: string; locked: boolean }
  | { kind: 'add'; field: SimTag; index: number; tag: string }
  | { kind: 'thumb'; field: SimTag; index: number; thumb: string }
  | { kind: 'remove'; field: SimTag; tags: string[] };

const SCALAR_SET = new Set<string>(SIM_SCALARS);
const TAG_SET = new Set<string>(SIM_TAGS);
const LOCKABLE = new Set<string>([...SIM_SCALARS, ...SIM_TAGS, ...LOCKABLE_EXTRA]);
/** Parameters of the edit call that are not edits. */
const EDIT_META = new Set(['type', 'id', 'X-Plex-Token']);

/** Every parameter → an operation; anything unknown or malformed is a 400 (nothing is applied). */
export function parseEditParams(q: URLSearchParams): EditOp[] {
  const ops: EditOp[] = [];
  for (const [name, value] of q) {
    if (EDIT_META.has(name)) continue;
    let m: RegExpExecArray | null;
    if ((m = /^([A-Za-z]+)\.value$/.exec(name)) && SCALAR_SET.has(m[1])) {
      const field = m[1] as SimScalar;
      if (field === 'originallyAvailableAt' && value !== '' && !/^\d{4}-\d{2}-\d{2}$/.test(value)) {
        throw new HttpError(400, `bad date ${JSON.stringify(value)}`);
      }
      ops.push({ kind: 'value', field, value });
    } else if ((m = /^([A-Za-z]+)\.locked$/.exec(name)) && LOCKABLE.has(m[1])) {
      if (value !== '0' && value !== '1') throw new HttpError(400, `${name} must be 0 or 1`);
      ops.push({ kind: 'lock', field: m[1], locked: value === '1' });
    } else if ((m = /^([A-Za-z]+)\[(\d+)\]\.tag\.tag$/.exec(name)) && TAG_SET.has(m[1])) {
      if (value.trim() === '') throw new HttpError(400, `${name} is empty`);
      ops.push({ kind: 'add', field: m[1] as SimTag, index: Number(m[2]), tag: value });
    } else if ((m = /^(actor)\[(\d+)\]\.tag\.thumb$/.exec(name))) {
      ops.push({ kind: 'thumb', field: 'actor', index: Number(m[2]), thumb: value });
    } else if ((m = /^([A-Za-z]+)\[\]\.tag\.tag-$/.exec(name)) && TAG_SET.has(m[1])) {
      let tags: string[];
      try {
        tags = decodeTagList(value);
      } catch {
        throw new HttpError(400, `${name}: malformed escape`);
      }
      ops.push({ kind: 'remove', field: m[1] as SimTag, tags });
    } else {
      throw new HttpError(400, `unknown parameter ${name}`);
    }
  }
  const indexed = new Map<string, Set<number>>();
  for (const op of ops) {
    if (op.kind !== 'add') continue;
    const seen = indexed.get(op.field) ?? new Set<number>();
    if (seen.has(op.index)) throw new HttpError(400, `${op.field}[${op.index}] given twice`);
    indexed.set(op.field, seen.add(op.index));
  }
  for (const op of ops) {
    if (op.kind === 'thumb' && !indexed.get(op.field)?.has(op.index))
      throw new HttpError(400, `${op.field}[${op.index}].tag.thumb without its tag`);
  }
  return ops;
}

/**
 * Applies parsed edits: values, then indexed tags (in 'replace' mode the indexed list of a field becomes
 * its whole list, as on a real server; in 'add' mode they are added to it), then removals, then locks.
 */
function applyOps(item: Item, ops: readonly EditOp[], tagEdits: TagEditMode, actorThumbs: Map<string, string>): void {
  for (const op of ops) if (op.kind === 'value') item[op.field] = op.value;
  const adds = ops.filter((o): o is Extract<EditOp, { kind: 'add' }> => o.kind === 'add').sort((a, b) => a.index - b.index);
  // A photo is the actor's (the tag's), whichever item the edit names: '' removes it.
  for (const op of ops) {
    if (op.kind !== 'thumb') continue;
    const tag = adds.find((a) => a.field === op.field && a.index === op.index)!.tag;
    if (op.thumb === '') actorThumbs.delete(tag);
    else actorThumbs.set(tag, op.thumb);
  }
  if (tagEdits === 'replace') for (const field of new Set(adds.map((op) => op.field))) item[field] = [];
  for (const op of adds) if (!item[op.field].includes(op.tag)) item[op.field].push(op.tag);
  for (const op of ops) if (op.kind === 'remove') item[op.field] = item[op.field].filter((t) => !op.tags.includes(t));
  for (const op of ops) {
    if (op.kind !== 'lock') continue;
    if (op.locked) item.locked.add(op.field);
    else item.locked.delete(op.field);
  }
  item.updatedAt = nowSeconds();
}

// ---- helpers ------------------------------------------------------------------------------------

/** What a proxy with these limits answers instead of passing the request on, if anything (ProxyLimits). */
function proxyRefusal(req: IncomingMessage, limits: ProxyLimits): { status: 414 | 431; text: string } | null {
  const requestLine = Buffer.byteLength(`${req.method} ${req.url} HTTP/${req.httpVersion}\r\n`);
  if (limits.requestLine !== undefined && requestLine > limits.requestLine) return { status: 414, text: 'Request-URI Too Large' };
  let headers = requestLine;
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) headers += Buffer.byteLength(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}\r\n`);
  if (limits.headers !== undefined && headers > limits.headers) return { status: 431, text: 'Request Header Fields Too Large' };
  return null;
}

function routeOf(pathname: string): string {
  if (pathname === '/identity') return ROUTES.identity;
  if (pathname === '/library/sections' || pathname === '/library/sections/') return ROUTES.sections;
  if (/^\/library\/sections\/[^/]+\/all\/?$/.test(pathname)) return ROUTES.sectionAll;
  if (/^\/library\/sections\/[^/]+\/refresh\/?$/.test(pathname)) return ROUTES.refresh;
  if (/^\/library\/metadata\/[^/]+\/?$/.test(pathname)) return ROUTES.metadata;
  if (/^\/library\/metadata\/[^/]+\/posters\/?$/.test(pathname)) return ROUTES.posters;
  if (/^\/library\/metadata\/[^/]+\/poster\/?$/.test(pathname)) return ROUTES.posterSelect;
  if (/^\/library\/metadata\/[^/]+\/arts\/?$/.test(pathname)) return ROUTES.arts;
  if (/^\/library\/metadata\/[^/]+\/art\/?$/.test(pathname)) return ROUTES.artSelect;
  if (pathname === '/:/rate') return ROUTES.rate;
  return ROUTES.unknown;
}

function pathWithoutToken(url: URL): string {
  const q = new URLSearchParams(url.searchParams);
  q.delete('X-Plex-Token');
  const qs = q.toString();
  return qs ? `${url.pathname}?${qs}` : url.pathname;
}

/** A Plex parameter sent as a header or in the query (Plex reads both), or null. */
function plexParam(req: IncomingMessage, url: URL, name: string): string | null {
  const header = req.headers[name.toLowerCase()];
  if (typeof header === 'string') return header;
  return url.searchParams.get(name);
}

function intParam(v: string | string[] | null | undefined, fallback: number): number {
  const n = Number(Array.isArray(v) ? v[0] : v);
  return v === null || v === undefined || !Number.isInteger(n) || n < 0 ? fallback : n;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new HttpError(413, 'Request Entity Too Large'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function escapeXml(s: string): string {
  return s.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]!);
}

/** Without `Accept: application/json` Plex answers XML; a minimal container is enough here. */
function xmlOf(body: unknown): string {
  const mc = (body as { MediaContainer?: Record<string, unknown> } | undefined)?.MediaContainer ?? {};
  const attrs = Object.entries(mc)
    .filter(([, v]) => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean')
    .map(([k, v]) => ` ${k}="${escapeXml(String(typeof v === 'boolean' ? Number(v) : v))}"`)
    .join('');
  return `<?xml version="1.0" encoding="UTF-8"?>\n<MediaContainer${attrs}>\n</MediaContainer>\n`;
}

function write(res: ServerResponse, status: number, reply: Reply, json: boolean): void {
  if (res.writableEnded || res.destroyed) return;
  for (const [k, v] of Object.entries(reply.headers ?? {})) res.setHeader(k, v);
  if (status >= 400) {
    const text = typeof reply.body === 'string' ? reply.body : String(status);
    res.writeHead(status, { 'Content-Type': 'text/html' });
    res.end(`<html><head><title>${escapeXml(text)}</title></head><body><h1>${status} ${escapeXml(text)}</h1></body></html>`);
    return;
  }
  if (reply.body === undefined) {
    res.writeHead(status);
    res.end();
    return;
  }
  if (json) {
    res.writeHead(status, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(reply.body));
  } else {
    res.writeHead(status, { 'Content-Type': 'text/xml;charset=utf-8' });
    res.end(xmlOf(reply.body));
  }
}

function snapshot(i: Item, actorThumbs: ReadonlyMap<string, string>): SimItemState {
  const scalars = Object.fromEntries(SIM_SCALARS.map((f) => [f, i[f]])) as Record<SimScalar, string>;
  const tags = Object.fromEntries(SIM_TAGS.map((f) => [f, [...i[f]]])) as Record<SimTag, string[]>;
  return {
    ...scalars,
    ...tags,
    ratingKey: i.ratingKey,
    sectionKey: i.sectionKey,
    userRating: i.userRating,
    files: [...i.files],
    locked: [...i.locked].sort(),
    poster: selectedImageOf(i, 'poster'),
    posterKey: i.selectedPoster,
    posters: i.posters.map((p) => p.ratingKey),
    art: selectedImageOf(i, 'art'),
    artKey: i.selectedArt,
    arts: i.arts.map((p) => p.ratingKey),
    actorThumbs: Object.fromEntries(i.actor.filter((a) => actorThumbs.has(a)).map((a) => [a, actorThumbs.get(a)!])),
    updatedAt: i.updatedAt,
  };
}

function selectedImageOf(i: Item, kind: ImageKind): SimItemState['poster'] {
  const { list, selected } = imagesOf(i, kind);
  const p = list.find((x) => x.ratingKey === selected);
  return p ? { bytes: p.bytes, sha256: p.sha256, contentType: p.contentType } : null;
}
