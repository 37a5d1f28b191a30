// Reconcile Library: every Stash scene and its Plex item, page by page, put in the gap classes of
// ./library-gaps.ts, and (unless a dry run) the scenes a sync would fix queued. Never the whole library
// in memory: a page of scenes (1000) at a time, and the Plex side in Redis.
//
// Finding the items cheaply, per page: the path cache first (one HMGET; the entries the workers wrote,
// verified against the item read), then, for what it does not know, an index of the allowed libraries'
// files built once per run in a Redis hash (listing pages of 1000: 100 requests for 100 000 items) with
// the matching rules of a sync (docs/MATCHING.md): the exact path after PATH_MAP, else the one file with
// the same base name and size (MATCH_FALLBACK=basename). The index is built only when the cache misses,
// so a library the workers have synced costs no listing. Items are read ITEMS_PER_REQUEST to a request
// (`GET /library/metadata/{k1},{k2},…`), a few requests at a time.
import { randomUUID } from 'node:crypto';
import type { Logger } from '../core/log.js';
import type { Keys, RedisConnection } from '../core/redis.js';
import type { PlexItem, StashScene } from '../model/types.js';
import type { PlexFile } from '../plex/client.js';
import { baseName, normalisePlexPath } from '../plex/paths.js';
import { classifyScene, emptyReport, tallyScene, type GapSettings, type LibraryReport } from './library-gaps.js';
import { readOwnership } from './ownership-store.js';

/** What the walk needs of the Stash client (src/stash-api/client.ts). */
export interface LibraryStashPort {
  scenePages(perPage?: number): AsyncIterable<{ count: number; scenes: StashScene[] }>;
}

/** What the walk needs of the Plex client (src/plex/client.ts). */
export interface LibraryPlexPort {
  readonly matchFallback: 'basename' | 'none';
  plexPathOf(stashPath: string): string;
  cachedMatches(stashPaths: readonly string[]): Promise<({ ratingKey: string; file: string } | null)[]>;
  libraryFiles(): AsyncIterable<PlexFile[]>;
  getItems(ratingKeys: readonly string[]): Promise<Map<string, PlexItem>>;
  covers(stashPath: string): Promise<boolean>;
}

export interface LibraryProgress {
  scanned: number;
  /** Scenes in Stash, as its last page said (they may come and go during the walk). */
  total: number;
  queued: number;
}

export interface LibraryReconcileDeps {
  stash: LibraryStashPort;
  plex: LibraryPlexPort;
  redis: RedisConnection;
  keys: Pick<Keys, 'own' | 'reconcileIndex'>;
  settings: GapSettings;
  /** Queues scene ids for a sync (bulk priority, deduplicated); absent: a dry run. */
  enqueue?: (sceneIds: string[]) => Promise<void>;
  onProgress?: (p: LibraryProgress) => void;
  log?: Pick<Logger, 'info'>;
  now?: () => number;
  /** Stash page size (default and most 1000). */
  perPage?: number;
  /** Item reads in flight at once (default 4, each of up to ITEMS_PER_REQUEST items). */
  itemConcurrency?: number;
  /** Keys of one item read (default 100, python-plexapi's page). */
  itemsPerRequest?: number;
}

/** How long a run's index outlives a crashed run. */
export const INDEX_TTL_MS = 3_600_000;
const AMBIGUOUS = '*';

/** An index field: the exact path, or base name (any case) and size. */
const pathField = (plexPath: string) => `p:${plexPath}`;
const nameField = (plexPath: string, size: number) => `n:${baseName(plexPath).toLowerCase()}:${size}`;

/** A file an item should hold, and that item. */
interface Candidate {
  ratingKey: string;
  file: string;
}

/** Runs `fn` over `items`, at most `limit` at once. */
async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const run = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, run));
  return out;
}

/** The run's index of the allowed libraries' files, in a Redis hash: built on first need, deleted at the end. */
class LibraryIndex {
  private built: Promise<void> | null = null;
  readonly key: string;

  constructor(
    private readonly deps: LibraryReconcileDeps,
    runId: string,
  ) {
    this.key = `${deps.keys.reconcileIndex}:${runId}`;
  }

  /** Candidates for each scene (its first file the index knows), null where none or ambiguous. */
  async lookup(scenes: readonly StashScene[]): Promise<{ candidate: Candidate | null; ambiguous: boolean }[]> {
    await (this.built ??= this.build());
    const fallback = this.deps.plex.matchFallback === 'basename';
    const asks = scenes.map((s) =>
      s.files.map((f) => {
        const plexPath = this.deps.plex.plexPathOf(f.path);
        const size = fallback && typeof f.size === 'number' && Number.isFinite(f.size) ? f.size : null;
        return { plexPath, fields: [pathField(plexPath), ...(size === null ? [] : [nameField(plexPath, size)])] };
      }),
    );
    const fields = asks.flat().flatMap((a) => a.fields);
    const values = fields.length ? await this.deps.redis.hmget(this.key, ...fields) : [];
    let at = 0;
    return asks.map((files) => {
      let candidate: Candidate | null = null;
      let ambiguous = false;
      for (const a of files) {
        const [exact, byName] = [values[at], a.fields.length > 1 ? values[at + 1] : null];
        at += a.fields.length;
        if (candidate) continue;
        if (exact && exact !== AMBIGUOUS) candidate = { ratingKey: exact, file: a.plexPath };
        else if (!exact && byName && byName !== AMBIGUOUS) candidate = entryOf(byName);
        else if (exact === AMBIGUOUS || byName === AMBIGUOUS) ambiguous = true;
      }
      return { candidate, ambiguous: candidate === null && ambiguous };
    });
  }

  private async build(): Promise<void> {
    const started = Date.now();
    let files = 0;
    for await (const page of this.deps.plex.libraryFiles()) {
      await this.add(page);
      if (files === 0) await this.deps.redis.pexpire(this.key, INDEX_TTL_MS);
      files += page.length;
    }
    this.deps.log?.info({ files, ms: Date.now() - started }, `reconcile library: indexed ${files} Plex files`);
  }

  /** HSETNX each entry; a field two different items claim becomes ambiguous. */
  private async add(page: readonly PlexFile[]): Promise<void> {
    const fallback = this.deps.plex.matchFallback === 'basename';
    const entries = page.flatMap((f) => [
      [pathField(f.file), f.ratingKey] as const,
      ...(fallback && f.size !== null ? [[nameField(f.file, f.size), `${f.ratingKey}\t${f.file}`] as const] : []),
    ]);
    if (entries.length === 0) return;
    const pipe = this.deps.redis.pipeline();
    for (const [field, value] of entries) pipe.hsetnx(this.key, field, value);
    const results = (await pipe.exec()) ?? [];
    const clashes = entries.filter((_, i) => results[i]?.[1] === 0);
    if (clashes.length === 0) return;
    const held = await this.deps.redis.hmget(this.key, ...clashes.map(([field]) => field));
    const ambiguous = clashes.filter(([, value], i) => held[i] !== AMBIGUOUS && entryOf(held[i] ?? '').ratingKey !== entryOf(value).ratingKey);
    if (ambiguous.length) await this.deps.redis.hset(this.key, Object.fromEntries(ambiguous.map(([field]) => [field, AMBIGUOUS])));
  }

  async drop(): Promise<void> {
    if (this.built) await this.deps.redis.del(this.key);
  }
}

/** An index value: `ratingKey` or `ratingKey<TAB>file`. */
function entryOf(value: string): Candidate {
  const [ratingKey = '', file = ''] = value.split('\t');
  return { ratingKey, file };
}

const holds = (item: PlexItem | undefined, file: string): item is PlexItem => !!item && item.files.some((f) => normalisePlexPath(f) === file);

/** The items of a page's candidates: ITEMS_PER_REQUEST keys a request, a few requests at once. */
async function readItems(deps: LibraryReconcileDeps, candidates: readonly (Candidate | null)[]): Promise<Map<string, PlexItem>> {
  const keys = [...new Set(candidates.filter((c): c is Candidate => c !== null).map((c) => c.ratingKey))];
  const per = deps.itemsPerRequest ?? 100;
  const chunks = Array.from({ length: Math.ceil(keys.length / per) }, (_, i) => keys.slice(i * per, (i + 1) * per));
  const maps = await mapLimit(chunks, deps.itemConcurrency ?? 4, (chunk) => deps.plex.getItems(chunk));
  return new Map(maps.flatMap((m) => [...m]));
}

/** Each scene's item (or null) and, without one, whether it is ambiguous. */
async function resolvePage(deps: LibraryReconcileDeps, index: LibraryIndex, scenes: readonly StashScene[]) {
  const cached = await deps.plex.cachedMatches(scenes.flatMap((s) => s.files.map((f) => f.path)));
  let at = 0;
  const fromCache = scenes.map((s) => {
    const mine = cached.slice(at, (at += s.files.length));
    return mine.find((c) => c !== null) ?? null;
  });
  const items = await readItems(deps, fromCache);
  const out = fromCache.map((c) => ({ item: c && holds(items.get(c.ratingKey), c.file) ? items.get(c.ratingKey)! : null, ambiguous: false }));
  const missing = scenes.flatMap((s, i) => (out[i]!.item ? [] : [i]));
  if (missing.length === 0) return out;
  const looked = await index.lookup(missing.map((i) => scenes[i]!));
  const more = await readItems(deps, looked.map((l) => l.candidate));
  missing.forEach((i, n) => {
    const { candidate, ambiguous } = looked[n]!;
    const item = candidate ? more.get(candidate.ratingKey) : undefined;
    out[i] = { item: candidate && holds(item, candidate.file) ? item : null, ambiguous };
  });
  return out;
}

/** Classifies one page into the report; returns the ids to queue. */
async function classifyPage(deps: LibraryReconcileDeps, index: LibraryIndex, scenes: readonly StashScene[], report: LibraryReport): Promise<string[]> {
  const resolved = await resolvePage(deps, index, scenes);
  const records = await Promise.all(resolved.map((r) => (r.item ? readOwnership(deps.redis, deps.keys, r.item.ratingKey) : {})));
  const toQueue: string[] = [];
  for (const [i, scene] of scenes.entries()) {
    const { item, ambiguous } = resolved[i]!;
    // Only asked when it could matter: the scan is the fix of a scene Plex does not hold.
    const scannable = !item && !ambiguous && deps.settings.scanMissing && (await anyCovered(deps, scene));
    const gaps = classifyScene({ scene, item, record: records[i]!, scannable }, deps.settings);
    tallyScene(report, scene.id, gaps);
    if (gaps.queue) toQueue.push(scene.id);
  }
  return toQueue;
}

async function anyCovered(deps: LibraryReconcileDeps, scene: StashScene): Promise<boolean> {
  for (const f of scene.files) if (await deps.plex.covers(f.path)) return true;
  return false;
}

/** The walk: every page of Stash's scenes, classified, the fixable ones queued (not in a dry run). */
export async function reconcileLibrary(deps: LibraryReconcileDeps): Promise<LibraryReport> {
  const now = deps.now ?? Date.now;
  const started = now();
  const report = emptyReport(!deps.enqueue, started);
  const index = new LibraryIndex(deps, randomUUID());
  try {
    for await (const { count, scenes } of deps.stash.scenePages(deps.perPage)) {
      const ids = await classifyPage(deps, index, scenes, report);
      if (deps.enqueue && ids.length > 0) {
        await deps.enqueue(ids);
        report.queued += ids.length;
      }
      deps.onProgress?.({ scanned: report.scanned, total: Math.max(count, report.scanned), queued: report.queued });
    }
  } finally {
    await index.drop().catch(() => undefined);
  }
  report.finishedAt = now();
  report.durationMs = report.finishedAt - started;
  return report;
}
