// Pure: what to send to Plex, knowing which values are ours. stash2plex keeps, per Plex item, a hash of
// each value it set (the ownership record); a field it set follows Stash down to empty, a field it never
// set is only filled (never blanked), and with PRESERVE_PLEX_EDITS a value someone changed in Plex since
// is left alone. Only the fields sent are locked (src/plex/edits.ts); the others keep their lock state.
import { createHash } from 'node:crypto';
import type { SyncField } from '../core/config.js';
import type { DesiredPlexState, PlexEdit, PlexItem, PlexScalarField, PlexTagField } from '../model/types.js';
import type { SyncMode } from './mapping.js';

/**
 * SYNC_FIELDS name → hash of the value stash2plex last set (`poster`: of the image bytes), and
 * `posterVersion`: the version of the screenshot URL those bytes were last read at (screenshotVersion).
 */
export type OwnershipRecord = Partial<Record<SyncField | 'posterVersion', string>>;

/** The entries of `owned` the stored record does not already hold: an unchanged scene writes nothing. */
export function ownershipChanges(record: OwnershipRecord, owned: OwnershipRecord): OwnershipRecord {
  return Object.fromEntries(Object.entries(owned).filter(([field, hash]) => record[field as keyof OwnershipRecord] !== hash));
}

export interface OwnershipSettings {
  mode: SyncMode;
  fields: readonly SyncField[];
  preservePlexEdits: boolean;
  maxTags: number;
}

export interface Decision {
  edit: PlexEdit;
  /** Record entries to write once the edit succeeded (the fields stash2plex now owns, with their hash). */
  owned: OwnershipRecord;
  /** Fields left alone because they were changed in Plex since stash2plex set them (PRESERVE_PLEX_EDITS). */
  preserved: SyncField[];
  /** Lists cut to MAX_TAGS, e.g. "genres: 250 → 200". */
  cut: string[];
}

const SCALARS: readonly (readonly [SyncField, PlexScalarField])[] = [
  ['title', 'title'],
  ['summary', 'summary'],
  ['studio', 'studio'],
  ['date', 'originallyAvailableAt'],
];
const TAGS: readonly (readonly [SyncField, PlexTagField])[] = [
  ['genres', 'genre'],
  ['actors', 'actor'],
  ['collection', 'collection'],
];

/** First 16 hex digits of SHA-256 of a value's canonical form: tags sorted, ratings to one decimal. */
export function valueHash(value: string | readonly string[] | number | null | Uint8Array): string {
  const hash = createHash('sha256');
  if (value instanceof Uint8Array) hash.update(value);
  else hash.update(JSON.stringify(Array.isArray(value) ? [...value].sort() : typeof value === 'number' ? value.toFixed(1) : value));
  return hash.digest('hex').slice(0, 16);
}

/**
 * The Plex field a SYNC_FIELDS name edits (the name its lock goes by) and what Plex shows for it now, in
 * the canonical form valueHash takes. Null for `poster`: Plex does not expose a poster's bytes.
 */
export function plexField(field: SyncField, current: PlexItem): { name: string; value: string | readonly string[] | number | null } | null {
  const scalar = SCALARS.find(([f]) => f === field);
  if (scalar) return { name: scalar[1], value: current[scalar[1]] ?? '' };
  const tag = TAGS.find(([f]) => f === field);
  if (tag) return { name: tag[1], value: current.tags[tag[1]] ?? [] };
  return field === 'rating' ? { name: 'userRating', value: current.userRating } : null;
}

/** The hash of what Plex shows now for a field, as the record keeps it: what decide() and Reconcile Library compare with the record. */
export function plexValueHash(field: SyncField, current: PlexItem): string | null {
  const p = plexField(field, current);
  return p ? valueHash(p.value) : null;
}

/**
 * Whether stash2plex manages `field` this time: not when it never set it and Stash has nothing (never
 * blank what is not ours), nor when PRESERVE_PLEX_EDITS is on and Plex no longer shows what it set.
 */
function manages(field: SyncField, wantEmpty: boolean, have: string, record: OwnershipRecord, s: OwnershipSettings, out: Decision): boolean {
  const ours = record[field];
  if (ours === undefined) return !wantEmpty;
  if (s.preservePlexEdits && ours !== have) {
    out.preserved.push(field);
    return false;
  }
  return true;
}

const sameSet = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x) => b.includes(x));
const sameRating = (a: number | null, b: number | null) => (a === null || b === null ? a === b : Math.abs(a - b) < 0.05);

function decideTags(desired: DesiredPlexState, current: PlexItem, record: OwnershipRecord, s: OwnershipSettings, out: Decision): void {
  const locked = new Set(current.locked);
  for (const [field, plex] of TAGS) {
    if (!s.fields.includes(field)) continue;
    const all = desired.tags[plex];
    const want = all.slice(0, s.maxTags);
    if (all.length > want.length) out.cut.push(`${field}: ${all.length} → ${want.length}`);
    const have = current.tags[plex] ?? [];
    if (!manages(field, want.length === 0, plexValueHash(field, current)!, record, s, out)) continue;
    if (s.mode === 'mirror') {
      if (!sameSet(want, have) || !locked.has(plex)) out.edit.tags[plex] = { set: want, remove: have.filter((t) => !want.includes(t)) };
      out.owned[field] = valueHash(want);
    } else {
      const missing = want.filter((t) => !have.includes(t));
      // The complete list is sent so the edit is right whether Plex reads it as addition or replacement.
      const set = [...have, ...missing];
      if (missing.length > 0 || !locked.has(plex)) out.edit.tags[plex] = { set, remove: [] };
      out.owned[field] = valueHash(set);
    }
  }
}

/**
 * The edit that makes `current` show `desired` for the fields of SYNC_FIELDS stash2plex may touch. A
 * field is sent when its value differs or it is not locked yet (an unchanged, locked item yields an
 * empty edit: no request). The poster is decided apart (posterWanted): its bytes are read only if needed.
 */
export function decide(desired: DesiredPlexState, current: PlexItem, record: OwnershipRecord, s: OwnershipSettings): Decision {
  const out: Decision = { edit: { scalars: {}, tags: {} }, owned: {}, preserved: [], cut: [] };
  const locked = new Set(current.locked);
  for (const [field, plex] of SCALARS) {
    if (!s.fields.includes(field)) continue;
    const want = desired.scalars[plex];
    const have = current[plex] ?? '';
    if (!manages(field, want === '', plexValueHash(field, current)!, record, s, out)) continue;
    if (want !== have || !locked.has(plex)) out.edit.scalars[plex] = want;
    out.owned[field] = valueHash(want);
  }
  decideTags(desired, current, record, s, out);
  if (s.fields.includes('rating') && manages('rating', desired.userRating === null, plexValueHash('rating', current)!, record, s, out)) {
    if (!sameRating(desired.userRating, current.userRating)) out.edit.userRating = desired.userRating;
    out.owned.rating = valueHash(desired.userRating);
  }
  return out;
}

/**
 * Whether a screenshot with hash `hash` is uploaded: when it differs from the poster stash2plex last
 * uploaded, or Plex lost the lock. (Plex does not expose a poster's bytes, so a poster changed in Plex
 * cannot be told apart: PRESERVE_PLEX_EDITS does not apply to it.)
 */
export function posterWanted(hash: string, record: OwnershipRecord, thumbLocked: boolean): boolean {
  return !thumbLocked || record.poster !== hash;
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

/**
 * Whether the screenshot must be read to decide on the poster: not when its version is the one read
 * last time, the poster stash2plex uploaded is recorded and Plex still holds its lock.
 */
export function screenshotToRead(version: string | null, record: OwnershipRecord, thumbLocked: boolean): boolean {
  return version === null || record.posterVersion !== version || record.poster === undefined || !thumbLocked;
}
