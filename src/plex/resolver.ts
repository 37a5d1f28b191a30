// The Plex item holding a Stash file (docs/MATCHING.md): the path cache's entry verified, the filtered
// searches, the paged pass and its fallback; and the proof that a cached item is gone. What is forgotten
// when one is gone is the caller's business (the ownership records belong to src/sync): the resolver only
// reports the ratingKey it dropped from the path cache (ResolveOptions.onGone).
import { SyncError } from '../core/errors.js';
import type { PlexItem } from '../model/types.js';
import type { BaseNameFallback, SameFile } from './fallback.js';
import type { PlexItems } from './items.js';
import type { PlexListing } from './listing.js';
import type { PlexLocations } from './locations.js';
import type { CacheEntry, MatchVia, PlexPathCache } from './path-cache.js';
import { baseName, inLocationStyle, normalisePlexPath, titleGuess, type SectionMatch } from './paths.js';
import type { PlexMetadata } from './schemas.js';
import type { PlexTransport } from './transport.js';

export type { MatchVia } from './path-cache.js';

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

/** Where a resolution found an item it looked at. */
export type CandidateSource = 'cache' | 'file=' | 'title=' | 'listing' | 'basename';

/** One Plex item a resolution looked at, and why it was taken or refused (what `npm run explain` shows). */
export interface Candidate {
  ratingKey: string;
  /** The item's files (the base-name fallback: the one file of the same name and size). */
  files: string[];
  source: CandidateSource;
  taken: boolean;
  why: string;
}

/**
 * Told what a resolution does, step by step: the path it looks for (PATH_MAP applied) and the library
 * section chosen, then each candidate with why it was taken or refused. Resolution never depends on it.
 */
export interface ResolveTrace {
  path(p: { stashPath: string; plexPath: string; section: { key: string; title: string; location: string } | null }): void;
  candidate(c: Candidate): void;
}

const filesOf = (m: PlexMetadata): string[] => m.Media.flatMap((md) => md.Part.flatMap((p) => (p.file ? [p.file] : [])));

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
  /** Told each step and candidate (`npm run explain`). */
  trace?: ResolveTrace;
}

/** What a cached entry turned out to be: the item, an item that moved on, a 404, or a fallback match to check again. */
type CacheVerdict = { kind: 'hit'; resolved: ResolvedItem } | { kind: 'moved' } | { kind: 'missing' } | { kind: 'recheck' };

export interface ResolverParts {
  http: PlexTransport;
  locations: PlexLocations;
  listing: PlexListing;
  items: PlexItems;
  cache: PlexPathCache;
  fallback: BaseNameFallback;
  /** MATCH_FALLBACK: after the exact path, the one file with the same base name and size. */
  matchFallback: 'basename' | 'none';
}

export class PlexResolver {
  constructor(private readonly resolverParts: ResolverParts) {}

  /**
   * The Plex item holding a Stash file: path mapped, section chosen by longest location prefix, then the
   * cached ratingKey (verified), the `file=` filter and the title filter, each followed by an exact
   * comparison of Part.file. When those find nothing, one paged pass over the allowed libraries looks for
   * the exact path and (MATCH_FALLBACK=basename, `size` known) for the one part with the same base name,
   * any case, and the same size. Throws PlexNotFound (none) or AmbiguousMatch (several). A cached item
   * that answers 404 is looked for afresh; it is reported gone (onGone) only once proven.
   */
  async resolveItem(stashPath: string, size: number | null = null, opts: ResolveOptions = {}): Promise<ResolvedItem> {
    const read = opts.read ?? ((k, s) => this.resolverParts.items.getItem(k, s));
    const plexPath = this.resolverParts.locations.mapped(stashPath);
    const target = normalisePlexPath(plexPath);
    const match = await this.resolverParts.locations.sectionMatch(plexPath);
    opts.trace?.path({
      stashPath,
      plexPath,
      section: match && { key: match.section.key, title: match.section.title, location: match.location },
    });
    const cached = await this.resolverParts.cache.entry(target);
    const verdict = cached ? await this.verifyCached(cached, target, match?.section.key ?? '', read) : null;
    if (cached && verdict) opts.trace?.candidate(cacheCandidate(cached, verdict));
    if (verdict?.kind === 'hit') return verdict.resolved;
    const fresh = () => this.resolveFresh(stashPath, plexPath, size, match, opts);
    return verdict?.kind === 'missing' ? this.resolveAfterMissing(cached!, target, fresh, opts) : fresh();
  }

  /**
   * Reads a cached entry's item: a hit when it still holds the file; 'moved' when it holds others (a
   * successful read proves the entry stale: it is deleted); 'missing' on a 404 (proof of nothing yet:
   * kept); 'recheck' for a base-name match cached before the latest folder scan (the file may now be in
   * Plex under its own path). Anything else (Plex down…) is the caller's problem.
   */
  private async verifyCached(cached: CacheEntry, target: string, sectionKey: string, read: ItemReader): Promise<CacheVerdict> {
    if (cached.via === 'fallback' && cached.cachedAt <= (await this.resolverParts.cache.lastScanAt())) return { kind: 'recheck' };
    let item: PlexItem;
    try {
      item = await read(cached.ratingKey, sectionKey);
    } catch (err) {
      if (err instanceof SyncError && err.type === 'PlexNotFound') return { kind: 'missing' };
      throw err;
    }
    const held = normalisePlexPath(cached.file);
    if (item.files.some((f) => normalisePlexPath(f) === held)) {
      return {
        kind: 'hit',
        resolved: { ratingKey: cached.ratingKey, sectionKey: item.sectionKey || sectionKey, item, via: cached.via, cached: true },
      };
    }
    await this.resolverParts.cache.drop(target);
    return { kind: 'moved' };
  }

  /**
   * The cached item answered 404: perhaps gone, perhaps a proxy's answer while Plex restarts. Nothing is
   * dropped on that alone: the file is looked for afresh, and the cached item is reported gone only when
   * a second read after a normal answer from its section still says 404.
   */
  private async resolveAfterMissing(
    cached: CacheEntry,
    target: string,
    fresh: () => Promise<ResolvedItem>,
    opts: ResolveOptions,
  ): Promise<ResolvedItem> {
    let found: ResolvedItem;
    try {
      found = await fresh();
    } catch (err) {
      if (err instanceof SyncError && err.type === 'PlexNotFound' && (await this.confirmGone(cached.ratingKey, cached.file))) {
        await this.resolverParts.cache.drop(target);
        await opts.onGone?.(cached.ratingKey, null);
      }
      throw err;
    }
    if (found.ratingKey !== cached.ratingKey && (await this.confirmGone(cached.ratingKey, cached.file)))
      await opts.onGone?.(cached.ratingKey, found.ratingKey);
    return found;
  }

  /**
   * The path cache's entries for these Stash files (PATH_MAP applied), in one HMGET: the ratingKey and
   * the Plex file it stood for (unverified: the caller checks the item still holds it). Null where there
   * is none, and everywhere without Redis or when Redis fails (the cache is advisory).
   */
  async cachedMatches(stashPaths: readonly string[]): Promise<({ ratingKey: string; file: string } | null)[]> {
    return this.resolverParts.cache.matches(stashPaths.map((p) => this.resolverParts.locations.plexPathOf(p)));
  }

  /**
   * Whether an item is proven gone: the section holding `plexFile` answers a listing normally, and a
   * single read of the key, after it, is still 404. Any other answer (an error, the item) is no proof.
   */
  async confirmGone(ratingKey: string, plexFile: string): Promise<boolean> {
    try {
      const section = (await this.resolverParts.locations.sectionOf(plexFile))?.section.key;
      if (section === undefined) return false;
      await this.resolverParts.listing.answers(section);
    } catch {
      return false;
    }
    try {
      await this.resolverParts.items.getItem(ratingKey);
      return false;
    } catch (err) {
      return err instanceof SyncError && err.type === 'PlexNotFound';
    }
  }

  /** Resolution without the cache: the filtered searches, then the paged pass (and its fallback). */
  private async resolveFresh(
    stashPath: string,
    plexPath: string,
    size: number | null,
    match: SectionMatch | null,
    opts: ResolveOptions,
  ): Promise<ResolvedItem> {
    const { lastSyncedTo, trace } = opts;
    const target = normalisePlexPath(plexPath);
    const refused = (source: CandidateSource) =>
      trace &&
      ((m: PlexMetadata, held: boolean) => {
        if (!held) trace.candidate({ ratingKey: m.ratingKey, files: filesOf(m), source, taken: false, why: `does not hold ${target}` });
      });
    if (match) {
      const sectionKey = match.section.key;
      // `file=` is undocumented and may be ignored (the whole section comes back): paged, matches only.
      const byFile = await this.resolverParts.listing.searchByFile(
        sectionKey,
        target,
        inLocationStyle(plexPath, match.location),
        refused('file='),
      );
      if (byFile.length > 0) return this.settle(byFile, target, sectionKey, 'file=', trace);
      const guess = titleGuess(plexPath);
      const byTitle = guess ? await this.resolverParts.listing.search(sectionKey, target, { title: guess }, refused('title=')) : [];
      if (byTitle.length > 0) return this.settle(byTitle, target, sectionKey, 'title=', trace);
    }
    const fallback = this.resolverParts.matchFallback === 'basename' && size !== null && Number.isFinite(size);
    if (!match && !fallback) throw this.noSection(stashPath, plexPath);
    // Last resort: every page (all of it, so a second holder is noticed), keeping matches only.
    const sections = match && !fallback ? [match.section] : await this.resolverParts.locations.allowedSections();
    const found = await this.resolverParts.fallback.scanFor(sections, target, fallback ? size : null);
    if (found.exact.length > 0 || !fallback) return this.settle(found.exact, target, match?.section.key ?? '', 'listing', trace);
    const sameFile = await this.resolverParts.fallback.notLeftBehind(found.sameFile, lastSyncedTo);
    if (trace) traceSameFile(trace, found.sameFile, sameFile, size);
    if (sameFile.length === 1) {
      await this.resolverParts.fallback.accept(sameFile[0], stashPath, target);
      return {
        ratingKey: sameFile[0].item.ratingKey,
        sectionKey: sameFile[0].item.librarySectionID ?? '',
        via: 'fallback',
        cached: false,
      };
    }
    if (sameFile.length > 1) {
      const where = sameFile.map((f) => `${f.item.ratingKey} (${f.file})`).join(', ');
      throw this.resolverParts.http.scrub(
        new SyncError('AmbiguousMatch', `no item holds ${target}; several files named ${baseName(target)} of ${size} bytes: ${where}`),
      );
    }
    const left =
      found.sameFile.length > 0
        ? ` (its last item ${lastSyncedTo} still shows it at ${found.sameFile[0].file}: moved or renamed in Stash, not scanned by Plex at its new place yet?)`
        : '';
    if (!match) throw this.noSection(stashPath, plexPath, left || ` and no Plex file is named ${baseName(target)} with ${size} bytes`);
    throw this.notHeld(target, match.section.key, left);
  }

  /** Exactly one distinct item: cache and return it; several: AmbiguousMatch; none: PlexNotFound. */
  private async settle(
    found: PlexMetadata[],
    target: string,
    sectionKey: string,
    source: CandidateSource,
    trace?: ResolveTrace,
  ): Promise<ResolvedItem> {
    const ratingKeys = [...new Set(found.map((m) => m.ratingKey))];
    const why = ratingKeys.length > 1 ? `one of ${ratingKeys.length} items holding ${target} (AmbiguousMatch)` : `holds ${target} exactly`;
    for (const k of ratingKeys) {
      const files = filesOf(found.find((m) => m.ratingKey === k)!);
      trace?.candidate({ ratingKey: k, files, source, taken: ratingKeys.length === 1, why });
    }
    if (ratingKeys.length > 1) {
      throw this.resolverParts.http.scrub(
        new SyncError('AmbiguousMatch', `items ${ratingKeys.join(', ')} of library section ${sectionKey} all hold ${target}`),
      );
    }
    if (ratingKeys.length === 0) throw this.notHeld(target, sectionKey);
    const ratingKey = ratingKeys[0];
    await this.resolverParts.cache.set(target, ratingKey);
    return { ratingKey, sectionKey: found[0].librarySectionID ?? sectionKey, via: 'path', cached: false };
  }

  private noSection(stashPath: string, plexPath: string, more = ''): SyncError {
    const { libraries } = this.resolverParts.locations;
    const mapped = plexPath === normalisePlexPath(stashPath) ? '' : ` (mapped from ${stashPath})`;
    const scope = libraries ? `the libraries ${libraries.map((l) => `"${l}"`).join(', ')}` : 'any movie library';
    return this.resolverParts.http.scrub(
      new SyncError('PlexNotFound', `no location of ${scope} contains ${plexPath}${mapped}${more}; check PATH_MAP and PLEX_LIBRARIES`),
    );
  }

  private notHeld(target: string, sectionKey: string, more = ''): SyncError {
    return this.resolverParts.http.scrub(
      new SyncError('PlexNotFound', `no item in library section ${sectionKey} holds ${target}${more || ' (not scanned yet?)'}`),
    );
  }
}

/** The path cache's entry as a candidate: taken when its item still holds the file, else why it was looked past. */
function cacheCandidate(cached: CacheEntry, verdict: CacheVerdict): Candidate {
  const base = { ratingKey: cached.ratingKey, files: [cached.file], source: 'cache' as const };
  switch (verdict.kind) {
    case 'hit':
      return { ...base, taken: true, why: `the path cache's entry (${cached.via}), and the item still holds the file` };
    case 'moved':
      return { ...base, taken: false, why: 'the path cache named it, but it no longer holds the file (a sync drops the entry)' };
    case 'missing':
      return { ...base, taken: false, why: 'the path cache named it, but Plex answers 404 for it: looked for afresh' };
    case 'recheck':
      return { ...base, taken: false, why: 'a base-name match cached before the latest folder scan: looked for again under its own path' };
  }
}

/** The base-name fallback's files as candidates: the one taken, the one a moved file left behind, several alike. */
function traceSameFile(trace: ResolveTrace, all: readonly SameFile[], kept: readonly SameFile[], size: number | null): void {
  for (const f of all) {
    const base = { ratingKey: f.item.ratingKey, files: [f.file], source: 'basename' as const };
    if (!kept.includes(f)) {
      trace.candidate({ ...base, taken: false, why: "the scene's last item at its old place (moved in Stash, not scanned by Plex yet)" });
    } else if (kept.length === 1) {
      trace.candidate({
        ...base,
        taken: true,
        why: `the one Plex file of the same base name and size (${size} bytes; MATCH_FALLBACK=basename)`,
      });
    } else {
      trace.candidate({ ...base, taken: false, why: `one of ${kept.length} Plex files of the same base name and size (AmbiguousMatch)` });
    }
  }
}
