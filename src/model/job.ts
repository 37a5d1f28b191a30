// The inbox item's full validation (zod), built from its one definition (src/model/inbox-item.ts), and
// the queue's job conventions. Off the hook's hot path: the workers, the HTTP hook and the CLI load it.
import { z } from 'zod';
import {
  FANOUT_RELATIONS,
  JOB_REASONS,
  MAX_EVENT_LENGTH,
  MAX_FIELD_LENGTH,
  MAX_FIELDS,
  readInboxEntry,
  STASH_ID_RE,
  type FanoutEvent,
  type JobReason,
  type SyncJobData,
} from './inbox-item.js';

export const syncJobSchema = z.strictObject({
  sceneId: z.string().regex(STASH_ID_RE, 'sceneId must be a numeric string'),
  reason: z.enum(JOB_REASONS),
  event: z.string().max(MAX_EVENT_LENGTH).optional(),
  fields: z.array(z.string().max(MAX_FIELD_LENGTH)).max(MAX_FIELDS).optional(),
  enqueuedAt: z.number().int().nonnegative(),
}) satisfies z.ZodType<SyncJobData>;

export const fanoutSchema = z.strictObject({
  relation: z.enum(FANOUT_RELATIONS),
  id: z.string().regex(STASH_ID_RE, 'id must be a numeric string'),
  event: z.string().max(MAX_EVENT_LENGTH),
  enqueuedAt: z.number().int().nonnegative(),
}) satisfies z.ZodType<FanoutEvent>;

// The schemas and the hand-written types of inbox-item.ts describe the same objects (checked both ways).
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const sameJob: Same<z.infer<typeof syncJobSchema>, SyncJobData> = true;
const sameFanout: Same<z.infer<typeof fanoutSchema>, FanoutEvent> = true;
void sameJob;
void sameFanout;

/** BullMQ priorities (lower runs first): a fresh edit from a hook before bulk work. */
export const PRIORITY = { hook: 1, bulk: 10 } as const;
export const priorityOf = (reason: JobReason) => (reason === 'hook' ? PRIORITY.hook : PRIORITY.bulk);

/** Job name in the queue (the worker handles every job whatever its name). */
export const SYNC_JOB_NAME = 'sync';

export type InboxDecoded =
  { ok: true; job: SyncJobData; fanout?: undefined } | { ok: true; fanout: FanoutEvent; job?: undefined } | { ok: false; error: string };

/** An inbox stream entry → a valid scene job or fan-out event, or why not. */
export function decodeInboxEntry(flat: string[]): InboxDecoded {
  const entry = readInboxEntry(flat);
  if (entry.kind === 'unknown') return { ok: false, error: entry.error };
  if (entry.kind === 'fanout') {
    const f = fanoutSchema.safeParse(entry.fields);
    return f.success ? { ok: true, fanout: f.data } : { ok: false, error: f.error.issues[0].message };
  }
  const parsed = syncJobSchema.safeParse(entry.fields);
  return parsed.success ? { ok: true, job: parsed.data } : { ok: false, error: parsed.error.issues[0].message };
}
