// The BullMQ worker of the `sync` queue: validation, per-error-type retries, outcome signals.
import { DelayedError, UnrecoverableError, Worker, type Job } from 'bullmq';
import { formatFailedReason, SyncError, type ErrorStrategies, type ErrorType } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { RedisConnection } from '../core/redis.js';
import { SYNC_QUEUE } from '../core/redis.js';
import { emitSignal } from '../resilience/signals.js';
import type { BreakerGate } from '../resilience/gate.js';
import { syncJobSchema } from '../model/job.js';
import type { SyncJobData } from '../model/inbox-item.js';
import { failureDecision, gateMatters, recordsAuthError, retryDelay, type FailureDecision } from './failure-policy.js';
import { syncScene, type SyncDeps, type SyncResult } from './processor.js';
import { emptyTally, outcomeOf, perSceneLevel, SUMMARY_INTERVAL_MS, summaryLine, tallied, type SyncOutcome } from './sync-summary.js';

export interface SyncWorkerOptions {
  connection: RedisConnection;
  prefix: string;
  concurrency: number;
  strategies: ErrorStrategies;
  deps: SyncDeps;
  signalsKey: string;
  log: Logger;
  gate?: BreakerGate;
  /** How long a job held back (open breaker, token not judged or rejected) waits before it is tried again (the queue is paused meanwhile). */
  holdMs?: number;
  /** BullMQ lock duration / stalled-check interval (defaults 30 s); tests shorten them. */
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  /** Observer of every attempt (metrics). */
  onAttempt?: (outcome: 'ok' | ErrorType, durationMs: number) => void;
  /** How often the summary line is logged while jobs run (default SUMMARY_INTERVAL_MS); tests shorten it. */
  summaryIntervalMs?: number;
  /** Observer of every attempt's outcome, with the error (the process's dependency report). */
  onOutcome?: (outcome: 'ok' | SyncError) => void;
}

/** Failures about a whole server (down, key rejected): reported once by the dependency report, so a job's line is debug. */
const SERVER_WIDE: ReadonlySet<ErrorType> = new Set(['PlexServerDown', 'PlexTemporaryError', 'StashUnavailable', 'StashAuthError']);

/** Longest a rate-limited worker waits before it asks again (BullMQ's default is 30 s). */
export const RATE_LIMIT_RECHECK_MS = 200;

/** failureDecision for a job's failed attempt, asking the gate only what the policy needs. */
async function decideFailure(
  job: Job<SyncJobData, SyncResult>,
  type: ErrorType,
  strategies: ErrorStrategies,
  gate?: BreakerGate,
): Promise<FailureDecision> {
  const state = gate && gateMatters(type, job.attemptsStarted) ? await gate.state() : null;
  const of = state ? recordsAuthError(type, state) : null;
  const previousAuthErrorAt = gate && of && job.id ? await gate.recordAuthError(job.id, of) : null;
  return failureDecision(
    { type, attemptsMade: job.attemptsMade, attemptsStarted: job.attemptsStarted, gate: state, previousAuthErrorAt },
    strategies,
  );
}

/**
 * The minute summary (./sync-summary.ts): counts each outcome and logs one info line per interval in
 * which jobs ran. Stops with the worker.
 */
function summaryLogger(log: Logger, intervalMs: number): { count(o: SyncOutcome): void; stop(): void } {
  let tally = emptyTally(Date.now());
  const timer = setInterval(() => {
    const now = Date.now();
    const line = summaryLine(tally, now);
    if (line) log.info({ edited: tally.edited, unchanged: tally.unchanged, skipped: tally.skipped, failed: tally.failed }, line);
    tally = emptyTally(now);
  }, intervalMs);
  timer.unref();
  return { count: (o) => (tally = tallied(tally, o)), stop: () => clearInterval(timer) };
}

export function createSyncWorker(opts: SyncWorkerOptions): Worker<SyncJobData, SyncResult> {
  const { strategies, log, gate } = opts;
  const summary = summaryLogger(log, opts.summaryIntervalMs ?? SUMMARY_INTERVAL_MS);
  const processor = async (job: Job<SyncJobData, SyncResult>, token?: string): Promise<SyncResult> => {
    const parsed = syncJobSchema.safeParse(job.data);
    if (!parsed.success) {
      throw new UnrecoverableError(
        formatFailedReason('InvalidJob', parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')),
      );
    }
    if (gate && (await gate.holdsNewWork())) {
      // Plex is down and the supervisor holds the queue: wait for its trial without touching Plex or an attempt.
      log.debug({ jobId: job.id }, 'job held at its start: the breaker is OPEN');
      await job.moveToDelayed(Date.now() + (opts.holdMs ?? 1_000), token);
      throw new DelayedError();
    }
    // From now on a new edit of this scene gets a job of its own: this run may have read Stash too early.
    await job.removeDeduplicationKey().catch(() => false);
    const started = performance.now();
    try {
      const result = await syncScene(parsed.data.sceneId, opts.deps);
      opts.onAttempt?.('ok', performance.now() - started);
      opts.onOutcome?.('ok');
      await emitSignal(opts.connection, opts.signalsKey, 'ok', job.id ?? null);
      summary.count(outcomeOf(result));
      const level = perSceneLevel(parsed.data.reason);
      log[level]({ jobId: job.id, sceneId: parsed.data.sceneId, ...result }, 'skipped' in result ? 'scene skipped' : 'scene synced');
      return result;
    } catch (err) {
      if (!(err instanceof SyncError)) throw err; // a bug: BullMQ retries it and keeps the stack
      opts.onAttempt?.(err.type, performance.now() - started);
      summary.count('failed');
      opts.onOutcome?.(err);
      await emitSignal(opts.connection, opts.signalsKey, err.type, job.id ?? null);
      log[SERVER_WIDE.has(err.type) && opts.onOutcome ? 'debug' : 'warn'](
        { jobId: job.id, sceneId: parsed.data.sceneId, attempt: job.attemptsMade + 1, reason: err.reason },
        'sync attempt failed',
      );
      const decision = await decideFailure(job, err.type, strategies, gate);
      if (decision === 'hold') {
        // The supervisor judges outages and rejected tokens: wait for it without spending an attempt (it
        // pauses the queue once it has judged, so a held job only runs again when Plex takes it).
        await job.moveToDelayed(Date.now() + (opts.holdMs ?? 1_000), token);
        throw new DelayedError();
      }
      throw decision === 'give-up' ? new UnrecoverableError(err.reason) : new Error(err.reason);
    }
  };

  const worker = new Worker<SyncJobData, SyncResult>(SYNC_QUEUE, processor, {
    connection: opts.connection,
    prefix: opts.prefix,
    concurrency: opts.concurrency,
    // Only when given: an explicit undefined would replace BullMQ's defaults.
    ...(opts.lockDurationMs ? { lockDuration: opts.lockDurationMs } : {}),
    ...(opts.stalledIntervalMs ? { stalledInterval: opts.stalledIntervalMs } : {}),
    // A rate-limited worker looks again this soon at most, so the end of a window (the supervisor ends the
    // trial's when the ramp starts) or a faster limit takes effect at once, not after the old window.
    maximumRateLimitDelay: RATE_LIMIT_RECHECK_MS,
    settings: {
      backoffStrategy: (attemptsMade: number, _type?: string, err?: Error) => retryDelay(strategies, attemptsMade, err, Math.random()),
    },
  });
  worker.on('closed', () => summary.stop());
  return worker;
}

/** Stops taking jobs and waits for active ones, at most `graceMs`, then forces the close. */
export async function closeWorker(worker: Worker, graceMs = 25_000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), graceMs)));
  const result = await Promise.race([worker.close().then(() => 'closed' as const), timedOut]);
  clearTimeout(timer);
  if (result === 'timeout') await worker.close(true);
}
