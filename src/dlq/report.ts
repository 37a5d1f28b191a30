// A requeue summary as readable text (the CLI's default output; the Stash task can show the same).
import type { RequeueSummary } from './requeue.js';
import { GRACE_MS, MAX_REQUEUES } from './select.js';

const iso = (t: number) => new Date(t).toISOString();
const LISTED = 20;

function list(ids: readonly string[]): string {
  return ids.slice(0, LISTED).join(', ') + (ids.length > LISTED ? `, … (${ids.length - LISTED} more)` : '');
}

export function formatRequeueSummary(requeueSummary: RequeueSummary, opts: { maxRequeues?: number; graceMs?: number } = {}): string {
  const max = opts.maxRequeues ?? MAX_REQUEUES;
  const grace = opts.graceMs ?? GRACE_MS;
  const lines: string[] = [];
  lines.push(requeueSummary.dryRun ? 'Requeue — DRY RUN: nothing was moved; figures are what a real run would do' : 'Requeue');
  for (const w of requeueSummary.windows) {
    lines.push(`  window    ${iso(w.from)} → ${iso(w.to)}${w.outageId ? `  (outage ${w.outageId})` : ''}  ±${grace / 1000} s grace`);
  }
  lines.push(`  errors    ${requeueSummary.errorTypes.join(', ')}`);
  lines.push(`  breaker   ${requeueSummary.breaker}`);
  lines.push('');
  const rows: [string, number][] = [
    ['scanned (failed jobs)', requeueSummary.scanned],
    ['matched (window and error type)', requeueSummary.matched],
    [requeueSummary.dryRun ? 'would requeue' : 'requeued', requeueSummary.requeued],
    ['skipped: already queued', requeueSummary.skipped.alreadyQueued],
    ['skipped: error type', requeueSummary.skipped.errorType],
    ['skipped: outside window', requeueSummary.skipped.outsideWindow],
    ['skipped: breaker not closed', requeueSummary.skipped.breakerNotClosed],
    [`skipped: requeued ${max}× already`, requeueSummary.skipped.tooManyRequeues],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  const numWidth = Math.max(...rows.map(([, v]) => String(v).length));
  for (const [k, v] of rows) lines.push(`  ${k.padEnd(width)}  ${String(v).padStart(numWidth)}`);
  if (requeueSummary.limitReached) lines.push('', `  --limit reached: later failed jobs were not examined.`);
  if (requeueSummary.jobIds.length)
    lines.push('', `${requeueSummary.dryRun ? 'Would requeue' : 'Requeued'} jobs: ${list(requeueSummary.jobIds)}`);
  if (requeueSummary.tooManyRequeues.length) {
    lines.push(
      '',
      `Left in the failed set after ${max} requeues (look at these by hand): ` +
        list(requeueSummary.tooManyRequeues.map((j) => `${j.id}${j.sceneId ? ` (scene ${j.sceneId})` : ''}`)),
    );
  }
  if (requeueSummary.refused)
    lines.push('', `${requeueSummary.dryRun ? 'A real run would be refused' : 'Refused'}: ${requeueSummary.refused}.`);
  return lines.join('\n') + '\n';
}
