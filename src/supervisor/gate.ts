// How workers learn whether the supervisor holds outage-struck jobs back, through a short cache shared by
// all jobs of a process: one round trip at most every `ttlMs`.
import type { RedisConnection } from '../redis.js';
import type { BreakerGate } from '../sync/worker.js';

/**
 * Holding while the breaker is OPEN or HALF_OPEN, and also while a supervisor leader is alive: it judges
 * every outage-class failure (the first ones of an outage come before the breaker opens), so those never
 * cost a job an attempt. With no supervisor running and the breaker CLOSED, attempts are spent as usual and
 * exhausted jobs land in the failed set, where `npm run requeue` finds them. A missing or unreadable state
 * reads as CLOSED.
 */
export function breakerGate(redis: RedisConnection, keys: { breaker: string; leader: string }, ttlMs = 1_000, now = Date.now): BreakerGate {
  let cached: { at: number; holding: boolean } | undefined;
  return {
    async holding() {
      const t = now();
      if (!cached || t - cached.at >= ttlMs) {
        const [state, leader] = await Promise.all([
          redis.hget(keys.breaker, 'state').catch(() => null),
          redis.exists(keys.leader).catch(() => 0),
        ]);
        cached = { at: t, holding: state === 'OPEN' || state === 'HALF_OPEN' || leader === 1 };
      }
      return cached.holding;
    },
  };
}
