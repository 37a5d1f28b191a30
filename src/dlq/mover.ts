// The mover: moves chosen failed jobs back to the queue, a few at once, paced. Each move is BullMQ's own
// atomic `job.retry('failed')`: when a concurrent run (or anyone) moved the job first, the retry fails,
// the job is no longer in the failed set, and it counts as already queued; so no job is requeued twice.
// After the move: the requeue count, bulk priority (requeue is bulk work), and the scene's deduplication
// key restored while the job still waits (BullMQ's retry doesn't), so a second run, or a fresh edit of
// the scene, joins it instead of adding another sync.
import { Job, type Queue } from 'bullmq';
import { luaScript, runLua } from '../core/lua.js';
import type { Keys, RedisConnection } from '../core/redis.js';
import { PRIORITY } from '../model/job.js';
import type { SyncJobData } from '../model/inbox-item.js';
import { isLostRetryRace, JOB_FIELDS, type QueueInternals } from './bullmq-internals.js';
import { countRequeue } from './requeue-counts.js';

/** Moves in flight at once (each is paced by the rate anyway). */
export const MOVE_CONCURRENCY = 16;

const RESTORE_DEDUP = luaScript('dlq/lua/restoreDedup-2.lua');

/** Spaces moves `1000 / rate` ms apart (burst of one), shared by concurrent moves. */
export class Pacer {
  private next = 0;
  constructor(private readonly intervalMs: number) {}
  async take(): Promise<void> {
    const now = performance.now();
    const at = Math.max(now, this.next);
    this.next = at + this.intervalMs;
    if (at > now) await new Promise((r) => setTimeout(r, at - now));
  }
}

/** A sliding pool of tasks; the first failure ends the run (thrown by the next `launch` or `flush`). */
export class TaskPool {
  private readonly inflight = new Set<Promise<void>>();
  private error: Error | null = null;
  constructor(private readonly concurrency: number) {}

  /** Starts tracking `task`; waits for a free slot when the pool is full. */
  async launch(task: Promise<void>): Promise<void> {
    const tracked: Promise<void> = task
      .catch((err: unknown) => void (this.error ??= err instanceof Error ? err : new Error(String(err))))
      .finally(() => this.inflight.delete(tracked));
    this.inflight.add(tracked);
    if (this.inflight.size >= this.concurrency) await Promise.race(this.inflight);
    if (this.error) throw this.error;
  }

  /** Waits for every task. */
  async flush(): Promise<void> {
    await Promise.all(this.inflight);
    if (this.error) throw this.error;
  }
}

export interface MoverDeps {
  redis: RedisConnection;
  queue: Queue<SyncJobData>;
  bull: QueueInternals;
  /** Where each move is counted (./requeue-counts.ts). */
  keys: Pick<Keys, 'requeueCounts'>;
  /** Jobs moved per second at most. */
  rate: number;
  /** Called once the job is back in the queue, before the bookkeeping after the move. */
  onMoved(jobId: string): void;
  /** Called when the job was gone or moved by someone else first. */
  onAlreadyQueued(): void;
  /** Called after each completed move. */
  afterMove(): void;
}

export interface MoveRequest {
  id: string;
  dedupId: string | null;
  /** What the scene's deduplication key held before the move (null: nothing). */
  staleDedupTarget: string | null;
}

/** Moves jobs through a paced pool; `pending` counts moves started and not finished. */
export class Mover {
  pending = 0;
  private readonly pacer: Pacer;
  private readonly pool = new TaskPool(MOVE_CONCURRENCY);
  constructor(private readonly deps: MoverDeps) {
    this.pacer = new Pacer(1000 / deps.rate);
  }

  /** Starts moving `job`; waits while the pool is full; throws the first failed move's error. */
  async submit(job: MoveRequest): Promise<void> {
    this.pending++;
    await this.pool.launch(this.move(job));
  }

  flush(): Promise<void> {
    return this.pool.flush();
  }

  private async move(j: MoveRequest): Promise<void> {
    const { redis, queue, bull } = this.deps;
    try {
      const job = await Job.fromId<SyncJobData>(queue, j.id);
      if (!job) return this.deps.onAlreadyQueued(); // removed meanwhile: nothing left to move
      await this.pacer.take();
      try {
        await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
      } catch (err) {
        // Atomic: not in the failed set any more means another run (or someone) moved it first.
        if (isLostRetryRace(err) || (await redis.zscore(bull.failedKey, j.id)) === null) return this.deps.onAlreadyQueued();
        throw err;
      }
      this.deps.onMoved(j.id);
      await countRequeue(redis, this.deps.keys, j.id);
      if ((job.priority ?? 0) < PRIORITY.bulk) await job.changePriority({ priority: PRIORITY.bulk }).catch(() => undefined);
      if (j.dedupId) {
        const args = [j.id, j.staleDedupTarget ?? '', JOB_FIELDS.processedOn, JOB_FIELDS.finishedOn];
        await runLua(redis, RESTORE_DEDUP, [bull.dedupKey(j.dedupId), bull.jobKey(j.id)], args);
      }
      this.deps.afterMove();
    } finally {
      this.pending--;
    }
  }
}
