// A requeue summary as readable text (the CLI's default output; the Stash task can show the same).
import type { RequeueSummary } from './requeue.js';
import { GRACE_MS, MAX_REQUEUES } from './select.js';

const iso = (t: number) => new Date(t).toISOString();
const LISTED = 20;

function list(ids: readonly string[]): string {
  return ids.slice(0, LISTED).join(', ') + (ids.length > LISTED ? `, … (${ids.length - LISTED} more)` : '');
}

export function formatRequeueSummary(s: RequeueSummary, opts: { maxRequeues?: number; graceMs?: number } = {}): string {
  const max = opts.maxRequeues ?? MAX_REQUEUES;
  const grace = opts.graceMs ?? GRACE_MS;
  const lines: string[] = [];
  lines.push(s.dryRun ? 'Requeue — DRY RUN: nothing was moved; figures are what a real run would do' : 'Requeue');
  for (const w of s.windows) {
    lines.push(`  window    ${iso(w.from)} → ${iso(w.to)}${w.outageId ? `  (outage ${w.outageId})` : ''}  ±${grace / 1000} s grace`);
  }
  lines.push(`  errors    ${s.errorTypes.join(', ')}`);
  lines.push(`  breaker   ${s.breaker}`);
  lines.push('');
  const rows: [string, number][] = [
    ['scanned (failed jobs)', s.scanned],
    ['matched (window and error type)', s.matched],
    [s.dryRun ? 'would requeue' : 'requeued', s.requeued],
    ['skipped: already queued', s.skipped.alreadyQueued],
    ['skipped: error type', s.skipped.errorType],
    ['skipped: outside window', s.skipped.outsideWindow],
    ['skipped: breaker not closed', s.skipped.breakerNotClosed],
    [`skipped: requeued ${max}× already`, s.skipped.tooManyRequeues],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  const numWidth = Math.max(...rows.map(([, v]) => String(v).length));
  for (const [k, v] of rows) lines.push(`  ${k.padEnd(width)}  ${String(v).padStart(numWidth)}`);
  if (s.limitReached) lines.push('', `  --limit reached: later failed jobs were not examined.`);
  if (s.jobIds.length) lines.push('', `${s.dryRun ? 'Would requeue' : 'Requeued'} jobs: ${list(s.jobIds)}`);
  if (s.tooManyRequeues.length) {
    lines.push(
      '',
      `Left in the failed set after ${max} requeues (look at these by hand): ` +
        list(s.tooManyRequeues.map((j) => `${j.id}${j.sceneId ? ` (scene ${j.sceneId})` : ''}`)),
    );
  }
  if (s.refused) lines.push('', `${s.dryRun ? 'A real run would be refused' : 'Refused'}: ${s.refused}.`);
  return lines.join('\n') + '\n';
}
