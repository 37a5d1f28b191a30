// What Plex had before stash2plex first wrote a field of an item (its value and lock; for the poster, the
// poster Plex had selected), kept once per field in `<orig>:<ratingKey>` (src/core/keys.ts) beside the
// ownership record: what a restore (src/restore/) puts back. Kept only for a field the ownership record
// does not hold yet, so a value stash2plex set itself is never taken for Plex's own. A collection's
// summary and poster are kept the same way, under its own ratingKey, and the collection is noted in
// `origCollections` (it is no scene's item: that is how a restore of everything finds it).
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { SYNC_FIELD_NAMES, type SyncField } from '../core/config.js';
import { originalsKey, type Keys, type RedisConnection } from '../core/redis.js';
import type { PlexEdit, PlexItem, PlexPoster } from '../model/types.js';
import { plexField, type OwnershipRecord } from './ownership.js';

/**
 * One kept field: the value as Plex showed it (text; a tag list in Plex's order; a rating or null; for
 * `poster`, the ratingKey of the poster Plex had selected, null when it had none) and whether it was locked.
 */
export interface KeptOriginal {
  value: string | string[] | number | null;
  locked: boolean;
}

export type Originals = Partial<Record<SyncField, KeptOriginal>>;

/**
 * Field of `<orig>:<ratingKey>` holding the SHA-1 of the last image stash2plex uploaded as the poster
 * (rewritten at each upload). Plex names an upload `upload://posters/<sha1 of its bytes>`, so a restore
 * can tell whether the poster Plex shows is still the one stash2plex uploaded.
 */
export const POSTER_UPLOAD_FIELD = 'poster:upload';
/** The same for the background: Plex names it `upload://arts/<sha1 of its bytes>`. */
export const BACKGROUND_UPLOAD_FIELD = 'background:upload';

/** An item's two uploaded images: the SYNC_FIELDS name, the lock Plex keeps it by, the entry of its last upload. */
export const ARTWORK = {
  poster: { lock: 'thumb', upload: POSTER_UPLOAD_FIELD },
  background: { lock: 'art', upload: BACKGROUND_UPLOAD_FIELD },
} as const;
export type ArtworkField = keyof typeof ARTWORK;

/** The SYNC_FIELDS name of each field an edit can carry (a scalar, a tag list, the user rating). */
const SYNC_FIELD_OF: Readonly<Record<string, SyncField>> = {
  title: 'title',
  summary: 'summary',
  studio: 'studio',
  originallyAvailableAt: 'date',
  genre: 'genres',
  actor: 'actors',
  collection: 'collection',
  userRating: 'rating',
  contentRating: 'contentrating',
  originalTitle: 'originaltitle',
  titleSort: 'sorttitle',
  tagline: 'tagline',
  label: 'labels',
};

/** The fields an edit writes, value or lock, by SYNC_FIELDS name (the poster apart: keptPoster). */
export function fieldsOfEdit(edit: PlexEdit): SyncField[] {
  const names = [
    ...Object.keys(edit.scalars),
    ...Object.keys(edit.tags),
    ...(edit.userRating !== undefined ? ['userRating'] : []),
    ...(edit.unlock ?? []),
  ];
  return [...new Set(names.map((n) => SYNC_FIELD_OF[n]).filter((f): f is SyncField => f !== undefined))];
}

/**
 * Pure: the entries to keep before `edit` is sent to `current` (field → JSON of KeptOriginal): each field
 * the edit writes that the ownership record does not hold (a field stash2plex set already shows its own
 * value, not Plex's). The user rating has no lock.
 */
export function originalsOfEdit(current: PlexItem, edit: PlexEdit, record: OwnershipRecord): Record<string, string> {
  const out: Record<string, string> = {};
  for (const field of fieldsOfEdit(edit)) {
    if (record[field] !== undefined) continue;
    const shown = plexField(field, current);
    if (!shown) continue;
    const value = Array.isArray(shown.value) ? [...(shown.value as string[])] : (shown.value as string | number | null);
    out[field] = JSON.stringify({ value, locked: field !== 'rating' && current.locked.includes(shown.name) } satisfies KeptOriginal);
  }
  return out;
}

/** What the poster's keeping reads of an item or a collection: which images it shows and its locks. */
export type ShownImages = Pick<PlexItem, 'thumb' | 'art' | 'locked'>;

/** Pure: the poster (background) as kept: the one Plex had selected (none when the item shows none) and the lock. */
export function keptPoster(current: ShownImages, posters: readonly PlexPoster[], field: ArtworkField = 'poster'): KeptOriginal {
  const shown = field === 'poster' ? current.thumb : current.art;
  const selected = shown ? (posters.find((p) => p.selected)?.ratingKey ?? null) : null;
  return { value: selected, locked: current.locked.includes(ARTWORK[field].lock) };
}

/** The SHA-1 Plex names an uploaded image by (`upload://posters/<sha1>`). */
export const uploadSha1 = (bytes: Uint8Array): string => createHash('sha1').update(bytes).digest('hex');

/** Keeps each entry unless one is kept already (HSETNX: the first original stays). No entry: no request. */
export async function keepOriginals(
  redis: RedisConnection,
  redisKeys: Pick<Keys, 'orig'>,
  ratingKey: string,
  entries: Record<string, string>,
): Promise<void> {
  const fields = Object.entries(entries);
  if (fields.length === 0) return;
  const key = originalsKey(redisKeys, ratingKey);
  await Promise.all(fields.map(([field, value]) => redis.hsetnx(key, field, value)));
}

/**
 * Before a poster (background) upload: keeps the image Plex has selected (once, and only while the
 * ownership record has none of stash2plex's; the item's image list is read only then) and notes which
 * image is about to be uploaded (POSTER_UPLOAD_FIELD, BACKGROUND_UPLOAD_FIELD).
 */
export async function keepPosterOriginal(
  deps: {
    redis: RedisConnection;
    keys: Pick<Keys, 'orig'>;
    /** `arts`: absent for a collection (no background of it is kept). */
    plex: { posters(ratingKey: string): Promise<PlexPoster[]>; arts?(ratingKey: string): Promise<PlexPoster[]> };
  },
  ratingKey: string,
  current: ShownImages,
  record: OwnershipRecord,
  bytes: Uint8Array,
  field: ArtworkField = 'poster',
): Promise<void> {
  const key = originalsKey(deps.keys, ratingKey);
  if (record[field] === undefined && (await deps.redis.hget(key, field)) === null) {
    const shown = field === 'poster' ? current.thumb : current.art;
    const list = !shown ? [] : field === 'poster' ? await deps.plex.posters(ratingKey) : ((await deps.plex.arts?.(ratingKey)) ?? []);
    await deps.redis.hsetnx(key, field, JSON.stringify(keptPoster(current, list, field)));
  }
  await deps.redis.hset(key, { [ARTWORK[field].upload]: uploadSha1(bytes) });
}

const keptSchema = z.strictObject({
  value: z.union([z.string(), z.array(z.string()), z.number(), z.null()]),
  locked: z.boolean(),
});

export interface StoredOriginals {
  originals: Originals;
  /** SHA-1 of the last poster uploaded (POSTER_UPLOAD_FIELD), null when none was. */
  posterUpload: string | null;
  /** SHA-1 of the last background uploaded (BACKGROUND_UPLOAD_FIELD), null when none was. */
  backgroundUpload?: string | null;
  /** Entries that could not be read (left out: their field reads as never written). */
  damaged: string[];
}

/** Pure: the stored hash → what was kept; an unreadable entry is left out and named. */
export function parseOriginals(hash: Record<string, string>): StoredOriginals {
  const out: StoredOriginals = { originals: {}, posterUpload: null, damaged: [] };
  for (const [field, raw] of Object.entries(hash)) {
    if (field === POSTER_UPLOAD_FIELD || field === BACKGROUND_UPLOAD_FIELD) {
      if (!/^[0-9a-f]{40}$/.test(raw)) out.damaged.push(field);
      else if (field === POSTER_UPLOAD_FIELD) out.posterUpload = raw;
      else out.backgroundUpload = raw;
      continue;
    }
    let parsed: z.ZodSafeParseResult<KeptOriginal> | null = null;
    try {
      parsed = keptSchema.safeParse(JSON.parse(raw));
    } catch {
      /* not JSON */
    }
    if ((SYNC_FIELD_NAMES as readonly string[]).includes(field) && parsed?.success) out.originals[field as SyncField] = parsed.data;
    else out.damaged.push(field);
  }
  return out;
}

export async function readOriginals(redis: RedisConnection, redisKeys: Pick<Keys, 'orig'>, ratingKey: string): Promise<StoredOriginals> {
  return parseOriginals(await redis.hgetall(originalsKey(redisKeys, ratingKey)));
}

/** For each item of `ratingKeys`, whether anything of it is kept. */
export async function haveOriginals(
  redis: RedisConnection,
  redisKeys: Pick<Keys, 'orig'>,
  ratingKeys: readonly string[],
): Promise<boolean[]> {
  const pipe = redis.pipeline();
  for (const ratingKey of ratingKeys) pipe.exists(originalsKey(redisKeys, ratingKey));
  const found = (await pipe.exec()) ?? [];
  return ratingKeys.map((_, i) => found[i]?.[1] === 1);
}

/** Forgets what was kept of an item (after a restore put it back: a later sync keeps afresh). */
export async function forgetOriginals(redis: RedisConnection, redisKeys: Pick<Keys, 'orig'>, ratingKey: string): Promise<void> {
  await redis.del(originalsKey(redisKeys, ratingKey));
}

/** Notes a collection as one something is (about to be) kept of: added before its first entry, so none is missed. */
export async function noteCollectionOriginals(
  redis: RedisConnection,
  redisKeys: Pick<Keys, 'origCollections'>,
  ratingKey: string,
): Promise<void> {
  await redis.sadd(redisKeys.origCollections, ratingKey);
}

/** The ratingKeys of the collections noted, a page at a time (SSCAN: a key may come twice). */
export async function* collectionsWithOriginals(
  redis: RedisConnection,
  redisKeys: Pick<Keys, 'origCollections'>,
): AsyncGenerator<string[]> {
  let cursor = '0';
  do {
    const [next, members] = await redis.sscan(redisKeys.origCollections, cursor, 'COUNT', 500);
    cursor = next;
    if (members.length > 0) yield members;
  } while (cursor !== '0');
}

/** Forgets what was kept of a collection, and the note of it (after a restore, or once the collection is deleted). */
export async function forgetCollectionOriginals(
  redis: RedisConnection,
  redisKeys: Pick<Keys, 'orig' | 'origCollections'>,
  ratingKey: string,
): Promise<void> {
  await forgetOriginals(redis, redisKeys, ratingKey);
  await redis.srem(redisKeys.origCollections, ratingKey);
}
