// A scene's collections in Plex (SYNC_FIELDS `collection`), around the item's edit that makes it a member:
// before it, a renamed group, studio or tag renames its collection (the members' tag follows, so the
// edit finds them right); after it, each collection whose text or image changed since stash2plex last
// looked gets the Stash object's summary and poster, owned like an item's fields (`<own>:<ratingKey>`,
// PRESERVE_PLEX_EDITS respected), what the collection showed before kept as an item's is (originals.ts);
// and with COLLECTION_PRUNE a collection stash2plex created is deleted once its last member left. An unchanged collection costs one Redis read and no Plex or Stash request.
import type { CollectionSettings } from '../core/config.js';
import { ownershipKey, type Keys, type RedisConnection } from '../core/redis.js';
import type { PlexItem, PlexPoster, Screenshot } from '../model/types.js';
import type { PlexCollection } from '../plex/client.js';
import { prepareImage } from './artwork.js';
import { collectionSummaryAction, collectionVersion, type WantedCollection } from './collections.js';
import { forgetCollectionOriginals, keepOriginals, keepPosterOriginal, noteCollectionOriginals, type KeptOriginal } from './originals.js';
import { screenshotVersion, valueHash, type OwnershipRecord } from './ownership.js';
import { forgetOwnership, readOwnership, writeOwnership } from './ownership-store.js';
import { posterFrom } from './poster.js';
import { imageHash } from './scene-images.js';

/** What the collections need of the Plex client (src/plex/client.ts, collections.ts). */
export interface CollectionPlexPort {
  findCollection(sectionKey: string, title: string): Promise<PlexCollection | null>;
  collection(ratingKey: string): Promise<PlexCollection>;
  editCollection(sectionKey: string, ratingKey: string, fields: { title?: string; summary?: string }): Promise<void>;
  uploadCollectionPoster(sectionKey: string, ratingKey: string, bytes: Uint8Array, contentType: string): Promise<void>;
  deleteCollection(ratingKey: string): Promise<void>;
  /** The collection's posters, the selected one marked (read once, to keep the one it had). */
  posters(ratingKey: string): Promise<PlexPoster[]>;
}

export interface CollectionDeps {
  plex: CollectionPlexPort;
  stash: { fetchScreenshot(url: string): Promise<Screenshot> };
  redis: RedisConnection;
  keys: Pick<Keys, 'own' | 'orig' | 'origCollections' | 'plexCollections' | 'plexCollectionsCreated'>;
  settings: CollectionSettings;
  preservePlexEdits: boolean;
  /** POSTER_MAX_BYTES. */
  maxBytes: number;
  now?: () => number;
}

/** What stash2plex keeps of a collection it looked at (keys.plexCollections). */
interface CollectionRecord {
  ratingKey: string;
  title: string;
  version: string | null;
  created: boolean;
}

/** What the edit's two halves share: the records read once, and which collections existed before the edit. */
export interface CollectionPass {
  sectionKey: string;
  records: Map<WantedCollection, CollectionRecord | null>;
  existedBefore: Map<string, boolean>;
}

const fieldOf = (sectionKey: string, c: WantedCollection) => `${sectionKey}\t${c.kind}:${c.sourceId ?? c.title.toLowerCase()}`;
const hashOf = (value: unknown) => valueHash(JSON.stringify(value));

function parseRecord(text: string | null): CollectionRecord | null {
  if (!text) return null;
  try {
    return JSON.parse(text) as CollectionRecord;
  } catch {
    return null;
  }
}

async function writeRecord(deps: CollectionDeps, field: string, record: CollectionRecord | null): Promise<void> {
  if (record === null) await deps.redis.hdel(deps.keys.plexCollections, field);
  else await deps.redis.hset(deps.keys.plexCollections, field, JSON.stringify(record));
}

/**
 * Before the item's edit: reads the records (one request), renames the collection of a renamed Stash
 * object (its artwork and members kept), and notes whether each collection the
 * edit adds the item to existed (a collection that did not is stash2plex's: COLLECTION_PRUNE may delete it).
 */
export async function beforeCollectionEdit(
  deps: CollectionDeps,
  target: { sectionKey: string },
  wanted: readonly WantedCollection[],
  current: PlexItem,
): Promise<CollectionPass> {
  const { sectionKey } = target;
  const texts = wanted.length ? await deps.redis.hmget(deps.keys.plexCollections, ...wanted.map((c) => fieldOf(sectionKey, c))) : [];
  const pass: CollectionPass = { sectionKey, records: new Map(), existedBefore: new Map() };
  for (const [i, c] of wanted.entries()) {
    let record = parseRecord(texts[i]);
    if (record && record.title !== c.title) record = await renamed(deps, sectionKey, c, record);
    pass.records.set(c, record);
    if (!record && !current.tags.collection.includes(c.title))
      pass.existedBefore.set(c.title, (await deps.plex.findCollection(sectionKey, c.title)) !== null);
  }
  return pass;
}

/** A renamed Stash object: its collection takes the new title (its members' tag with it); a collection Plex lost is forgotten. */
async function renamed(
  deps: CollectionDeps,
  sectionKey: string,
  c: WantedCollection,
  record: CollectionRecord,
): Promise<CollectionRecord | null> {
  const field = fieldOf(sectionKey, c);
  const taken = await deps.plex.findCollection(sectionKey, c.title);
  if (taken && taken.ratingKey !== record.ratingKey) {
    // Another collection has the new title already: the members join it; the old one is no longer this object's.
    await writeRecord(deps, field, null);
    return null;
  }
  try {
    if (!taken) await deps.plex.editCollection(sectionKey, record.ratingKey, { title: c.title });
  } catch (err) {
    if ((err as { type?: string }).type !== 'PlexNotFound') throw err;
    await writeRecord(deps, field, null);
    return null;
  }
  // `current` is left as read: the item's edit then names the new title (and drops the old) itself, which
  // is right whether or not Plex renamed the members' tag with the collection (docs/REAL-SERVERS.md).
  const next = { ...record, title: c.title, version: null };
  await writeRecord(deps, field, next);
  return next;
}

/** After the item's edit: each collection whose version moved (or that the item just joined) shows the Stash object's text and image. */
export async function afterCollectionEdit(deps: CollectionDeps, pass: CollectionPass, joined: ReadonlySet<string>): Promise<number> {
  let touched = 0;
  for (const [c, record] of pass.records) {
    const imageVersion = c.image === null ? null : screenshotVersion(c.image, (deps.now ?? Date.now)());
    const version = collectionVersion(c, imageVersion, hashOf);
    if (record && version !== null && record.version === version && !joined.has(c.title)) continue;
    const found = await deps.plex.findCollection(pass.sectionKey, c.title);
    // No collection: the item's edit did not make it a member (a field left to Plex): nothing to show.
    if (!found) continue;
    const same = record?.ratingKey === found.ratingKey;
    const created = same ? record.created : pass.existedBefore.get(c.title) === false;
    await showCollection(deps, pass.sectionKey, found.ratingKey, c, imageVersion);
    const field = fieldOf(pass.sectionKey, c);
    await writeRecord(deps, field, { ratingKey: found.ratingKey, title: c.title, version, created });
    if (created) await deps.redis.hset(deps.keys.plexCollectionsCreated, found.ratingKey, field);
    touched++;
  }
  return touched;
}

/** The collection's summary (by the ownership rules) and poster (when its source's version moved). */
async function showCollection(
  deps: CollectionDeps,
  sectionKey: string,
  ratingKey: string,
  c: WantedCollection,
  imageVersion: string | null,
): Promise<void> {
  const record = await readOwnership(deps.redis, deps.keys, ratingKey);
  const shown = await deps.plex.collection(ratingKey);
  const action = collectionSummaryAction(
    {
      want: c.summary,
      have: shown.summary,
      locked: shown.locked.includes('summary'),
      recorded: record.summary,
      intent: record['summary:intent'],
      preservePlexEdits: deps.preservePlexEdits,
    },
    valueHash,
  );
  // Taken (sent, or found equal and locked) for the first time: what Plex showed is kept first.
  if ((action === 'send' || action === 'keep') && record.summary === undefined) {
    await noteCollectionOriginals(deps.redis, deps.keys, ratingKey);
    const kept: KeptOriginal = { value: shown.summary, locked: shown.locked.includes('summary') };
    await keepOriginals(deps.redis, deps.keys, ratingKey, { summary: JSON.stringify(kept) });
  }
  if (action === 'send') {
    await writeOwnership(deps.redis, deps.keys, ratingKey, { 'summary:intent': valueHash(c.summary) });
    await deps.plex.editCollection(sectionKey, ratingKey, { summary: c.summary });
  }
  if (action === 'send' || action === 'keep') await writeOwnership(deps.redis, deps.keys, ratingKey, { summary: valueHash(c.summary) });
  if (action === 'send') await deps.redis.hdel(ownershipKey(deps.keys, ratingKey), 'summary:intent');
  if (c.image !== null) await showPoster(deps, sectionKey, ratingKey, { url: c.image, version: imageVersion }, record, shown);
}

async function showPoster(
  deps: CollectionDeps,
  sectionKey: string,
  ratingKey: string,
  image: { url: string; version: string | null },
  record: OwnershipRecord,
  shown: PlexCollection,
): Promise<void> {
  const locked = shown.locked.includes('thumb');
  if (image.version !== null && record.posterVersion === image.version && record.poster !== undefined && locked) return;
  const source = posterFrom(await deps.stash.fetchScreenshot(image.url));
  if ('skipped' in source) return;
  const prepared = await prepareImage(source.bytes, 'screenshot', deps.maxBytes);
  if ('skipped' in prepared) return;
  const hash = imageHash(source.bytes, 'screenshot');
  const seen: OwnershipRecord = image.version === null ? {} : { posterVersion: image.version };
  if (!(locked && record.poster === hash)) {
    await noteCollectionOriginals(deps.redis, deps.keys, ratingKey);
    await keepPosterOriginal(deps, ratingKey, shown, record, prepared.bytes);
    await deps.plex.uploadCollectionPoster(sectionKey, ratingKey, prepared.bytes, prepared.contentType);
  }
  await writeOwnership(deps.redis, deps.keys, ratingKey, { poster: hash, ...seen });
}

/**
 * COLLECTION_PRUNE: of the collections the item just left, each that stash2plex created and that has no
 * member now is deleted, with its records. One read per collection left; none without COLLECTION_PRUNE.
 */
export async function pruneCollections(deps: CollectionDeps, sectionKey: string, left: readonly string[]): Promise<number> {
  if (!deps.settings.prune) return 0;
  let deleted = 0;
  for (const title of left) {
    const found = await deps.plex.findCollection(sectionKey, title);
    if (!found || found.childCount > 0) continue;
    const field = await deps.redis.hget(deps.keys.plexCollectionsCreated, found.ratingKey);
    if (field === null) continue;
    await deps.plex.deleteCollection(found.ratingKey);
    await deps.redis.hdel(deps.keys.plexCollectionsCreated, found.ratingKey);
    await deps.redis.hdel(deps.keys.plexCollections, field);
    await forgetOwnership(deps.redis, deps.keys, found.ratingKey);
    await forgetCollectionOriginals(deps.redis, deps.keys, found.ratingKey);
    deleted++;
  }
  return deleted;
}

/**
 * The item's edit (`edit`) with the collections around it: renames before, then the text and images of
 * the collections the scene is in (those the edit just put the item in are looked at whatever their
 * version), then COLLECTION_PRUNE of those the edit took it out of. `current` is the item as read.
 */
export async function aroundCollectionEdit<T extends { collections: { sent: string[]; left: string[] } }>(
  deps: CollectionDeps,
  target: { sectionKey: string },
  wanted: readonly WantedCollection[],
  current: PlexItem,
  edit: () => Promise<T>,
): Promise<T> {
  const pass = await beforeCollectionEdit(deps, target, wanted, current);
  const before = [...current.tags.collection];
  const result = await edit();
  await afterCollectionEdit(deps, pass, new Set(result.collections.sent.filter((t) => !before.includes(t))));
  await pruneCollections(deps, target.sectionKey, result.collections.left);
  return result;
}
