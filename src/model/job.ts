// The contract's job payload, its validation, and the inbox stream's entry codec.
import { z } from 'zod';

export { encodeFanoutEntry, encodeInboxEntry } from './inbox-codec.js';

export const JOB_REASONS = ['hook', 'reconcile', 'manual', 'requeue'] as const;
export type JobReason = (typeof JOB_REASONS)[number];

export const syncJobSchema = z.strictObject({
  sceneId: z.string().regex(/^\d{1,18}$/, 'sceneId must be a numeric string'),
  reason: z.enum(JOB_REASONS),
  event: z.string().max(100).optional(),
  fields: z.array(z.string().max(100)).max(200).optional(),
  enqueuedAt: z.number().int().nonnegative(),
});
export type SyncJobData = z.infer<typeof syncJobSchema>;

/** BullMQ priorities (lower runs first): a fresh edit from a hook before bulk work. */
export const PRIORITY = { hook: 1, bulk: 10 } as const;
export const priorityOf = (reason: JobReason) => (reason === 'hook' ? PRIORITY.hook : PRIORITY.bulk);

/** Job name in the queue (the worker handles every job whatever its name). */
export const SYNC_JOB_NAME = 'sync';

/** A rename of something scenes carry: every scene with it must be re-synced (fan-out in the worker). */
export const FANOUT_RELATIONS = ['performer', 'studio', 'tag'] as const;
export type FanoutRelation = (typeof FANOUT_RELATIONS)[number];
export const fanoutSchema = z.strictObject({
  relation: z.enum(FANOUT_RELATIONS),
  id: z.string().regex(/^\d{1,18}$/, 'id must be a numeric string'),
  event: z.string().max(100),
  enqueuedAt: z.number().int().nonnegative(),
});
export type FanoutEvent = z.infer<typeof fanoutSchema>;

export type InboxDecoded =
  | { ok: true; job: SyncJobData; fanout?: undefined }
  | { ok: true; fanout: FanoutEvent; job?: undefined }
  | { ok: false; error: string };

export function decodeInboxEntry(flat: string[]): InboxDecoded {
  const m = new Map<string, string>();
  for (let i = 0; i + 1 < flat.length; i += 2) m.set(flat[i]!, flat[i + 1]!);
  if (m.get('kind') === 'fanout') {
    const f = fanoutSchema.safeParse({ relation: m.get('relation'), id: m.get('id'), event: m.get('event'), enqueuedAt: Number(m.get('enqueuedAt')) });
    return f.success ? { ok: true, fanout: f.data } : { ok: false, error: f.error.issues[0]!.message };
  }
  if (m.get('kind') !== 'scene') return { ok: false, error: `unknown inbox entry kind ${JSON.stringify(m.get('kind'))}` };
  let fields: unknown;
  try {
    fields = m.has('fields') ? JSON.parse(m.get('fields')!) : undefined;
  } catch {
    return { ok: false, error: 'fields is not JSON' };
  }
  const parsed = syncJobSchema.safeParse({
    sceneId: m.get('sceneId'),
    reason: m.get('reason'),
    event: m.get('event'),
    fields,
    enqueuedAt: Number(m.get('enqueuedAt')),
  });
  return parsed.success ? { ok: true, job: parsed.data } : { ok: false, error: parsed.error.issues[0]!.message };
}
