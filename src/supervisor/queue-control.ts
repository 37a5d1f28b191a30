// What the supervisor does to the Plex-talking queues: pause and resume (its own pauses only), global rate
// limits, promoting the jobs an outage delayed. Who paused each queue and why (keys().pausedBy) is written
// and read only here: the mark and the queue's pause change together in one fenced Lua step
// (./lua/holdQueue-9.lua), so no reader sees the queue paused without its mark or the mark without the pause.
import type { Queue } from 'bullmq';
import { luaScript, runLua } from '../core/lua.js';
import type { LeaderLease } from '../resilience/lease.js';
import type { Keys, RedisConnection } from '../core/redis.js';
import { PAUSE_REASONS, type PauseReason } from '../resilience/token.js';
import { tolerant } from '../resilience/tolerant-read.js';

const HOLD = luaScript('supervisor/lua/holdQueue-9.lua');

export type PausedBy = 'supervisor' | 'operator' | null;
export interface RateLimit {
  max: number;
  duration: number;
}

export interface QueueState {
  paused: boolean;
  pausedBy: PausedBy;
  waiting: number;
  active: number;
  delayed: number;
  failed: number;
  completed: number;
  rateLimit: RateLimit | null;
}

/** The supervisor's hold of a queue as marked: its reasons (none recorded: an older supervisor's mark). */
export interface SupervisorHold {
  reasons: PauseReason[];
}

/**
 * The supervisor's hold of `queue`, as marked; null for no mark. A key of the wrong type (corrupt) reads
 * as no mark: a paused queue then counts as an operator's, the cautious read (never resumed). Reasons
 * that are not known pause reasons are left out.
 */
export async function readSupervisorHold(
  redis: RedisConnection,
  redisKeys: Pick<Keys, 'pausedBy'>,
  queue: string,
): Promise<SupervisorHold | null> {
  const raw = await tolerant(redis.hmget(redisKeys.pausedBy, queue, `${queue}:reasons`));
  if (!Array.isArray(raw) || raw[0] !== 'supervisor') return null;
  const known = new Set<string>(PAUSE_REASONS);
  return { reasons: (raw[1] ?? '').split(',').filter((r): r is PauseReason => known.has(r)) };
}

/** The keys of holdQueue-9.lua: the lease, the marks, then the queue's own (as BullMQ's pause-7.lua takes them). */
function holdKeys(lease: string, k: Pick<Keys, 'pausedBy'>, q: Queue): string[] {
  const { meta, wait, paused, prioritized, events, delayed, marker } = q.keys;
  if (!meta || !wait || !paused || !prioritized || !events || !delayed || !marker) {
    throw new Error('BullMQ queue keys changed: holdQueue-9.lua needs meta, wait, paused, prioritized, events, delayed, marker');
  }
  return [lease, k.pausedBy, meta, wait, paused, prioritized, events, delayed, marker];
}

/** Queue counts and flags for the status API: counts only, never job lists (cheap at any size). */
export async function queueState(queue: Queue, redis: RedisConnection, redisKeys: Pick<Keys, 'pausedBy'>): Promise<QueueState> {
  const [counts, paused, hold, rateLimit] = await Promise.all([
    queue.getJobCounts('waiting', 'prioritized', 'active', 'delayed', 'failed', 'completed'),
    queue.isPaused(),
    readSupervisorHold(redis, redisKeys, queue.name),
    queue.getGlobalRateLimit(),
  ]);
  return {
    paused,
    pausedBy: paused ? (hold ? 'supervisor' : 'operator') : null,
    waiting: (counts.waiting ?? 0) + (counts.prioritized ?? 0),
    active: counts.active ?? 0,
    delayed: counts.delayed ?? 0,
    failed: counts.failed ?? 0,
    completed: counts.completed ?? 0,
    rateLimit,
  };
}

export class QueueControl {
  constructor(
    private readonly queues: readonly Queue[],
    private readonly lease: LeaderLease,
    private readonly keys: Pick<Keys, 'pausedBy'>,
    private readonly redis: RedisConnection,
  ) {}

  /** Runs the hold script on `q`; null when the lease is not this process's any more. */
  private async step(q: Queue, action: 'hold' | 'release', reasons: readonly PauseReason[] = []): Promise<number | null> {
    const r = Number(
      await runLua(this.redis, HOLD, holdKeys(this.lease.key, this.keys, q), [this.lease.id, q.name, action, reasons.join(',')]),
    );
    return r === -1 ? null : r;
  }

  /**
   * Holds every queue for `reasons` (fenced, one step per queue): pauses a running one and marks it the
   * supervisor's; refreshes the reasons of one it holds already; pauses again one it held that someone
   * resumed meanwhile. An operator's pause stays the operator's. Answers the queues paused now.
   */
  async pause(reasons: readonly PauseReason[]): Promise<{ paused: string[]; pausedAgain: string[] }> {
    const done = { paused: [] as string[], pausedAgain: [] as string[] };
    for (const q of this.queues) {
      const r = await this.step(q, 'hold', reasons);
      if (r === null) break;
      if (r === 1 || r === 3) done.paused.push(q.name);
      if (r === 3) done.pausedAgain.push(q.name);
    }
    return done;
  }

  /** Resumes only the queues the supervisor paused (mark and pause cleared in one step); an operator's pause is left alone. */
  async resume(): Promise<string[]> {
    const resumed: string[] = [];
    for (const q of this.queues) {
      const r = await this.step(q, 'release');
      if (r === null) break;
      if (r === 1) resumed.push(q.name);
    }
    return resumed;
  }

  /** A HALF_OPEN trial gets nothing from the queues: each is paused (an operator, the token) or has no job waiting or running. */
  async idle(): Promise<boolean> {
    for (const q of this.queues) {
      if (await q.isPaused()) continue;
      const c = await q.getJobCounts('waiting', 'prioritized', 'active');
      if ((c.waiting ?? 0) + (c.prioritized ?? 0) + (c.active ?? 0) > 0) return false;
    }
    return true;
  }

  async setRateLimit(limit: RateLimit | null): Promise<void> {
    for (const q of this.queues) {
      if (limit) await q.setGlobalRateLimit(limit.max, limit.duration);
      else await q.removeGlobalRateLimit();
    }
  }

  /** Ends the current rate-limit window, so the next job may start now under the limit in force. */
  async endRateWindow(): Promise<void> {
    for (const q of this.queues) await q.removeRateLimitKey();
  }
}
