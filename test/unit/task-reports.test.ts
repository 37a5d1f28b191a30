// The Stash tasks' report text, exactly, from hand-built status documents and outage lists.
import { describe, expect, it } from 'vitest';
import type { RequeueSummary } from '../../src/dlq/requeue.js';
import type { QueueStatus, StatusJson } from '../../src/supervisor/status.js';
import {
  asTaskArgs,
  breakerLine,
  failedLines,
  formatClock,
  formatPct,
  healthReport,
  outageLine,
  outageSummaryReport,
  queueStatusReport,
  reconcileSummary,
  recoverReport,
  recoveryLine,
  type FailedBreakdown,
  type Report,
} from '../../src/stash-plugin/task-reports.js';
import { M, outage, S } from '../helpers/outages.js';

const NOW = Date.UTC(2024, 4, 1, 12, 5, 9); // 2024-05-01 12:05:09 UTC
const clock = { now: NOW, timeZone: 'UTC' };
const H = 60 * M;
const D = 24 * H;

const queue = (q: Partial<QueueStatus> = {}): QueueStatus => ({
  paused: false,
  pauseReasons: [],
  pausedBy: null,
  waiting: 0,
  active: 0,
  delayed: 0,
  failed: 0,
  completed: 0,
  rateLimit: null,
  ...q,
});

function status(patch: { [K in keyof StatusJson]?: Partial<StatusJson[K]> } = {}): StatusJson {
  const base: StatusJson = {
    breaker: { state: 'CLOSED', since: NOW - 2 * H - 3 * M, consecutiveFailures: 0, openedAt: null },
    recovery: { active: false, startedAt: null, rate: null, targetRate: 20 },
    queues: { sync: queue() },
    health: {
      lastProbeAt: NOW - 12 * S,
      ok: true,
      latencyMs: 35,
      nextProbeAt: NOW + 18 * S,
      error: null,
      tokenRejected: false,
      tokenCheckedAt: null,
      stash: { checked: false, checkedAt: null, reachable: null, keyAccepted: null, version: null, lastError: null },
    },
    outages: {
      current: null,
      recent: [],
      metrics: { count: 0, mttrMs: 0, mtbfMs: 0, availabilityPct: 100, totalDowntimeMs: 0, meanDetectionMs: 0 },
    },
    supervisor: { leader: 'host-a:123', alive: true },
    sync: { skipped: {} },
  };
  return {
    breaker: { ...base.breaker, ...patch.breaker },
    recovery: { ...base.recovery, ...patch.recovery },
    queues: (patch.queues as StatusJson['queues'] | undefined) ?? base.queues,
    health: { ...base.health, ...patch.health },
    outages: { ...base.outages, ...patch.outages },
    supervisor: { ...base.supervisor, ...patch.supervisor },
    sync: { ...base.sync, ...patch.sync },
  };
}

/** Three completed outages: 3 days, 1 day and 1 hour ago. */
const A = outage({
  startedAt: NOW - 3 * D,
  detectedAt: NOW - 3 * D + 2 * S,
  endedAt: NOW - 3 * D + 2 * M,
  jobsAffected: 12,
  firstError: 'PlexServerDown: GET /library/metadata/1 → ECONNREFUSED',
});
const B = outage({ startedAt: NOW - D, detectedAt: NOW - D + 500, endedAt: NOW - D + M, trigger: 'probe' });
const C = outage({ startedAt: NOW - H, detectedAt: NOW - H + S, endedAt: NOW - H + 5 * M, jobsAffected: 37 });
const ONGOING = outage({
  startedAt: NOW - 2 * M - 5 * S,
  endedAt: null,
  trigger: 'probe',
  firstError: 'PlexServerDown: GET /identity → connect ECONNREFUSED 10.0.0.5:32400',
});

const text = (r: Report) => r.lines.map((l) => `${l.level === 'warning' ? 'W ' : ''}${l.text}`);

describe('formatting helpers', () => {
  it('shows a clock time today and a date otherwise, in the given zone', () => {
    expect(formatClock(NOW - 2 * M - 5 * S, clock)).toBe('12:03:04');
    expect(formatClock(NOW - 13 * H, clock)).toBe('2024-04-30 23:05:09');
    expect(formatClock(NOW - 13 * H, { now: NOW, timeZone: 'Asia/Tokyo' })).toBe('08:05:09'); // 21:05 → next day there
  });

  it('gives availability two decimals, never rounding up to 100 %', () => {
    expect(formatPct(99.87)).toBe('99.87 %');
    expect(formatPct(99.8749)).toBe('99.87 %');
    expect(formatPct(99.996)).toBe('99.99 %');
    expect(formatPct(100)).toBe('100.00 %');
    expect(formatPct(0)).toBe('0.00 %');
    expect(formatPct(NaN)).toBe('n/a');
  });
});

describe('breakerLine', () => {
  it.each([
    [
      'OPEN',
      { state: 'OPEN', since: NOW - 2 * M - 5 * S, consecutiveFailures: 5, openedAt: NOW - 2 * M - 5 * S },
      'warning',
      'Breaker: OPEN for 2m 5s, since 12:03:04 (Plex outage: the queue is paused)',
    ],
    [
      'HALF_OPEN',
      { state: 'HALF_OPEN', since: NOW - 10 * S, consecutiveFailures: 0, openedAt: NOW - 3 * M },
      'info',
      'Breaker: HALF_OPEN for 10s, since 12:04:59 (trial at 1 job/s until Plex proves healthy)',
    ],
    [
      'CLOSED since yesterday',
      { state: 'CLOSED', since: NOW - D - 2 * H, consecutiveFailures: 0, openedAt: null },
      'info',
      'Breaker: CLOSED for 1d 2h, since 2024-04-30 10:05:09',
    ],
    [
      'CLOSED with a streak',
      { state: 'CLOSED', since: NOW - 5 * M, consecutiveFailures: 2, openedAt: null },
      'info',
      'Breaker: CLOSED for 5m, since 12:00:09 (2 outage-class failures in a row)',
    ],
    [
      'never stored',
      { state: 'CLOSED', since: 0, consecutiveFailures: 0, openedAt: null },
      'info',
      'Breaker: CLOSED (no state recorded yet: has the supervisor run?)',
    ],
  ] as const)('%s', (_, b, level, line) => {
    expect(breakerLine(b, clock)).toEqual({ level, text: line });
  });
});

describe('Health Check', () => {
  const busy = { sync: queue({ waiting: 120, active: 4, delayed: 8, failed: 37, completed: 900 }) };

  it('with a direct probe that answered, and the recorded probe below it', () => {
    const r = healthReport({ status: status({ queues: busy }), probe: { ok: true, latencyMs: 42 } }, clock);
    expect(text(r)).toEqual([
      'Plex is HEALTHY (responded in 42 ms)',
      "Supervisor's last probe 12s ago: OK, responded in 35 ms",
      'Breaker: CLOSED for 2h 3m, since 10:02:09',
      'Queue sync: 132 jobs to do (120 waiting, 4 active, 8 delayed), 37 failed',
      'Supervisor: running (leader host-a:123)',
    ]);
    expect(r.summary).toBe('Health Check: Plex HEALTHY, breaker CLOSED, 132 jobs to do, 37 failed');
  });

  it('warns of each scene a matching conflict keeps from syncing', () => {
    const conflict = { kind: 'stacked' as const, sceneId: '4', ratingKey: '900', otherScenes: ['5'], files: ['/plex/m-pt2.mp4'], at: NOW };
    const s = {
      ...status(),
      matching: {
        pathHint: null,
        pathHints: [],
        libraryProblems: [],
        librariesCheckedAt: null,
        conflicts: { count: 1, recent: [conflict] },
      },
    };
    const lines = text(healthReport({ status: s, probe: { ok: true, latencyMs: 42 } }, clock)).filter((l) => l.startsWith('W '));
    expect(lines).toEqual([
      "W 1 scene is not synced: its Plex item is another scene's, or Plex stacked several scenes' files into one item",
      expect.stringMatching(
        /^W scene 4: not synced: Plex item 900 stacks this scene's file with scene 5's \(\/plex\/m-pt2\.mp4\); split it in Plex/,
      ),
    ]);
  });

  it('with a direct probe that failed, during an outage', () => {
    const r = healthReport(
      {
        status: status({
          breaker: { state: 'OPEN', since: NOW - 2 * M - 5 * S, consecutiveFailures: 5, openedAt: NOW - 2 * M - 5 * S },
          queues: { sync: queue({ waiting: 1, paused: true, pausedBy: 'supervisor' }) },
          health: { lastProbeAt: NOW - 3 * S, ok: false, latencyMs: null, error: 'PlexServerDown: GET /identity → ECONNREFUSED' },
        }),
        probe: { ok: false, error: 'PlexServerDown: GET /identity → connect ECONNREFUSED 10.0.0.5:32400' },
      },
      clock,
    );
    expect(text(r)).toEqual([
      'W Plex is UNREACHABLE: PlexServerDown: GET /identity → connect ECONNREFUSED 10.0.0.5:32400',
      "Supervisor's last probe 3s ago: FAILED: PlexServerDown: GET /identity → ECONNREFUSED",
      'W Breaker: OPEN for 2m 5s, since 12:03:04 (Plex outage: the queue is paused)',
      'Queue sync: 1 job to do (1 waiting, 0 active, 0 delayed), 0 failed; paused by the supervisor until Plex is back',
      'Supervisor: running (leader host-a:123)',
    ]);
    expect(r.summary).toBe('Health Check: Plex UNREACHABLE, breaker OPEN, 1 job to do, 0 failed');
  });

  it("without PLEX_URL: the supervisor's last probe and its age", () => {
    expect(text(healthReport({ status: status(), probe: null }, clock))[0]).toBe(
      'Plex is HEALTHY (last probe 12s ago: responded in 35 ms)',
    );
    const down = healthReport(
      {
        status: status({
          health: { lastProbeAt: NOW - 65 * S, ok: false, latencyMs: null, error: 'PlexTemporaryError: GET /identity → HTTP 503' },
        }),
        probe: null,
      },
      clock,
    );
    expect(text(down)[0]).toBe('W Plex is UNREACHABLE (last probe 1m 5s ago: PlexTemporaryError: GET /identity → HTTP 503)');
    expect(down.summary).toMatch(/^Health Check: Plex UNREACHABLE,/);
  });

  it('with nothing recorded and no supervisor running', () => {
    const r = healthReport(
      {
        status: status({
          breaker: { since: 0 },
          health: { lastProbeAt: null, ok: null, latencyMs: null, nextProbeAt: null },
          supervisor: { leader: null, alive: false },
        }),
        probe: null,
      },
      clock,
    );
    expect(text(r)).toEqual([
      'W Plex health UNKNOWN: the supervisor has recorded no probe, and PLEX_URL is not set for a direct probe',
      'Breaker: CLOSED (no state recorded yet: has the supervisor run?)',
      'Queue sync: 0 jobs to do (0 waiting, 0 active, 0 delayed), 0 failed',
      'W Supervisor: NOT running (no live leader): nobody probes Plex or steers the queue',
    ]);
    expect(r.summary).toBe('Health Check: Plex UNKNOWN, breaker CLOSED, 0 jobs to do, 0 failed');
  });

  it("says loudly when Plex rejects the workers' token, and when an operator paused the queue", () => {
    const r = healthReport(
      {
        status: status({
          health: { tokenRejected: true, tokenCheckedAt: NOW - 3 * M },
          queues: { sync: queue({ paused: true, pausedBy: 'operator', pauseReasons: ['token rejected'] }) },
        }),
        probe: null,
      },
      clock,
    );
    expect(text(r)).toContain(
      "W Plex REJECTS the workers' token (PLEX_TOKEN, checked 3m ago): token rejected, sync paused until it is fixed",
    );
    expect(text(r)).toContain(
      'W Queue sync: 0 jobs to do (0 waiting, 0 active, 0 delayed), 0 failed; PAUSED by an operator (the supervisor never resumes it); the supervisor would hold it too (token rejected)',
    );
    expect(r.summary).toBe('Health Check: Plex HEALTHY, token REJECTED, breaker CLOSED, 0 jobs to do, 0 failed');
  });

  it('names the reasons the supervisor holds the queue: token rejected, and Plex down too', () => {
    const held = (pauseReasons: QueueStatus['pauseReasons']) =>
      text(
        healthReport(
          {
            status: status({
              health: { tokenRejected: true },
              queues: { sync: queue({ waiting: 3, paused: true, pausedBy: 'supervisor', pauseReasons }) },
            }),
            probe: null,
          },
          clock,
        ),
      );
    expect(held(['token rejected'])).toContain(
      'W Queue sync: 3 jobs to do (3 waiting, 0 active, 0 delayed), 0 failed; paused by the supervisor (token rejected) until Plex accepts PLEX_TOKEN again; held jobs do not fail',
    );
    expect(held(['plex down', 'token rejected'])).toContain(
      'W Queue sync: 3 jobs to do (3 waiting, 0 active, 0 delayed), 0 failed; paused by the supervisor (plex down, token rejected) until Plex is back and accepts PLEX_TOKEN again; held jobs do not fail',
    );
  });
});

describe('Queue Status', () => {
  const none: FailedBreakdown = { total: 0, scanned: 0, byType: {}, capped: false };
  const ramp = { durationMs: 5 * M };

  it('an idle system: no failed jobs, no ramp, no outage', () => {
    const r = queueStatusReport({ status: status(), failed: none, ramp }, clock);
    expect(text(r)).toEqual([
      'Queue sync: 0 jobs to do (0 waiting, 0 active, 0 delayed), 0 failed, 0 completed',
      'Failed jobs: none',
      'Skipped as not ready (SYNC_REQUIRE): none',
      'Breaker: CLOSED for 2h 3m, since 10:02:09',
      'Recovery: no ramp running',
      'Outages: none recorded',
    ]);
    expect(r.summary).toBe('Queue Status: 0 jobs to do, 0 failed, breaker CLOSED');
  });

  it('after an outage: the ramp at work, failed jobs by type, one outage', () => {
    const r = queueStatusReport(
      {
        status: status({
          breaker: { since: NOW - 2 * M - 30 * S },
          recovery: { active: true, startedAt: NOW - 2 * M - 30 * S, rate: 12.5, targetRate: 20 },
          queues: { sync: queue({ waiting: 400, active: 1, failed: 37, completed: 5000, rateLimit: { max: 1, duration: 80 } }) },
          outages: { recent: [C] },
          sync: { skipped: { organized: 2, metadata: 7 } },
        }),
        failed: {
          total: 37,
          scanned: 37,
          byType: { PlexNotFound: 5, PlexServerDown: 30, unclassified: 1, AmbiguousMatch: 1 },
          capped: false,
        },
        ramp,
      },
      clock,
    );
    expect(text(r)).toEqual([
      'Queue sync: 401 jobs to do (400 waiting, 1 active, 0 delayed), 37 failed, 5000 completed',
      'Rate limit: 12.5 jobs/s (1 job per 80ms)',
      'Failed jobs by error type:',
      '  PlexServerDown: 30',
      '  PlexNotFound: 5',
      '  AmbiguousMatch: 1',
      '  unclassified: 1',
      'Skipped as not ready (SYNC_REQUIRE): metadata 7, organized 2',
      'Breaker: CLOSED for 2m 30s, since 12:02:39',
      'Recovery: ramp at 12.5 jobs/s of 20 jobs/s, 50 % done (2m 30s left)',
      'Last outage:',
      '  2024-05-01 11:05:09, lasted 5m, trigger failures, 37 jobs affected',
    ]);
    expect(r.summary).toBe('Queue Status: 401 jobs to do, 37 failed (most: PlexServerDown 30), breaker CLOSED, recovery ramp running');
  });

  it('a capped scan says so; several outages show the last 3, the ongoing one first', () => {
    const r = queueStatusReport(
      {
        status: status({
          breaker: { state: 'OPEN', since: NOW - 2 * M - 5 * S, consecutiveFailures: 5, openedAt: NOW - 2 * M - 5 * S },
          queues: { sync: queue({ waiting: 10, failed: 25_000, paused: true, pausedBy: 'supervisor' }) },
          outages: { recent: [A, ONGOING, C, B] },
        }),
        failed: { total: 25_000, scanned: 10_000, byType: { PlexServerDown: 10_000 }, capped: true },
        ramp,
      },
      clock,
    );
    expect(text(r)).toEqual([
      'Queue sync: 10 jobs to do (10 waiting, 0 active, 0 delayed), 25000 failed, 0 completed; paused by the supervisor until Plex is back',
      'Failed jobs by error type (the 10000 most recent of 25000; older ones not counted):',
      '  PlexServerDown: 10000',
      'Skipped as not ready (SYNC_REQUIRE): none',
      'W Breaker: OPEN for 2m 5s, since 12:03:04 (Plex outage: the queue is paused)',
      'Recovery: no ramp running',
      'Last 3 of 4 outages, newest first:',
      '  2024-05-01 12:03:04, ONGOING for 2m 5s, trigger probe, first error PlexServerDown: GET /identity → connect ECONNREFUSED 10.0.0.5:32400',
      '  2024-05-01 11:05:09, lasted 5m, trigger failures, 37 jobs affected',
      '  2024-04-30 12:05:09, lasted 1m, trigger probe, 0 jobs affected',
    ]);
    expect(r.summary).toBe('Queue Status: 10 jobs to do, 25000 failed (most: PlexServerDown 10000), breaker OPEN');
  });

  it('recovery line: trial while HALF_OPEN, a ramp at its end', () => {
    const half = status({ breaker: { state: 'HALF_OPEN', since: NOW - 5 * S } });
    expect(recoveryLine(half, ramp, clock).text).toBe('Recovery: trial (HALF_OPEN), 1 job/s');
    const late = status({ recovery: { active: true, startedAt: NOW - 6 * M, rate: 20, targetRate: 20 } });
    expect(recoveryLine(late, ramp, clock).text).toBe('Recovery: ramp at 20 jobs/s of 20 jobs/s, 100 % done (ending)');
  });

  it('failed lines sort by count, then by name', () => {
    expect(failedLines({ total: 3, scanned: 3, byType: { b: 1, a: 1, c: 1 }, capped: false }).map((l) => l.text)).toEqual([
      'Failed jobs by error type:',
      '  a: 1',
      '  b: 1',
      '  c: 1',
    ]);
  });
});

describe('Outage Summary', () => {
  it('no outage recorded', () => {
    const r = outageSummaryReport([], clock);
    expect(text(r)).toEqual(['No outage recorded: availability 100.00 % as far as stash2plex knows']);
    expect(r.summary).toBe('Outage Summary: no outage recorded');
  });

  it('one outage', () => {
    const r = outageSummaryReport([C], clock);
    // MTBF = now − end = 55m; availability 55 / (55 + 5) = 91.67 %.
    expect(text(r)).toEqual([
      'Outages recorded: 1',
      'Total downtime: 5m',
      'MTTR (mean time to recover): 5m',
      'MTBF (mean time between failures): 55m',
      'Availability: 91.67 %',
      'Mean detection delay: 1s',
      'Last outage:',
      '  2024-05-01 11:05:09, lasted 5m, trigger failures, 37 jobs affected',
    ]);
    expect(r.summary).toBe('Outage Summary: 1 outage, 5m down in total, availability 91.67 %, MTTR 5m');
  });

  it('several outages, given in any order', () => {
    const r = outageSummaryReport([B, C, A], clock);
    // downtime 2m + 1m + 5m = 8m; MTTR 2m 40s; up-times 2d − 2m, 23h − 1m, 55m → MTBF 23h 57m;
    // availability 86 240 000 / 86 400 000 = 99.81 %; detection (2 s + 0.5 s + 1 s) / 3 = 1.167 s.
    expect(text(r)).toEqual([
      'Outages recorded: 3',
      'Total downtime: 8m',
      'MTTR (mean time to recover): 2m 40s',
      'MTBF (mean time between failures): 23h 57m',
      'Availability: 99.81 %',
      'Mean detection delay: 1s',
      'Outages, newest first:',
      '  2024-05-01 11:05:09, lasted 5m, trigger failures, 37 jobs affected',
      '  2024-04-30 12:05:09, lasted 1m, trigger probe, 0 jobs affected',
      '  2024-04-28 12:05:09, lasted 2m, trigger failures, 12 jobs affected, first error PlexServerDown: GET /library/metadata/1 → ECONNREFUSED',
    ]);
    expect(r.summary).toBe('Outage Summary: 3 outages, 8m down in total, availability 99.81 %, MTTR 2m 40s');
  });

  it('an ongoing outage is shown first and loudly, and is not in the metrics', () => {
    const r = outageSummaryReport([C, ONGOING], clock);
    // The up-time after C ends where the ongoing outage starts: 55m − 2m 5s = 52m 55s; 3175 / 3475 s.
    expect(text(r).slice(0, 3)).toEqual([
      'W Plex is DOWN: an outage is ongoing for 2m 5s, since 12:03:04',
      'Outages recorded: 2 (1 completed, 1 ongoing)',
      'Total downtime: 5m',
    ]);
    expect(r.summary).toBe('Outage Summary: 1 outage, 5m down in total, availability 91.37 %, MTTR 5m; one ongoing now');
    const only = outageSummaryReport([ONGOING], clock);
    expect(text(only)).toEqual([
      'W Plex is DOWN: an outage is ongoing for 2m 5s, since 12:03:04',
      'Outages recorded: 1 (0 completed, 1 ongoing)',
      'No completed outage yet: the metrics start when one ends',
      'Last outage:',
      '  2024-05-01 12:03:04, ONGOING for 2m 5s, trigger probe, first error PlexServerDown: GET /identity → connect ECONNREFUSED 10.0.0.5:32400',
    ]);
    expect(only.summary).toBe('Outage Summary: one outage ongoing for 2m 5s, none completed');
  });

  it('lists the last 10 of a long history', () => {
    const many = Array.from({ length: 14 }, (_, i) => outage({ startedAt: NOW - (i + 1) * H, endedAt: NOW - (i + 1) * H + 30 * S }));
    const lines = text(outageSummaryReport(many, clock));
    expect(lines).toContain('Last 10 of 14 outages, newest first:');
    expect(lines.filter((l) => l.startsWith('  '))).toHaveLength(10);
    expect(lines.at(-1)).toBe('  2024-05-01 02:05:09, lasted 30s, trigger failures, 0 jobs affected');
  });

  it('clips a long first error to one short line', () => {
    const line = outageLine(outage({ startedAt: NOW - H, firstError: `PlexServerDown: ${'x'.repeat(400)}\nsecond line` }), clock);
    expect(line).not.toContain('\n');
    expect(line.length).toBeLessThan(200);
    expect(line.endsWith('…')).toBe(true);
  });
});

describe('Recover Outage Jobs', () => {
  const base: RequeueSummary = {
    scanned: 40,
    matched: 37,
    requeued: 35,
    skipped: { alreadyQueued: 2, errorType: 3, outsideWindow: 0, breakerNotClosed: 0, tooManyRequeues: 0 },
    jobIds: ['1', '2'],
    tooManyRequeues: [],
    dryRun: true,
    breaker: 'CLOSED',
    refused: null,
    windows: [{ from: NOW - H, to: NOW - H + 5 * M, outageId: 'c' }],
    errorTypes: ['PlexServerDown'],
    limitReached: false,
    durationMs: 12,
  };

  it('a dry run: the readable summary without blank lines, and what a real run would do', () => {
    const r = recoverReport(base, 'Recover Outage Jobs (dry run)');
    expect(text(r)).toEqual([
      'Requeue — DRY RUN: nothing was moved; figures are what a real run would do',
      '  window    2024-05-01T11:05:09.000Z → 2024-05-01T11:10:09.000Z  (outage c)  ±2 s grace',
      '  errors    PlexServerDown',
      '  breaker   CLOSED',
      '  scanned (failed jobs)            40',
      '  matched (window and error type)  37',
      '  would requeue                    35',
      '  skipped: already queued           2',
      '  skipped: error type               3',
      '  skipped: outside window           0',
      '  skipped: breaker not closed       0',
      '  skipped: requeued 3× already      0',
      'Would requeue jobs: 1, 2',
    ]);
    expect(r.summary).toBe('Recover Outage Jobs (dry run): 35 jobs would be requeued (37 matched of 40 failed); nothing was moved');
  });

  it("a real run, and a refused one (in the task's words, as a warning)", () => {
    expect(recoverReport({ ...base, dryRun: false }, 'Recover Outage Jobs').summary).toBe(
      'Recover Outage Jobs: requeued 35 jobs (37 matched of 40 failed)',
    );
    const refused: RequeueSummary = {
      ...base,
      dryRun: false,
      requeued: 0,
      jobIds: [],
      breaker: 'OPEN',
      skipped: { ...base.skipped, breakerNotClosed: 35 },
      refused: 'the breaker is OPEN, not CLOSED: Plex is not (fully) back; wait for the recovery or use --force',
    };
    const r = recoverReport(refused, 'Recover Outage Jobs');
    expect(text(r).at(-1)).toBe(
      'W Refused: the breaker is OPEN, not CLOSED: Plex is not (fully) back; wait for the recovery, then run the task again.',
    );
    expect(r.summary).toBe('Recover Outage Jobs: refused, the breaker is not CLOSED: nothing was moved (35 jobs wait for the recovery)');
    const dry = recoverReport({ ...refused, dryRun: true }, 'Recover Outage Jobs (dry run)');
    expect(dry.summary).toBe(
      'Recover Outage Jobs (dry run): 35 jobs would be requeued (37 matched of 40 failed), but a real run is refused now: the breaker is OPEN',
    );
  });

  it("speaks of the task's args, not the CLI's options", () => {
    expect(asTaskArgs('--outage and --since/--until exclude each other')).toBe('args.outage and args.since/args.until exclude each other');
  });
});

describe('Reconcile Outage Windows', () => {
  it('summary', () => {
    expect(reconcileSummary({ outages: 1, queued: 1, repeated: 0, replayed: 0 })).toBe(
      'Reconcile Outage Windows: queued 1 scene for Plex from 1 outage window',
    );
    expect(reconcileSummary({ outages: 3, queued: 120, repeated: 4, replayed: 2 })).toBe(
      'Reconcile Outage Windows: queued 120 scenes for Plex from 3 outage windows, 4 repeated in overlapping windows skipped (and 2 spooled hook events)',
    );
  });
});
