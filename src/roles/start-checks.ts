// What a process checks at start (and again, with backoff, until it passes): Plex answers /identity as
// Plex and accepts PLEX_TOKEN, each PLEX_LIBRARIES title is a movie library; Stash answers, accepts
// STASH_API_KEY and runs a supported version. Every failure is one line naming the setting
// (src/core/dependency-check.ts), repeated at most every 30 s (src/core/dependency-report.ts). Never an
// exit: a server may come up after stash2plex, and jobs wait for it meanwhile.
import { plexProblem, stashProblem } from '../core/dependency-check.js';
import type { DependencyReport } from '../core/dependency-report.js';
import type { Logger } from '../core/log.js';
import { libraryProblems, type PlexSection } from '../plex/paths.js';
import { stashVersionNote, type StashServerInfo } from '../stash-api/stash-version.js';

export interface PlexStartPort {
  identity(timeoutMs?: number): Promise<unknown>;
  checkToken(): Promise<void>;
  sections(force?: boolean): Promise<PlexSection[]>;
}

export interface StashStartPort {
  server(): Promise<StashServerInfo>;
}

export interface StartCheckOptions {
  report: DependencyReport;
  log: Pick<Logger, 'error' | 'warn' | 'info'>;
  plex?: { client: PlexStartPort; url: string; timeoutMs: number; libraries: readonly string[] | null };
  stash?: { client: StashStartPort; url: string; apiKeySet: boolean };
  /** Who checks, the prefix of the Stash version line (e.g. `worker`). */
  who?: string;
  /** First wait after a failed check, doubled after each failure up to maxDelayMs. */
  firstDelayMs?: number;
  maxDelayMs?: number;
}

/** Plex: /identity, the token, the libraries. True when Plex answered and took the token. */
async function checkPlex(o: StartCheckOptions, loggedLibraries: { text: string }): Promise<boolean> {
  const p = o.plex!;
  try {
    await p.client.identity(p.timeoutMs);
    await p.client.checkToken();
  } catch (err) {
    o.report.fail(plexProblem(err, p.url));
    return false;
  }
  o.report.ok('plex');
  const problems = libraryProblems(await p.client.sections().catch(() => []), p.libraries);
  const text = problems.join('\n');
  if (text !== loggedLibraries.text) for (const line of problems) o.log.error({ setting: 'PLEX_LIBRARIES' }, line);
  loggedLibraries.text = text;
  return true;
}

/** Stash: the version, asked with the API key. True when Stash answered it. */
async function checkStash(o: StartCheckOptions): Promise<boolean> {
  const s = o.stash!;
  let server: StashServerInfo;
  try {
    server = await s.client.server();
  } catch (err) {
    o.report.fail(stashProblem(err, { url: s.url, apiKeySet: s.apiKeySet }));
    return false;
  }
  o.report.ok('stash');
  const note = stashVersionNote(server);
  o.log[note.level]({ stashVersion: server.version, setting: 'STASH_URL' }, o.who ? `${o.who}: ${note.message}` : note.message);
  return true;
}

/**
 * Runs the checks now and again with backoff (1 s doubling to 30 s) until each passed once; later
 * failures are the sync's to report. Answers a stop for shutdown, and a promise of the first round.
 */
export function startChecks(startCheckOptions: StartCheckOptions): { firstRound: Promise<void>; stop(): void } {
  const first = startCheckOptions.firstDelayMs ?? 1_000;
  const max = startCheckOptions.maxDelayMs ?? 30_000;
  let stopped = false;
  const timers = new Set<NodeJS.Timeout>();
  const loop = async (check: () => Promise<boolean>, delay: number): Promise<void> => {
    if (stopped || (await check().catch(() => false))) return;
    if (stopped) return;
    const t = setTimeout(() => {
      timers.delete(t);
      void loop(check, Math.min(max, delay * 2));
    }, delay);
    t.unref();
    timers.add(t);
  };
  const libraries = { text: '' };
  const rounds: Promise<void>[] = [];
  if (startCheckOptions.plex) rounds.push(loop(() => checkPlex(startCheckOptions, libraries), first));
  if (startCheckOptions.stash) rounds.push(loop(() => checkStash(startCheckOptions), first));
  return {
    firstRound: Promise.all(rounds).then(() => undefined),
    stop() {
      stopped = true;
      for (const t of timers) clearTimeout(t);
    },
  };
}
