// Edits sent to Plex: the PUTs of an edit's fields as planEdit packs them within PLEX_MAX_URL_BYTES
// (./edit-split.ts), sent again split further when a proxy refuses one as too long, then the rating call.
import { SyncError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { PlexEdit } from '../model/types.js';
import { editUnits, planEdit, requestBytes, requestParams, type EditUnit } from './edit-split.js';
import { label, type PlexTransport } from './transport.js';

const LIBRARY_IDENTIFIER = 'com.plexapp.plugins.library';

export class PlexEditor {
  constructor(
    private readonly http: PlexTransport,
    /** Longest URL of an edit request (PLEX_MAX_URL_BYTES). */
    private readonly maxUrlBytes: number,
    /** Where an edit sent again split is reported. */
    private readonly log?: Pick<Logger, 'warn'>,
  ) {}

  /**
   * Applies an edit: the PUTs of its fields (as planEdit packs them within PLEX_MAX_URL_BYTES: usually
   * one), then one rating call (if userRating is defined; null clears with -1). Sends nothing for an empty
   * edit. Any request failing throws (what went before stays applied: sent again, it sets the same).
   * Returns the number of requests sent.
   */
  async applyEdit(sectionKey: string, ratingKey: string, edit: PlexEdit): Promise<number> {
    let sent = 0;
    for (const request of planEdit(editUnits(edit), this.editBudget(sectionKey, ratingKey)))
      sent += await this.sendEdit(sectionKey, ratingKey, request);
    if (edit.userRating !== undefined) {
      const rating = edit.userRating === null ? -1 : edit.userRating;
      const query = new URLSearchParams({ key: ratingKey, identifier: LIBRARY_IDENTIFIER, rating: String(rating) });
      await this.http.send('PUT', '/:/rate', { query });
      sent++;
    }
    return sent;
  }

  /** The bytes of query an edit request of this item may add: PLEX_MAX_URL_BYTES less the rest of its URL. */
  editBudget(sectionKey: string, ratingKey: string): number {
    return this.maxUrlBytes - `${this.http.base}${editPath(sectionKey)}?${editQuery(ratingKey)}`.length;
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
      this.log?.warn(
        { request: label('PUT', editPath(sectionKey)), status: refused, queryBytes: requestBytes(request), parts: smaller.length },
        'a proxy refused a Plex edit URL as too long: sent again split (lower PLEX_MAX_URL_BYTES)',
      );
      for (const part of smaller) await this.editItem(sectionKey, ratingKey, requestParams(part));
      return 1 + smaller.length;
    }
  }

  /** PUT /library/sections/{key}/all?type=1&id={ratingKey}&<params>. */
  async editItem(sectionKey: string, ratingKey: string, params: URLSearchParams): Promise<void> {
    const query = editQuery(ratingKey);
    for (const [k, v] of params) query.append(k, v);
    await this.http.send('PUT', editPath(sectionKey), { query });
  }
}

/** The edit call's path and the start of its query (python-plexapi plexapi/library.py `LibrarySection._edit`). */
const editPath = (sectionKey: string) => `/library/sections/${encodeURIComponent(sectionKey)}/all`;
const editQuery = (ratingKey: string) => new URLSearchParams({ type: '1', id: ratingKey });
