// Pure: a PlexEdit → the query parameters of Plex's edit call, and a Plex item response → PlexItem.
import { PLEX_TAG_FIELDS, type PlexEdit, type PlexItem, type PlexTagField } from '../model/types.js';
import { editUnits, requestParams } from './edit-split.js';
import { filesOf, parseMetadataList, PlexResponseError, type PlexMetadata } from './schemas.js';

export { PlexResponseError } from './schemas.js';
export { decodeTagList, encodeTagList } from './edit-split.js';

/**
 * The edit parameters (without `type` and `id`) of one request per plex-api.md: every field of the edit
 * (src/plex/edit-split.ts `editUnits`). Every field set is also locked, or Plex's agent would overwrite
 * it on the next refresh. Tags: the complete desired list indexed (a real server replaces the list with
 * it, which is why python-plexapi plexapi/mixins.py `editTags` re-sends the existing tags), the extras as
 * a removal (`genre[].tag.tag-`), so the result is right whether Plex reads the list as a replacement or
 * an addition. A field in `unlock` is sent with `.locked=0` instead (and alone when it has no value). An
 * empty edit yields no parameters. The client sends an edit as planEdit splits it (PLEX_MAX_URL_BYTES).
 */
export function encodeEdit(edit: PlexEdit): URLSearchParams {
  return requestParams(editUnits(edit));
}

/** Plex's Field list says `locked: true` (JSON) or `locked="1"` (XML-ish numbers in some versions). */
const isLocked = (v: unknown) => v === true || v === 1 || v === '1' || v === 'true';

const TAG_ARRAYS: Record<PlexTagField, 'Genre' | 'Role' | 'Collection' | 'Label'> = {
  genre: 'Genre',
  actor: 'Role',
  collection: 'Collection',
  label: 'Label',
};

/** One Plex metadata object → PlexItem. `sectionKey` is used when Plex does not say (librarySectionID). */
export function itemFromMetadata(plexMetadata: PlexMetadata, sectionKey = ''): PlexItem {
  const tags = Object.fromEntries(PLEX_TAG_FIELDS.map((f) => [f, plexMetadata[TAG_ARRAYS[f]].map((t) => t.tag)])) as Record<
    PlexTagField,
    string[]
  >;
  return {
    ratingKey: plexMetadata.ratingKey,
    sectionKey: plexMetadata.librarySectionID ?? sectionKey,
    title: plexMetadata.title,
    summary: plexMetadata.summary,
    studio: plexMetadata.studio,
    originallyAvailableAt: plexMetadata.originallyAvailableAt,
    contentRating: plexMetadata.contentRating,
    originalTitle: plexMetadata.originalTitle,
    titleSort: plexMetadata.titleSort,
    tagline: plexMetadata.tagline,
    userRating: typeof plexMetadata.userRating === 'number' ? plexMetadata.userRating : null,
    tags,
    files: filesOf(plexMetadata),
    locked: plexMetadata.Field.filter((f) => isLocked(f.locked)).map((f) => f.name),
    ...(plexMetadata.thumb ? { thumb: plexMetadata.thumb } : {}),
    ...(plexMetadata.art ? { art: plexMetadata.art } : {}),
    ...(plexMetadata.Role.some((r) => r.thumb)
      ? { actorThumbs: Object.fromEntries(plexMetadata.Role.filter((r) => r.thumb).map((r) => [r.tag, r.thumb!])) }
      : {}),
  };
}

/**
 * `GET /library/metadata/{ratingKey}` JSON → PlexItem (MediaContainer.Metadata[0]; missing arrays are
 * empty; librarySectionID from the item, else the container, else `sectionKey`). Throws
 * PlexResponseError: `missing` when there is no item, `malformed-item` when the item has a wrong field
 * (named in the message), `malformed` when the answer as a whole has the wrong shape.
 */
export function parseItem(json: unknown, sectionKey = ''): PlexItem {
  const { items, bad } = parseMetadataList(json);
  const first = items[0];
  if (first) return itemFromMetadata(first, sectionKey);
  if (bad[0]) throw new PlexResponseError('malformed-item', bad[0].reason);
  throw new PlexResponseError('missing', 'the response holds no item');
}
