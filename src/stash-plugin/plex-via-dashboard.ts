// The Plex part of the plugin's tasks, run by the stash2plex dashboard (./dashboard-task.ts) when the
// plugin has no Plex credentials: Reconcile Library (dry run and real), Restore Plex Metadata (dry run),
// Explain Scene and Health Check's direct probe. Each logs the dashboard's result with the report
// functions a local run uses (src/sync/library-gaps.ts, ./task-reports.ts, src/explain/report.ts), so
// Stash shows the same lines, and reports progress as a local run does.
import type { Explanation } from '../explain/explain.js';
import type { PluginLogLevel } from '../hook/log-lines.js';
import type { RestoreProgress, RestoreSummary } from '../restore/run.js';
import type { LibraryReport } from '../sync/library-gaps.js';
import type { LibraryProgress } from '../sync/library-reconcile.js';
import { askDashboard, DashboardTaskError, type DashboardTarget, type DashboardTimeouts } from './dashboard-task.js';
import type { DirectProbe } from './task-reports.js';

/** A long task logs its progress at most this often (the bar moves on every update). */
export const PROGRESS_LOG_MS = 5_000;

/** What a task run through the dashboard writes to: Stash's log and progress bar. */
export interface TaskOutput {
  log: (level: PluginLogLevel, msg: string) => void;
  progress: (fraction: number) => void;
  timeouts?: DashboardTimeouts;
}

/** One info line saying where the Plex part runs (the only line a local run does not have). */
function sayWhere(out: TaskOutput, label: string, target: DashboardTarget): void {
  out.log('info', `${label}: no PLEX_URL / PLEX_TOKEN in the plugin's environment: asking the stash2plex dashboard at ${target.url}`);
}

/** A dashboard failure as the task's one error line. */
function asTaskError(label: string, err: unknown): unknown {
  return err instanceof DashboardTaskError ? new Error(`${label}: ${err.message}`, { cause: err }) : err;
}

/** Calls `log` with the latest update at most every PROGRESS_LOG_MS. */
function everyFewSeconds<T>(log: (update: T) => void): (update: T) => void {
  let loggedAt = Date.now();
  return (update) => {
    if (Date.now() - loggedAt < PROGRESS_LOG_MS) return;
    loggedAt = Date.now();
    log(update);
  };
}

/** Reconcile Library (dry run or real) on the dashboard: its report, logged as a local run logs it. */
export async function reconcileViaDashboard(target: DashboardTarget, out: TaskOutput, dryRun: boolean): Promise<string> {
  const label = dryRun ? 'Reconcile Library (dry run)' : 'Reconcile Library';
  const { reportLines, reportSummary } = await import('../sync/library-gaps.js');
  sayWhere(out, label, target);
  out.progress(0);
  const logProgress = everyFewSeconds((p: LibraryProgress) =>
    out.log('info', `${label}: ${p.scanned}/${p.total} scenes read${dryRun ? '' : `, ${p.queued} queued`}`),
  );
  let report: LibraryReport;
  try {
    report = (await askDashboard(
      target,
      'reconcile-library',
      { dryRun },
      {
        timeouts: out.timeouts,
        onProgress: (update) => {
          const p = update as LibraryProgress;
          out.progress(Math.min(1, p.scanned / Math.max(1, p.total)));
          logProgress(p);
        },
      },
    )) as LibraryReport;
  } catch (err) {
    throw asTaskError(label, err);
  }
  out.progress(1);
  for (const line of reportLines(report).slice(0, -1)) out.log('info', line);
  return reportSummary(report);
}

/** Restore Plex Metadata (dry run) on the dashboard: its summary, logged as a local run logs it. */
export async function restoreDryRunViaDashboard(target: DashboardTarget, out: TaskOutput): Promise<string> {
  const label = 'Restore Plex Metadata (dry run)';
  const { restoreReport } = await import('./task-reports.js');
  sayWhere(out, label, target);
  out.progress(0);
  const logProgress = everyFewSeconds((p: RestoreProgress) =>
    out.log('info', `${label}: ${p.examined} scenes examined, ${p.restored} would be restored`),
  );
  let summary: RestoreSummary;
  try {
    summary = (await askDashboard(
      target,
      'restore-dry-run',
      {},
      { timeouts: out.timeouts, onProgress: (p) => logProgress(p as RestoreProgress) },
    )) as RestoreSummary;
  } catch (err) {
    throw asTaskError(label, err);
  }
  out.progress(1);
  const report = restoreReport(summary);
  for (const line of report.lines) out.log(line.level, line.text);
  return report.summary;
}

/** Explain Scene on the dashboard: the explanation's lines, then the one-line summary. */
export async function explainViaDashboard(target: DashboardTarget, out: TaskOutput, sceneId: string): Promise<string> {
  const label = 'Explain Scene';
  const { explanationLines } = await import('../explain/report.js');
  sayWhere(out, label, target);
  let e: Explanation;
  try {
    e = (await askDashboard(target, 'explain', { sceneId }, { timeouts: out.timeouts })) as Explanation;
  } catch (err) {
    // The scene's own faults read as a local run's: they are the setting's, not the dashboard's.
    if (err instanceof DashboardTaskError && (err.status === 400 || err.status === 404) && err.detail)
      throw new Error(`${label}: ${err.detail} (the plugin setting "Scene to explain")`, { cause: err });
    throw asTaskError(label, err);
  }
  for (const line of explanationLines(e)) out.log('info', line);
  out.progress(1);
  return `scene ${e.scene.id}: next sync: ${e.next}`;
}

/**
 * Health Check's direct probe, by the dashboard: its result, or null (the supervisor's last probe is
 * shown instead) after one warning line saying why the dashboard could not probe.
 */
export async function probeViaDashboard(target: DashboardTarget, out: TaskOutput): Promise<DirectProbe | null> {
  try {
    const r = (await askDashboard(target, 'health-check', {}, { timeouts: out.timeouts })) as {
      ok: boolean;
      latencyMs: number | null;
      error: string | null;
    };
    return r.ok ? { ok: true, latencyMs: r.latencyMs ?? 0 } : { ok: false, error: r.error ?? 'no answer' };
  } catch (err) {
    if (!(err instanceof DashboardTaskError)) throw err;
    out.log('warning', `Health Check: no direct probe: ${err.message}`);
    return null;
  }
}
