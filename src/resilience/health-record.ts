// The health record (JSON at keys().health): the last probe's result and the token verdict. Written only
// by the supervisor leader (healthWrite), read back only through readHealth, both with one schema.
import { z } from 'zod';
import type { Keys, RedisConnection } from '../core/redis.js';
import type { FencedOp } from './lease.js';
import { parseJson, tolerant, wrongType } from './tolerant-read.js';

const epochMs = z.number().nonnegative().nullable();

/** The last probe's result and the token verdict, as the supervisor stores them. */
export const healthRecordSchema = z.object({
  lastProbeAt: epochMs,
  ok: z.boolean().nullable(),
  latencyMs: z.number().nonnegative().nullable(),
  error: z.string().nullable(),
  nextProbeAt: epochMs,
  /** Set when Plex answered but rejected the token: shown, never treated as an outage. */
  tokenRejected: z.boolean(),
  /** When the last token check that Plex answered began (supervisor clock). */
  tokenCheckedAt: epochMs,
  /** When the supervisor last checked Stash (answered or not); null: it does not (no STASH_URL) or not yet. */
  stashLastCheckAt: epochMs,
  /** When the last Stash check that Stash answered began (workers compare their Stash faults with it). */
  stashCheckedAt: epochMs,
  /** The last check: Stash answered (with or without accepting the key); null: not checked. */
  stashReachable: z.boolean().nullable(),
  /** Stash answered 401/403 with STASH_API_KEY: the queue is held (reason "stash key rejected"). */
  stashKeyRejected: z.boolean(),
  /** Stash did not answer: the queue is held (reason "stash down"). */
  stashDown: z.boolean(),
  stashVersion: z.string().max(100).nullable(),
  /** The last Stash fault, one line naming the setting (no secret). */
  stashError: z.string().max(500).nullable(),
});
export type HealthRecord = z.infer<typeof healthRecordSchema>;

export const EMPTY_HEALTH: HealthRecord = {
  lastProbeAt: null,
  ok: null,
  latencyMs: null,
  error: null,
  nextProbeAt: null,
  tokenRejected: false,
  tokenCheckedAt: null,
  stashLastCheckAt: null,
  stashCheckedAt: null,
  stashReachable: null,
  stashKeyRejected: false,
  stashDown: false,
  stashVersion: null,
  stashError: null,
};

/** The stored health record, field by field: a field that does not fit reads as unknown, with a warning. */
export function parseHealth(raw: string | null, warnings: string[]): HealthRecord {
  if (raw === null) return { ...EMPTY_HEALTH };
  const v = parseJson(raw, 'health record', warnings);
  if (v === undefined) return { ...EMPTY_HEALTH };
  if (!v || typeof v !== 'object' || Array.isArray(v)) {
    warnings.push('stored health record is not an object: ignored');
    return { ...EMPTY_HEALTH };
  }
  const fields = healthRecordSchema.shape;
  const out: Record<string, unknown> = { ...EMPTY_HEALTH };
  const bad: string[] = [];
  for (const name of Object.keys(fields) as (keyof HealthRecord)[]) {
    const given = (v as Record<string, unknown>)[name];
    if (given === undefined) continue;
    const parsed = fields[name].safeParse(given);
    if (parsed.success) out[name] = parsed.data;
    else bad.push(name);
  }
  if (bad.length) warnings.push(`stored health record: ${bad.join(', ')} unreadable: ignored`);
  return out as HealthRecord;
}

/** The health record; missing, of the wrong Redis type or unreadable parts read as unknown (with warnings). */
export async function readHealth(redis: RedisConnection, redisKeys: Pick<Keys, 'health'>, warnings: string[]): Promise<HealthRecord> {
  const raw = await tolerant(redis.get(redisKeys.health));
  return wrongType(raw, 'health record', warnings) ? { ...EMPTY_HEALTH } : parseHealth(raw, warnings);
}

/** The fenced write that stores `health`. */
export function healthWrite(redisKeys: Pick<Keys, 'health'>, health: HealthRecord): FencedOp {
  return { cmd: 'SET', key: redisKeys.health, args: [JSON.stringify(health)] };
}
