// Posters: an upload from bytes (then locked, so an agent refresh keeps it), and what a restore needs:
// the posters Plex offers for an item, and one of them selected again.
import type { PlexPoster } from '../model/types.js';
import type { PlexEditor } from './editor.js';
import { parsePosters } from './schemas.js';
import type { PlexTransport } from './transport.js';

export class PlexPosters {
  constructor(
    private readonly http: PlexTransport,
    private readonly editor: PlexEditor,
  ) {}

  /** Uploads a poster from bytes, then locks it (`thumb.locked=1`) so an agent refresh keeps it. */
  async uploadPoster(sectionKey: string, ratingKey: string, bytes: Uint8Array, contentType: string): Promise<void> {
    await this.http.send('POST', `/library/metadata/${encodeURIComponent(ratingKey)}/posters`, {
      body: new Uint8Array(bytes), // a copy on its own ArrayBuffer: what fetch's BodyInit accepts
      headers: { 'Content-Type': contentType },
    });
    await this.editor.editItem(sectionKey, ratingKey, new URLSearchParams({ 'thumb.locked': '1' }));
  }

  /**
   * GET /library/metadata/{ratingKey}/posters: every poster Plex offers for the item, the selected one
   * marked (python-plexapi plexapi/mixins.py PosterMixin `posters()`).
   */
  async posters(ratingKey: string): Promise<PlexPoster[]> {
    const path = `/library/metadata/${encodeURIComponent(ratingKey)}/posters`;
    const { json } = await this.http.json('GET', path);
    return this.http.parsed('GET', path, () => parsePosters(json));
  }

  /**
   * PUT /library/metadata/{ratingKey}/poster?url=<the poster's ratingKey>: selects one of the item's
   * posters again (python-plexapi plexapi/media.py BaseResource `select()`, used by `setPoster`).
   */
  async selectPoster(ratingKey: string, posterKey: string): Promise<void> {
    await this.http.send('PUT', `/library/metadata/${encodeURIComponent(ratingKey)}/poster`, {
      query: new URLSearchParams({ url: posterKey }),
    });
  }
}
