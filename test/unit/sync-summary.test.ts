// The worker's minute summary, pure: what it counts, the line it writes, and which jobs keep a line of their own.
import { describe, expect, it } from 'vitest';
import { emptyTally, outcomeOf, perSceneLevel, summaryLine, tallied, type SyncOutcome } from '../../src/sync/sync-summary.js';

const T0 = Date.UTC(2024, 4, 1, 12, 0, 0);

describe('the sync summary', () => {
  it('counts each outcome and says them in one line over the interval', () => {
    const outcomes: SyncOutcome[] = [
      'edited',
      'unchanged',
      'unchanged',
      'skipped',
      'failed',
      ...Array<SyncOutcome>(1200).fill('unchanged'),
    ];
    const t = outcomes.reduce(tallied, emptyTally(T0));
    expect(summaryLine(t, T0 + 60_000)).toBe('sync: 1,204 scenes in the last 60 s: 1 edited, 1,202 unchanged, 1 skipped, 1 failed attempt');
  });

  it('writes nothing for a minute without jobs, and no failure part without failures', () => {
    expect(summaryLine(emptyTally(T0), T0 + 60_000)).toBeNull();
    expect(summaryLine(tallied(emptyTally(T0), 'edited'), T0 + 1_000)).toBe(
      'sync: 1 scene in the last 1 s: 1 edited, 0 unchanged, 0 skipped',
    );
  });

  it('tells an edit from an unchanged scene by what was sent', () => {
    expect(outcomeOf({ editRequests: 0, posterUploaded: false })).toBe('unchanged');
    expect(outcomeOf({ editRequests: 2, posterUploaded: false })).toBe('edited');
    expect(outcomeOf({ editRequests: 0, posterUploaded: true })).toBe('edited');
    expect(outcomeOf({ skipped: 'not in Plex' })).toBe('skipped');
  });

  it('a fresh edit keeps its info line; bulk jobs log theirs at debug', () => {
    expect(perSceneLevel('hook')).toBe('info');
    expect(['reconcile', 'manual', 'requeue'].map((r) => perSceneLevel(r as 'reconcile'))).toEqual(['debug', 'debug', 'debug']);
  });
});
