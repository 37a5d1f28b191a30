// Section listings: `GET /library/sections/{key}/all`, always paged (a server may ignore a filter and
// answer a whole section), the `file=` and `title=` searches with their exact comparison of Part.file,
// the memory of a section that refused `file=` (400), and every file of the allowed libraries.
import { SyncError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { BadItemLog } from './bad-items.js';
import { allowedSections, normalisePlexPath } from './paths.js';
import { parseListingPage, type PlexMetadata } from './schemas.js';
import type { PlexServer } from './server.js';
import { label, type PlexTransport } from './transport.js';

/**
 * Page size of every listing (the `file=` and `title=` searches and the scan alike): a server may ignore
 * a filter and answer a whole section, so no listing is ever unbounded. Plex pages up to 1000 well.
 */
export const LIST_PAGE_SIZE = 1_000;
/** Safety stop of one paged listing (1000 × 5000 = five million items). */
const MAX_LIST_PAGES = 5_000;

/** One file of a Plex item, as a listing shows it (`file` normalised: '/' separators). */
export interface PlexFile {
  ratingKey: string;
  file: string;
  /** Part.size in bytes; null when Plex does not say. */
  size: number | null;
}

/** Told of each item a search listed, and whether it holds the file looked for. */
export type SeenItem = (item: PlexMetadata, held: boolean) => void;

export interface ListingOptions {
  /** Library section titles listed by libraryFiles (null: all movie-type sections). */
  libraries: string[] | null;
  /** Items per listing page (default and maximum LIST_PAGE_SIZE). */
  pageSize?: number;
  /** Where a section refusing `file=` is reported. */
  log?: Pick<Logger, 'warn'>;
}

export class PlexListing {
  private readonly pageSize: number;
  /**
   * Per section key, whether its listing takes `file=`: true once it answered one, false once it answered
   * 400 (not asked again in this process), or the first ask still under way (the others wait for it).
   */
  private readonly fileFilterTaken = new Map<string, boolean | Promise<unknown>>();

  constructor(
    private readonly http: PlexTransport,
    private readonly server: PlexServer,
    private readonly badItems: BadItemLog,
    private readonly opts: ListingOptions,
  ) {
    this.pageSize = Math.min(Math.max(1, opts.pageSize ?? LIST_PAGE_SIZE), LIST_PAGE_SIZE);
  }

  /**
   * Items of one (filtered) listing whose Part.file is exactly the target: every page, keeping only those.
   * `seen` is told of every item listed and whether it holds the target (what `npm run explain` shows).
   */
  async search(sectionKey: string, target: string, filter: Record<string, string> = {}, seen?: SeenItem): Promise<PlexMetadata[]> {
    const found: PlexMetadata[] = [];
    for await (const items of this.pages(sectionKey, filter)) {
      for (const m of items) {
        const held = holds(m, target);
        seen?.(m, held);
        if (held) found.push(m);
      }
    }
    return found;
  }

  /**
   * The `file=` search of a section, unless the section refused it: a Plex that answers 400 to the filter
   * is asked no more in this process (logged once), and resolution goes on as after an empty answer (the
   * title search, then the paged listing). Until a section's first answer, other asks wait for it.
   */
  async searchByFile(sectionKey: string, target: string, file: string, seen?: SeenItem): Promise<PlexMetadata[]> {
    let taken = this.fileFilterTaken.get(sectionKey);
    while (taken instanceof Promise) {
      await taken.catch(() => undefined);
      taken = this.fileFilterTaken.get(sectionKey);
    }
    if (taken === false) return [];
    const search = this.search(sectionKey, target, { file }, seen);
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
      this.opts.log?.warn(
        { sectionKey },
        'Plex refuses the file= filter on this library section (400): files are found by title and by paged listing',
      );
      return [];
    }
  }

  /**
   * The pages of `GET /library/sections/{key}/all?type=1&<filter>`, each bounded by
   * X-Plex-Container-Start/-Size, until the server's totalSize is reached (or a short or empty page, or
   * an over-long one: a server that ignored paging sent everything at once).
   */
  async *pages(sectionKey: string, filter: Record<string, string>): AsyncGenerator<PlexMetadata[]> {
    const path = sectionPath(sectionKey);
    const size = this.pageSize;
    for (let page = 0, start = 0; page < MAX_LIST_PAGES; page++, start += size) {
      const { json, res } = await this.http
        .json('GET', path, {
          query: new URLSearchParams({ type: '1', ...filter }),
          headers: { 'X-Plex-Container-Start': String(start), 'X-Plex-Container-Size': String(size) },
        })
        .catch((err: unknown) => this.listingFailed(err, sectionKey));
      const { items, bad, listed, totalSize } = this.http.parsed('GET', path, () => parseListingPage(json));
      // A malformed item is left out (logged once); the rest of the page, and the paging, go on.
      this.badItems.note(label('GET', path), bad);
      yield items;
      const total = totalSize ?? numberHeader(res, 'X-Plex-Container-Total-Size');
      if (listed !== size || (total !== null && start + listed >= total)) return;
    }
  }

  /** A listing's 404 is the section's absence only while Plex no longer lists the section; otherwise it is not Plex's answer. */
  private async listingFailed(err: unknown, sectionKey: string): Promise<never> {
    if (err instanceof SyncError && err.type === 'PlexNotFound' && (await this.server.sections(true)).some((x) => x.key === sectionKey))
      throw this.http.notFromPlex(err);
    throw err;
  }

  /** The first page of one item of a section's listing, read and parsed: throws unless the section answers normally. */
  async answers(sectionKey: string): Promise<void> {
    const path = sectionPath(sectionKey);
    const { json } = await this.http.json('GET', path, {
      query: new URLSearchParams({ type: '1' }),
      headers: { 'X-Plex-Container-Start': '0', 'X-Plex-Container-Size': '1' },
    });
    this.http.parsed('GET', path, () => parseListingPage(json));
  }

  /** Every file of the allowed libraries, a listing page (LIST_PAGE_SIZE items) at a time. */
  async *libraryFiles(): AsyncGenerator<PlexFile[]> {
    for (const section of allowedSections(await this.server.sections(), this.opts.libraries)) {
      for await (const items of this.pages(section.key, {})) {
        yield items.flatMap((m) =>
          m.Media.flatMap((md) => md.Part).flatMap((p) =>
            p.file ? [{ ratingKey: m.ratingKey, file: normalisePlexPath(p.file), size: p.size ?? null }] : [],
          ),
        );
      }
    }
  }
}

const sectionPath = (sectionKey: string) => `/library/sections/${encodeURIComponent(sectionKey)}/all`;

/** Whether an item has a part whose file is exactly the (normalised) target. */
export function holds(metadata: PlexMetadata, target: string): boolean {
  return metadata.Media.some((md) => md.Part.some((p) => typeof p.file === 'string' && normalisePlexPath(p.file) === target));
}

function numberHeader(res: Response, name: string): number | null {
  const v = Number(res.headers.get(name));
  return res.headers.has(name) && Number.isFinite(v) ? v : null;
}
