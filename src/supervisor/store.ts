// Reading the supervisor's state from Redis, tolerantly: every record is checked against the schema
// its writer uses, and what does not fit (bad content, or a key of the wrong Redis type) reads as a safe
// state with a warning, so a damaged key never takes a page or a task down.
import { z } from 'zod';
import type { Keys, RedisConnection } from '../core/redis.js';
import { parseBreaker, type BreakerState } from '../resilience/breaker.js';
import { readableOutages, type Outage } from '../resilience/outages.js';
import { parseRamp, type RampState } from '../resilience/ramp.js';

const epochMs = z.number().nonnegative().nullable();

/** The last probe's result, as the supervisor stores it (JSON at keys().health). */
export const healthRecordSchema = z.object({
  lastProbeAt: epochMs,
  ok: z.boolean().nullable(),
  latencyMs: z.number().nonnegative().nullable(),
  error: z.string().nullable(),
  nextProbeAt: epochMs,
  /** Set when Plex answered but rejected the token: shown, never treated as an outage. */
  tokenRejected: z.boolean(),
  tokenCheckedAt: epochMs,
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
};

/** A lease holder's id (hostname-pid-uuid): printable, short. */
const leaderIdSchema = z.string().regex(/^[\x21-\x7e]{1,200}$/);

export interface SupervisorSnapshot {
  breaker: BreakerState;
  ramp: RampState | null;
  outages: Outage[];
  health: HealthRecord;
  /** Last signal id the leader consumed. */
  signalCursor: string;
  warnings: string[];
}

const WRONG_TYPE = Symbol('wrong type');
type Read<T> = T | null | typeof WRONG_TYPE;

/** A read that answers WRONG_TYPE for a key of another Redis type (corrupt); other errors propagate. */
function tolerant<T>(p: Promise<T>): Promise<Read<T>> {
  return p.catch((err: Error) => {
    if (/WRONGTYPE/.test(err.message)) return WRONG_TYPE;
    throw err;
  });
}

function wrongType<T>(v: Read<T>, what: string, warnings: string[]): v is typeof WRONG_TYPE {
  if (v !== WRONG_TYPE) return false;
  warnings.push(`stored ${what} has the wrong Redis type: ignored`);
  return true;
}

function parseJson(raw: string, what: string, warnings: string[]): unknown {
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    warnings.push(`stored ${what} is not JSON: ignored`);
    return undefined;
  }
}

/** The stored outage history: records that do not fit the schema are dropped, with a warning. */
export function parseOutages(raw: string | null, warnings: string[]): Outage[] {
  if (raw === null) return [];
  const v = parseJson(raw, 'outage history', warnings);
  if (v === undefined) return [];
  if (!Array.isArray(v)) {
    warnings.push('stored outage history is not a list: ignored');
    return [];
  }
  const { outages, dropped } = readableOutages(v);
  if (dropped) warnings.push(`${dropped} stored outage record(s) unreadable: dropped`);
  return outages;
}

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

export async function readSnapshot(redis: RedisConnection, k: Keys, now: number): Promise<SupervisorSnapshot> {
  const [breakerRaw, rampRaw, outagesRaw, healthRaw] = await Promise.all([
    tolerant(redis.hgetall(k.breaker)),
    tolerant(redis.hgetall(k.ramp)),
    tolerant(redis.get(k.outages)),
    tolerant(redis.get(k.health)),
  ]);
  const warnings: string[] = [];
  const breakerHash = wrongType(breakerRaw, 'breaker', warnings) ? null : breakerRaw;
  const b = parseBreaker(breakerHash && Object.keys(breakerHash).length ? breakerHash : null, now);
  if (b.warning) warnings.push(b.warning);
  const r = parseRamp(wrongType(rampRaw, 'ramp', warnings) ? null : rampRaw, now);
  if (r.warning) warnings.push(r.warning);
  const outages = wrongType(outagesRaw, 'outage history', warnings) ? [] : parseOutages(outagesRaw, warnings);
  const health = wrongType(healthRaw, 'health record', warnings) ? { ...EMPTY_HEALTH } : parseHealth(healthRaw, warnings);
  const cursor = breakerHash?.signalCursor;
  return {
    breaker: b.state,
    ramp: r.ramp,
    outages,
    health,
    signalCursor: cursor && /^\d+-\d+$/.test(cursor) ? cursor : '',
    warnings,
  };
}

/** A string key; null when missing or of the wrong Redis type (with a warning naming `what`). */
export async function readString(redis: RedisConnection, key: string, what: string, warnings: string[]): Promise<string | null> {
  const raw = await tolerant(redis.get(key));
  return wrongType(raw, what, warnings) ? null : raw;
}

/** The lease holder's id; null when there is none or it is unreadable (with a warning). */
export async function readLeader(redis: RedisConnection, key: string, warnings: string[]): Promise<string | null> {
  const raw = await readString(redis, key, 'supervisor lease', warnings);
  if (raw === null || leaderIdSchema.safeParse(raw).success) return raw;
  warnings.push('stored supervisor lease holder unreadable: not shown');
  return null;
}
