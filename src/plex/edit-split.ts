// Pure: a PlexEdit as the query strings of one or more edit requests, every URL within a bound
// (PLEX_MAX_URL_BYTES), and a value cut to what one request can carry. A real Plex replaces a tag list
// with the indexed tags of one request (python-plexapi plexapi/mixins.py `editTags` re-sends the existing
// tags for that reason), so a list's indexed tags always travel together, with its lock; only its removal
// of extras (`genre[].tag.tag-`, which python-plexapi's `removeGenre` sends in a request of its own) may
// be split off. Sizes are what URLSearchParams writes: ASCII, one byte a character.
import {
  PLEX_SCALAR_FIELDS,
  PLEX_TAG_FIELDS,
  type PlexEdit,
  type PlexLockField,
  type PlexScalarField,
  type PlexTagField,
} from '../model/types.js';

export type Param = [name: string, value: string];

/**
 * One field's share of an edit: its value or indexed tags, the extras to remove, and its lock (`1`, `0`
 * for a field in `unlock`; null on a removal split off its list, whose lock went with the list).
 */
export interface EditUnit {
  field: PlexLockField;
  values: Param[];
  remove: string[];
  lock: Param | null;
}

export const ELLIPSIS = '…';

/**
 * The value of a `tag.tag-` removal: each tag percent-encoded, then joined with commas (the server
 * splits on the commas before decoding each tag, so a tag containing a comma survives). The whole value
 * is then encoded once more as a query value, as python-plexapi does.
 */
export const encodeTagList = (tags: readonly string[]): string => tags.map((t) => encodeURIComponent(t)).join(',');

/** Inverse of encodeTagList (used by the simulator); throws URIError on a malformed escape. */
export const decodeTagList = (value: string): string[] => (value === '' ? [] : value.split(',').map((t) => decodeURIComponent(t)));

/** Bytes a text takes as a query value (form encoding: `+` for a space, `%XX` per UTF-8 byte of most others). */
const textBytes = (text: string): number => new URLSearchParams([['', text]]).toString().length - 1;

/** Bytes a parameter adds to a query: `&name=value`, encoded. */
export const paramBytes = ([name, value]: Param): number => new URLSearchParams([[name, value]]).toString().length + 1;

const removalName = (field: PlexLockField) => `${field}[].tag.tag-`;

/** Bytes of a removal of `tags` (encodeTagList, then encoded again): the tags' own, plus `%2C` per comma. */
function removalBytes(field: PlexLockField, tags: readonly string[]): number {
  if (tags.length === 0) return 0;
  return (
    paramBytes([removalName(field), '']) +
    tags.reduce((n, t) => n + textBytes(encodeURIComponent(t)), 0) +
    textBytes(',') * (tags.length - 1)
  );
}

/** A unit's parameters in the order Plex gets them: the value (or indexed tags), the removal, the lock. */
export function unitParams(unit: EditUnit): Param[] {
  const removal: Param[] = unit.remove.length > 0 ? [[removalName(unit.field), encodeTagList(unit.remove)]] : [];
  return [...unit.values, ...removal, ...(unit.lock ? [unit.lock] : [])];
}

/** Bytes a unit adds to a request's query. */
export const unitBytes = (unit: EditUnit): number =>
  unit.values.reduce((n, p) => n + paramBytes(p), 0) + removalBytes(unit.field, unit.remove) + (unit.lock ? paramBytes(unit.lock) : 0);

/** Bytes a request of these units adds to the edit URL's `?type=1&id=…`. */
export const requestBytes = (units: readonly EditUnit[]): number => units.reduce((n, u) => n + unitBytes(u), 0);

/** The query parameters of one request. */
export const requestParams = (units: readonly EditUnit[]): URLSearchParams => new URLSearchParams(units.flatMap(unitParams));

/**
 * The fields of an edit, in the order they are sent: scalars, tag lists, then locks released alone. Every
 * field set is locked (or Plex's agent would overwrite it on the next refresh), except a field in
 * `unlock`, sent with `.locked=0`.
 */
export function editUnits(edit: PlexEdit): EditUnit[] {
  const unlock = new Set(edit.unlock ?? []);
  const lockOf = (field: PlexLockField): Param => [`${field}.locked`, unlock.has(field) ? '0' : '1'];
  const units: EditUnit[] = [];
  for (const field of PLEX_SCALAR_FIELDS) {
    const value = edit.scalars[field];
    if (value !== undefined) units.push({ field, values: [[`${field}.value`, value]], remove: [], lock: lockOf(field) });
  }
  for (const field of PLEX_TAG_FIELDS) {
    const tags = edit.tags[field];
    if (tags)
      units.push({
        field,
        values: tags.set.flatMap((tag, i): Param[] => {
          const thumb = tags.thumbs?.[tag];
          return [[`${field}[${i}].tag.tag`, tag], ...(thumb === undefined ? [] : [[`${field}[${i}].tag.thumb`, thumb] as Param])];
        }),
        remove: [...tags.remove],
        lock: lockOf(field),
      });
  }
  const sent = new Set(units.map((u) => u.field));
  for (const field of unlock) if (!sent.has(field)) units.push({ field, values: [], remove: [], lock: lockOf(field) });
  return units;
}

/**
 * A unit as pieces that fit `budget` where they can: whole when it fits; else its value or indexed tags
 * with its lock in one piece (never split: Plex would replace the list piecewise) and its removal in as
 * many pieces as it needs. A piece that cannot fit (a value or list alone over the budget: fitScalar and
 * fitTags cut those before) stays one piece, and the server has the last word.
 */
export function piecesOf(unit: EditUnit, budget: number): EditUnit[] {
  if (unit.remove.length === 0 || unitBytes(unit) <= budget) return [unit];
  const chunks: string[][] = [];
  for (const tag of unit.remove) {
    const last = chunks.at(-1);
    if (last && removalBytes(unit.field, [...last, tag]) <= budget) last.push(tag);
    else chunks.push([tag]);
  }
  const head = unit.values.length > 0 || unit.lock ? [{ ...unit, remove: [] }] : [];
  return [...head, ...chunks.map((remove) => ({ field: unit.field, values: [], remove, lock: null }))];
}

/**
 * The requests of an edit: its units in order (scalars, then each tag list, then locks released alone),
 * packed into as few requests as keep each within `budget` bytes of query, a unit never split across two
 * requests unless it cannot fit one (then as piecesOf cuts it). Sending them one after the other sets the
 * same values as one request would; sending them again sets them again (every parameter is absolute).
 */
export function planEdit(units: readonly EditUnit[], budget: number): EditUnit[][] {
  const requests: EditUnit[][] = [];
  let open: EditUnit[] = [];
  let used = 0;
  for (const piece of units.flatMap((u) => piecesOf(u, budget))) {
    const bytes = unitBytes(piece);
    if (open.length > 0 && used + bytes > budget) {
      requests.push(open);
      open = [];
      used = 0;
    }
    open.push(piece);
    used += bytes;
  }
  if (open.length > 0) requests.push(open);
  return requests;
}

const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/**
 * A scalar's value as one request can carry it with its lock within `budget`: unchanged when it fits,
 * else its longest start of whole characters (grapheme clusters: never half a surrogate pair, a UTF-8
 * sequence or a letter's accent), trailing spaces trimmed, with an ellipsis.
 */
export function fitScalar(field: PlexScalarField, value: string, budget: number): string {
  const fixed = paramBytes([`${field}.value`, '']) + paramBytes([`${field}.locked`, '1']);
  if (fixed + textBytes(value) <= budget) return value;
  let room = budget - fixed - textBytes(ELLIPSIS);
  let end = 0;
  for (const { segment, index } of graphemes.segment(value)) {
    room -= textBytes(segment);
    if (room < 0) break;
    end = index + segment.length;
  }
  return `${value.slice(0, end).trimEnd()}${ELLIPSIS}`;
}

/** A tag list as one request can carry it (indexed tags and lock) within `budget`: its longest start that fits. */
export function fitTags(field: PlexTagField, tags: readonly string[], budget: number): string[] {
  let room = budget - paramBytes([`${field}.locked`, '1']);
  let n = 0;
  for (; n < tags.length; n++) {
    room -= paramBytes([`${field}[${n}].tag.tag`, tags[n]]);
    if (room < 0) break;
  }
  return tags.slice(0, n);
}
