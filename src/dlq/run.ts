// One requeue run: the summary it fills, the breaker refusal, and what happens to each job of a page
// (selection's decision, then the I/O checks selection leaves out: a scene taken already in this run, a
// scene whose deduplication key points at a job still waiting, the limit). Pages come from ./scan.ts,
// moves go to ./mover.ts.
import type { Queue } from 'bullmq';
import type { ErrorType } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { Keys, RedisConnection } from '../core/redis.js';
import type { SyncJobData } from '../model/inbox-item.js';
import type { BreakerStateName } from '../resilience/breaker.js';
import { readBreaker } from '../resilience/store.js';
import { queueInternals, WAITING_STATES, type QueueInternals } from './bullmq-internals.js';
import { Mover } from './mover.js';
import { pruneRequeueCounts } from './requeue-counts.js';
import { failedPages, loadPage, type FailedEntry, type PageJob } from './scan.js';
import { scanRanges, selectJobs, type JobDecision, type Window } from './select.js';
import type { RequeueOptions, RequeueProgress, RequeueSummary } from './types.js';

/** Longest list of jobs left for too many requeues kept in a summary (the count is always exact). */
const MAX_LISTED = 1_000;
/** Least time between two progress reports (the last one is always sent). */
const PROGRESS_EVERY_MS = 500;

export interface RunSetup {
  redis: RedisConnection;
  queue: Queue<SyncJobData>;
  keys: Keys;
  log: Logger;
  options: RequeueOptions;
  windows: Window[];
  errorTypes: ErrorType[];
  /** The breaker's state at the start. */
  breaker: BreakerStateName;
  graceMs: number;
  maxRequeues: number;
  pageSize: number;
  rate: number;
  onProgress?: (p: RequeueProgress) => void;
}

export class RequeueRun {
  readonly summary: RequeueSummary;
  private readonly bull: QueueInternals;
  private readonly mover: Mover;
  private readonly limit: number;
  private readonly seenJobs = new Set<string>(); // a job requeued in this run may fail again and re-enter the range
  private readonly takenScenes = new Set<string>();
  private inWindow = 0;
  private examined = 0;
  private lastProgress = 0;

  constructor(private readonly runSetup: RunSetup) {
    const o = runSetup.options;
    this.limit = o.limit ?? Infinity;
    this.bull = queueInternals(runSetup.queue);
    const s = (this.summary = emptySummary(o.dryRun, runSetup.breaker, runSetup.windows, runSetup.errorTypes));
    this.mover = new Mover({
      redis: runSetup.redis,
      queue: runSetup.queue,
      bull: this.bull,
      keys: runSetup.keys,
      rate: runSetup.rate,
      onMoved: (id) => void (s.requeued++, s.jobIds.push(id)),
      onAlreadyQueued: () => void s.skipped.alreadyQueued++,
      afterMove: () => this.progress(),
    });
    if (runSetup.breaker !== 'CLOSED') {
      this.refuse(runSetup.breaker);
      if (o.force && !o.dryRun) runSetup.log.warn({ breaker: runSetup.breaker }, 'requeue: --force while the breaker is not CLOSED');
    }
  }

  /** Scans every window's range and moves (or, dry run / refused, counts) what selection chose. */
  async run(): Promise<RequeueSummary> {
    const ranges = scanRanges(this.runSetup.windows, this.runSetup.graceMs);
    await this.countOutsideWindows(ranges);
    const beforePage = () => this.recheckBreaker();
    scan: for (const range of ranges) {
      for await (const entries of failedPages(this.runSetup.redis, this.bull.failedKey, range, {
        pageSize: this.runSetup.pageSize,
        seen: this.seenJobs,
        beforePage,
      })) {
        if (!(await this.takePage(entries))) break scan;
      }
    }
    await this.mover.flush();
    if (!this.runSetup.options.dryRun) await this.pruneCounts();
    this.progress(true);
    return this.summary;
  }

  /** Housekeeping after a real run: a failure here costs nothing but a larger hash until the next run. */
  private async pruneCounts(): Promise<void> {
    const pruned = await pruneRequeueCounts(this.runSetup.redis, this.runSetup.keys, this.bull.jobKey).catch((err: unknown) => {
      this.runSetup.log.warn({ err: (err as Error).message }, 'requeue: the counts of jobs that are gone were not pruned');
      return 0;
    });
    if (pruned > 0) this.runSetup.log.info({ pruned }, 'requeue: forgot the requeue counts of jobs that no longer exist');
  }

  private refuse(state: BreakerStateName): void {
    const { options: o, log } = this.runSetup;
    if (this.summary.refused || o.force) return;
    this.summary.refused = `the breaker is ${state}, not CLOSED: Plex is not (fully) back; wait for the recovery or use --force`;
    if (!o.dryRun) log.warn({ breaker: state }, 'requeue: breaker not CLOSED, moving nothing');
  }

  /** Before each page: an outage starting mid-run stops the moves. */
  private async recheckBreaker(): Promise<void> {
    if (this.runSetup.options.force || this.summary.refused || this.examined === 0) return;
    // The warnings of a damaged breaker were logged with the snapshot at the start: not once per page.
    const state = (await readBreaker(this.runSetup.redis, this.runSetup.keys, Date.now(), []).catch(() => null))?.state.state ?? 'CLOSED';
    if (state === 'CLOSED') return;
    await this.mover.flush();
    this.refuse(state);
  }

  /** Jobs outside every window: counted by score, never loaded. */
  private async countOutsideWindows(ranges: readonly { min: number; max: number }[]): Promise<void> {
    const { redis } = this.runSetup;
    const total = await redis.zcard(this.bull.failedKey);
    for (const r of ranges) this.inWindow += await redis.zcount(this.bull.failedKey, r.min, r.max);
    this.summary.scanned = total - this.inWindow;
    this.summary.skipped.outsideWindow = total - this.inWindow;
  }

  /** Handles one page; false when the limit was reached (the run stops). */
  private async takePage(entries: FailedEntry[]): Promise<boolean> {
    const { graceMs, maxRequeues, windows, errorTypes } = this.runSetup;
    const page = await loadPage(this.runSetup.redis, this.bull, this.runSetup.keys, entries);
    const decisions = selectJobs(page, { windows, errorTypes, graceMs, maxRequeues });
    const targets = await this.dedupTargets(page.filter((_, i) => decisions[i].decision === 'requeue'));
    for (let i = 0; i < page.length; i++) {
      if (decisions[i].decision === 'requeue' && !(await this.belowLimit())) {
        this.summary.limitReached = true;
        return false;
      }
      await this.takeJob(page[i], decisions[i], targets.get(page[i].id) ?? null);
    }
    await this.mover.flush();
    this.progress();
    return true;
  }

  /** Jobs requeued, being moved, or held back by the breaker: what `limit` caps. */
  private async belowLimit(): Promise<boolean> {
    const taken = () => this.summary.requeued + this.mover.pending + this.summary.skipped.breakerNotClosed;
    if (taken() < this.limit) return true;
    await this.mover.flush(); // a move in flight may yet lose its race and free a place
    return taken() < this.limit;
  }

  /** What each candidate's scene deduplication key holds (one round trip; only jobs with a dedup id). */
  private async dedupTargets(candidates: readonly PageJob[]): Promise<Map<string, string | null>> {
    const targets = new Map<string, string | null>();
    const withKey = candidates.filter((c) => c.dedupId);
    if (withKey.length === 0) return targets;
    const pipe = this.runSetup.redis.pipeline();
    for (const c of withKey) pipe.get(this.bull.dedupKey(c.dedupId!));
    const res = (await pipe.exec()) ?? [];
    withKey.forEach((c, r) => targets.set(c.id, (res[r]?.[1] as string | null) ?? null));
    return targets;
  }

  private async takeJob(j: PageJob, d: JobDecision, target: string | null): Promise<void> {
    const s = this.summary;
    this.seenJobs.add(j.id);
    this.examined++;
    s.scanned++;
    if (d.decision === 'outsideWindow') s.skipped.outsideWindow++;
    else if (d.decision === 'errorType') s.skipped.errorType++;
    else if (d.decision === 'tooManyRequeues') {
      s.matched++;
      s.skipped.tooManyRequeues++;
      if (s.tooManyRequeues.length < MAX_LISTED)
        s.tooManyRequeues.push({ id: j.id, sceneId: j.sceneId, requeues: j.requeueCount, failedReason: j.failedReason ?? null });
    } else {
      s.matched++;
      await this.takeCandidate(j, target);
    }
  }

  /** A job selection chose: skipped when its scene is queued already, else moved (or counted). */
  private async takeCandidate(j: PageJob, target: string | null): Promise<void> {
    const s = this.summary;
    const scene = j.dedupId ?? j.sceneId;
    if ((scene && this.takenScenes.has(scene)) || (target && WAITING_STATES.has(await this.runSetup.queue.getJobState(target)))) {
      s.skipped.alreadyQueued++;
      return;
    }
    if (scene) this.takenScenes.add(scene);
    if (s.refused) s.skipped.breakerNotClosed++;
    else if (this.runSetup.options.dryRun) {
      s.requeued++;
      s.jobIds.push(j.id);
    } else await this.mover.submit({ id: j.id, dedupId: j.dedupId, staleDedupTarget: target });
  }

  private progress(force = false): void {
    if (!this.runSetup.onProgress) return;
    const t = performance.now();
    if (!force && t - this.lastProgress < PROGRESS_EVERY_MS) return;
    this.lastProgress = t;
    this.runSetup.onProgress({ inWindow: this.inWindow, examined: this.examined, requeued: this.summary.requeued });
  }
}

function emptySummary(dryRun: boolean, breaker: BreakerStateName, windows: Window[], errorTypes: ErrorType[]): RequeueSummary {
  return {
    scanned: 0,
    matched: 0,
    requeued: 0,
    skipped: { alreadyQueued: 0, errorType: 0, outsideWindow: 0, breakerNotClosed: 0, tooManyRequeues: 0 },
    jobIds: [],
    tooManyRequeues: [],
    dryRun,
    breaker,
    refused: null,
    windows,
    errorTypes,
    limitReached: false,
    durationMs: 0,
  };
}
