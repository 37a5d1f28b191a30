// The shell around ./dependency-check.ts and ./repeat-throttle.ts: one per process, it logs a dependency's
// trouble in one line when it starts, at most one line every 30 s while it lasts, and one when it is over.
// No stack trace: an unreachable Redis, Plex or Stash is expected, and the line says what to change.
import type { Logger } from './log.js';
import { recoveredLine, type Dependency, type DependencyProblem } from './dependency-check.js';
import { QUIET, REPEAT_EVERY_MS, throttleStep, type ThrottleState } from './repeat-throttle.js';

export class DependencyReport {
  private readonly states = new Map<Dependency, ThrottleState>();
  private readonly problems = new Map<Dependency, DependencyProblem>();

  constructor(
    private readonly log: Pick<Logger, 'error' | 'warn' | 'info'>,
    private readonly now: () => number = Date.now,
    private readonly everyMs = REPEAT_EVERY_MS,
  ) {}

  /** `problem` happened now (again). */
  fail(problem: DependencyProblem): void {
    this.problems.set(problem.dependency, problem);
    this.step(problem.dependency, problem.message);
  }

  /** `dependency` answered as it should: says so once if it had been failing. */
  ok(dependency: Dependency): void {
    this.step(dependency, null);
  }

  /** The problem going on with `dependency`, or null. */
  current(dependency: Dependency): DependencyProblem | null {
    return this.states.get(dependency)?.line ? (this.problems.get(dependency) ?? null) : null;
  }

  private step(dependency: Dependency, line: string | null): void {
    const { state, say } = throttleStep(this.states.get(dependency) ?? QUIET, line, this.now(), this.everyMs);
    this.states.set(dependency, state);
    if (!say) return;
    const problem = this.problems.get(dependency);
    if (say.kind === 'recovered') {
      this.log.info({ dependency }, recoveredLine(dependency, problem?.address ?? dependency, say.forMs));
      return;
    }
    const level = problem?.kind === 'unreachable' ? 'warn' : 'error';
    if (say.kind === 'failing') this.log[level]({ dependency, setting: problem?.setting }, say.line);
    else this.log[level]({ dependency, setting: problem?.setting }, `${say.line} (for ${Math.round(say.forMs / 1000)} s; retrying)`);
  }
}
