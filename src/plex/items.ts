// Item reads: one item (`GET /library/metadata/{ratingKey}`) or several in one request
// (`GET /library/metadata/{k1},{k2},…`), each key with its own answer or its own error: a key missing from
// the answer, a malformed item, and a 404 or a refusal of the whole read told apart by reading each key alone.
import { SyncError } from '../core/errors.js';
import type { PlexItem } from '../model/types.js';
import type { BadItemLog } from './bad-items.js';
import { itemFromMetadata, parseItem } from './edits.js';
import { parseMetadataList, type MetadataList } from './schemas.js';
import type { PlexTransport } from './transport.js';

/**
 * Keys of one `GET /library/metadata/{k1},{k2},…`, stash2plex's own bound (with ITEM_BATCH_MAX_URL), each
 * request asking for all its keys' items as one page. python-plexapi (plexapi/base.py fetchItems) puts
 * every key into one URL, however many, and pages the answer by X_PLEX_CONTAINER_SIZE (100).
 */
export const ITEMS_PER_REQUEST = 100;
/** Keys read at once when a multi-key read must be read again key by key (after a 404 of the whole read). */
const SINGLE_READS_AT_ONCE = 4;

/** What one key adds to a batched read's URL: the key, encoded, and its comma. */
export const itemKeyCost = (ratingKey: string): number => encodeURIComponent(ratingKey).length + 1;

export class PlexItems {
  constructor(
    private readonly http: PlexTransport,
    private readonly badItems: BadItemLog,
    /** Longest URL of a batched read (PLEX_MAX_URL_BYTES). */
    private readonly maxUrlBytes: number,
  ) {}

  /** GET /library/metadata/{ratingKey}: the full item (tags, summary, locks, files). */
  async getItem(ratingKey: string, sectionKey = ''): Promise<PlexItem> {
    const path = `/library/metadata/${encodeURIComponent(ratingKey)}`;
    const { json } = await this.http.json('GET', path);
    return this.http.parsed('GET', path, () => parseItem(json, sectionKey));
  }

  /** The URL budget of a batched read's keys: PLEX_MAX_URL_BYTES less the rest of the URL (each key costs itemKeyCost). */
  get batchBudget(): number {
    return this.maxUrlBytes - `${this.http.base}/library/metadata/`.length;
  }

  /**
   * One `GET /library/metadata/{k1},{k2},…`: each item, or per key the error of its read. A key missing
   * from the answer is PlexNotFound for that key alone; an item with a bad field is PlexBadResponse for
   * that key alone. A 404 of the whole read (Plex may answer so when one key is gone: docs/REAL-SERVERS.md)
   * or a 401/403 (an item the token may not see) reads each key alone, so only a key that fails alone
   * fails. Any other failure of the request is every key's, named per key. The caller keeps within ITEMS_PER_REQUEST and batchBudget.
   */
  async readItems(ratingKeys: readonly string[]): Promise<Map<string, PlexItem | SyncError>> {
    const path = `/library/metadata/${ratingKeys.map((k) => encodeURIComponent(k)).join(',')}`;
    const each = (key: string) =>
      `/library/metadata/${encodeURIComponent(key)}${ratingKeys.length > 1 ? ` (read with ${ratingKeys.length - 1} more)` : ''}`;
    let list: MetadataList;
    try {
      const { json } = await this.http.json('GET', path, {
        headers: { 'X-Plex-Container-Start': '0', 'X-Plex-Container-Size': String(ratingKeys.length) },
      });
      list = this.http.parsed('GET', path, () => parseMetadataList(json));
    } catch (err) {
      if (!(err instanceof SyncError)) throw err;
      // A 404 or a refusal (401/403) of the whole read may be about one key (gone, or an item this token may
      // not see): each key is read alone, so only that key's job meets it.
      if (ratingKeys.length > 1 && (err.type === 'PlexNotFound' || err.type === 'PlexAuthError')) return this.readEach(ratingKeys);
      return new Map(ratingKeys.map((k) => [k, this.http.scrub(new SyncError(err.type, err.message.replace(path, each(k)), err.status))]));
    }
    const byKey = new Map(list.items.map((m) => [m.ratingKey, m]));
    const badByKey = new Map(list.bad.flatMap((b) => (b.ratingKey !== null ? [[b.ratingKey, b.reason] as const] : [])));
    // A bad item without a readable ratingKey belongs to one of the keys not answered: alone, it is that
    // key's; among several, each of those keys is read alone to tell it from the ones really gone.
    const unplaced = list.bad.filter((b) => b.ratingKey === null || !ratingKeys.includes(b.ratingKey));
    const unanswered = ratingKeys.filter((k) => !byKey.has(k) && !badByKey.has(k));
    if (unplaced.length > 0 && unanswered.length === 1) badByKey.set(unanswered[0], unplaced[0].reason);
    const again = unplaced.length > 0 && unanswered.length > 1 ? await this.readEach(unanswered) : new Map<string, PlexItem | SyncError>();
    return new Map(
      ratingKeys.map((k) => {
        const m = byKey.get(k);
        if (m) return [k, itemFromMetadata(m)];
        const reason = badByKey.get(k);
        if (reason !== undefined) return [k, this.http.malformedItem(`GET ${each(k)}`, reason)];
        return [
          k,
          again.get(k) ?? this.http.scrub(new SyncError('PlexNotFound', `GET ${each(k)} → not in Plex's answer (no such item)`, 404)),
        ];
      }),
    );
  }

  /** Each key read alone (a few at a time), as one map. */
  private async readEach(ratingKeys: readonly string[]): Promise<Map<string, PlexItem | SyncError>> {
    const out = new Map<string, PlexItem | SyncError>();
    let next = 0;
    const reader = async () => {
      while (next < ratingKeys.length) {
        const key = ratingKeys[next++];
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
        else if (read.type === 'PlexBadResponse')
          this.badItems.note(`GET /library/metadata/${key}`, [{ ratingKey: key, reason: read.message }]);
        else if (read.type !== 'PlexNotFound') throw read;
      }
    }
    return out;
  }
}
