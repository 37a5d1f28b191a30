// An inbox item: what the Stash hook records and the workers' ingest turns into sync jobs. Its one
// definition: the two kinds (a scene job, a fan-out event for a renamed performer, studio or tag), the
// relations, the id rule, the limits, the inbox stream's entry codec and the spool's shape check.
// The full validation (zod) is src/model/job.ts, built from the constants here.
//
// Free of dependencies on purpose: the Stash hook loads it on its hot path (zod alone would cost it
// ~25 ms, a large share of a hook Stash waits for on every save).

export const JOB_REASONS = ['hook', 'reconcile', 'manual', 'requeue'] as const;
export type JobReason = (typeof JOB_REASONS)[number];

/** A rename of something scenes carry: every scene with it must be re-synced (fan-out in the worker). */
export const FANOUT_RELATIONS = ['performer', 'studio', 'tag', 'group'] as const;
export type FanoutRelation = (typeof FANOUT_RELATIONS)[number];

/** A Stash id as an item carries it (scene, performer, studio, tag): a numeric string. */
export const STASH_ID_RE = /^\d{1,18}$/;

/**
 * The id a hook input gives (a number or a numeric string), as an item carries it; null when it is
 * not a positive integer. Stricter than STASH_ID_RE: Stash's ids start at 1, and the canonical form
 * (no sign, no leading zero) makes equal ids equal strings.
 */
export function stashIdOf(id: unknown): string | null {
  if (typeof id === 'number') return Number.isSafeInteger(id) && id > 0 ? String(id) : null;
  if (typeof id !== 'string') return null;
  const s = id.trim();
  return STASH_ID_RE.test(s) && s[0] !== '0' ? s : null;
}

/** Limits of a scene job's `event` and `fields` (the hook trims `fields` to them). */
export const MAX_EVENT_LENGTH = 100;
export const MAX_FIELDS = 200;
export const MAX_FIELD_LENGTH = 100;

/** A scene to sync: the payload of every job of the `sync` queue. */
export interface SyncJobData {
  sceneId: string;
  reason: JobReason;
  /** The hook trigger or task that asked for it. */
  event?: string;
  /** The fields the edit gave (a hook's). */
  fields?: string[];
  enqueuedAt: number;
}

/** A renamed performer, studio or tag (or a tag merge's destination): the workers re-sync its scenes. */
export interface FanoutEvent {
  relation: FanoutRelation;
  id: string;
  event: string;
  enqueuedAt: number;
}

/** A fan-out event as the spool and the inbox writers carry it: tagged, to tell it from a scene job. */
export type FanoutItem = FanoutEvent & { kind: 'fanout' };
/** One inbox entry to be: a scene job or a fan-out event. */
export type InboxItem = SyncJobData | FanoutItem;

/** The item of a fan-out event, its fields in a fixed order (equal items, equal spool lines). */
export const fanoutItem = (fanoutEvent: FanoutEvent): FanoutItem => ({
  kind: 'fanout',
  relation: fanoutEvent.relation,
  id: fanoutEvent.id,
  event: fanoutEvent.event,
  enqueuedAt: fanoutEvent.enqueuedAt,
});
export const isFanoutItem = (item: InboxItem): item is FanoutItem => (item as { kind?: unknown }).kind === 'fanout';
/** `scene 12`, `performer 7`: for messages. */
export const itemLabel = (item: InboxItem): string => (isFanoutItem(item) ? `${item.relation} ${item.id}` : `scene ${item.sceneId}`);

// ---- the inbox stream's entries: flat field/value lists for XADD ----------------------------------

/** Kind `scene` carries a job payload; kind `fanout` what the fan-out needs. */
export function encodeInboxEntry(job: SyncJobData): string[] {
  const out = ['kind', 'scene', 'sceneId', job.sceneId, 'reason', job.reason, 'enqueuedAt', String(job.enqueuedAt)];
  if (job.event) out.push('event', job.event);
  if (job.fields) out.push('fields', JSON.stringify(job.fields));
  return out;
}

export function encodeFanoutEntry(fanoutEvent: FanoutEvent): string[] {
  return [
    'kind',
    'fanout',
    'relation',
    fanoutEvent.relation,
    'id',
    fanoutEvent.id,
    'event',
    fanoutEvent.event,
    'enqueuedAt',
    String(fanoutEvent.enqueuedAt),
  ];
}

/** The XADD field/value list of an item. */
export function encodeItem(item: InboxItem): string[] {
  return isFanoutItem(item) ? encodeFanoutEntry(item) : encodeInboxEntry(item);
}

/** An entry read back, not yet validated (src/model/job.ts decodeInboxEntry validates it). */
export type InboxEntryFields =
  | { kind: 'scene'; fields: Record<keyof SyncJobData, unknown> }
  | { kind: 'fanout'; fields: Record<keyof FanoutEvent, unknown> }
  | { kind: 'unknown'; error: string };

/** The inverse of the encoders, field by field; `fields` still a JSON string's parse (or the error). */
export function readInboxEntry(flat: readonly string[]): InboxEntryFields {
  const m = new Map<string, string>();
  for (let i = 0; i + 1 < flat.length; i += 2) m.set(flat[i], flat[i + 1]);
  const enqueuedAt = Number(m.get('enqueuedAt'));
  if (m.get('kind') === 'fanout') {
    return { kind: 'fanout', fields: { relation: m.get('relation'), id: m.get('id'), event: m.get('event'), enqueuedAt } };
  }
  if (m.get('kind') !== 'scene') return { kind: 'unknown', error: `unknown inbox entry kind ${JSON.stringify(m.get('kind'))}` };
  let fields: unknown;
  try {
    fields = m.has('fields') ? JSON.parse(m.get('fields')!) : undefined;
  } catch {
    return { kind: 'unknown', error: 'fields is not JSON' };
  }
  return { kind: 'scene', fields: { sceneId: m.get('sceneId'), reason: m.get('reason'), event: m.get('event'), fields, enqueuedAt } };
}

// ---- an item as JSON (the spool's lines) -----------------------------------------------------------

/** The JSON of an item. Fields in a fixed order: equal items, equal lines. */
export function itemJson(item: InboxItem): string {
  return JSON.stringify(isFanoutItem(item) ? fanoutItem(item) : item);
}

/**
 * A parsed JSON value (a spool line) → item, or null when it is none. A light shape check (the hook must stay fast;
 * the workers' decodeInboxEntry validates fully and drops what is invalid). A line without `kind` is a
 * scene job (every line ever spooled before fan-outs existed).
 */
export function inboxItemOf(value: unknown): InboxItem | null {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return null;
  const j = value as Record<string, unknown>;
  if (j.kind === 'fanout') {
    if (typeof j.relation !== 'string' || !(FANOUT_RELATIONS as readonly string[]).includes(j.relation)) return null;
    if (typeof j.id !== 'string' || !STASH_ID_RE.test(j.id)) return null;
    if (typeof j.event !== 'string' || typeof j.enqueuedAt !== 'number') return null;
    return fanoutItem(j as unknown as FanoutEvent);
  }
  if (j.kind !== undefined) return null;
  if (typeof j.sceneId !== 'string' || !STASH_ID_RE.test(j.sceneId)) return null;
  if (typeof j.reason !== 'string' || typeof j.enqueuedAt !== 'number') return null;
  if (j.event !== undefined && typeof j.event !== 'string') return null;
  if (j.fields !== undefined && !(Array.isArray(j.fields) && j.fields.every((f) => typeof f === 'string'))) return null;
  return j as unknown as SyncJobData;
}
