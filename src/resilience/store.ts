// The supervisor's stored state, one reader and one writer per record: the breaker hash (with the
// signal cursor), the transition log, the ramp, the outage history and the outage's job set. Writers
// return fenced ops (the leader applies them through its lease, ./lease.ts); readers check every record
// against the schema its writer uses, and what does not fit (bad content, or a key of the wrong Redis
// type) reads as a safe state with a warning, so a damaged key never takes a page or a task down. The
// health record is ./health-record.ts, the lease ./lease.ts, the signals ./signals.ts.
import type { Keys, RedisConnection } from '../core/redis.js';
import { parseBreaker, serializeBreaker, type BreakerState, type BreakerTransition } from './breaker.js';
import { readHealth, type HealthRecord } from './health-record.js';
import type { FencedOp } from './lease.js';
import { outagesToStore, readableOutages, type Outage } from './outages.js';
import { parseRamp, serializeRamp, type RampState } from './ramp.js';
import { parseJson, tolerant, WRONG_TYPE, wrongType } from './tolerant-read.js';

/** The breaker hash as read: the state, the last signal the leader consumed, whether the key exists at all. */
export interface StoredBreaker {
  state: BreakerState;
  /** Last signal id the leader consumed; '' when none or unreadable. */
  signalCursor: string;
  /** False when the key does not exist (never written). */
  stored: boolean;
}

/** The breaker hash: missing reads as CLOSED; unreadable as CLOSED or repaired (parseBreaker), with a warning. */
export async function readBreaker(
  redis: RedisConnection,
  redisKeys: Pick<Keys, 'breaker'>,
  now: number,
  warnings: string[],
): Promise<StoredBreaker> {
  const raw = await tolerant(redis.hgetall(redisKeys.breaker));
  const hash = wrongType(raw, 'breaker', warnings) ? null : raw;
  const b = parseBreaker(hash && Object.keys(hash).length ? hash : null, now);
  if (b.warning) warnings.push(b.warning);
  const cursor = hash?.signalCursor;
  return {
    state: b.state,
    signalCursor: cursor && /^\d+-\d+$/.test(cursor) ? cursor : '',
    stored: raw === WRONG_TYPE || Object.keys(raw ?? {}).length > 0,
  };
}

/** The writes that store the breaker and the signal cursor (the whole hash replaced). */
export function breakerWrites(redisKeys: Pick<Keys, 'breaker'>, state: BreakerState, signalCursor: string): FencedOp[] {
  return [
    { cmd: 'DEL', key: redisKeys.breaker, args: [] },
    { cmd: 'HSET', key: redisKeys.breaker, args: Object.entries({ ...serializeBreaker(state), signalCursor }).flat() },
  ];
}

/** Transitions kept in the log. */
export const TRANSITIONS_KEPT = 100;

/** The writes that append `t` to the capped transition log (newest first; read by operators, LRANGE). */
export function transitionWrites(redisKeys: Pick<Keys, 'transitions'>, breakerTransition: BreakerTransition): FencedOp[] {
  return [
    { cmd: 'LPUSH', key: redisKeys.transitions, args: [JSON.stringify(breakerTransition)] },
    { cmd: 'LTRIM', key: redisKeys.transitions, args: [0, TRANSITIONS_KEPT - 1] },
  ];
}

/** The ramp hash: null when none runs; unreadable parts repaired the cautious way (parseRamp), with a warning. */
export async function readRamp(
  redis: RedisConnection,
  redisKeys: Pick<Keys, 'ramp'>,
  now: number,
  warnings: string[],
): Promise<RampState | null> {
  const raw = await tolerant(redis.hgetall(redisKeys.ramp));
  const r = parseRamp(wrongType(raw, 'ramp', warnings) ? null : raw, now);
  if (r.warning) warnings.push(r.warning);
  return r.ramp;
}

/** The writes that store `ramp` (null: the key deleted, no ramp runs). */
export function rampWrites(redisKeys: Pick<Keys, 'ramp'>, ramp: RampState | null): FencedOp[] {
  const del: FencedOp = { cmd: 'DEL', key: redisKeys.ramp, args: [] };
  return ramp ? [del, { cmd: 'HSET', key: redisKeys.ramp, args: Object.entries(serializeRamp(ramp)).flat() }] : [del];
}

/** The stored outage history and when the time observed began (null: not recorded, an older history). */
export interface OutageHistory {
  outages: Outage[];
  observedSince: number | null;
}

/** The stored outage history (a list, or `{ observedSince, outages }`): records that do not fit are dropped, with a warning. */
export function parseOutageHistory(raw: string | null, warnings: string[]): OutageHistory {
  if (raw === null) return { outages: [], observedSince: null };
  const v = parseJson(raw, 'outage history', warnings);
  if (v === undefined) return { outages: [], observedSince: null };
  const obj = v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as { observedSince?: unknown; outages?: unknown }) : null;
  const list = Array.isArray(v) ? v : obj?.outages;
  const since =
    obj && typeof obj.observedSince === 'number' && Number.isFinite(obj.observedSince) && obj.observedSince >= 0 ? obj.observedSince : null;
  if (!Array.isArray(list)) {
    warnings.push('stored outage history is not a list: ignored');
    return { outages: [], observedSince: since };
  }
  const { outages, dropped } = readableOutages(list);
  if (dropped) warnings.push(`${dropped} stored outage record(s) unreadable: dropped`);
  return { outages, observedSince: since };
}

/** The stored outage history's records only (see parseOutageHistory). */
export function parseOutages(raw: string | null, warnings: string[]): Outage[] {
  return parseOutageHistory(raw, warnings).outages;
}

/** The outage history, newest first, and the start of the time observed; what cannot be read is dropped, with a warning. */
export async function readOutageHistory(
  redis: RedisConnection,
  redisKeys: Pick<Keys, 'outages'>,
  warnings: string[],
): Promise<OutageHistory> {
  const raw = await tolerant(redis.get(redisKeys.outages));
  return wrongType(raw, 'outage history', warnings) ? { outages: [], observedSince: null } : parseOutageHistory(raw, warnings);
}

/** The outage history, newest first; what cannot be read is dropped, with a warning. */
export async function readOutages(redis: RedisConnection, redisKeys: Pick<Keys, 'outages'>, warnings: string[]): Promise<Outage[]> {
  return (await readOutageHistory(redis, redisKeys, warnings)).outages;
}

/**
 * The write that stores the outage history (only records that fit the schema: every reader can read it
 * back) with the start of the time observed (kept from the first supervisor that led).
 */
export function outagesWrite(redisKeys: Pick<Keys, 'outages'>, list: readonly Outage[], observedSince: number | null): FencedOp {
  return { cmd: 'SET', key: redisKeys.outages, args: [outagesToStore(list, observedSince)] };
}

/** The write that adds jobs to the ongoing outage's job set. */
export function outageJobsAdd(redisKeys: Pick<Keys, 'outageJobs'>, jobIds: readonly string[]): FencedOp {
  return { cmd: 'SADD', key: redisKeys.outageJobs, args: [...jobIds] };
}

/** The write that empties the outage's job set. */
export function outageJobsClear(redisKeys: Pick<Keys, 'outageJobs'>): FencedOp {
  return { cmd: 'DEL', key: redisKeys.outageJobs, args: [] };
}

/** Distinct jobs in the outage's job set. */
export function countOutageJobs(redis: RedisConnection, redisKeys: Pick<Keys, 'outageJobs'>): Promise<number> {
  return redis.scard(redisKeys.outageJobs);
}

/** Which of `jobIds` are in the outage's job set, in order. */
export async function inOutageJobs(
  redis: RedisConnection,
  redisKeys: Pick<Keys, 'outageJobs'>,
  jobIds: readonly string[],
): Promise<boolean[]> {
  if (!jobIds.length) return [];
  const r = await redis.smismember(redisKeys.outageJobs, ...jobIds);
  return r.map((v) => v === 1);
}

export interface SupervisorSnapshot {
  breaker: BreakerState;
  ramp: RampState | null;
  outages: Outage[];
  /** When the time observed began (the first supervisor's first leadership); null until recorded. */
  observedSince: number | null;
  health: HealthRecord;
  /** Last signal id the leader consumed. */
  signalCursor: string;
  warnings: string[];
}

/** The snapshot, and whether the breaker hash exists (the status shows `since` 0 until it does). */
export type StoredSnapshot = SupervisorSnapshot & { breakerStored: boolean };

/** Breaker, ramp, outage history and health record, read in parallel; warnings in that order. */
export async function readSnapshot(redis: RedisConnection, redisKeys: Keys, now: number): Promise<StoredSnapshot> {
  const w: [string[], string[], string[], string[]] = [[], [], [], []];
  const [breaker, ramp, outages, health] = await Promise.all([
    readBreaker(redis, redisKeys, now, w[0]),
    readRamp(redis, redisKeys, now, w[1]),
    readOutageHistory(redis, redisKeys, w[2]),
    readHealth(redis, redisKeys, w[3]),
  ]);
  return {
    breaker: breaker.state,
    ramp,
    outages: outages.outages,
    observedSince: outages.observedSince,
    health,
    signalCursor: breaker.signalCursor,
    warnings: w.flat(),
    breakerStored: breaker.stored,
  };
}
