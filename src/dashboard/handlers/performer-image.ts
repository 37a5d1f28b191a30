// GET /images/performer/:id?v=<version>&sig=<hmac> (open): a performer's Stash image, for Plex to fetch as
// an actor's photo (src/sync/image-links.ts makes the URLs). No auth but the signature, which only
// stash2plex can make (a secret in Redis): a wrong or missing one is 403, so the route serves no image
// a sync did not link. Images only (an answer from Stash that is not a raster image is 502), each
// address rate-limited (429), and cached by version: the URL changes when the image does, so the answer
// is immutable, and a client's If-None-Match of the same version is 304 without asking Stash.
import type { Screenshot } from '../../model/types.js';
import { performerImageSigValid } from '../../sync/image-links.js';
import { posterType } from '../../sync/poster.js';
import type { RateLimiter } from '../rate-limit.js';
import { json, type Handler } from '../reply.js';

export interface PerformerImagePorts {
  /** The signing secret (created on first use). */
  imageSecret(): Promise<string>;
  /** The performer's image from Stash, with the dashboard's Stash credentials; null: no Stash configured. */
  fetchPerformerImage: ((performerId: string, version: string) => Promise<Screenshot>) | null;
  /** One bucket per remote address (IMAGE_RATE_PER_MINUTE). */
  imageRateLimit: Pick<RateLimiter, 'take'>;
}

const ID = /^\d{1,19}$/;
const VERSION = /^\d{1,20}$/;
const SIG = /^[0-9a-f]{32}$/;
const YEAR_S = 365 * 24 * 3600;

const text = (v: unknown): string => (typeof v === 'string' ? v : '');

export function performerImageHandler(ports: PerformerImagePorts): Handler {
  return async (req) => {
    const limited = ports.imageRateLimit.take(req.remote ?? 'unknown');
    if (!limited.allowed) return json(429, { error: 'too many image requests' });
    const id = req.params?.id ?? '';
    const version = text(req.query.v);
    const sig = text(req.query.sig);
    if (!ID.test(id) || !VERSION.test(version) || !SIG.test(sig)) return json(403, { error: 'not a signed image link' });
    if (!performerImageSigValid(await ports.imageSecret(), id, version, sig)) return json(403, { error: 'not a signed image link' });
    const etag = `"performer-${id}-${version}"`;
    const cache = { 'Cache-Control': `public, max-age=${YEAR_S}, immutable`, ETag: etag };
    if (req.ifNoneMatch === etag) return { status: 304, type: 'application/octet-stream', bytes: Buffer.alloc(0), headers: cache };
    if (!ports.fetchPerformerImage) return json(404, { error: 'no Stash configured' });
    const image = await ports.fetchPerformerImage(id, version).catch(() => null);
    if (!image) return json(502, { error: 'Stash did not answer' });
    if ('skipped' in image) return json(502, { error: 'the image is larger than POSTER_MAX_BYTES' });
    const type = posterType(image.bytes);
    if (!type) return json(502, { error: 'Stash did not answer a JPEG, PNG or WebP image' });
    return { status: 200, type, bytes: image.bytes, headers: { ...cache, 'X-Content-Type-Options': 'nosniff' } };
  };
}
