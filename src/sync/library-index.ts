// Reconcile Library's index of the allowed libraries' files: a Redis hash `<reconcileIndex>:<runId>`,
// built once per run on first need (listing pages of 1000) and deleted at its end, with the matching
// rules of a sync (docs/MATCHING.md): `p:<path>` → ratingKey, `n:<base name>:<size>` → ratingKey and file.
//
// Redis may lose the hash mid-run (maxmemory eviction, FLUSHDB, a restart without persistence), and a
// lookup in a lost or half-written index would call every scene "not in Plex". So the hash carries a
// header: `#run` (the run id, written before the first entry) and `#files` (how many files were listed,
// written once the listing is complete). Every lookup reads the header in its own HMGET: Redis drops a
// hash whole, never a field of it, so a lookup that sees its header read the complete index. A lost
// index is rebuilt once; lost again, the run fails with ReconcileIndexLost.
import type { Logger } from '../core/log.js';
import { ReconcileIndexLost } from '../core/errors.js';
import type { RedisConnection } from '../core/redis.js';
import type { StashScene } from '../model/types.js';
import type { PlexFile } from '../plex/listing.js';
import { baseName } from '../plex/paths.js';

/** How long an index outlives its run's last lookup (a crashed run's is not kept for ever). */
export const INDEX_TTL_MS = 3_600_000;
/** Header fields (entries start with `p:` or `n:`). */
export const INDEX_RUN_FIELD = '#run';
export const INDEX_FILES_FIELD = '#files';
/** Rebuilds of a lost index per run; one more loss fails the run. */
export const MAX_INDEX_REBUILDS = 1;
const AMBIGUOUS = '*';

/** A file an item should hold, and that item. */
export interface Candidate {
  ratingKey: string;
  file: string;
}

/** What the index needs of the Plex client (PlexClient: MATCH_FALLBACK, locations.ts plexPathOf, listing.ts libraryFiles). */
export interface IndexPlexPort {
  readonly matchFallback: 'basename' | 'none';
  plexPathOf(stashPath: string): string;
  libraryFiles(): AsyncIterable<PlexFile[]>;
}

export interface LibraryIndexDeps {
  plex: IndexPlexPort;
  redis: RedisConnection;
  /** `keys.reconcileIndex`: the hash is `<keyPrefix>:<runId>`. */
  keyPrefix: string;
  log?: Pick<Logger, 'info' | 'warn'>;
}

/** Whether the header a lookup read is this run's complete index (a lost hash reads as two nulls). */
export function isIndexComplete(
  header: readonly [run: string | null | undefined, files: string | null | undefined],
  expected: { runId: string; files: number },
): boolean {
  return header[0] === expected.runId && header[1] === String(expected.files);
}

/** What a run does on finding its index lost, after `rebuilds` rebuilds: build it again, or fail. */
export function onIndexLost(rebuilds: number): 'rebuild' | 'fail' {
  return rebuilds < MAX_INDEX_REBUILDS ? 'rebuild' : 'fail';
}

/** An index field: the exact path, or base name (any case) and size. */
const pathField = (plexPath: string) => `p:${plexPath}`;
const nameField = (plexPath: string, size: number) => `n:${baseName(plexPath).toLowerCase()}:${size}`;

/** An index value: `ratingKey` or `ratingKey<TAB>file`. */
function entryOf(value: string): Candidate {
  const [ratingKey = '', file = ''] = value.split('\t');
  return { ratingKey, file };
}

export class LibraryIndex {
  readonly key: string;
  /** The listing's file count once built (null: not built, or lost). */
  private built: Promise<number> | null = null;
  private rebuilds = 0;

  constructor(
    private readonly deps: LibraryIndexDeps,
    private readonly runId: string,
  ) {
    this.key = `${deps.keyPrefix}:${runId}`;
  }

  /** Candidates for each scene (its first file the index knows), null where none or ambiguous. */
  async lookup(scenes: readonly StashScene[]): Promise<{ candidate: Candidate | null; ambiguous: boolean }[]> {
    const fallback = this.deps.plex.matchFallback === 'basename';
    const asks = scenes.map((s) =>
      s.files.map((f) => {
        const plexPath = this.deps.plex.plexPathOf(f.path);
        const size = fallback && typeof f.size === 'number' && Number.isFinite(f.size) ? f.size : null;
        return { plexPath, fields: [pathField(plexPath), ...(size === null ? [] : [nameField(plexPath, size)])] };
      }),
    );
    const fields = asks.flat().flatMap((a) => a.fields);
    for (;;) {
      const files = await (this.built ??= this.build());
      // The TTL counts from the last lookup, so a run longer than it keeps its index.
      const replies = failedReply(
        await this.deps.redis
          .pipeline()
          .hmget(this.key, INDEX_RUN_FIELD, INDEX_FILES_FIELD, ...fields)
          .pexpire(this.key, INDEX_TTL_MS)
          .exec(),
      );
      const [run, count, ...values] = replies[0]?.[1] as (string | null)[];
      if (isIndexComplete([run, count], { runId: this.runId, files })) return candidatesOf(asks, values);
      this.lost('before a lookup');
      this.built = null;
    }
  }

  /** Throws once the rebuilds are spent; otherwise counts the rebuild about to happen. */
  private lost(when: string): void {
    if (onIndexLost(this.rebuilds) === 'fail') {
      throw new ReconcileIndexLost(
        `the index of Plex's files this run keeps in Redis (${this.key}) was lost ${when}, after ${this.rebuilds} rebuild(s)`,
      );
    }
    this.rebuilds++;
    this.deps.log?.warn(
      { key: this.key, when },
      `reconcile library: the index of Plex's files in Redis was lost ${when} (evicted or flushed?); building it again`,
    );
  }

  /** Lists the libraries into the hash; the header's count is written only once the listing is whole. */
  private async build(): Promise<number> {
    for (;;) {
      const started = Date.now();
      failedReply(
        await this.deps.redis.multi().del(this.key).hset(this.key, INDEX_RUN_FIELD, this.runId).pexpire(this.key, INDEX_TTL_MS).exec(),
      );
      let files = 0;
      for await (const page of this.deps.plex.libraryFiles()) {
        await this.add(page);
        files += page.length;
      }
      // Lost during the listing: later pages made a new hash without `#run`.
      if ((await this.deps.redis.hget(this.key, INDEX_RUN_FIELD)) === this.runId) {
        await this.deps.redis.hset(this.key, INDEX_FILES_FIELD, String(files));
        this.deps.log?.info({ files, ms: Date.now() - started }, `reconcile library: indexed ${files} Plex files`);
        return files;
      }
      this.lost('while it was being built');
    }
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
    // A hash lost and made again by these writes has no TTL of its own yet.
    pipe.pexpire(this.key, INDEX_TTL_MS);
    // A refused write (OOM under noeviction) fails the run as itself, not as a file Plex lacks.
    const results = failedReply(await pipe.exec());
    const clashes = entries.filter((_, i) => results[i]?.[1] === 0);
    if (clashes.length === 0) return;
    const held = await this.deps.redis.hmget(this.key, ...clashes.map(([field]) => field));
    const ambiguous = clashes.filter(
      ([, value], i) => held[i] !== AMBIGUOUS && entryOf(held[i] ?? '').ratingKey !== entryOf(value).ratingKey,
    );
    if (ambiguous.length) await this.deps.redis.hset(this.key, Object.fromEntries(ambiguous.map(([field]) => [field, AMBIGUOUS])));
  }

  async drop(): Promise<void> {
    if (this.built) await this.deps.redis.del(this.key);
  }
}

/** A pipeline's or transaction's replies, or its first error thrown (ioredis answers errors in the list). */
function failedReply(replies: [Error | null, unknown][] | null): [Error | null, unknown][] {
  if (!replies) throw new Error('Redis discarded the transaction');
  const failed = replies.find(([err]) => err);
  if (failed) throw failed[0] as Error;
  return replies;
}

/** Each scene's candidate from the values its fields read (in order), or why there is none. */
function candidatesOf(asks: readonly { plexPath: string; fields: string[] }[][], values: readonly (string | null)[]) {
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
