// The Plex simulator's collections: each a library item of type 18 under its section (python-plexapi
// plexapi/collection.py `Collection`, TYPE 'collection'; plexapi/utils.py SEARCHTYPES collection: 18),
// made when an item of the section first gets the collection's tag (`collection[i].tag.tag=`), listed by
// `GET /library/sections/{key}/all?type=18` (plexapi/library.py `collections()` → `search(libtype=
// 'collection')`), read by `GET /library/metadata/{ratingKey}` with its `childCount`, edited through the
// section like any item (plexapi/base.py `_edit` → plexapi/library.py `LibrarySection._edit`: `PUT
// /library/sections/{key}/all?type=18&id={ratingKey}&summary.value=…&summary.locked=1`), given posters
// as an item is (plexapi/collection.py: `Collection` has PosterMixin; plexapi/mixins.py `uploadPoster`,
// `posters()`, `setPoster`): each upload `upload://posters/<sha1 of the bytes>` joins its list, selected,
// `GET /library/metadata/{ratingKey}/posters` lists them, `PUT .../poster?url=` selects one again (and,
// as for an item, locks `thumb`); and deleted by `DELETE /library/metadata/{ratingKey}` (plexapi/base.py `delete`). A collection whose last
// member left stays, empty, as on a real server (docs/REAL-SERVERS.md, "Collections"). Its title is
// the tag's: renaming the collection renames the tag on every member.
import { createHash } from 'node:crypto';

/** A failure the simulator answers with this HTTP status. */
export class CollectionRequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** The search type of a collection (python-plexapi plexapi/utils.py SEARCHTYPES). */
export const COLLECTION_TYPE = '18';

export interface SimCollection {
  ratingKey: string;
  sectionKey: string;
  title: string;
  summary: string;
  locked: Set<string>;
  /** Every poster uploaded, in the order added (none: Plex shows a composite of its members). */
  posters: SimCollectionPoster[];
  /** The ratingKey of the selected poster (null: none). */
  selectedPoster: string | null;
  addedAt: number;
  updatedAt: number;
}

/** One poster of a collection: Plex's URL of it (`upload://posters/<sha1>`) and the image. */
export interface SimCollectionPoster {
  ratingKey: string;
  sha256: string;
  bytes: number;
  contentType: string;
  data: Buffer;
}

/** What the collections need of the items of the simulator: each item's section and collection tags. */
export interface CollectionMembers {
  items(): Iterable<{ sectionKey: string; collection: string[] }>;
}

const EDITABLE = new Set(['title', 'titleSort', 'summary', 'contentRating']);
const LOCKABLE = new Set([...EDITABLE, 'thumb', 'art']);
const nowSeconds = () => Math.floor(Date.now() / 1000);

export class SimCollections {
  private readonly byKey = new Map<string, SimCollection>();

  constructor(
    private readonly members: CollectionMembers,
    private readonly newRatingKey: () => string,
  ) {}

  get(ratingKey: string): SimCollection | undefined {
    return this.byKey.get(ratingKey);
  }

  all(): SimCollection[] {
    return [...this.byKey.values()];
  }

  find(sectionKey: string, title: string): SimCollection | undefined {
    return this.all().find((c) => c.sectionKey === sectionKey && c.title === title);
  }

  /** After an edit of items of a section: a collection tag no collection of the section has yet makes one. */
  created(sectionKey: string, titles: readonly string[]): void {
    for (const title of titles) {
      if (this.find(sectionKey, title)) continue;
      const ratingKey = this.newRatingKey();
      const at = nowSeconds();
      this.byKey.set(ratingKey, {
        ratingKey,
        sectionKey,
        title,
        summary: '',
        locked: new Set(),
        posters: [],
        selectedPoster: null,
        addedAt: at,
        updatedAt: at,
      });
    }
  }

  childCount(c: SimCollection): number {
    let n = 0;
    for (const item of this.members.items()) if (item.sectionKey === c.sectionKey && item.collection.includes(c.title)) n++;
    return n;
  }

  /** PUT /library/sections/{key}/all?type=18&id=…: title, summary (and their locks), the poster's lock; anything else 400. */
  edit(sectionKey: string, q: URLSearchParams, renameTag: (sectionKey: string, from: string, to: string) => void): void {
    const ids = (q.get('id') ?? '').split(',').filter(Boolean);
    if (ids.length === 0) throw new CollectionRequestError(400, 'id is required');
    const targets = ids.map((id) => {
      const c = this.byKey.get(id);
      if (!c || c.sectionKey !== sectionKey) throw new CollectionRequestError(404, `no collection ${id} in section ${sectionKey}`);
      return c;
    });
    const values: [string, string][] = [];
    const locks: [string, boolean][] = [];
    for (const [name, value] of q) {
      if (name === 'type' || name === 'id' || name.startsWith('X-Plex-')) continue;
      const m = /^([A-Za-z]+)\.(value|locked)$/.exec(name);
      if (!m || !(m[2] === 'value' ? EDITABLE : LOCKABLE).has(m[1])) throw new CollectionRequestError(400, `unknown parameter ${name}`);
      if (m[2] === 'value') values.push([m[1], value]);
      else if (value === '0' || value === '1') locks.push([m[1], value === '1']);
      else throw new CollectionRequestError(400, `${name} must be 0 or 1`);
    }
    for (const c of targets) {
      for (const [field, value] of values) {
        if (field === 'title' && value.trim() === '') throw new CollectionRequestError(400, 'title is empty');
        if (field === 'title' && value !== c.title) {
          renameTag(c.sectionKey, c.title, value);
          c.title = value;
        }
        if (field === 'summary') c.summary = value;
      }
      for (const [field, locked] of locks) {
        if (locked) c.locked.add(field);
        else c.locked.delete(field);
      }
      c.updatedAt = nowSeconds();
    }
  }

  /** POST /library/metadata/{key}/posters on a collection: the upload joins its posters (once per image) and is selected; the client locks it. */
  uploadPoster(c: SimCollection, body: Buffer, contentType: string): void {
    if (body.length === 0) throw new CollectionRequestError(400, 'empty image');
    const ratingKey = `upload://posters/${createHash('sha1').update(body).digest('hex')}`;
    if (!c.posters.some((p) => p.ratingKey === ratingKey)) {
      const sha256 = createHash('sha256').update(body).digest('hex');
      c.posters.push({ ratingKey, sha256, bytes: body.length, contentType, data: Buffer.from(body) });
    }
    c.selectedPoster = ratingKey;
    c.updatedAt = nowSeconds();
  }

  /** PUT /library/metadata/{key}/poster?url= on a collection: that poster is selected again and locked, as an item's is. */
  selectPoster(c: SimCollection, url: string | null): void {
    if (!url) throw new CollectionRequestError(400, 'url is required');
    if (!c.posters.some((p) => p.ratingKey === url))
      throw new CollectionRequestError(404, `no poster ${url} for collection ${c.ratingKey}`);
    c.selectedPoster = url;
    c.locked.add('thumb');
    c.updatedAt = nowSeconds();
  }

  /** The selected poster (null: none). */
  selected(c: SimCollection): SimCollectionPoster | null {
    return c.posters.find((p) => p.ratingKey === c.selectedPoster) ?? null;
  }

  delete(ratingKey: string): boolean {
    return this.byKey.delete(ratingKey);
  }

  /** A collection as Plex's JSON shows it (listing and metadata alike; `Field` only in the metadata). */
  json(c: SimCollection, sectionTitle: string, full: boolean): Record<string, unknown> {
    return {
      ratingKey: c.ratingKey,
      key: `/library/collections/${c.ratingKey}/children`,
      guid: `collection://${createHash('sha1').update(c.ratingKey).digest('hex').slice(0, 32)}`,
      type: 'collection',
      title: c.title,
      subtype: 'movie',
      ...(c.summary ? { summary: c.summary } : {}),
      librarySectionID: Number(c.sectionKey),
      librarySectionKey: `/library/sections/${c.sectionKey}`,
      librarySectionTitle: sectionTitle,
      ...(c.selectedPoster ? { thumb: `/library/metadata/${c.ratingKey}/thumb/${c.updatedAt}` } : {}),
      childCount: String(this.childCount(c)),
      smart: '0',
      addedAt: c.addedAt,
      updatedAt: c.updatedAt,
      ...(full && c.locked.size ? { Field: [...c.locked].sort().map((name) => ({ locked: true, name })) } : {}),
    };
  }
}
