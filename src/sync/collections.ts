// Pure: which Plex collections a scene belongs to (SYNC_FIELDS `collection`), and what each shows: a
// Stash group's collection its synopsis and front image, a studio's its details and image, a tag's its
// description and image. One collection per Stash object, named after it; the first of a name wins.
import type { CollectionSettings } from '../core/config.js';
import type { StashScene } from '../model/types.js';
import { cleanText, LIMITS } from './mapping.js';

/** What a collection stands for in Stash: its rename is recognised by the Stash object's id. */
export type CollectionKind = 'group' | 'studio' | 'parentstudio' | 'tag' | 'performer';

export interface WantedCollection {
  /** The collection's title, as the item's collection tag (`collection[i].tag.tag`). */
  title: string;
  kind: CollectionKind;
  /** The Stash object's id (null: Stash's answer had none): a new name for the same id is a rename. */
  sourceId: string | null;
  /** The collection's summary ('' none). */
  summary: string;
  /** Stash's URL of the collection's poster (null: none of its own, Stash's placeholder left out). */
  image: string | null;
}

/** Today's collection before COLLECTION_SOURCES: the studio's alone. */
export const STUDIO_ONLY: CollectionSettings = { sources: ['studio'], tags: [], tagParent: null, performersMin: 0, prune: false };

/** An image URL Stash serves for an object of its own; null for none or Stash's placeholder (`default=true`). */
export function ownImage(url: string | null | undefined): string | null {
  if (!url) return null;
  try {
    return new URL(url, 'http://stash.invalid').searchParams.get('default') === 'true' ? null : url;
  } catch {
    return null;
  }
}

const text = (value: string | null | undefined) => cleanText(value, LIMITS.summary, true);

/** The scene's tags COLLECTION_TAGS names: by name (any case), and with `*` those whose parent is COLLECTION_TAG_PARENT. */
export function collectionTags(tags: StashScene['tags'], settings: Pick<CollectionSettings, 'tags' | 'tagParent'>): StashScene['tags'] {
  const named = new Set(settings.tags.filter((t) => t !== '*').map((t) => t.toLowerCase()));
  const parent = settings.tags.includes('*') && settings.tagParent ? settings.tagParent.toLowerCase() : null;
  return tags.filter(
    (t) => named.has(t.name.toLowerCase()) || (parent !== null && (t.parents ?? []).some((p) => p.name.toLowerCase() === parent)),
  );
}

function candidates(scene: StashScene, settings: CollectionSettings): Omit<WantedCollection, 'title'>[] {
  const out: (Omit<WantedCollection, 'title'> & { name: string })[] = [];
  const { sources } = settings;
  if (sources.includes('groups'))
    for (const g of scene.groups ?? [])
      out.push({ name: g.name, kind: 'group', sourceId: g.id, summary: text(g.synopsis), image: ownImage(g.front_image_path) });
  const studio = scene.studio;
  if (studio && sources.includes('studio'))
    out.push({ name: studio.name, kind: 'studio', sourceId: studio.id, summary: text(studio.details), image: ownImage(studio.image_path) });
  const parent = studio?.parent_studio;
  if (parent && sources.includes('parentstudio'))
    out.push({
      name: parent.name,
      kind: 'parentstudio',
      sourceId: parent.id ?? null,
      summary: text(parent.details),
      image: ownImage(parent.image_path),
    });
  for (const t of collectionTags(scene.tags, settings))
    out.push({ name: t.name, kind: 'tag', sourceId: t.id ?? null, summary: text(t.description), image: ownImage(t.image_path) });
  if (settings.performersMin > 0)
    for (const p of scene.performers)
      if ((p.scene_count ?? 0) >= settings.performersMin)
        out.push({ name: p.name, kind: 'performer', sourceId: p.id ?? null, summary: '', image: ownImage(p.image_path) });
  return out;
}

/**
 * The collections a scene belongs to, in the order groups, studio, parent studio, tags, performers; a
 * name met twice (a group named like its studio) is one collection, the first's.
 */
export function sceneCollections(scene: StashScene, settings: CollectionSettings = STUDIO_ONLY): WantedCollection[] {
  const seen = new Set<string>();
  const out: WantedCollection[] = [];
  for (const c of candidates(scene, settings)) {
    const { name, ...rest } = c as Omit<WantedCollection, 'title'> & { name: string };
    const title = cleanText(name, LIMITS.tag);
    if (!title || seen.has(title.toLowerCase())) continue;
    seen.add(title.toLowerCase());
    out.push({ title, ...rest });
  }
  return out;
}

/** The titles of the scene's collections: what desiredState() puts in the item's collection list. */
export const collectionTitles = (scene: StashScene, settings?: CollectionSettings): string[] =>
  sceneCollections(scene, settings).map((c) => c.title);

/** What a collection's summary decision knows: Plex's value and lock, the record's hash, what Stash wants. */
export interface CollectionSummaryView {
  want: string;
  have: string;
  locked: boolean;
  /** The hash of the summary stash2plex last set (undefined: never), and of one it meant to set (an answer lost). */
  recorded: string | undefined;
  intent?: string;
  preservePlexEdits: boolean;
}

/**
 * Pure: what to do with a collection's summary, by an item's rules (src/sync/ownership.ts): a summary
 * stash2plex never set is only filled, never blanked; with PRESERVE_PLEX_EDITS one changed in Plex since
 * (or locked there and never set by stash2plex) is left; otherwise it is sent when it differs or is not
 * locked yet. `hash` is valueHash, passed in to keep this module free of node:crypto.
 */
export function collectionSummaryAction(
  view: CollectionSummaryView,
  hash: (value: string) => string,
): 'send' | 'keep' | 'skip' | 'preserved' {
  const have = hash(view.have);
  const ours = have === view.recorded || have === view.intent || view.have === view.want;
  if (view.recorded === undefined && view.want === '') return 'skip';
  if (view.preservePlexEdits && !ours && (view.recorded !== undefined || view.locked)) return 'preserved';
  return view.want !== view.have || !view.locked ? 'send' : 'keep';
}

/**
 * Pure: the version of what a collection shows (title, summary, image source): an unchanged version
 * costs no Plex request. Null when the image's version is not settled yet (ownership.screenshotVersion):
 * then it is looked at every time.
 */
export function collectionVersion(wanted: WantedCollection, imageVersion: string | null, hash: (value: string[]) => string): string | null {
  if (wanted.image !== null && imageVersion === null) return null;
  return hash([wanted.kind, wanted.title, wanted.summary, imageVersion ?? '']);
}
