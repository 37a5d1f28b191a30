// What the supervisor does to the Plex-talking queues: pause, resume what it paused, global rate limits.
import type { Queue } from 'bullmq';
import type { LeaderLease } from '../resilience/lease.js';
import type { RedisConnection } from '../core/redis.js';

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

/** Queue counts and flags for the status API: counts only, never job lists (cheap at any size). */
export async function queueState(queue: Queue, redis: RedisConnection, pausedByKey: string): Promise<QueueState> {
  const [counts, paused, marker, rateLimit] = await Promise.all([
    queue.getJobCounts('waiting', 'prioritized', 'active', 'delayed', 'failed', 'completed'),
    queue.isPaused(),
    // A marker key of the wrong type (corrupt) reads as no marker: an operator's pause, the cautious read.
    redis.hget(pausedByKey, queue.name).catch(() => null),
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
    private readonly pausedByKey: string,
    private readonly redis: RedisConnection,
  ) {}

  /** Pauses every queue that is running, marking it as paused by the supervisor (fenced). */
  async pause(): Promise<string[]> {
    const paused: string[] = [];
    for (const q of this.queues) {
      if (await q.isPaused()) continue; // an operator's pause stays the operator's
      if (!(await this.lease.write([{ cmd: 'HSET', key: this.pausedByKey, args: [q.name, 'supervisor'] }]))) break;
      await q.pause();
      paused.push(q.name);
    }
    return paused;
  }

  /** Resumes only the queues the supervisor paused; an operator's pause is left alone. */
  async resume(): Promise<string[]> {
    const resumed: string[] = [];
    for (const q of this.queues) {
      if ((await this.redis.hget(this.pausedByKey, q.name)) !== 'supervisor') continue;
      if (!(await this.lease.write([{ cmd: 'HDEL', key: this.pausedByKey, args: [q.name] }]))) break;
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
