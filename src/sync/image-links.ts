// Performer photos as Plex fetches them: never Stash's own URL (it would need a Stash credential), but
// the dashboard's `DASHBOARD_PUBLIC_URL/images/performer/<id>?v=<version>&sig=<hmac>`, signed with a
// secret kept in Redis (`imageSecret`, src/core/keys.ts), which the dashboard checks before it fetches
// the image from Stash with its own credentials (src/dashboard/handlers/performer-image.ts). The version
// is the `t` of Stash's image_path (the performer's updated_at: stashapp/stash
// internal/api/urlbuilders/performer.go), so a new photo is a new URL; `&default=true` there marks Stash's
// built-in silhouette, which is no photo of the performer.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Keys, RedisConnection } from '../core/redis.js';

/** The dashboard's path of performer photos (the route table mounts the handler at `${PERFORMER_IMAGE_PATH}/:id`). */
export const PERFORMER_IMAGE_PATH = '/images/performer';

/** Pure: the version of a performer's own image (Stash's `t`), or null when it has none (no path, the default silhouette, no `t`). */
export function performerImageVersion(imagePath: string | null | undefined): string | null {
  if (!imagePath) return null;
  let url: URL;
  try {
    url = new URL(imagePath, 'http://stash.invalid');
  } catch {
    return null;
  }
  if (url.searchParams.get('default') === 'true') return null;
  const t = url.searchParams.get('t');
  return t !== null && /^\d{1,20}$/.test(t) ? t : null;
}

/** Pure: the signature of one performer's image at one version (HMAC-SHA256, 32 hex digits). */
export function performerImageSig(secret: string, performerId: string, version: string): string {
  return createHmac('sha256', secret).update(`performer\n${performerId}\n${version}`).digest('hex').slice(0, 32);
}

/** Pure: whether `sig` is the signature of that performer's image at that version (compared in constant time). */
export function performerImageSigValid(secret: string, performerId: string, version: string, sig: string): boolean {
  const want = Buffer.from(performerImageSig(secret, performerId, version));
  const got = Buffer.from(sig);
  return got.length === want.length && timingSafeEqual(got, want);
}

/** Pure: the URL Plex fetches a performer's photo from. */
export function performerPhotoUrl(baseUrl: string, secret: string, performerId: string, version: string): string {
  const q = new URLSearchParams({ v: version, sig: performerImageSig(secret, performerId, version) });
  return `${baseUrl}${PERFORMER_IMAGE_PATH}/${encodeURIComponent(performerId)}?${q.toString()}`;
}

/** Pure: whether a photo URL Plex shows is one stash2plex set (under DASHBOARD_PUBLIC_URL's image path). */
export const isOurPhotoUrl = (baseUrl: string, url: string): boolean => url.startsWith(`${baseUrl}${PERFORMER_IMAGE_PATH}/`);

/** The signing secret: created once (SET NX, 32 random bytes) by whichever process needs it first. */
export async function imageSecret(redis: RedisConnection, redisKeys: Pick<Keys, 'imageSecret'>): Promise<string> {
  for (let attempt = 0; attempt < 3; attempt++) {
    await redis.set(redisKeys.imageSecret, randomBytes(32).toString('hex'), 'NX');
    const secret = await redis.get(redisKeys.imageSecret);
    if (secret) return secret;
  }
  throw new Error(`${redisKeys.imageSecret}: the image signing secret could not be stored`);
}

/** The secret, read from Redis once per process (again after a failed read). */
export function cachedImageSecret(redis: RedisConnection, redisKeys: Pick<Keys, 'imageSecret'>): () => Promise<string> {
  let secret: Promise<string> | null = null;
  return () => {
    secret ??= imageSecret(redis, redisKeys).catch((err: unknown) => {
      secret = null;
      throw err;
    });
    return secret;
  };
}
