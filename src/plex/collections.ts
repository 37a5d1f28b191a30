// A section's collections: Plex library items of type 18 (python-plexapi plexapi/collection.py
// `Collection`; plexapi/utils.py SEARCHTYPES collection: 18). Found by title in the section's listing
// (plexapi/library.py `collections()` → `GET /library/sections/{key}/all?type=18`), read by ratingKey
// (`GET /library/metadata/{ratingKey}`: summary, `Field` locks, childCount), edited through the section
// like any item (plexapi/base.py `_edit` → plexapi/library.py `LibrarySection._edit`: `PUT
// /library/sections/{key}/all?type=18&id={ratingKey}&summary.value=…&summary.locked=1`), given a
// poster by upload (plexapi/mixins.py PosterMixin `uploadPoster`: `POST /library/metadata/{ratingKey}/posters`)
// then locked (`thumb.locked=1`, `lockPoster`), and deleted (plexapi/base.py `delete`: `DELETE
// /library/metadata/{ratingKey}`). A collection is made by Plex itself when an item first gets its tag.
import { z } from 'zod';
import { SyncError } from '../core/errors.js';
import type { PlexTransport } from './transport.js';

/** A collection as stash2plex reads it. */
export interface PlexCollection {
  ratingKey: string;
  title: string;
  summary: string;
  /** Members (Plex's childCount). */
  childCount: number;
  /** Locked field names (`Field[{name, locked}]`: only in the metadata read). */
  locked: string[];
  /** Plex's URL of its poster (`/library/metadata/{ratingKey}/thumb/{time}`); absent: none. */
  thumb?: string;
  /** Its library section (`librarySectionID`), when Plex says. */
  sectionKey?: string;
}

/** Plex's search type of a collection. */
export const COLLECTION_SEARCH_TYPE = '18';

const count = z.union([z.string(), z.number()]).transform((v) => Number(v) || 0);
const collectionShape = z.object({
  ratingKey: z.union([z.string(), z.number()]).transform(String),
  title: z.string(),
  summary: z.string().optional(),
  childCount: count.optional(),
  thumb: z.string().optional(),
  librarySectionID: z.union([z.string(), z.number()]).transform(String).optional(),
  Field: z.array(z.object({ name: z.string(), locked: z.union([z.boolean(), z.number()]).optional() })).optional(),
});
const containerShape = z.object({ MediaContainer: z.object({ Metadata: z.array(collectionShape).optional() }) });

const toCollection = (c: z.infer<typeof collectionShape>): PlexCollection => ({
  ratingKey: c.ratingKey,
  title: c.title,
  summary: c.summary ?? '',
  childCount: c.childCount ?? 0,
  locked: (c.Field ?? []).filter((f) => f.locked === true || f.locked === 1).map((f) => f.name),
  ...(c.thumb ? { thumb: c.thumb } : {}),
  ...(c.librarySectionID ? { sectionKey: c.librarySectionID } : {}),
});

const metadataPath = (ratingKey: string) => `/library/metadata/${encodeURIComponent(ratingKey)}`;

export class PlexCollections {
  constructor(private readonly http: PlexTransport) {}

  /** The section's collection of exactly this title (Plex's `title=` matches parts of titles), or null. */
  async findCollection(sectionKey: string, title: string): Promise<PlexCollection | null> {
    const path = `/library/sections/${encodeURIComponent(sectionKey)}/all`;
    const query = new URLSearchParams({ type: COLLECTION_SEARCH_TYPE, title });
    const { json } = await this.http.json('GET', path, { query });
    const listed = this.http.parsed('GET', path, () => containerShape.parse(json).MediaContainer.Metadata ?? []);
    const found = listed.find((c) => c.title === title);
    return found ? toCollection(found) : null;
  }

  /** One collection by ratingKey, with its locks. */
  async collection(ratingKey: string): Promise<PlexCollection> {
    const path = metadataPath(ratingKey);
    const { json } = await this.http.json('GET', path);
    const [found] = this.http.parsed('GET', path, () => containerShape.parse(json).MediaContainer.Metadata ?? []);
    if (!found) throw new SyncError('PlexNotFound', `GET ${path} → no collection in the answer`);
    return toCollection(found);
  }

  /**
   * Sets a collection's title and summary (undefined: left), each locked so an agent refresh keeps it,
   * but for the fields of `unlock` (`summary`, `thumb`: a restore puts back a lock that was not set).
   */
  async editCollection(
    sectionKey: string,
    ratingKey: string,
    fields: { title?: string; summary?: string },
    unlock: readonly string[] = [],
  ): Promise<void> {
    const query = new URLSearchParams({ type: COLLECTION_SEARCH_TYPE, id: ratingKey });
    for (const [field, value] of Object.entries(fields)) {
      if (value === undefined) continue;
      query.set(`${field}.value`, value);
      query.set(`${field}.locked`, '1');
    }
    for (const field of unlock) query.set(`${field}.locked`, '0');
    await this.http.send('PUT', `/library/sections/${encodeURIComponent(sectionKey)}/all`, { query });
  }

  /** Uploads a collection's poster, then locks it (`thumb.locked=1`). */
  async uploadCollectionPoster(sectionKey: string, ratingKey: string, bytes: Uint8Array, contentType: string): Promise<void> {
    await this.http.send('POST', `${metadataPath(ratingKey)}/posters`, {
      body: new Uint8Array(bytes),
      headers: { 'Content-Type': contentType },
    });
    const query = new URLSearchParams({ type: COLLECTION_SEARCH_TYPE, id: ratingKey, 'thumb.locked': '1' });
    await this.http.send('PUT', `/library/sections/${encodeURIComponent(sectionKey)}/all`, { query });
  }

  async deleteCollection(ratingKey: string): Promise<void> {
    await this.http.send('DELETE', metadataPath(ratingKey));
  }
}
