// Pure: what a restore sends to one Plex collection, from what was kept before stash2plex first wrote its
// summary or poster (src/sync/originals.ts), the ownership record and the collection as Plex shows it
// now. The rules are an item's (./plan.ts): put back only while Plex still shows stash2plex's value.
import type { PlexPoster } from '../model/types.js';
import type { PlexCollection } from '../plex/client.js';
import type { OwnershipRecord } from '../sync/ownership.js';
import type { KeptOriginal, StoredOriginals } from '../sync/originals.js';
import { imageStep, valueStep, type FieldOutcome } from './plan.js';

/** What stash2plex writes of a collection. */
export const COLLECTION_FIELDS = ['summary', 'poster'] as const;
export type CollectionField = (typeof COLLECTION_FIELDS)[number];

export interface CollectionRestoreInput {
  kept: StoredOriginals;
  record: OwnershipRecord;
  collection: Pick<PlexCollection, 'summary' | 'locked' | 'thumb'>;
  /** Its posters, read when a poster was kept and it shows one ([] when it shows none). */
  posters: readonly PlexPoster[] | null;
}

export interface CollectionRestorePlan {
  /** The summary to put back (sent locked; undefined: none). */
  summary?: string;
  /** Locks to release, sent after the summary and the selection: they were not set before. */
  unlock: ('summary' | 'thumb')[];
  /** The poster to select again (its ratingKey), sent first; null: none. */
  selectPoster: string | null;
  restored: CollectionField[];
  neverWritten: CollectionField[];
  plexChanged: CollectionField[];
  notes: string[];
}

function planSummary(plan: CollectionRestorePlan, o: KeptOriginal, input: CollectionRestoreInput): FieldOutcome {
  if (typeof o.value !== 'string') {
    plan.notes.push('summary: the kept value is unreadable');
    return 'neverWritten';
  }
  const { collection, record } = input;
  const now = { value: collection.summary, locked: collection.locked.includes('summary') };
  const step = valueStep(o, now, [record.summary, record['summary:intent']]);
  if (step.step !== 'send') return step.step === 'same' ? 'restored' : 'plexChanged';
  // A lock alone can only be released; a lock to set again travels with the value (editCollection locks).
  if (step.valueDiffers || o.locked) plan.summary = o.value;
  if (!o.locked) plan.unlock.push('summary');
  return 'restored';
}

function planPoster(plan: CollectionRestorePlan, o: KeptOriginal, input: CollectionRestoreInput): FieldOutcome {
  if (typeof o.value !== 'string' && o.value !== null) {
    plan.notes.push('poster: the kept value is unreadable');
    return 'neverWritten';
  }
  const { collection, kept } = input;
  const list = input.posters ?? [];
  const selected = collection.thumb ? (list.find((p) => p.selected)?.ratingKey ?? null) : null;
  const step = imageStep('poster', o, { selected, locked: collection.locked.includes('thumb'), list }, kept.posterUpload);
  plan.selectPoster = step.select;
  if (step.unlock) plan.unlock.push('thumb');
  plan.notes.push(...step.notes);
  return step.outcome;
}

export function planCollectionRestore(input: CollectionRestoreInput): CollectionRestorePlan {
  const plan: CollectionRestorePlan = { unlock: [], selectPoster: null, restored: [], neverWritten: [], plexChanged: [], notes: [] };
  for (const field of COLLECTION_FIELDS) {
    const o = input.kept.originals[field];
    const outcome: FieldOutcome = !o ? 'neverWritten' : field === 'summary' ? planSummary(plan, o, input) : planPoster(plan, o, input);
    plan[outcome].push(field);
  }
  return plan;
}
