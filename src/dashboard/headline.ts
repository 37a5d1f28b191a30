// The status page's headline (pure): the worst problem going on now, in one sentence, and the one thing
// that recovers it (a setting to change, a command, or a button of the page). "Plex is up" is said only
// when the last probe answered; "nothing was lost" only once the backlog has drained.
import { parseFailedReason, type ErrorType } from '../core/errors.js';
import { formatAgo, formatDuration } from '../resilience/format.js';
import type { StatusJson } from '../supervisor/status.js';

export type HeadlineLevel = 'ok' | 'info' | 'warn' | 'error';

/** What recovers the problem: a setting to change, a command to run, or a button of the page (its id). */
export interface HeadlineAction {
  label: string;
  setting?: string;
  command?: string;
  buttonId?: string;
}

export interface Headline {
  level: HeadlineLevel;
  text: string;
  action: HeadlineAction | null;
}

export interface HeadlineInput {
  status: StatusJson;
  /** failedReason of the newest failed jobs (a bounded sample), to name their main reason. */
  failedReasons: readonly string[];
  /** FAILED_KEEP_DAYS: how far back the requeue command looks. */
  failedKeepDays: number;
  now: number;
}

/** An outage that ended this recently is still worth a line once its backlog has drained. */
export const RECOVERED_SHOWN_MS = 3_600_000;

const plural = (n: number, one: string, many = `${one}s`) => `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;

/** Jobs still to do in every queue (waiting, active, delayed). */
function pendingJobs(s: StatusJson): number {
  return Object.values(s.queues).reduce((n, q) => n + q.waiting + q.active + q.delayed, 0);
}

function failedJobs(s: StatusJson): number {
  return Object.values(s.queues).reduce((n, q) => n + q.failed, 0);
}

/** The commonest error type among the reasons, with how many had it and one reason of that type. */
export function mainFailure(reasons: readonly string[]): { type: ErrorType | 'other'; count: number; example: string } | null {
  if (reasons.length === 0) return null;
  const byType = new Map<ErrorType | 'other', string[]>();
  for (const r of reasons) {
    const type = parseFailedReason(r) ?? 'other';
    byType.set(type, [...(byType.get(type) ?? []), r]);
  }
  const [type, list] = [...byType].sort((a, b) => b[1].length - a[1].length)[0];
  return { type, count: list.length, example: list[0] };
}

const waiting = (s: StatusJson) => {
  const n = pendingJobs(s);
  return n === 0 ? 'nothing is waiting' : `${plural(n, 'job')} wait, none fails`;
};

/** Credentials refused: the worst, since nothing syncs until a person changes a setting. */
function rejected(s: StatusJson): Headline | null {
  if (s.health.tokenRejected) {
    return {
      level: 'error',
      text: `Plex rejected the token (PLEX_TOKEN): sync is paused; ${waiting(s)}.`,
      action: { label: 'Set PLEX_TOKEN to a valid token and restart stash2plex; held jobs then sync by themselves', setting: 'PLEX_TOKEN' },
    };
  }
  if (s.health.stash.keyAccepted === false) {
    return {
      level: 'error',
      text: `Stash rejected the API key (STASH_API_KEY): sync is paused; ${waiting(s)}.`,
      action: {
        label: 'Set STASH_API_KEY to the key shown in Stash (Settings → Security → API Key) and restart stash2plex',
        setting: 'STASH_API_KEY',
      },
    };
  }
  return null;
}

/** A server that does not answer: Plex (from the first failed probe, before the breaker opens) or Stash. */
function unreachable(s: StatusJson): Headline | null {
  const h = s.health;
  if (s.breaker.state === 'OPEN' || h.ok === false) {
    const why = h.error ?? s.outages.current?.firstError ?? null;
    const breaker = s.breaker.state === 'OPEN' ? 'sync is paused' : 'the breaker opens if it goes on';
    return {
      level: 'error',
      text: `Plex is unreachable${why ? ` (${why})` : ''}: ${breaker}; ${waiting(s)}.`,
      action: { label: 'Check that Plex runs and PLEX_URL points at it, then check again', setting: 'PLEX_URL', buttonId: 'probe-now' },
    };
  }
  if (h.stash.reachable === false) {
    return {
      level: 'error',
      text: `Stash is unreachable${h.stash.lastError ? ` (${h.stash.lastError})` : ''}: sync is paused; ${waiting(s)}.`,
      action: { label: 'Check that Stash runs and STASH_URL points at it; sync resumes by itself', setting: 'STASH_URL' },
    };
  }
  return null;
}

/** Failed jobs: how many, their main reason, and how to bring them back. */
function failed(s: StatusJson, i: HeadlineInput): Headline | null {
  const count = failedJobs(s);
  if (count === 0) return null;
  const main = mainFailure(i.failedReasons);
  const reason = main ? `, mostly ${main.type} (${main.count} of the newest ${i.failedReasons.length}: ${main.example})` : '';
  const text = `${plural(count, 'job')} failed${reason}.`;
  if (!main || main.type === 'PlexServerDown') {
    return { level: 'warn', text, action: { label: 'Recover failed outage jobs (a dry run first)', buttonId: 'requeue-dry' } };
  }
  const command = main.type === 'other' ? undefined : `npm run requeue -- --since ${i.failedKeepDays}d --errors ${main.type}`;
  return { level: 'warn', text, action: { label: 'Once the cause is fixed, send them back to the queue', command } };
}

/** The outage that ended last, unless one goes on. */
function lastEnded(s: StatusJson) {
  if (s.outages.current) return null;
  const last = s.outages.recent.find((o) => o.endedAt !== null);
  return last && last.endedAt !== null ? { ...last, endedAt: last.endedAt } : null;
}

const outageText = (o: { durationMs: number | null; endedAt: number; startedAt: number }) =>
  `the outage of ${formatDuration(o.durationMs ?? o.endedAt - o.startedAt)}`;

/** After an outage, while its backlog drains (the ramp runs, or jobs wait): not yet "nothing was lost". */
function draining(s: StatusJson, now: number): Headline | null {
  const last = lastEnded(s);
  const pending = pendingJobs(s);
  if (!last || !(s.recovery.active || (pending > 0 && now - last.endedAt < RECOVERED_SHOWN_MS))) return null;
  return {
    level: 'info',
    text: `Plex is back after ${outageText(last)}: ${plural(pending, 'job')} of the backlog still to sync.`,
    action: null,
  };
}

/** An outage whose backlog has drained with no failed job: said to have lost nothing (for an hour). */
function recovered(s: StatusJson, now: number): Headline | null {
  const last = lastEnded(s);
  if (!last || now - last.endedAt >= RECOVERED_SHOWN_MS || pendingJobs(s) > 0 || failedJobs(s) > 0) return null;
  const held = last.jobsAffected > 0 ? ` (${plural(last.jobsAffected, 'job')} held, all synced)` : '';
  return {
    level: 'ok',
    text: `Recovered ${formatAgo(last.endedAt, now)} from ${outageText(last)}: the backlog has drained, nothing was lost${held}.`,
    action: null,
  };
}

/** A Reconcile Library run that failed after the last report: that report is not current. */
function reconcileFailed(s: StatusJson, i: HeadlineInput): Headline | null {
  const f = s.reconcile?.lastFailure ?? null;
  const last = s.reconcile?.last ?? null;
  if (!f || (last && last.finishedAt > f.failedAt)) return null;
  return {
    level: 'warn',
    text: `The last Reconcile Library${f.dryRun ? ' dry run' : ' run'} failed ${formatAgo(f.failedAt, i.now)}: ${f.error}`,
    action: { label: 'Run it again once the cause is fixed', buttonId: 'reconcile-dry', command: 'npm run reconcile -- --dry-run' },
  };
}

/** Everything well, said only from what was seen: the last probe answered, Stash answered. */
function allWell(s: StatusJson, now: number): Headline {
  if (s.health.ok !== true || s.health.lastProbeAt === null) {
    return { level: 'info', text: 'Waiting for the first probe of Plex.', action: null };
  }
  const stash = s.health.stash.checked ? ' and Stash answers' : '';
  const pending = pendingJobs(s);
  return {
    level: 'ok',
    text: `Plex is up (answered ${formatAgo(s.health.lastProbeAt, now)})${stash}; ${pending === 0 ? 'nothing waiting' : `${plural(pending, 'job')} to do`}.`,
    action: null,
  };
}

/** The worst current problem (credentials, then an unreachable server, …), or what is well. */
export function headline(headlineInput: HeadlineInput): Headline {
  const s = headlineInput.status;
  const supervisorDown: Headline | null = s.supervisor.alive
    ? null
    : {
        level: 'warn',
        text: 'The supervisor is not running: outages and rejected credentials are not detected, and held jobs are not resumed.',
        action: { label: 'Start it', command: 'npm run supervisor' },
      };
  const trial: Headline | null =
    s.breaker.state === 'HALF_OPEN'
      ? { level: 'info', text: 'Plex answers again: a trial lets one job a second through.', action: null }
      : null;
  return (
    rejected(s) ??
    unreachable(s) ??
    supervisorDown ??
    trial ??
    draining(s, headlineInput.now) ??
    failed(s, headlineInput) ??
    reconcileFailed(s, headlineInput) ??
    recovered(s, headlineInput.now) ??
    allWell(s, headlineInput.now)
  );
}
