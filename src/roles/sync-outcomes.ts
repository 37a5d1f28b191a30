// What a sync attempt says about Plex and Stash, for the process's dependency report: a fault a job met
// (an unreachable server, a rejected token or key) is one throttled line naming the setting, instead of
// a line per job; a synced scene shows both answer.
import type { Config } from '../core/config.js';
import { plexProblem, stashProblem } from '../core/dependency-check.js';
import type { DependencyReport } from '../core/dependency-report.js';
import type { SyncError } from '../core/errors.js';

/** The types that say something about a whole server rather than one scene. */
// A 401/403 from Plex may be about one item: the supervisor's token check tells, and says so itself.
const PLEX_WIDE = new Set(['PlexServerDown', 'PlexTemporaryError']);
const STASH_WIDE = new Set(['StashUnavailable', 'StashAuthError']);

export function reportSyncOutcome(outcome: 'ok' | SyncError, report: DependencyReport, config: Pick<Config, 'plex' | 'stash'>): void {
  if (outcome === 'ok') {
    report.ok('plex');
    report.ok('stash');
  } else if (PLEX_WIDE.has(outcome.type)) report.fail(plexProblem(outcome, config.plex.url));
  else if (STASH_WIDE.has(outcome.type)) {
    const problem = stashProblem(outcome, { url: config.stash.url, apiKeySet: config.stash.apiKey !== null });
    // Stash answered, with an error about this scene's query: the job's own line says it.
    if (problem.kind !== 'misconfigured') report.fail(problem);
  }
}
