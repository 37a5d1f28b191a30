import { Script } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { renderStatusMain, renderStatusPage, type PageContext } from '../../src/dashboard/page.js';
import { initialBreaker } from '../../src/resilience/breaker.js';
import { shapeStatus, type StatusJson } from '../../src/supervisor/status.js';
import { freshSnapshot } from '../helpers/snapshot-fixture.js';

const NOW = Date.UTC(2024, 4, 1, 12, 0, 0);
const ctx: PageContext = {
  now: NOW,
  nonce: 'abc123',
  timeZone: 'UTC',
  settings: { ramp: { initialRate: 5, targetRate: 20, durationMs: 300_000 }, plexMaxRate: null, trial: { calls: 10, errorRate: 0.2 } },
};
const queue = { paused: false, pausedBy: null, waiting: 12, active: 1, delayed: 2, failed: 3, completed: 1234, rateLimit: null };

function status(over: Partial<StatusJson> = {}): StatusJson {
  const base = shapeStatus(
    {
      snapshot: freshSnapshot(NOW),
      breakerStored: true,
      queues: { sync: queue },
      leader: 'sup-1',
      leaderTtlMs: 10_000,
      skipped: {},
    },
    { ramp: { ...ctx.settings.ramp, errorThreshold: 0.3, errorWindowMs: 60_000, restoreAfterMs: 5000 } },
    NOW,
  );
  return { ...base, ...over };
}
const testid = (html: string, id: string) => html.match(new RegExp(`data-testid="${id}"[^>]*>([^<]*)<`))?.[1];

describe('status page', () => {
  it('renders the badge with its state and how long it has held', () => {
    const open = status({ breaker: { state: 'OPEN', since: NOW - 65_000, consecutiveFailures: 5, openedAt: NOW - 65_000 } });
    const html = renderStatusMain(open, ctx);
    expect(testid(html, 'breaker-badge')).toBe('OPEN');
    expect(html).toContain('badge-OPEN');
    expect(testid(html, 'breaker-held')).toBe('OPEN for 1m 5s');
    expect(testid(renderStatusMain(status(), ctx), 'breaker-badge')).toBe('CLOSED');
  });

  it('shows the HALF_OPEN trial: its progress and the rule that decides it', () => {
    const trial = shapeStatus(
      {
        snapshot: freshSnapshot(NOW, {
          breaker: { ...initialBreaker(NOW - 3_000), state: 'HALF_OPEN', openedAt: NOW - 60_000, trialCalls: 3, trialFailures: 1 },
        }),
        breakerStored: true,
        queues: { sync: queue },
        leader: 'sup-1',
        leaderTtlMs: 10_000,
        skipped: {},
      },
      { ramp: { ...ctx.settings.ramp, errorThreshold: 0.3, errorWindowMs: 60_000, restoreAfterMs: 5000 } },
      NOW,
    );
    expect(trial.breaker.trial).toEqual({ calls: 3, failures: 1 });
    const html = renderStatusMain(trial, ctx);
    expect(testid(html, 'trial-progress')).toBe('3 of 10 trial calls so far, 1 failed.');
    expect(html).toContain('10 trial calls with under 20&#8239;% errors close the breaker; more errors re-open it.');
    expect(status().breaker.trial).toBeUndefined();
  });

  it('names each scene a matching conflict keeps from syncing, and what to do', () => {
    const conflict = { kind: 'duplicate' as const, sceneId: '12', ratingKey: '1001', otherScenes: ['7'], files: [], at: NOW };
    const s = status();
    const html = renderStatusMain({ ...s, matching: { ...s.matching!, conflicts: { count: 3, recent: [conflict] } } }, ctx);
    const lines = [...html.matchAll(/data-testid="match-conflict">([^<]*)</g)].map((m) => m[1]);
    expect(lines[0]).toMatch(/^3 scenes are not synced/);
    expect(lines[1]).toMatch(/^scene 12: not synced: .*scene 7 .*same name and size.*PATH_MAP/);
    expect(renderStatusMain(status(), ctx)).not.toContain('match-conflict');
  });

  it('says the queue is held because the token is rejected', () => {
    const s = status({
      health: { ...status().health, tokenRejected: true },
      queues: { sync: { ...queue, paused: true, pausedBy: 'supervisor', pauseReasons: ['token rejected'] } },
    });
    const html = renderStatusMain(s, ctx);
    expect(testid(html, 'queue-sync-paused')).toBe('paused by supervisor');
    expect(testid(html, 'queue-sync-pause-reasons')).toBe('token rejected');
    expect(testid(html, 'token-rejected')).toContain('held, not failed');
    expect(renderStatusMain(status(), ctx)).not.toContain('pause-reasons');
  });

  it('shows queue counts, probe results, supervisor and metrics for people', () => {
    const s = status({
      health: { ...status().health, lastProbeAt: NOW - 3_000, ok: true, latencyMs: 12, nextProbeAt: NOW + 27_000 },
      outages: {
        current: null,
        recent: [],
        metrics: { count: 2, mttrMs: 65_000, mtbfMs: 7_380_000, availabilityPct: 99.12345, totalDowntimeMs: 130_000, meanDetectionMs: 850 },
      },
    });
    const html = renderStatusMain(s, ctx);
    expect(testid(html, 'queue-sync-waiting')).toBe('12');
    expect(testid(html, 'queue-sync-completed')).toBe('1,234');
    expect(testid(html, 'queue-sync-paused')).toBe('running');
    expect(html).toMatch(/data-testid="probe-last"><span class="ok">answered<\/span> in 12ms/);
    expect(html).toMatch(/data-testid="probe-next"><time[^>]*>in 27s</);
    expect(testid(html, 'metric-availability')).toBe('99.12 %');
    expect(testid(html, 'metric-mttr')).toBe('1m 5s');
    expect(testid(html, 'metric-mtbf')).toBe('2h 3m');
    expect(testid(html, 'metric-downtime')).toBe('2m 10s');
    expect(testid(html, 'metric-detection')).toBe('850ms');
    expect(testid(html, 'supervisor-alive')).toBe('alive');
  });

  it('shows the ramp progress as rate of target with a progress bar', () => {
    const s = status({ recovery: { active: true, startedAt: NOW - 150_000, rate: 12.5, targetRate: 20 } });
    const html = renderStatusMain(s, ctx);
    expect(html).toMatch(/data-testid="ramp-rate">12.5 jobs\/s <span class="muted">of 20 jobs\/s/);
    expect(html).toMatch(/<progress data-testid="ramp-progress" max="100" value="62.5"/);
    expect(testid(html, 'ramp-percent')).toBe('63%');
    expect(html).toContain('full rate in 2m 30s');
  });

  it('lists outages with the ongoing one highlighted, and escapes every stored text', () => {
    const ongoing = {
      id: 'o2',
      startedAt: NOW - 30_000,
      detectedAt: NOW - 29_000,
      endedAt: null,
      durationMs: null,
      trigger: 'failures' as const,
      firstError: '<img src=x onerror=alert(1)>',
      jobsAffected: 0,
      rampEndedAt: null,
    };
    const past = {
      id: 'o1',
      startedAt: NOW - 600_000,
      detectedAt: NOW - 599_500,
      endedAt: NOW - 540_000,
      durationMs: 60_000,
      trigger: 'probe' as const,
      firstError: null,
      jobsAffected: 7,
      rampEndedAt: NOW - 240_000,
    };
    const html = renderStatusMain(
      status({ outages: { current: ongoing, recent: [ongoing, past], metrics: status().outages.metrics } }),
      ctx,
    );
    expect(html).toMatch(/<tr data-outage-id="o2" class="ongoing">/);
    expect(html).toMatch(/<tr data-outage-id="o1"><td class="nowrap"><time[^>]*>2024-05-01 11:50:00<\/time>/);
    expect(html).toContain('data-testid="outage-chart"');
    expect(html).not.toContain('<img');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
  });

  it('is a full page with a nonce-guarded inline script that refreshes the main part', () => {
    const html = renderStatusPage(status(), ctx);
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain('<script nonce="abc123">');
    expect(html).toContain("fetch('./?partial=main'");
    expect(html).toContain('<main id="status-main">');
  });

  it('lists the scenes kept out of sync, newest first, each with a Sync again button; nothing when there are none', () => {
    const excluded = {
      count: 23,
      scenes: [
        { sceneId: '12', at: NOW - 60_000, why: 'restored', ratingKey: '7' },
        { sceneId: '<b>', at: 0, why: 'unreadable record', ratingKey: null },
      ],
    };
    const html = renderStatusMain(status({ excluded }), ctx);
    expect(testid(html, 'excluded-count')).toBe('23');
    expect(html).toContain('<button type="button" data-resume="12" data-testid="resume-12">Sync again</button>');
    expect(html).toContain('data-resume="&lt;b&gt;"');
    expect(html).toContain('… and 21 more');
    expect(renderStatusMain(status(), ctx)).not.toContain('excluded-card');
  });

  it('has a Restore panel (dry run, then confirm) outside the refreshed part, and a script that parses', () => {
    const html = renderStatusPage(status(), ctx);
    const main = html.slice(html.indexOf('<main'), html.indexOf('</main>'));
    for (const id of ['restore-scenes', 'restore-all', 'restore-dry', 'restore-confirm', 'restore-result']) {
      expect(main).not.toContain(`data-testid="${id}"`);
      expect(html).toContain(`data-testid="${id}"`);
    }
    const script = html.slice(html.indexOf('<script nonce="abc123">') + '<script nonce="abc123">'.length, html.indexOf('</script>'));
    expect(() => new Script(script)).not.toThrow(); // compiled as a classic script, not run
    expect(script).toContain("'./api/restore/resume'");
    expect(script).toContain('split(/[\\s,]+/)');
  });

  it("shows each worker's limiters (limit of ceiling, in flight, waiting, latency vs unloaded); says so when no worker runs", () => {
    const concurrency = [
      {
        worker: 'host-1-abc',
        at: NOW,
        limiters: [
          { target: 'plex' as const, adaptive: true, limit: 6, ceiling: 32, inFlight: 5, waiting: 20, latencyMs: 30, baselineMs: 20 },
          { target: 'stash' as const, adaptive: false, limit: 32, ceiling: 32, inFlight: 1, waiting: 0, latencyMs: null, baselineMs: null },
        ],
      },
    ];
    const html = renderStatusMain(status({ concurrency }), ctx);
    expect(html).toContain('data-testid="limiter-table"');
    expect(html).toMatch(
      /data-testid="limiter-plex"><td>host-1-abc<\/td><td>Plex<\/td><td data-testid="limiter-limit">6 <span class="muted">of 32<\/span>/,
    );
    expect(html).toContain('30 ms <span class="muted">vs 20 ms (1.50 ×)</span>');
    expect(html).toContain('32 <span class="muted">of 32 (fixed)</span>');
    expect(html).toContain('the lower of the two wins');
    expect(renderStatusMain(status(), ctx)).toContain('data-testid="limiter-table-empty"');
  });
});
