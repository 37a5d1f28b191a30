// Pure: the worker's minute summary. During bulk work (Sync All, reconciliation, a requeue) a line per
// scene at info level drowns a terminal; each scene's line goes to debug and, once a minute while jobs
// run, one line says what the minute did. A fresh edit (a hook's job) keeps its own info line.
import type { JobReason } from '../model/inbox-item.js';

/** How often the summary line is written while jobs run. */
export const SUMMARY_INTERVAL_MS = 60_000;

export interface SyncTally {
  /** Scenes whose sync sent Plex at least one edit or poster. */
  edited: number;
  /** Scenes already as Stash has them: nothing sent. */
  unchanged: number;
  /** Scenes completed as skipped (not ready, not in Plex, excluded, a conflict). */
  skipped: number;
  /** Failed attempts (retried, held or given up). */
  failed: number;
  /** Since when this tally counts. */
  since: number;
}

export const emptyTally = (now: number): SyncTally => ({ edited: 0, unchanged: 0, skipped: 0, failed: 0, since: now });

export type SyncOutcome = 'edited' | 'unchanged' | 'skipped' | 'failed';

/** The outcome of a completed sync as the tally counts it. */
export function outcomeOf(result: { skipped: string } | { editRequests: number; posterUploaded: boolean }): SyncOutcome {
  if ('skipped' in result) return 'skipped';
  return result.editRequests > 0 || result.posterUploaded ? 'edited' : 'unchanged';
}

export const tallied = (syncTally: SyncTally, outcome: SyncOutcome): SyncTally => ({ ...syncTally, [outcome]: syncTally[outcome] + 1 });

/** Whether a job's own line is worth info level: a fresh edit someone is waiting to see. Bulk jobs log at debug. */
export const perSceneLevel = (reason: JobReason): 'info' | 'debug' => (reason === 'hook' ? 'info' : 'debug');

/** "sync: 1,204 scenes in the last 60 s: 31 edited, 1,150 unchanged, 20 skipped, 3 failed attempts"; null when nothing ran. */
export function summaryLine(syncTally: SyncTally, now: number): string | null {
  const scenes = syncTally.edited + syncTally.unchanged + syncTally.skipped;
  if (scenes + syncTally.failed === 0) return null;
  const n = (x: number) => x.toLocaleString('en-US');
  const secs = Math.max(1, Math.round((now - syncTally.since) / 1000));
  const parts = [`${n(syncTally.edited)} edited`, `${n(syncTally.unchanged)} unchanged`, `${n(syncTally.skipped)} skipped`];
  if (syncTally.failed > 0) parts.push(`${n(syncTally.failed)} failed ${syncTally.failed === 1 ? 'attempt' : 'attempts'}`);
  return `sync: ${n(scenes)} ${scenes === 1 ? 'scene' : 'scenes'} in the last ${secs} s: ${parts.join(', ')}`;
}
