// Reading the supervisor's state from Redis, tolerantly: garbage reads as a safe state with a warning.
import type { Keys, RedisConnection } from '../redis.js';
import { parseBreaker, type BreakerState } from '../resilience/breaker.js';
import type { Outage } from '../resilience/outages.js';
import { parseRamp, type RampState } from '../resilience/ramp.js';

export interface HealthRecord {
  lastProbeAt: number | null;
  ok: boolean | null;
  latencyMs: number | null;
  error: string | null;
  nextProbeAt: number | null;
  /** Set when Plex answered but rejected the token: shown, never treated as an outage. */
  tokenRejected: boolean;
  tokenCheckedAt: number | null;
}

export const EMPTY_HEALTH: HealthRecord = {
  lastProbeAt: null,
  ok: null,
  latencyMs: null,
  error: null,
  nextProbeAt: null,
  tokenRejected: false,
  tokenCheckedAt: null,
};

export interface SupervisorSnapshot {
  breaker: BreakerState;
  ramp: RampState | null;
  outages: Outage[];
  health: HealthRecord;
  /** Last signal id the leader consumed. */
  signalCursor: string;
  warnings: string[];
}

function parseJson<T>(raw: string | null, what: string, fallback: T, warnings: string[], valid: (v: unknown) => boolean): T {
  if (raw === null) return fallback;
  try {
    const v = JSON.parse(raw) as unknown;
    if (valid(v)) return v as T;
  } catch {
    /* fall through */
  }
  warnings.push(`stored ${what} unreadable: ignored`);
  return fallback;
}

const isOutage = (o: unknown): o is Outage =>
  !!o && typeof o === 'object' && typeof (o as Outage).id === 'string' && typeof (o as Outage).startedAt === 'number';

export async function readSnapshot(redis: RedisConnection, k: Keys, now: number): Promise<SupervisorSnapshot> {
  const [breakerRaw, rampRaw, outagesRaw, healthRaw] = await Promise.all([
    redis.hgetall(k.breaker).catch(() => null),
    redis.hgetall(k.ramp).catch(() => null),
    redis.get(k.outages).catch(() => null),
    redis.get(k.health).catch(() => null),
  ]);
  const warnings: string[] = [];
  const b = parseBreaker(breakerRaw && Object.keys(breakerRaw).length ? breakerRaw : null, now);
  if (b.warning) warnings.push(b.warning);
  const r = parseRamp(rampRaw, now);
  if (r.warning) warnings.push(r.warning);
  const outages = parseJson<unknown[]>(outagesRaw, 'outage history', [], warnings, Array.isArray).filter(isOutage);
  const health = { ...EMPTY_HEALTH, ...parseJson<Partial<HealthRecord>>(healthRaw, 'health record', {}, warnings, (v) => !!v && typeof v === 'object') };
  const cursor = breakerRaw?.signalCursor;
  return {
    breaker: b.state,
    ramp: r.ramp,
    outages,
    health,
    signalCursor: cursor && /^\d+-\d+$/.test(cursor) ? cursor : '',
    warnings,
  };
}
