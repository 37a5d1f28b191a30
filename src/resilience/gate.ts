// How workers learn whether the supervisor holds struck jobs back, through a short cache shared by all
// jobs of a process: one round trip at most every `ttlMs`.
import type { Keys, RedisConnection } from '../core/redis.js';
import { EMPTY_HEALTH, readHealth } from './health-record.js';
import { leaseAlive, readLease } from './lease.js';
import { readBreaker } from './store.js';
import type { GateState } from './token.js';

/** Lets the worker ask whether the supervisor holds struck jobs back, through a short cache. */
export interface BreakerGate {
  state(): Promise<GateState>;
  /** Whether the breaker is CLOSED (missing or unreadable reads as CLOSED), through the same cache. */
  breakerClosed(): Promise<boolean>;
  /**
   * Whether a job must wait before it starts: the breaker is OPEN and a supervisor leader is alive. Its
   * queue is paused then; a job that starts anyway (a resume behind the supervisor's back, a race with its
   * pause) would reach a Plex that may just be back outside the trial and the ramp. Without a live
   * supervisor nothing would ever release it, so it runs.
   */
  holdsNewWork(): Promise<boolean>;
  /**
   * Records that job `jobId` met a 401/403 from Plex (or a Stash fault: `of` 'stash') now; answers when
   * it last did before (null the first time).
   */
  recordAuthError(jobId: string, of?: 'plex' | 'stash'): Promise<number | null>;
}

/** How long a held job's last 401 is remembered: forgetting it only costs the job one more hold. */
const AUTH_HELD_TTL_MS = 3_600_000;

/**
 * Holding while the breaker is OPEN or HALF_OPEN, and also while a supervisor leader is alive: it judges
 * every outage-class failure (the first ones of an outage come before the breaker opens) and every
 * 401/403 (its token check tells a rejected token from a per-item refusal), so those never cost a job an
 * attempt. With no supervisor running and the breaker CLOSED, attempts are spent as usual and exhausted
 * jobs land in the failed set, where `npm run requeue` finds them. The breaker, the lease and the
 * health record are read with their writers' schemas (./store.ts, ./lease.ts, ./health-record.ts): a
 * missing or unreadable breaker reads as CLOSED, a lease without a readable holder or an expiry as no
 * leader, an unreadable token verdict as not judged yet.
 */
export function breakerGate(
  redis: RedisConnection,
  keys: Pick<Keys, 'breaker' | 'leader' | 'health' | 'authHeld' | 'stashHeld'>,
  ttlMs = 1_000,
  now = Date.now,
): BreakerGate {
  let cached: { at: number; state: GateState; closed: boolean; holdsNewWork: boolean } | undefined;
  const read = async () => {
    const t = now();
    if (!cached || t - cached.at >= ttlMs) {
      // Read as the supervisor reads them; what cannot be read (or a Redis error) is the safe default.
      const ignored: string[] = [];
      const [breaker, lease, health] = await Promise.all([
        readBreaker(redis, keys, t, ignored).catch(() => null),
        readLease(redis, keys, ignored).catch(() => null),
        readHealth(redis, keys, ignored).catch(() => EMPTY_HEALTH),
      ]);
      const open = breaker !== null && breaker.state.state !== 'CLOSED';
      const { tokenRejected, tokenCheckedAt, stashKeyRejected, stashDown, stashCheckedAt } = health;
      const leader = lease !== null && leaseAlive(lease);
      const holding = open || leader;
      const stash = { stashWatched: health.stashLastCheckAt !== null, stashKeyRejected, stashDown, stashCheckedAt };
      const holdsNewWork = leader && breaker?.state.state === 'OPEN';
      cached = { at: t, state: { holding, tokenRejected, tokenCheckedAt, ...stash }, closed: !open, holdsNewWork };
    }
    return cached;
  };
  return {
    state: async () => (await read()).state,
    breakerClosed: async () => (await read()).closed,
    holdsNewWork: async () => (await read()).holdsNewWork,
    async recordAuthError(jobId, of = 'plex') {
      const previous = await redis.set(
        `${of === 'plex' ? keys.authHeld : keys.stashHeld}:${jobId}`,
        String(now()),
        'PX',
        AUTH_HELD_TTL_MS,
        'GET',
      );
      const at = previous === null ? NaN : Number(previous);
      return Number.isFinite(at) ? at : null;
    },
  };
}
