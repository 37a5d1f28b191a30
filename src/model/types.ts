// Shapes shared by the Stash client, the Plex client, the mapping and the processor.

/** A studio's text and image as a collection shows them (absent: not read). */
export interface StashCollectionText {
  details?: string | null;
  image_path?: string | null;
}

/** What stash2plex reads of a Stash scene (see src/stash-api/queries.ts for the query). */
export interface StashScene {
  id: string;
  title: string | null;
  code: string | null;
  details: string | null;
  director: string | null;
  urls: string[];
  date: string | null; // YYYY-MM-DD
  rating100: number | null;
  organized: boolean;
  updated_at: string; // RFC 3339
  /** details, image_path: a studio collection's summary and poster (src/sync/collections.ts), as are the parent's. */
  studio:
    | (StashCollectionText & { id: string; name: string; parent_studio: (StashCollectionText & { id?: string; name: string }) | null })
    | null;
  /**
   * image_path: Stash's URL of the performer's image (`?t=<updated_at>`, `&default=true` for the built-in
   * silhouette); scene_count: how many scenes the performer is in (COLLECTION_PERFORMERS_MIN).
   */
  performers: { id?: string; name: string; image_path?: string | null; scene_count?: number }[];
  /** description, image_path: a tag collection's summary and poster; parents: COLLECTION_TAGS=`*` picks the tags under COLLECTION_TAG_PARENT. */
  tags: { id?: string; name: string; description?: string | null; image_path?: string | null; parents?: { name: string }[] }[];
  /** The Stash groups the scene is in (movies before Stash v0.27.0): each a collection, with its synopsis and front image. */
  groups?: { id: string; name: string; synopsis: string | null; front_image_path: string | null }[];
  /** size: bytes (Stash's `files[].size`), compared with Plex's `Part.size` by the base-name fallback. */
  files: { path: string; basename: string; size?: number | null }[];
  /** StashBox ids (SYNC_REQUIRE=stashid). */
  stash_ids: { endpoint: string; stash_id: string }[];
  paths: { screenshot: string | null } | null;
}

/**
 * Text fields as named in edit requests (`title.value=…`), python-plexapi plexapi/mixins.py EditFieldMixin
 * (`editContentRating` → contentRating, `editOriginalTitle` → originalTitle, `editSortTitle` → titleSort,
 * `editTagline` → tagline); each reads back as the item's attribute of the same name.
 */
export const PLEX_SCALAR_FIELDS = [
  'title',
  'summary',
  'studio',
  'originallyAvailableAt',
  'contentRating',
  'originalTitle',
  'titleSort',
  'tagline',
] as const;
export type PlexScalarField = (typeof PLEX_SCALAR_FIELDS)[number];
/** Tag fields as named in edit requests (`genre[0].tag.tag=…`); `actor` reads back as `Role`, `label` as `Label`. */
export const PLEX_TAG_FIELDS = ['genre', 'actor', 'collection', 'label'] as const;
export type PlexTagField = (typeof PLEX_TAG_FIELDS)[number];
/** The text fields added after the first four; optional where a whole set of fields is given, absent reading as ''. */
type LaterScalarField = 'contentRating' | 'originalTitle' | 'titleSort' | 'tagline';
/** A value per text field (the later ones may be absent: empty). */
export type PlexScalars = Record<Exclude<PlexScalarField, LaterScalarField>, string> & Partial<Record<LaterScalarField, string>>;
/** A list per tag field (`label` may be absent: none). */
export type PlexTagLists = Record<Exclude<PlexTagField, 'label'>, string[]> & Partial<Record<'label', string[]>>;

/** A Plex item as read by GET /library/metadata/{ratingKey}, normalised. */
export interface PlexItem {
  ratingKey: string;
  sectionKey: string;
  title: string;
  summary: string;
  studio: string;
  originallyAvailableAt: string; // '' when unset
  /** contentRating, originalTitle, titleSort, tagline: '' or absent when unset (titleSort unset: Plex sorts by the title). */
  contentRating?: string;
  originalTitle?: string;
  titleSort?: string;
  tagline?: string;
  userRating: number | null;
  tags: PlexTagLists;
  files: string[];
  /** Names of locked fields (from `Field[{name, locked}]`), e.g. 'title', 'genre', 'thumb'. */
  locked: string[];
  /** Plex's URL of the item's poster (`/library/metadata/{ratingKey}/thumb/{time}`); absent: no poster. */
  thumb?: string;
  /** Plex's URL of the item's background (`/library/metadata/{ratingKey}/art/{time}`); absent: none. */
  art?: string;
  /** Actor name → the URL of the actor's photo (`Role[].thumb`), for actors that have one. */
  actorThumbs?: Record<string, string>;
}

/**
 * One poster Plex offers for an item (`GET /library/metadata/{ratingKey}/posters`, python-plexapi
 * plexapi/media.py `Poster`): `ratingKey` is Plex's own URL of the image (`upload://posters/<sha1>`,
 * `metadata://posters/…`, an agent's http URL), what selecting it again takes.
 */
export interface PlexPoster {
  ratingKey: string;
  selected: boolean;
  provider: string | null;
}

/** What Plex should show for a scene (the output of the pure mapping). */
export interface DesiredPlexState {
  scalars: PlexScalars; // '' clears
  tags: PlexTagLists;
  userRating: number | null; // null: clear
  posterUrl: string | null;
  /** Actor name → the URL Plex fetches the actor's photo from (actors without a photo of their own are absent). */
  actorPhotos?: Record<string, string>;
}

/** The edits that make a Plex item equal to the desired state; empty when nothing differs. */
export interface PlexEdit {
  /** Scalar values to set (each also locked). */
  scalars: Partial<Record<PlexScalarField, string>>;
  /**
   * Per tag field: the complete desired list, plus removals of extras (mirror mode); `thumbs`: tag → the
   * URL of its photo, sent beside it as `actor[i].tag.thumb` ('' clears it; actors only).
   */
  tags: Partial<Record<PlexTagField, { set: string[]; remove: string[]; thumbs?: Record<string, string> }>>;
  /** undefined: unchanged; null: clear (-1); number 0..10. */
  userRating?: number | null;
  /**
   * Fields whose lock is released (`<field>.locked=0`) instead of set: a field stash2plex no longer
   * manages, or a value put back as it was. A field listed here with a value above is sent unlocked.
   */
  unlock?: PlexLockField[];
}

/** Fields Plex locks by name: the scalars, the tag lists, the poster (`thumb`) and the background (`art`). */
export type PlexLockField = PlexScalarField | PlexTagField | 'thumb' | 'art';

/** A scene's screenshot as read from Stash, or why it was not read (too large): then no poster. */
export type Screenshot = { bytes: Buffer; contentType: string } | { skipped: string };
