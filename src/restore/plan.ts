// Pure: what a restore sends to one Plex item, field by field, from what was kept before stash2plex first
// wrote it (src/sync/originals.ts), the ownership record (a hash of the value stash2plex last set) and
// the item as Plex shows it now. A field is put back only while Plex still shows stash2plex's value: one a
// person changed since is left as it is (plexChanged); one never written has nothing to put back.
import { SYNC_FIELD_NAMES, type SyncField } from '../core/config.js';
import type { PlexEdit, PlexItem, PlexPoster, PlexScalarField, PlexTagField } from '../model/types.js';
import { intentOf, plexField, plexFieldKind, valueHash, type OwnershipRecord, type PlexFieldKind } from '../sync/ownership.js';
import type { KeptOriginal, StoredOriginals } from '../sync/originals.js';

export type FieldOutcome = 'restored' | 'neverWritten' | 'plexChanged';

export interface RestoreInput {
  kept: StoredOriginals;
  record: OwnershipRecord;
  item: PlexItem;
  /** The item's posters, read when a poster was kept and the item shows one ([] when it shows none). */
  posters: readonly PlexPoster[] | null;
  /** The item's backgrounds, read when a background was kept and the item shows one ([] when it shows none). */
  arts?: readonly PlexPoster[] | null;
}

export interface RestorePlan {
  /** Values put back, each with the lock it had (`unlock` for a field that was not locked). */
  edit: PlexEdit;
  /** The poster to select again (its ratingKey), sent before the edit; null: none. */
  selectPoster: string | null;
  /** The background to select again (its ratingKey), sent before the edit; null: none. */
  selectArt?: string | null;
  /** Fields Plex shows (after the edit) as they were before stash2plex wrote them. */
  restored: SyncField[];
  /** Fields nothing was kept of: stash2plex never wrote them (or wrote them before originals were kept). */
  neverWritten: SyncField[];
  /** Fields changed in Plex since stash2plex wrote them: left untouched. */
  plexChanged: SyncField[];
  /** Why a field was left, when the outcome alone does not say. */
  notes: string[];
}

/** Whether a kept value has the shape of its field (a damaged one is not put back). */
function fits(kind: PlexFieldKind, value: KeptOriginal['value']): boolean {
  if ('scalar' in kind) return typeof value === 'string';
  if ('tags' in kind) return Array.isArray(value);
  return value === null || typeof value === 'number';
}

/** Adds the put-back of one value field to the edit: its value (when it differs) and the lock it had. */
function putBack(plan: RestorePlan, kind: PlexFieldKind, o: KeptOriginal, item: PlexItem, valueDiffers: boolean): void {
  const unlock = (name: PlexScalarField | PlexTagField) => (plan.edit.unlock ??= []).push(name);
  if ('rating' in kind) {
    plan.edit.userRating = o.value as number | null;
    return;
  }
  const name = 'scalar' in kind ? kind.scalar : kind.tags;
  // A lock alone can only be released (`.locked=0`); a lock to set again travels with the value.
  const send = valueDiffers || o.locked;
  if (send && 'scalar' in kind) plan.edit.scalars[kind.scalar] = o.value as string;
  if (send && 'tags' in kind) {
    const want = o.value as string[];
    plan.edit.tags[kind.tags] = { set: want, remove: (item.tags[kind.tags] ?? []).filter((t) => !want.includes(t)) };
  }
  if (!o.locked) unlock(name);
}

/** What a kept value asks for: nothing ('same': Plex shows it, with its lock), nothing ('plexChanged'), or a put-back. */
export type ValueStep = { step: 'same' } | { step: 'plexChanged' } | { step: 'send'; valueDiffers: boolean };

/**
 * Pure: a kept value against what Plex shows now (`lockMatters`: false for the user rating, which has no
 * lock). Still stash2plex's only while Plex shows the value it last set, or meant to set (`owned`: the
 * ownership record's hash and its intent; an answer lost after Plex applied it).
 */
export function valueStep(
  kept: KeptOriginal,
  now: { value: KeptOriginal['value'] | readonly string[]; locked: boolean },
  owned: readonly (string | undefined)[],
  lockMatters = true,
): ValueStep {
  const nowHash = valueHash(now.value);
  const valueDiffers = nowHash !== valueHash(kept.value);
  if (!valueDiffers && (!lockMatters || now.locked === kept.locked)) return { step: 'same' };
  if (!owned.includes(nowHash)) return { step: 'plexChanged' };
  return { step: 'send', valueDiffers };
}

function planValueField(
  plan: RestorePlan,
  field: SyncField,
  kind: PlexFieldKind,
  o: KeptOriginal,
  record: OwnershipRecord,
  item: PlexItem,
): FieldOutcome {
  if (!fits(kind, o.value)) {
    plan.notes.push(`${field}: the kept value is unreadable`);
    return 'neverWritten';
  }
  const shown = plexField(field, item)!;
  const now = { value: shown.value, locked: item.locked.includes(shown.name) };
  const step = valueStep(o, now, [record[field], record[intentOf(field)]], !('rating' in kind));
  if (step.step === 'same') return 'restored';
  if (step.step === 'plexChanged') return 'plexChanged';
  putBack(plan, kind, o, item, step.valueDiffers);
  return 'restored';
}

/** What the put-back of an image needs: the one to select again (null: none), whether to release its lock, notes. */
export interface ImageStep {
  outcome: FieldOutcome;
  select: string | null;
  unlock: boolean;
  notes: string[];
}

/**
 * Pure: the poster (the background) of an item or a collection: selected again when Plex still shows the
 * one stash2plex uploaded (Plex names an upload `upload://posters/<sha1>`, `upload://arts/<sha1>`; `upload`
 * is the SHA-1 of stash2plex's last one), with the lock it had.
 */
export function imageStep(
  field: 'poster' | 'background',
  kept: KeptOriginal,
  now: { selected: string | null; locked: boolean; list: readonly PlexPoster[] },
  upload: string | null,
): ImageStep {
  const out: ImageStep = { outcome: 'restored', select: null, unlock: false, notes: [] };
  const { selected } = now;
  if (selected === kept.value && now.locked === kept.locked) return out;
  const ours =
    selected === kept.value || (upload !== null && selected !== null && selected.startsWith('upload://') && selected.endsWith(upload));
  if (!ours) return { ...out, outcome: 'plexChanged' };
  if (kept.value !== null && selected !== kept.value) {
    if (!now.list.some((p) => p.ratingKey === kept.value)) {
      const note = `${field}: the one Plex had is no longer among its ${field === 'poster' ? 'posters' : 'backgrounds'}`;
      return { ...out, outcome: 'plexChanged', notes: [note] };
    }
    out.select = kept.value as string;
  }
  if (kept.value === null) out.notes.push(`${field}: Plex had none; the uploaded one stays (unlocked) until Plex picks another`);
  // Selecting may lock the image (Plex's editor does): its lock is put back after, in the edit.
  out.unlock = !kept.locked;
  return out;
}

/** The item's poster (background) by imageStep, into the plan. */
function planImage(plan: RestorePlan, field: 'poster' | 'background', o: KeptOriginal, input: RestoreInput): FieldOutcome {
  const { kept, item } = input;
  const [lock, shown, list, upload] =
    field === 'poster'
      ? (['thumb', item.thumb, input.posters ?? [], kept.posterUpload] as const)
      : (['art', item.art, input.arts ?? [], kept.backgroundUpload ?? null] as const);
  const selected = shown ? (list.find((p) => p.selected)?.ratingKey ?? null) : null;
  const step = imageStep(field, o, { selected, locked: item.locked.includes(lock), list }, upload);
  if (step.select !== null && field === 'poster') plan.selectPoster = step.select;
  if (step.select !== null && field === 'background') plan.selectArt = step.select;
  if (step.unlock) (plan.edit.unlock ??= []).push(lock);
  plan.notes.push(...step.notes);
  return step.outcome;
}

export function planRestore(input: RestoreInput): RestorePlan {
  const plan: RestorePlan = {
    edit: { scalars: {}, tags: {} },
    selectPoster: null,
    restored: [],
    neverWritten: [],
    plexChanged: [],
    notes: [],
  };
  for (const field of SYNC_FIELD_NAMES) {
    const o = input.kept.originals[field];
    const kind = plexFieldKind(field);
    let outcome: FieldOutcome;
    if (!o) outcome = 'neverWritten';
    else if (kind) outcome = planValueField(plan, field, kind, o, input.record, input.item);
    else if ((field === 'poster' || field === 'background') && (typeof o.value === 'string' || o.value === null))
      outcome = planImage(plan, field, o, input);
    else {
      plan.notes.push(`${field}: the kept value is unreadable`);
      outcome = 'neverWritten';
    }
    plan[outcome].push(field);
  }
  return plan;
}
