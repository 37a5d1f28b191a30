// Artwork of an item by ratingKey: a poster (`thumb`) or a background (`art`) uploaded from bytes (then
// locked, so an agent refresh keeps it), and what a restore needs: the images Plex offers for an item,
// and one of them selected again. The endpoints are python-plexapi's plexapi/mixins.py PosterMixin and
// ArtMixin: `uploadPoster`/`uploadArt` (POST /library/metadata/{ratingKey}/posters|arts with the bytes as
// body), `lockPoster`/`lockArt` (`thumb.locked=1`/`art.locked=1`), `posters()`/`arts()` (GET of the same
// path), and `setPoster`/`setArt` (plexapi/media.py BaseResource `select()`: PUT .../poster|art?url=).
import type { PlexPoster } from '../model/types.js';
import type { PlexEditor } from './editor.js';
import { parsePosters } from './schemas.js';
import type { PlexTransport } from './transport.js';

/** An item's two images: the poster (`thumb`) and the background (`art`). */
export type ArtworkKind = 'poster' | 'art';

/** Per kind: the list (and upload) path's last segment, the selection's, and the field its lock goes by. */
const KIND = {
  poster: { list: 'posters', select: 'poster', lock: 'thumb.locked' },
  art: { list: 'arts', select: 'art', lock: 'art.locked' },
} as const;

const itemPath = (ratingKey: string, segment: string) => `/library/metadata/${encodeURIComponent(ratingKey)}/${segment}`;

export class PlexPosters {
  constructor(
    private readonly http: PlexTransport,
    private readonly editor: PlexEditor,
  ) {}

  /** Uploads an image from bytes as the item's poster or background, then locks it so an agent refresh keeps it. */
  async uploadArtwork(kind: ArtworkKind, sectionKey: string, ratingKey: string, bytes: Uint8Array, contentType: string): Promise<void> {
    await this.http.send('POST', itemPath(ratingKey, KIND[kind].list), {
      body: new Uint8Array(bytes), // a copy on its own ArrayBuffer: what fetch's BodyInit accepts
      headers: { 'Content-Type': contentType },
    });
    await this.editor.editItem(sectionKey, ratingKey, new URLSearchParams({ [KIND[kind].lock]: '1' }));
  }

  /** Every poster (or background) Plex offers for the item, the selected one marked (python-plexapi `posters()`, `arts()`). */
  async artwork(kind: ArtworkKind, ratingKey: string): Promise<PlexPoster[]> {
    const path = itemPath(ratingKey, KIND[kind].list);
    const { json } = await this.http.json('GET', path);
    return this.http.parsed('GET', path, () => parsePosters(json));
  }

  /** Selects one of the item's posters (or backgrounds) again by its ratingKey (python-plexapi `select()`). */
  async selectArtwork(kind: ArtworkKind, ratingKey: string, imageKey: string): Promise<void> {
    await this.http.send('PUT', itemPath(ratingKey, KIND[kind].select), { query: new URLSearchParams({ url: imageKey }) });
  }
}
