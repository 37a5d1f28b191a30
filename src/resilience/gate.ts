// How workers learn whether the supervisor holds struck jobs back, through a short cache shared by all
// jobs of a process: one round trip at most every `ttlMs`.
import type { RedisConnection } from '../core/redis.js';
import type { GateState } from './token.js';

/** Lets the worker ask whether the supervisor holds struck jobs back, through a short cache. */
export interface BreakerGate {
  state(): Promise<GateState>;
  /** Whether the breaker is CLOSED (missing or unreadable reads as CLOSED), through the same cache. */
  breakerClosed(): Promise<boolean>;
  /** Records that job `jobId` met a 401/403 now; answers when it last did before (null the first time). */
  recordAuthError(jobId: string): Promise<number | null>;
}

/** How long a held job's last 401 is remembered: forgetting it only costs the job one more hold. */
const AUTH_HELD_TTL_MS = 3_600_000;

/** The token fields of the stored health record; anything unreadable reads as "not judged yet". */
function tokenFields(raw: string | null): Pick<GateState, 'tokenRejected' | 'tokenCheckedAt'> {
  try {
    const h = raw ? (JSON.parse(raw) as { tokenRejected?: unknown; tokenCheckedAt?: unknown }) : null;
    return {
      tokenRejected: h?.tokenRejected === true,
      tokenCheckedAt: typeof h?.tokenCheckedAt === 'number' ? h.tokenCheckedAt : null,
    };
  } catch {
    return { tokenRejected: false, tokenCheckedAt: null };
  }
}

/**
 * Holding while the breaker is OPEN or HALF_OPEN, and also while a supervisor leader is alive: it judges
 * every outage-class failure (the first ones of an outage come before the breaker opens) and every
 * 401/403 (its token check tells a rejected token from a per-item refusal), so those never cost a job an
 * attempt. With no supervisor running and the breaker CLOSED, attempts are spent as usual and exhausted
 * jobs land in the failed set, where `npm run requeue` finds them. A missing or unreadable state reads
 * as CLOSED.
 */
export function breakerGate(
  redis: RedisConnection,
  keys: { breaker: string; leader: string; health: string; authHeld: string },
  ttlMs = 1_000,
  now = Date.now,
): BreakerGate {
  let cached: { at: number; state: GateState; closed: boolean } | undefined;
  const read = async () => {
    const t = now();
    if (!cached || t - cached.at >= ttlMs) {
      const [breaker, leader, health] = await Promise.all([
        redis.hget(keys.breaker, 'state').catch(() => null),
        redis.exists(keys.leader).catch(() => 0),
        redis.get(keys.health).catch(() => null),
      ]);
      const open = breaker === 'OPEN' || breaker === 'HALF_OPEN';
      cached = { at: t, state: { holding: open || leader === 1, ...tokenFields(health) }, closed: !open };
    }
    return cached;
  };
  return {
    state: async () => (await read()).state,
    breakerClosed: async () => (await read()).closed,
    async recordAuthError(jobId) {
      const previous = await redis.set(`${keys.authHeld}:${jobId}`, String(now()), 'PX', AUTH_HELD_TTL_MS, 'GET');
      const at = previous === null ? NaN : Number(previous);
      return Number.isFinite(at) ? at : null;
    },
  };
}
