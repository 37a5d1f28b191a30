// Per-attempt outcome signals: workers append, the supervisor consumes (breaker counting, ramp error rate).
import type { ErrorType } from '../core/errors.js';
import type { RedisConnection } from '../core/redis.js';

export type Outcome = 'ok' | ErrorType;
export interface Signal {
  id: string;
  at: number;
  outcome: Outcome;
  jobId: string | null;
}

/** Signals kept in the stream: enough for minutes of traffic, small enough to never matter. */
const SIGNALS_MAXLEN = 20_000;

export async function emitSignal(redis: RedisConnection, key: string, outcome: Outcome, jobId: string | null, now = Date.now()) {
  await redis.xadd(key, 'MAXLEN', '~', String(SIGNALS_MAXLEN), '*', 'at', String(now), 'outcome', outcome, 'jobId', jobId ?? '');
}

export function parseSignal(id: string, flat: string[]): Signal {
  const m = new Map<string, string>();
  for (let i = 0; i + 1 < flat.length; i += 2) m.set(flat[i]!, flat[i + 1]!);
  return { id, at: Number(m.get('at')) || 0, outcome: (m.get('outcome') ?? 'ok') as Outcome, jobId: m.get('jobId') || null };
}

/** Signals after `afterId` (exclusive), oldest first, at most `count`. */
export async function readSignals(redis: RedisConnection, key: string, afterId: string, count = 1000): Promise<Signal[]> {
  const rows = (await redis.xrange(key, `(${afterId}`, '+', 'COUNT', count)) as [string, string[]][];
  return rows.map(([id, flat]) => parseSignal(id, flat));
}
