// What the supervisor does to the Plex-talking queues: pause, resume what it paused, global rate limits.
// Who paused each queue (keys().pausedBy) is written (fenced) and read only here.
import type { Queue } from 'bullmq';
import type { FencedOp, LeaderLease } from '../resilience/lease.js';
import type { Keys, RedisConnection } from '../core/redis.js';
import { tolerant } from '../resilience/tolerant-read.js';

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

/**
 * Who paused `queue`, as marked: 'supervisor', or null for no mark. A key of the wrong type (corrupt)
 * reads as no mark: a paused queue then counts as an operator's, the cautious read (never resumed).
 */
async function readPausedBy(redis: RedisConnection, k: Pick<Keys, 'pausedBy'>, queue: string): Promise<'supervisor' | null> {
  return (await tolerant(redis.hget(k.pausedBy, queue))) === 'supervisor' ? 'supervisor' : null;
}

const markPaused = (k: Pick<Keys, 'pausedBy'>, queue: string): FencedOp => ({ cmd: 'HSET', key: k.pausedBy, args: [queue, 'supervisor'] });
const unmarkPaused = (k: Pick<Keys, 'pausedBy'>, queue: string): FencedOp => ({ cmd: 'HDEL', key: k.pausedBy, args: [queue] });

/** Queue counts and flags for the status API: counts only, never job lists (cheap at any size). */
export async function queueState(queue: Queue, redis: RedisConnection, redisKeys: Pick<Keys, 'pausedBy'>): Promise<QueueState> {
  const [counts, paused, marker, rateLimit] = await Promise.all([
    queue.getJobCounts('waiting', 'prioritized', 'active', 'delayed', 'failed', 'completed'),
    queue.isPaused(),
    readPausedBy(redis, redisKeys, queue.name),
    queue.getGlobalRateLimit(),
  ]);
  return {
    paused,
    pausedBy: paused ? (marker === 'supervisor' ? 'supervisor' : 'operator') : null,
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

  /** Pauses every queue that is running, marking it as paused by the supervisor (fenced). */
  async pause(): Promise<string[]> {
    const paused: string[] = [];
    for (const q of this.queues) {
      if (await q.isPaused()) continue; // an operator's pause stays the operator's
      if (!(await this.lease.write([markPaused(this.keys, q.name)]))) break;
      await q.pause();
      paused.push(q.name);
    }
    return paused;
  }

  /** Resumes only the queues the supervisor paused; an operator's pause is left alone. */
  async resume(): Promise<string[]> {
    const resumed: string[] = [];
    for (const q of this.queues) {
      if ((await readPausedBy(this.redis, this.keys, q.name)) !== 'supervisor') continue;
      if (!(await this.lease.write([unmarkPaused(this.keys, q.name)]))) break;
      await q.resume();
      resumed.push(q.name);
    }
    return resumed;
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
