// The supervisor's token checks: the authenticated request (at start, after each recovery, and when
// due), and what its answer does to the queues and the stored verdict. The decisions are
// src/resilience/token.ts (pure: tokenCheckDue, tokenCheckPlan); this performs them. A token Plex
// rejects is no outage, but it holds the queue like one (reason "token rejected") until it works.
import type { Logger } from '../core/log.js';
import { failedTokenCheck, pauseReasons, tokenCheckDue, tokenCheckPlan, type TokenCheck } from '../resilience/token.js';
import type { LeaderState } from './leader-state.js';
import type { LibraryChecker } from './library-check.js';
import type { QueueControl } from './queue-control.js';

export interface TokenCheckerDeps {
  /** One authenticated request with the token; throws a PlexAuthError when Plex rejects it. */
  checkToken: () => Promise<void>;
  state: LeaderState;
  control: QueueControl;
  libraries: LibraryChecker;
  /** PLEX_TOKEN_RECHECK_MS. */
  recheckMs: number;
  now: () => number;
  log: Logger;
}

export class TokenChecker {
  /** A worker met PlexAuthError since the last token check. */
  private suspect = false;
  /** When this leader last began a token check (answered or not), for the recheck interval. */
  private startedAt: number | null = null;

  constructor(private readonly deps: TokenCheckerDeps) {}

  /** Workers met a 401/403: find out whether the token itself is rejected. */
  markSuspect(): void {
    this.suspect = true;
  }

  /** Checks when due: while suspect, or while the token stands rejected (to notice when it works again). */
  async recheckIfDue(now: number): Promise<void> {
    const { state } = this.deps;
    const lastAttemptAt = this.startedAt ?? state.snap!.health.tokenCheckedAt;
    if (!tokenCheckDue({ ...state.hold(), suspect: this.suspect, lastAttemptAt, recheckMs: this.deps.recheckMs }, now)) return;
    this.suspect = false;
    await this.check();
  }

  /** One check and its plan: the log, pause (before the flag shows, as with OPEN), the verdict, resume, the libraries. */
  async check(): Promise<void> {
    const { state, log } = this.deps;
    const startedAt = this.deps.now(); // workers compare their 401s with when the check began
    this.startedAt = startedAt;
    let check: TokenCheck = 'accepted';
    try {
      await this.deps.checkToken();
    } catch (err) {
      check = failedTokenCheck(err);
    }
    const plan = tokenCheckPlan(check, state.hold());
    if (!plan.record) return; // Plex did not answer: the probes deal with that
    if (plan.note === 'rejected')
      log.error('Plex rejected the token (PLEX_TOKEN): queue paused (token rejected) until Plex accepts it; no job fails for it');
    else if (plan.note === 'accepted again') log.info('Plex accepts the token again');
    if (plan.queue === 'pause') await this.deps.control.pause(pauseReasons({ ...state.hold(), tokenRejected: true }));
    await state.saveHealth({ tokenRejected: plan.tokenRejected, tokenCheckedAt: startedAt });
    if (plan.queue === 'resume') await this.resumeUnlessHeld();
    if (plan.checkLibraries) await this.deps.libraries.check(startedAt);
  }

  /** Resumes the queues the supervisor paused, unless a reason to hold them remains (Plex down, token rejected). */
  private async resumeUnlessHeld(): Promise<void> {
    if (pauseReasons(this.deps.state.hold()).length) return;
    await this.deps.control.resume();
  }
}
