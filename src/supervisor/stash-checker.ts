// The supervisor's checks of Stash: `version { version }` with STASH_API_KEY at leadership, when workers
// met a Stash fault, every HEALTH_TOKEN_RECHECK_MS while Stash stands rejected or down, and every
// 30 s otherwise (HEALTH_CLOSED_INTERVAL_MS if longer; the status page's Stash card). The decisions are
// src/resilience/stash-health.ts (pure); this performs them: the pause, the stored verdict, the resume.
import { stashProblem, type DependencyProblem } from '../core/dependency-check.js';
import type { DependencyReport } from '../core/dependency-report.js';
import type { Logger } from '../core/log.js';
import { failedStashCheck, stashCheckDue, stashCheckPlan, type StashCheck } from '../resilience/stash-health.js';
import { pauseReasons } from '../resilience/token.js';
import type { StashServerInfo } from '../stash-api/stash-version.js';
import type { LeaderState } from './leader-state.js';
import type { QueueControl } from './queue-control.js';

export interface StashCheckerDeps {
  /** Reads Stash's version now (not a cached answer), with the API key. */
  version: () => Promise<StashServerInfo>;
  stash: { url: string; apiKeySet: boolean };
  state: LeaderState;
  control: QueueControl;
  recheckMs: number;
  everyMs: number;
  now: () => number;
  log: Logger;
  report?: DependencyReport;
}

export class StashChecker {
  private suspect = false;
  private startedAt: number | null = null;

  constructor(private readonly deps: StashCheckerDeps) {}

  /** Workers met a Stash fault: find out whether Stash itself is down or refuses the key. */
  markSuspect(): void {
    this.suspect = true;
  }

  /** A new leader checks at once. */
  forget(): void {
    this.startedAt = null;
  }

  async checkIfDue(now: number): Promise<void> {
    const h = this.deps.state.snap!.health;
    const held = h.stashKeyRejected || h.stashDown;
    if (
      !stashCheckDue(
        { suspect: this.suspect, held, lastAttemptAt: this.startedAt, recheckMs: this.deps.recheckMs, everyMs: this.deps.everyMs },
        now,
      )
    ) {
      return;
    }
    this.suspect = false;
    await this.check();
  }

  /** One check and its plan: pause first (before the flag shows), the verdict stored, then resume. */
  async check(): Promise<void> {
    const { state, log } = this.deps;
    const startedAt = this.deps.now();
    this.startedAt = startedAt;
    let check: StashCheck = 'accepted';
    let version: string | null = state.snap!.health.stashVersion;
    let problem: DependencyProblem | null = null;
    try {
      version = (await this.deps.version()).version;
    } catch (err) {
      check = failedStashCheck(err);
      problem = stashProblem(err, this.deps.stash);
    }
    // The fault itself is the report's line (once, then every 30 s, then its end); this says what it does to the queue.
    if (problem) this.deps.report?.fail(problem);
    else this.deps.report?.ok('stash');
    const plan = stashCheckPlan(check, state.hold());
    if (plan.note === 'rejected') log.error('queue paused (stash key rejected) until Stash accepts STASH_API_KEY; no job fails for it');
    else if (plan.note === 'down') log.warn('queue paused (stash down) until Stash answers; jobs wait, none fails');
    else if (plan.note === 'accepted again') log.info('Stash accepts the API key (STASH_API_KEY) again');
    const error = problem?.message ?? null;
    if (plan.queue === 'pause')
      await this.deps.control.pause(pauseReasons({ ...state.hold(), stashKeyRejected: plan.stashKeyRejected, stashDown: plan.stashDown }));
    await state.saveHealth({
      stashLastCheckAt: startedAt,
      ...(check === 'unreachable' ? {} : { stashCheckedAt: startedAt }),
      stashReachable: check !== 'unreachable',
      stashKeyRejected: plan.stashKeyRejected,
      stashDown: plan.stashDown,
      stashVersion: version,
      stashError: error,
    });
    if (plan.queue === 'resume' && pauseReasons(state.hold()).length === 0) await this.deps.control.resume();
  }
}
