// Pure: what to send to Plex, knowing which values are ours (the ownership rules: docs/ARCHITECTURE.md,
// "Ownership"). stash2plex keeps, per Plex item, a hash of each value it set (the ownership record) and,
// while an edit is under way, of the value it means to set (its intent); a value Plex shows that equals
// either, or what Stash wants now, is stash2plex's. A field it set follows Stash down to empty; a field it
// never set is only filled (never blanked); with PRESERVE_PLEX_EDITS a value someone changed in Plex since,
// or a field it never set that Plex shows locked (Plex locks what a person edits), is left alone. Only the
// fields sent are locked (src/plex/edits.ts); a field dropped from SYNC_FIELDS has its lock released once.
import { createHash } from 'node:crypto';
import { SYNC_FIELD_NAMES, type SyncField } from '../core/config.js';
import type { DesiredPlexState, PlexEdit, PlexItem, PlexLockField, PlexScalarField, PlexTagField } from '../model/types.js';
import { editUnits, fitScalar, fitTags, unitBytes } from '../plex/edit-split.js';
import { isOurPhotoUrl } from './image-links.js';
import type { SyncMode } from './mapping.js';

/** The record's entry for the value stash2plex means to set, written before the edit and removed once Plex took it. */
export type IntentEntry = `${SyncField}:intent`;
export const intentOf = (field: SyncField): IntentEntry => `${field}:intent`;

/**
 * SYNC_FIELDS name → hash of the value stash2plex last set (`poster`, `background`: of the source image's
 * bytes, with the POSTER_STYLE a poster was made in: imageHash), and `posterVersion` / `backgroundVersion`:
 * the version of the source URL those bytes were last read at (screenshotVersion); `noPosterVersion`: the
 * last version of the screenshot whose bytes were no image (Stash's SVG placeholder for a scene without a
 * cover: not read again until the version moves); `actorphotos`: hash of the actor photo URLs set;
 * `<field>:intent` → hash of the value an edit under way (or one whose answer was lost) sets.
 */
export type OwnershipRecord = Partial<Record<SyncField | 'posterVersion' | 'backgroundVersion' | 'noPosterVersion' | IntentEntry, string>>;

/** Fields Plex does not show a value of that stash2plex could compare (images): decided apart from decideEdit()'s value fields. */
export const IMAGE_FIELDS: readonly SyncField[] = ['poster', 'background', 'actorphotos'];

/** The record entry holding the source version of an uploaded image. */
export const VERSION_ENTRY = { poster: 'posterVersion', background: 'backgroundVersion' } as const;

/**
 * What confirming a decision writes once Plex took its edit: the owned entries the record does not hold
 * yet, and what goes: every intent (now settled), the released fields (and the poster's version with the
 * poster).
 */
export function confirmation(
  record: OwnershipRecord,
  decision: Pick<Decision, 'owned' | 'intents' | 'released'>,
): { set: OwnershipRecord; drop: string[] } {
  const intents = new Set([...Object.keys(record), ...Object.keys(decision.intents)].filter((k) => k.endsWith(':intent')));
  const versions = (f: SyncField) =>
    f === 'poster' ? ['posterVersion', 'noPosterVersion'] : f === 'background' ? ['backgroundVersion'] : [];
  const released = decision.released.flatMap((f) => [f, intentOf(f), ...versions(f)]);
  const drop = [...new Set([...intents, ...released])].filter((k) => k in record || k in decision.intents);
  return { set: ownershipChanges(record, decision.owned), drop };
}

/**
 * The record an item that replaced another (a new ratingKey for the same file) starts with: each value
 * stash2plex set on the old item becomes an intent, so the new item showing it is recognised as
 * stash2plex's (not a person's locked edit), while anything else on it is judged afresh.
 */
export function carriedRecord(record: OwnershipRecord): OwnershipRecord {
  const out: OwnershipRecord = {};
  for (const field of SYNC_FIELD_NAMES) {
    const hash = record[field] ?? record[intentOf(field)];
    if (hash !== undefined && !IMAGE_FIELDS.includes(field)) out[intentOf(field)] = hash;
  }
  return out;
}

/** The entries of `owned` the stored record does not already hold: an unchanged scene writes nothing. */
export function ownershipChanges(record: OwnershipRecord, owned: OwnershipRecord): OwnershipRecord {
  return Object.fromEntries(Object.entries(owned).filter(([field, hash]) => record[field as keyof OwnershipRecord] !== hash));
}

export interface OwnershipSettings {
  mode: SyncMode;
  fields: readonly SyncField[];
  preservePlexEdits: boolean;
  maxTags: number;
  /**
   * The bytes of query one edit request of the item may carry (PlexClient.editBudget: PLEX_MAX_URL_BYTES
   * less the rest of its URL). A value or tag list that cannot fit alone is cut to what fits, and that is
   * what is sent, recorded and compared next time; absent: nothing is cut.
   */
  editBudget?: number;
  /** DASHBOARD_PUBLIC_URL: an actor photo under it is stash2plex's (removed when the performer's image goes); null: none is. */
  imageBaseUrl?: string | null;
  /**
   * LABEL_TAGS: the only labels stash2plex manages. Any other label on the item (a person's, Kometa's
   * `Overlay`) stays, in either mode; absent: every label is managed like a genre.
   */
  labelTags?: readonly string[];
  /**
   * The item's collections stash2plex has synced (lower case; src/sync/collection-titles.ts): the only ones
   * it removes. Any other (a person's) stays, in either mode; absent: every collection is managed.
   */
  ourCollections?: ReadonlySet<string>;
}

export interface Decision {
  edit: PlexEdit;
  /** Record entries to write once the edit succeeded (the fields stash2plex now owns, with their hash). */
  owned: OwnershipRecord;
  /** Intent entries to write before the edit is sent (the fields it sends, with the hash of what it sets). */
  intents: OwnershipRecord;
  /** Fields to drop from the record once the edit succeeded: no longer in SYNC_FIELDS (their lock released if still ours). */
  released: SyncField[];
  /** Fields left alone because they were changed in Plex since stash2plex set them (PRESERVE_PLEX_EDITS). */
  preserved: SyncField[];
  /**
   * Lists cut to MAX_TAGS, e.g. "genres: 250 → 200", and values cut to fit one edit request (reported
   * when sent), e.g. "summary: 4000 → 1348 characters (PLEX_MAX_URL_BYTES)".
   */
  cut: string[];
  /**
   * Per SYNC_FIELDS name (the poster apart: posterWanted decides it), what this decision does with the
   * field and why, in words: what `npm run explain` shows. Nothing reads it to act.
   */
  fields: Partial<Record<SyncField, FieldVerdict>>;
}

/**
 * What a sync does with one field: `set` sends Stash's value (and locks it), `clear` sends an empty value,
 * `keep` sends nothing (Plex already shows Stash's value, locked), `skip` leaves the field alone
 * (stash2plex does not manage it this time).
 */
export type FieldAction = 'set' | 'clear' | 'keep' | 'skip';

export interface FieldVerdict {
  action: FieldAction;
  why: string;
}

const URL_CUT = 'PLEX_MAX_URL_BYTES';
const characters = (s: string) => [...s].length;

const SCALARS: readonly (readonly [SyncField, PlexScalarField])[] = [
  ['title', 'title'],
  ['summary', 'summary'],
  ['studio', 'studio'],
  ['date', 'originallyAvailableAt'],
  ['contentrating', 'contentRating'],
  ['originaltitle', 'originalTitle'],
  ['sorttitle', 'titleSort'],
  ['tagline', 'tagline'],
];
const TAGS: readonly (readonly [SyncField, PlexTagField])[] = [
  ['genres', 'genre'],
  ['actors', 'actor'],
  ['collection', 'collection'],
  ['labels', 'label'],
];

/** First 16 hex digits of SHA-256 of a value's canonical form: tags sorted, ratings to one decimal. */
export function valueHash(value: string | readonly string[] | number | null | Uint8Array): string {
  const hash = createHash('sha256');
  if (value instanceof Uint8Array) hash.update(value);
  else
    hash.update(
      JSON.stringify(Array.isArray(value) ? [...(value as unknown[])].sort() : typeof value === 'number' ? value.toFixed(1) : value),
    );
  return hash.digest('hex').slice(0, 16);
}

/** Where Plex keeps a text, tag or rating field (restore puts values back by it too). */
export type PlexFieldKind = { scalar: PlexScalarField } | { tags: PlexTagField } | { rating: true };

/** The one reading of the SCALARS and TAGS tables: null for the images (`poster`, `background`, `actorphotos`). */
export function plexFieldKind(field: SyncField): PlexFieldKind | null {
  const scalar = SCALARS.find(([f]) => f === field);
  if (scalar) return { scalar: scalar[1] };
  const tag = TAGS.find(([f]) => f === field);
  if (tag) return { tags: tag[1] };
  return field === 'rating' ? { rating: true } : null;
}

/**
 * The Plex field a SYNC_FIELDS name edits (the name its lock goes by) and what Plex shows for it now, in
 * the canonical form valueHash takes. Null for `poster`: Plex does not expose a poster's bytes.
 */
export function plexField(field: SyncField, current: PlexItem): { name: string; value: string | readonly string[] | number | null } | null {
  const kind = plexFieldKind(field);
  if (!kind) return null;
  if ('scalar' in kind) return { name: kind.scalar, value: current[kind.scalar] ?? '' };
  if ('tags' in kind) return { name: kind.tags, value: current.tags[kind.tags] ?? [] };
  return { name: 'userRating', value: current.userRating };
}

/** What Stash wants Plex to show for a text, tag or rating field, read as plexField reads Plex's; null for the images. */
export function desiredValue(field: SyncField, desired: DesiredPlexState): string | readonly string[] | number | null {
  const kind = plexFieldKind(field);
  if (!kind) return null;
  if ('scalar' in kind) return desired.scalars[kind.scalar] ?? '';
  if ('tags' in kind) return desired.tags[kind.tags] ?? [];
  return desired.userRating;
}

/** The hash of what Plex shows now for a field, as the record keeps it: what decideEdit() and Reconcile Library compare with the record. */
export function plexValueHash(field: SyncField, current: PlexItem): string | null {
  const p = plexField(field, current);
  return p ? valueHash(p.value) : null;
}

/** What decideEdit() knows of one field: Plex's value (hashed), whether Plex shows it locked, the hash of what Stash wants. */
interface FieldView {
  field: SyncField;
  have: string;
  locked: boolean;
  want: string;
  wantEmpty: boolean;
}

/**
 * Whether Plex's value is stash2plex's: the value it last set, the value it last meant to set (an edit
 * whose answer was lost is still its own), or the value Stash wants now (nothing to tell apart).
 */
export const plexShowsOurs = (fieldView: Pick<FieldView, 'field' | 'have' | 'want'>, record: OwnershipRecord): boolean =>
  fieldView.have === record[fieldView.field] || fieldView.have === record[intentOf(fieldView.field)] || fieldView.have === fieldView.want;

/**
 * Whether stash2plex manages a field this time. A field it set (or whose edit Plex applied unanswered)
 * is managed unless PRESERVE_PLEX_EDITS is on and Plex shows another value now. A field it never set is
 * only filled, never blanked, and with PRESERVE_PLEX_EDITS not when Plex shows it locked: a person set it.
 */
function manages(v: FieldView, record: OwnershipRecord, s: OwnershipSettings, out: Decision): boolean {
  const ours = plexShowsOurs(v, record);
  const set = record[v.field] !== undefined || (ours && v.have === record[intentOf(v.field)]);
  if (!set && v.wantEmpty) {
    out.fields[v.field] = { action: 'skip', why: "Stash has no value and stash2plex never set this field: Plex's value stays" };
    return false;
  }
  if (s.preservePlexEdits && !ours && (set || v.locked)) {
    out.preserved.push(v.field);
    const why = set ? 'changed in Plex since stash2plex set it' : 'locked in Plex and never set by stash2plex: a person set it';
    out.fields[v.field] = { action: 'skip', why: `${why} (PRESERVE_PLEX_EDITS)` };
    return false;
  }
  return true;
}

/** The verdict on a managed field: sent (set or clear) because its value differs or it is not locked yet, or kept as it is. */
function sentVerdict(v: Pick<FieldView, 'field' | 'wantEmpty'>, sent: boolean, differs: boolean, locked: boolean): FieldVerdict {
  if (!sent) return { action: 'keep', why: `Plex shows Stash's value${locked ? ', locked' : ''}: nothing to send` };
  const why = differs ? 'Plex shows another value' : "Plex shows Stash's value but not locked: sent to lock it";
  return { action: v.wantEmpty ? 'clear' : 'set', why };
}

/** Records the hash of what a managed field ends as; when the edit sends it, as an intent first. */
function own(out: Decision, field: SyncField, hash: string, sent: boolean): void {
  out.owned[field] = hash;
  if (sent) out.intents[intentOf(field)] = hash;
}

const sameSet = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x) => b.includes(x));
const sameRating = (a: number | null, b: number | null) => (a === null || b === null ? a === b : Math.abs(a - b) < 0.05);

/** Whether a tag of Plex's list is stash2plex's to remove: any but a label LABEL_TAGS does not name or a collection it never synced. */
function managedTag(plex: PlexTagField, tag: string, s: OwnershipSettings): boolean {
  if (plex === 'collection') return !s.ourCollections || s.ourCollections.has(tag.toLowerCase());
  return plex !== 'label' || !s.labelTags || s.labelTags.some((t) => t.trim().toLowerCase() === tag.toLowerCase());
}

function decideTags(desired: DesiredPlexState, current: PlexItem, record: OwnershipRecord, s: OwnershipSettings, out: Decision): void {
  const locked = new Set(current.locked);
  for (const [field, plex] of TAGS) {
    if (!s.fields.includes(field)) continue;
    const all = desired.tags[plex] ?? [];
    const want = all.slice(0, s.maxTags);
    if (all.length > want.length) out.cut.push(`${field}: ${all.length} → ${want.length}`);
    const have = current.tags[plex] ?? [];
    // Merge: the complete list is sent so the edit is right whether Plex reads it as addition or replacement.
    const kept = s.mode === 'mirror' ? have.filter((t) => !managedTag(plex, t, s)) : have;
    const listed = [...kept, ...want.filter((t) => !kept.includes(t))];
    const result = s.editBudget === undefined ? listed : fitTags(plex, listed, s.editBudget);
    // Merge never cuts what Plex holds: a list Plex's own tags fill already gets nothing added.
    if (result.length < have.length && s.mode === 'merge') {
      out.cut.push(`${field}: nothing added, Plex's ${have.length} fill ${URL_CUT}`);
      out.fields[field] = { action: 'skip', why: `merge: nothing added, Plex's ${have.length} values fill ${URL_CUT}` };
      continue;
    }
    const view = {
      field,
      have: plexValueHash(field, current)!,
      locked: locked.has(plex),
      want: valueHash(result),
      wantEmpty: want.length === 0,
    };
    if (!manages(view, record, s, out)) continue;
    const changed = s.mode === 'mirror' ? !sameSet(result, have) : result.length > have.length;
    const sent = changed || !locked.has(plex);
    if (sent) out.edit.tags[plex] = { set: result, remove: s.mode === 'mirror' ? have.filter((t) => !result.includes(t)) : [] };
    if (sent && result.length < listed.length) out.cut.push(`${field}: ${listed.length} → ${result.length} (${URL_CUT})`);
    out.fields[field] = sentVerdict(view, sent, changed, locked.has(plex));
    own(out, field, valueHash(result), sent);
  }
}

/**
 * Actor photos (SYNC_FIELDS `actorphotos`), only on an actor list stash2plex manages: each actor with a
 * Stash image of its own should show its photo URL, and one whose photo stash2plex set but whose
 * performer has no image any more shows none. A photo is the actor tag's (`actor[i].tag.thumb`), sent
 * with the complete list as Plex will show it (a real server replaces the list with the indexed tags).
 */
function decideActorPhotos(desired: DesiredPlexState, current: PlexItem, s: OwnershipSettings, out: Decision): void {
  if (!s.fields.includes('actorphotos') || !desired.actorPhotos || out.owned.actors === undefined) return;
  const list = out.edit.tags.actor?.set ?? current.tags.actor;
  const shown = current.actorThumbs ?? {};
  const thumbs: Record<string, string> = {};
  for (const name of list) {
    const want = desired.actorPhotos[name];
    const have = shown[name];
    if (want !== undefined && have !== want) thumbs[name] = want;
    if (want === undefined && have !== undefined && s.imageBaseUrl && isOurPhotoUrl(s.imageBaseUrl, have)) thumbs[name] = '';
  }
  const fitting = fitThumbs(out.edit.tags.actor ?? { set: [...list], remove: [] }, thumbs, s.editBudget);
  if (fitting.length < Object.keys(thumbs).length)
    out.cut.push(`actorphotos: ${Object.keys(thumbs).length} → ${fitting.length} (${URL_CUT})`);
  const sent = fitting.length > 0;
  if (sent) out.edit.tags.actor = { ...(out.edit.tags.actor ?? { set: [...list], remove: [] }), thumbs: Object.fromEntries(fitting) };
  const set = list.filter((n) => desired.actorPhotos![n] !== undefined).map((n) => `${n}\t${desired.actorPhotos![n]}`);
  own(out, 'actorphotos', valueHash(set), sent);
}

/** The photos that fit one request with their actor list (a list's tags never split): the first ones, in the list's order. */
function fitThumbs(
  actors: { set: string[]; remove: string[] },
  thumbs: Record<string, string>,
  budget: number | undefined,
): [string, string][] {
  const wanted = actors.set.filter((n) => n in thumbs).map((n): [string, string] => [n, thumbs[n]]);
  if (budget === undefined) return wanted;
  const bytesWith = (n: number) =>
    unitBytes(editUnits({ scalars: {}, tags: { actor: { ...actors, remove: [], thumbs: Object.fromEntries(wanted.slice(0, n)) } } })[0]);
  let n = wanted.length;
  while (n > 0 && bytesWith(n) > budget) n--;
  return wanted.slice(0, n);
}

/** Fields stash2plex set that SYNC_FIELDS no longer names: forgotten, and their lock released while Plex still shows its value. */
function release(current: PlexItem, record: OwnershipRecord, s: OwnershipSettings, out: Decision): void {
  for (const field of SYNC_FIELD_NAMES) {
    if (s.fields.includes(field)) continue;
    if (record[field] === undefined) {
      if (field !== 'poster') out.fields[field] = { action: 'skip', why: 'not in SYNC_FIELDS' };
      continue;
    }
    out.released.push(field);
    out.fields[field] = { action: 'skip', why: 'taken out of SYNC_FIELDS: forgotten, its lock released if Plex still shows our value' };
    // Actor photos have no lock of their own (the actor list's is the `actors` field's).
    const lockName = field === 'poster' ? 'thumb' : field === 'background' ? 'art' : plexField(field, current)?.name;
    if (!lockName || lockName === 'userRating' || !current.locked.includes(lockName)) continue;
    const stillOurs = field === 'poster' || field === 'background' || plexValueHash(field, current) === record[field];
    if (stillOurs) (out.edit.unlock ??= []).push(lockName as PlexLockField);
  }
}

/**
 * The edit that makes `current` show `desired` for the fields of SYNC_FIELDS stash2plex may touch. A
 * field is sent when its value differs or it is not locked yet (an unchanged, locked item yields an
 * empty edit: no request). The images are decided apart (src/sync/scene-images.ts): their bytes are read only if needed.
 */
export function decideEdit(
  desired: DesiredPlexState,
  current: PlexItem,
  record: OwnershipRecord,
  ownershipSettings: OwnershipSettings,
): Decision {
  const out: Decision = { edit: { scalars: {}, tags: {} }, owned: {}, intents: {}, released: [], preserved: [], cut: [], fields: {} };
  const locked = new Set(current.locked);
  for (const [field, plex] of SCALARS) {
    if (!ownershipSettings.fields.includes(field)) continue;
    const full = desired.scalars[plex] ?? '';
    const want = ownershipSettings.editBudget === undefined ? full : fitScalar(plex, full, ownershipSettings.editBudget);
    const have = current[plex] ?? '';
    const view = { field, have: plexValueHash(field, current)!, locked: locked.has(plex), want: valueHash(want), wantEmpty: want === '' };
    if (!manages(view, record, ownershipSettings, out)) continue;
    const sent = want !== have || !locked.has(plex);
    if (sent) out.edit.scalars[plex] = want;
    if (sent && want !== full) out.cut.push(`${field}: ${characters(full)} → ${characters(want) - 1} characters (${URL_CUT})`);
    out.fields[field] = sentVerdict(view, sent, want !== have, locked.has(plex));
    own(out, field, view.want, sent);
  }
  decideTags(desired, current, record, ownershipSettings, out);
  decideActorPhotos(desired, current, ownershipSettings, out);
  const rating = {
    field: 'rating' as const,
    have: plexValueHash('rating', current)!,
    locked: false,
    want: valueHash(desired.userRating),
    wantEmpty: desired.userRating === null,
  };
  if (ownershipSettings.fields.includes('rating') && manages(rating, record, ownershipSettings, out)) {
    const sent = !sameRating(desired.userRating, current.userRating);
    if (sent) out.edit.userRating = desired.userRating;
    // Plex has no lock for the user rating: never sent only to lock it.
    out.fields.rating = sentVerdict(rating, sent, sent, false);
    own(out, 'rating', rating.want, sent);
  }
  release(current, record, ownershipSettings, out);
  return out;
}

/** How old (by our clock) a screenshot version must be before it is trusted: see screenshotVersion. */
export const SCREENSHOT_VERSION_SETTLE_S = 2;

/**
 * The version a screenshot URL carries: Stash adds `?t=<the scene's updated_at, Unix seconds>`
 * (stashapp/stash internal/api/urlbuilders/scene.go GetScreenshotURL), which moves with every scene
 * update, a new cover included. Path and query without the origin (a proxy may change it). Null, and the
 * screenshot read every time, when the URL has no `t` or `t` is within SCREENSHOT_VERSION_SETTLE_S of
 * `nowMs`: a cover set later in that same second would carry the same `t`.
 */
export function screenshotVersion(url: string, nowMs: number): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url, 'http://stash.invalid');
  } catch {
    return null;
  }
  const t = parsed.searchParams.get('t');
  if (t === null || !/^\d+$/.test(t) || Number(t) > nowMs / 1000 - SCREENSHOT_VERSION_SETTLE_S) return null;
  return `${parsed.pathname}?t=${t}`;
}
