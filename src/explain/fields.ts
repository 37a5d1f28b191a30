// Pure: one row per synced field for `npm run explain`: what Stash has (as Plex would show it), what
// Plex shows, its lock, whose it is (the ownership record) and what the next sync does with it. The
// action and its reason come from the sync's own decision (src/sync/ownership.ts decide, and the poster's
// posterWanted / screenshotToRead), never from a second set of rules.
import { SYNC_FIELD_NAMES, type SyncField } from '../core/config.js';
import type { DesiredPlexState, PlexItem } from '../model/types.js';
import {
  desiredValue,
  intentOf,
  plexField,
  plexValueHash,
  type FieldAction,
  type FieldVerdict,
  type OwnershipRecord,
} from '../sync/ownership.js';

export type FieldValue = string | readonly string[] | number | null;

export interface FieldRow {
  field: SyncField;
  /** What Stash has, as the sync would send it (mapping applied: cleaned, the file name for a missing title). */
  stash: FieldValue;
  /** What Plex shows (null: no item matched). */
  plex: FieldValue;
  /** Whether Plex shows the field locked (null: no item matched). */
  locked: boolean | null;
  /** Whose the value in Plex is, by the ownership record. */
  ownership: string;
  action: FieldAction;
  why: string;
}

/** The value Stash wants for a field, in the form Plex shows it. */
export function stashValue(field: SyncField, desired: DesiredPlexState): FieldValue {
  if (field === 'poster' || field === 'background') return desired.posterUrl === null ? null : screenshotPath(desired.posterUrl);
  if (field === 'actorphotos') return desired.actorPhotos ? Object.keys(desired.actorPhotos) : null;
  return desiredValue(field, desired);
}

/** A screenshot URL without its origin (which may name an internal host): its path and version. */
function screenshotPath(url: string): string {
  try {
    const u = new URL(url, 'http://stash.invalid');
    return `${u.pathname}${u.search}`;
  } catch {
    return url;
  }
}

/** Whose a field's value in Plex is, in words, from the ownership record (the hashes decideEdit() compares). */
export function ownershipOf(field: SyncField, current: PlexItem, record: OwnershipRecord): string {
  if (field === 'poster') return record.poster === undefined ? 'never uploaded by stash2plex' : 'uploaded by stash2plex';
  const set = record[field];
  const intent = record[intentOf(field)];
  if (set === undefined && intent === undefined) return 'never set by stash2plex';
  const have = plexValueHash(field, current);
  if (have === set) return "stash2plex's (Plex shows the value it set)";
  if (have === intent) return "stash2plex's (an edit whose answer was lost)";
  return 'set by stash2plex, changed in Plex since';
}

export interface FieldInputs {
  fields: readonly SyncField[];
  desired: DesiredPlexState;
  /** The matched item, its ownership record and the decisions; absent when the sync stops before deciding. */
  matched: { current: PlexItem; record: OwnershipRecord; decided: Partial<Record<SyncField, FieldVerdict>> } | null;
  /** Why the sync stops before deciding (excluded, not ready, not in Plex, a conflict): every field is skipped. */
  stoppedBy: string | null;
}

/** A row per field: those of SYNC_FIELDS with their verdict, the others as skipped (not in SYNC_FIELDS, or released from it). */
export function fieldRows({ fields, desired, matched, stoppedBy }: FieldInputs): FieldRow[] {
  return SYNC_FIELD_NAMES.filter((f) => fields.includes(f) || matched?.decided[f] !== undefined).map((field) => {
    const stash = stashValue(field, desired);
    if (!matched) return { field, stash, plex: null, locked: null, ownership: 'no item matched', action: 'skip', why: stoppedBy ?? '' };
    const { current, record, decided } = matched;
    const plex = field === 'poster' ? (current.thumb ?? null) : (plexField(field, current)?.value ?? null);
    const lockName = field === 'poster' ? 'thumb' : plexField(field, current)?.name;
    const verdict: FieldVerdict = stoppedBy
      ? { action: 'skip', why: stoppedBy }
      : (decided[field] ?? { action: 'skip', why: 'not decided' });
    return {
      field,
      stash,
      plex,
      // Plex keeps no lock for the user rating.
      locked: lockName === 'userRating' ? null : current.locked.includes(lockName ?? ''),
      ownership: ownershipOf(field, current, record),
      ...verdict,
    };
  });
}
