// The text of the Stash tasks' reports, as pure functions: status JSON / outage list / requeue summary
// and a clock in, log lines and a one-line summary out. Stash shows each stderr line of a task as one
// entry of its log, so every line here is short and stands on its own; the summary is the task's
// `output` (and its last log line). No I/O: src/stash-plugin/tasks.ts reads Redis and prints.
import { formatRequeueSummary } from '../dlq/report.js';
import type { RequeueSummary } from '../dlq/requeue.js';
import { collectionLine, restoreSummaryText, sceneLine } from '../restore/report.js';
import type { RestoreSummary } from '../restore/run.js';
import { formatDateTime, formatDuration, formatRate } from '../resilience/format.js';
import { outageMetrics, type Outage } from '../resilience/outages.js';
import type { PauseReason } from '../resilience/token.js';
import type { QueueState } from '../supervisor/queue-control.js';
import type { QueueStatus, StatusJson } from '../supervisor/status.js';
import { conflictLines } from '../sync/claims.js';
import { skippedText } from '../sync/readiness.js';

export type ReportLevel = 'info' | 'warning';
export interface ReportLine {
  level: ReportLevel;
  text: string;
}
/** Log lines, in order, and the task's one-line result. */
export interface Report {
  lines: ReportLine[];
  summary: string;
}

/** The report's reference time, and the zone clock times are shown in (default: the process's). */
export interface ReportClock {
  now: number;
  /** IANA zone, e.g. 'UTC' (tests); undefined: local time, as Stash's own log shows it. */
  timeZone?: string;
}

/** Result of a probe of Plex made by the task itself (PLEX_URL in the plugin's environment). */
export type DirectProbe = { ok: true; latencyMs: number } | { ok: false; error: string };

/** The failed set by error type, from the most recent `scanned` jobs (at most the scan cap). */
export interface FailedBreakdown {
  /** Jobs in the failed set when the scan started. */
  total: number;
  /** Jobs whose failedReason was read (the most recent ones). */
  scanned: number;
  /** Count per error type (as parseFailedReason reads it); `unclassified` for any other reason. */
  byType: Record<string, number>;
  /** True when the scan stopped at the cap: older failed jobs were not read. */
  capped: boolean;
}

/** How many outages Queue Status and Outage Summary list. */
export const QUEUE_STATUS_OUTAGES = 3;
export const OUTAGE_SUMMARY_OUTAGES = 10;
/** Longest error text shown in one line (errors are clipped at 300 characters where stored). */
const MAX_ERROR_SHOWN = 120;

const info = (text: string): ReportLine => ({ level: 'info', text });
const warning = (text: string): ReportLine => ({ level: 'warning', text });

// ---- small formatters --------------------------------------------------------------------------

/** "1 job", "2 jobs"; irregular plurals given. */
export function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}

/** "2024-05-01 12:03:04" in the clock's zone. */
export function formatWhen(epochMs: number, clock: Pick<ReportClock, 'timeZone'>): string {
  return formatDateTime(epochMs, clock.timeZone);
}

/** "12:03:04" when `t` falls on the same day as `now` (in the clock's zone), else with the date. */
export function formatClock(epochMs: number, clock: ReportClock): string {
  const [date, time] = formatDateTime(epochMs, clock.timeZone).split(' ');
  return date === formatDateTime(clock.now, clock.timeZone).split(' ')[0] ? time : `${date} ${time}`;
}

/**
 * A percentage with two decimals: "99.87 %". Never "100.00 %" for less than 100 (rounding would hide
 * a short outage): that reads "99.99 %".
 */
export function formatPct(fraction: number): string {
  if (!Number.isFinite(fraction)) return 'n/a';
  const text = fraction.toFixed(2);
  return `${fraction < 100 && text === '100.00' ? '99.99' : text} %`;
}

function clip(text: string, max = MAX_ERROR_SHOWN): string {
  const one = text.replace(/\s+/g, ' ').trim();
  return one.length > max ? `${one.slice(0, max - 1)}…` : one;
}

// ---- building blocks -------------------------------------------------------------------------------

/**
 * The breaker's state with its timing: "Breaker: OPEN for 2m 5s, since 12:03:04 (…)". `since` 0 means
 * no state was ever stored (no supervisor ran): it reads CLOSED, as everywhere else.
 */
export function breakerLine(breaker: StatusJson['breaker'], clock: ReportClock): ReportLine {
  if (!(breaker.since > 0)) return info(`Breaker: ${breaker.state} (no state recorded yet: has the supervisor run?)`);
  const timing = `for ${formatDuration(clock.now - breaker.since)}, since ${formatClock(breaker.since, clock)}`;
  if (breaker.state === 'OPEN') return warning(`Breaker: OPEN ${timing} (Plex outage: the queue is paused)`);
  if (breaker.state === 'HALF_OPEN') return info(`Breaker: HALF_OPEN ${timing} (trial at 1 job/s until Plex proves healthy)`);
  const streak = breaker.consecutiveFailures > 0 ? ` (${plural(breaker.consecutiveFailures, 'outage-class failure')} in a row)` : '';
  return info(`Breaker: CLOSED ${timing}${streak}`);
}

const pending = (q: QueueState) => q.waiting + q.active + q.delayed;

/** "Queue sync: 132 jobs to do (120 waiting, 4 active, 8 delayed), 37 failed" and who paused it. */
/** Until when the supervisor holds a queue, from its reasons (none recorded reads as Plex down). */
function heldUntil(reasons: readonly PauseReason[]): string {
  if (reasons.includes('stash key rejected'))
    return `(${reasons.join(', ')}) until Stash accepts STASH_API_KEY again; held jobs do not fail`;
  if (reasons.includes('stash down') && !reasons.includes('plex down'))
    return `(${reasons.join(', ')}) until Stash answers; held jobs do not fail`;
  const token = reasons.includes('token rejected');
  if (!token) return 'until Plex is back';
  const down = reasons.includes('plex down');
  return `(${reasons.join(', ')}) until Plex ${down ? 'is back and ' : ''}accepts PLEX_TOKEN again; held jobs do not fail`;
}

export function queueLine(name: string, queueStatus: QueueStatus, opts: { completed?: boolean } = {}): ReportLine {
  const completed = opts.completed ? `, ${queueStatus.completed} completed` : '';
  const text = `Queue ${name}: ${plural(pending(queueStatus), 'job')} to do (${queueStatus.waiting} waiting, ${queueStatus.active} active, ${queueStatus.delayed} delayed), ${queueStatus.failed} failed${completed}`;
  if (!queueStatus.paused) return info(text);
  if (queueStatus.pausedBy === 'supervisor') {
    const line = `${text}; paused by the supervisor ${heldUntil(queueStatus.pauseReasons)}`;
    return queueStatus.pauseReasons.some((r) => r === 'token rejected' || r === 'stash key rejected') ? warning(line) : info(line);
  }
  const also = queueStatus.pauseReasons.length ? `; the supervisor would hold it too (${queueStatus.pauseReasons.join(', ')})` : '';
  return warning(`${text}; PAUSED by an operator (the supervisor never resumes it)${also}`);
}

/** "Rate limit: 5 jobs/s (1 job per 200 ms)", or null without a limit. */
export function rateLimitLine(queueState: QueueState): ReportLine | null {
  const l = queueState.rateLimit;
  if (!l || !(l.duration > 0)) return null;
  return info(`Rate limit: ${formatRate((l.max * 1000) / l.duration)} (${plural(l.max, 'job')} per ${formatDuration(l.duration)})`);
}

/**
 * The recovery ramp: "Recovery: ramp at 12.5 jobs/s of 20 jobs/s, 50 % done (2m 30s left)". `% done`
 * is the share of RAMP_DURATION_MS elapsed (the rate may be halved meanwhile by errors).
 */
export function recoveryLine(
  status: Pick<StatusJson, 'recovery' | 'breaker'>,
  ramp: { durationMs: number },
  clock: ReportClock,
): ReportLine {
  const r = status.recovery;
  if (!r.active || r.startedAt === null) {
    return info(status.breaker.state === 'HALF_OPEN' ? 'Recovery: trial (HALF_OPEN), 1 job/s' : 'Recovery: no ramp running');
  }
  const elapsed = Math.max(0, clock.now - r.startedAt);
  const fraction = ramp.durationMs > 0 ? Math.min(1, elapsed / ramp.durationMs) : 1;
  const left = Math.max(0, ramp.durationMs - elapsed);
  const rate = r.rate === null ? 'unknown rate' : formatRate(r.rate);
  const tail = left > 0 ? `${formatDuration(left)} left` : 'ending';
  return info(`Recovery: ramp at ${rate} of ${formatRate(r.targetRate)}, ${Math.floor(fraction * 100)} % done (${tail})`);
}

/**
 * One outage: "2024-05-01 12:03:04, lasted 2m 5s, trigger probe, 37 jobs affected, first error …";
 * an ongoing one "…, ONGOING for 2m 5s, trigger failures, …" (its jobs are counted when it ends).
 */
export function outageLine(outage: Outage, clock: ReportClock): string {
  const parts = [formatWhen(outage.startedAt, clock)];
  if (outage.endedAt === null) parts.push(`ONGOING for ${formatDuration(clock.now - outage.startedAt)}`);
  else parts.push(`lasted ${formatDuration(outage.durationMs ?? outage.endedAt - outage.startedAt)}`);
  parts.push(`trigger ${outage.trigger}`);
  if (outage.endedAt !== null) parts.push(`${plural(outage.jobsAffected, 'job')} affected`);
  if (outage.firstError) parts.push(`first error ${clip(outage.firstError)}`);
  return parts.join(', ');
}

/** "2024-05-01 12:03:04 (2m 5s)" / "(ongoing)": when an outage started and how long it lasted. */
export function outageWhen(outage: Outage, clock: ReportClock): string {
  const length = outage.endedAt === null ? 'ongoing' : formatDuration(outage.durationMs ?? outage.endedAt - outage.startedAt);
  return `${formatWhen(outage.startedAt, clock)} (${length})`;
}

/** "outage of 2024-05-01 12:03:04 (2m 5s)": an outage named in progress lines. */
export function outageLabel(outage: Outage, clock: ReportClock): string {
  return `outage of ${outageWhen(outage, clock)}`;
}

const newestFirst = (list: readonly Outage[]) => [...list].sort((a, b) => b.startedAt - a.startedAt);

function outageList(outages: readonly Outage[], max: number, clock: ReportClock): ReportLine[] {
  const list = newestFirst(outages);
  if (list.length === 0) return [info('Outages: none recorded')];
  const shown = list.slice(0, max);
  const head =
    list.length > max
      ? `Last ${shown.length} of ${list.length} outages, newest first:`
      : shown.length === 1
        ? 'Last outage:'
        : `Outages, newest first:`;
  return [info(head), ...shown.map((o) => info(`  ${outageLine(o, clock)}`))];
}

// ---- Health Check ----------------------------------------------------------------------------------

type PlexVerdict = 'HEALTHY' | 'UNREACHABLE' | 'UNKNOWN';

/**
 * Plex's state: from the task's own probe when there is one ("Plex is HEALTHY (responded in 42 ms)",
 * "Plex is UNREACHABLE: <error>"), else from the supervisor's last recorded probe ("Plex is HEALTHY
 * (last probe 12s ago: responded in 35 ms)"). With both, the recorded probe follows as a second line.
 */
export function plexLines(
  probe: DirectProbe | null,
  health: StatusJson['health'] | null,
  clock: ReportClock,
): { verdict: PlexVerdict; lines: ReportLine[] } {
  const lines: ReportLine[] = [];
  const recorded = health && health.lastProbeAt !== null && health.ok !== null ? health : null;
  const age = recorded ? `last probe ${formatDuration(clock.now - recorded.lastProbeAt!)} ago` : '';
  const recordedResult = recorded
    ? recorded.ok
      ? `responded in ${recorded.latencyMs ?? '?'} ms`
      : clip(recorded.error ?? 'failed (no error recorded)')
    : '';
  let verdict: PlexVerdict;
  if (probe) {
    verdict = probe.ok ? 'HEALTHY' : 'UNREACHABLE';
    lines.push(
      probe.ok ? info(`Plex is HEALTHY (responded in ${probe.latencyMs} ms)`) : warning(`Plex is UNREACHABLE: ${clip(probe.error)}`),
    );
    if (recorded) lines.push(info(`Supervisor's ${age}: ${recorded.ok ? 'OK, ' : 'FAILED: '}${recordedResult}`));
  } else if (recorded) {
    verdict = recorded.ok ? 'HEALTHY' : 'UNREACHABLE';
    lines.push(
      recorded.ok ? info(`Plex is HEALTHY (${age}: ${recordedResult})`) : warning(`Plex is UNREACHABLE (${age}: ${recordedResult})`),
    );
  } else {
    verdict = 'UNKNOWN';
    lines.push(warning('Plex health UNKNOWN: the supervisor has recorded no probe, and PLEX_URL is not set for a direct probe'));
  }
  if (health?.tokenRejected) {
    const when = health.tokenCheckedAt !== null ? `, checked ${formatDuration(clock.now - health.tokenCheckedAt)} ago` : '';
    lines.push(warning(`Plex REJECTS the workers' token (PLEX_TOKEN${when}): token rejected, sync paused until it is fixed`));
  }
  return { verdict, lines };
}

export function supervisorLine(supervisor: StatusJson['supervisor']): ReportLine {
  return supervisor.alive
    ? info(`Supervisor: running (leader ${supervisor.leader})`)
    : warning('Supervisor: NOT running (no live leader): nobody probes Plex or steers the queue');
}

/** The PATH_MAP suggestion, the PLEX_LIBRARIES problems and the matching conflicts (docs/MATCHING.md), as warnings. */
export function matchingLines(matching: StatusJson['matching']): ReportLine[] {
  const conflicts = conflictLines(matching?.conflicts ?? { count: 0, recent: [] });
  return [...(matching?.pathHint ? [matching.pathHint] : []), ...(matching?.libraryProblems ?? []), ...conflicts].map((text) =>
    warning(text),
  );
}

/** Health Check: Plex, the breaker, the queue, the supervisor, matching problems. */
export function healthReport(input: { status: StatusJson; probe: DirectProbe | null }, clock: ReportClock): Report {
  const { status } = input;
  const plex = plexLines(input.probe, status.health, clock);
  const queues = Object.entries(status.queues);
  const lines = [
    ...plex.lines,
    breakerLine(status.breaker, clock),
    ...queues.map(([name, q]) => queueLine(name, q)),
    supervisorLine(status.supervisor),
    ...matchingLines(status.matching),
  ];
  const todo = queues.reduce((n, [, q]) => n + pending(q), 0);
  const failed = queues.reduce((n, [, q]) => n + q.failed, 0);
  const token = status.health.tokenRejected ? ', token REJECTED' : '';
  const summary = `Health Check: Plex ${plex.verdict}${token}, breaker ${status.breaker.state}, ${plural(todo, 'job')} to do, ${failed} failed`;
  return { lines, summary };
}

// ---- Queue Status ----------------------------------------------------------------------------------

/** "Failed jobs by error type:" and one line per type, most frequent first. */
export function failedLines(failedBreakdown: FailedBreakdown): ReportLine[] {
  if (failedBreakdown.total === 0) return [info('Failed jobs: none')];
  const rows = Object.entries(failedBreakdown.byType).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const head = failedBreakdown.capped
    ? `Failed jobs by error type (the ${failedBreakdown.scanned} most recent of ${failedBreakdown.total}; older ones not counted):`
    : 'Failed jobs by error type:';
  return [info(head), ...rows.map(([type, n]) => info(`  ${type}: ${n}`))];
}

/** Queue Status: counts, failed jobs by type, breaker, recovery, the last 3 outages. */
export function queueStatusReport(
  input: { status: StatusJson; failed: FailedBreakdown; ramp: { durationMs: number } },
  clock: ReportClock,
): Report {
  const { status, failed } = input;
  const lines: ReportLine[] = [];
  for (const [name, q] of Object.entries(status.queues)) {
    lines.push(queueLine(name, q, { completed: true }));
    const limit = rateLimitLine(q);
    if (limit) lines.push(limit);
  }
  lines.push(...failedLines(failed));
  lines.push(info(skippedText(status.sync.skipped)));
  lines.push(breakerLine(status.breaker, clock));
  lines.push(recoveryLine(status, input.ramp, clock));
  lines.push(...outageList(status.outages.recent, QUEUE_STATUS_OUTAGES, clock));
  const queues = Object.values(status.queues);
  const todo = queues.reduce((n, q) => n + pending(q), 0);
  const failedTotal = queues.reduce((n, q) => n + q.failed, 0);
  const top = Object.entries(failed.byType).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0];
  const most = top && failedTotal > 0 ? ` (most: ${top[0]} ${top[1]})` : '';
  const recovery = status.recovery.active ? ', recovery ramp running' : '';
  return {
    lines,
    summary: `Queue Status: ${plural(todo, 'job')} to do, ${failedTotal} failed${most}, breaker ${status.breaker.state}${recovery}`,
  };
}

// ---- Outage Summary --------------------------------------------------------------------------------

/** Outage Summary: totals, MTTR, MTBF, availability, detection delay and the last 10 outages. */
export function outageSummaryReport(outages: readonly Outage[], clock: ReportClock, observedSince: number | null = null): Report {
  if (outages.length === 0) {
    return {
      lines: [info(`No outage recorded: availability ${formatPct(100)} as far as stash2plex knows`)],
      summary: 'Outage Summary: no outage recorded',
    };
  }
  const m = outageMetrics(outages, clock.now, observedSince);
  const ongoing = newestFirst(outages).find((o) => o.endedAt === null) ?? null;
  const lines: ReportLine[] = [];
  if (ongoing) {
    lines.push(
      warning(
        `Plex is DOWN: an outage is ongoing for ${formatDuration(clock.now - ongoing.startedAt)}, since ${formatClock(ongoing.startedAt, clock)}`,
      ),
    );
  }
  const others = outages.length - m.count;
  lines.push(info(`Outages recorded: ${outages.length}${others > 0 ? ` (${m.count} completed, ${others} ongoing)` : ''}`));
  if (m.count > 0) {
    lines.push(
      info(`Total downtime: ${formatDuration(m.totalDowntimeMs)}`),
      info(`MTTR (mean time to recover): ${formatDuration(m.mttrMs)}`),
      info(`MTBF (mean time between failures): ${formatDuration(m.mtbfMs)}`),
      info(`Availability: ${formatPct(m.availabilityPct)}`),
      info(`Mean detection delay: ${formatDuration(m.meanDetectionMs)}`),
    );
  } else {
    lines.push(info('No completed outage yet: the metrics start when one ends'));
  }
  lines.push(...outageList(outages, OUTAGE_SUMMARY_OUTAGES, clock));
  const summary =
    m.count > 0
      ? `Outage Summary: ${plural(m.count, 'outage')}, ${formatDuration(m.totalDowntimeMs)} down in total, availability ${formatPct(m.availabilityPct)}, MTTR ${formatDuration(m.mttrMs)}${ongoing ? '; one ongoing now' : ''}`
      : `Outage Summary: one outage ongoing for ${formatDuration(clock.now - ongoing!.startedAt)}, none completed`;
  return { lines, summary };
}

// ---- Recover Outage Jobs ---------------------------------------------------------------------------

/** The CLI's options in a refusal or input error, as the task's args. */
export function asTaskArgs(message: string): string {
  return message.replace(/ or use --force/g, ', then run the task again').replace(/--(outage|since|until|errors|limit)\b/g, 'args.$1');
}

/**
 * Recover Outage Jobs: the requeue's readable summary (formatRequeueSummary, blank lines dropped, the
 * refusal as a warning) and a one-line result.
 */
export function recoverReport(requeueSummary: RequeueSummary, label: string): Report {
  const refused = requeueSummary.refused ? asTaskArgs(requeueSummary.refused) : null;
  const text = formatRequeueSummary({ ...requeueSummary, refused });
  const lines = text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => (/^(Refused|A real run would be refused):/.test(l) ? warning(l) : info(l)));
  const counts = `${requeueSummary.matched} matched of ${requeueSummary.scanned} failed`;
  const left = requeueSummary.skipped.tooManyRequeues > 0 ? `; ${requeueSummary.skipped.tooManyRequeues} left after too many requeues` : '';
  let summary: string;
  if (requeueSummary.dryRun) {
    summary = requeueSummary.refused
      ? `${label}: ${plural(requeueSummary.skipped.breakerNotClosed, 'job')} would be requeued (${counts}), but a real run is refused now: the breaker is ${requeueSummary.breaker}`
      : `${label}: ${plural(requeueSummary.requeued, 'job')} would be requeued (${counts})${left}; nothing was moved`;
  } else if (requeueSummary.refused && requeueSummary.requeued === 0) {
    summary = `${label}: refused, the breaker is not CLOSED: nothing was moved (${plural(requeueSummary.skipped.breakerNotClosed, 'job')} wait for the recovery)`;
  } else {
    const stopped = requeueSummary.refused
      ? `; stopped early, the breaker is not CLOSED (${requeueSummary.skipped.breakerNotClosed} left)`
      : '';
    summary = `${label}: requeued ${plural(requeueSummary.requeued, 'job')} (${counts})${left}${stopped}`;
  }
  return { lines, summary };
}

// ---- Restore Plex Metadata ------------------------------------------------------------------------

/**
 * A line per scene (a warning when a field changed in Plex was left, or the scene failed), then the
 * totals (the summary, as Reconcile Library's, without the task's name); it names the resume when scenes
 * were excluded.
 */
export function restoreReport(restoreSummary: RestoreSummary): Report {
  const lines = restoreSummary.scenes.map((scene) =>
    (scene.error || scene.plexChanged.length ? warning : info)(sceneLine(scene, restoreSummary.dryRun)),
  );
  if (restoreSummary.examined > restoreSummary.scenes.length)
    lines.push(info(`… and ${plural(restoreSummary.examined - restoreSummary.scenes.length, 'more scene')}`));
  const c = restoreSummary.collections;
  for (const one of c?.listed ?? [])
    lines.push((one.error || one.plexChanged.length ? warning : info)(collectionLine(one, restoreSummary.dryRun)));
  if (c && c.examined > c.listed.length) lines.push(info(`… and ${plural(c.examined - c.listed.length, 'more collection')}`));
  if (restoreSummary.examined === 0 && !c?.examined)
    lines.push(info('No scene has kept originals: stash2plex has written to no Plex item since it began keeping them'));
  const resume =
    !restoreSummary.dryRun && restoreSummary.excluded > 0
      ? '; npm run restore -- --resume, or "Sync again" on the status page, brings them back'
      : '';
  return { lines, summary: `${restoreSummaryText(restoreSummary)}${resume}` };
}

// ---- Reconcile Outage Windows ----------------------------------------------------------------------

export function reconcileSummary(counts: { outages: number; queued: number; repeated: number; replayed: number }): string {
  const repeated = counts.repeated > 0 ? `, ${counts.repeated} repeated in overlapping windows skipped` : '';
  const replayed = counts.replayed > 0 ? ` (and ${counts.replayed} spooled hook events)` : '';
  return `Reconcile Outage Windows: queued ${plural(counts.queued, 'scene')} for Plex from ${plural(counts.outages, 'outage window')}${repeated}${replayed}`;
}
