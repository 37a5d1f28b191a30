// The status page's headline (src/dashboard/headline.ts): the worst current problem and what recovers
// it, over each case; and availability over the whole time observed (observedMetrics).
import { describe, expect, it } from 'vitest';
import { headline, mainFailure, type HeadlineInput } from '../../src/dashboard/headline.js';
import { closeOutage, observedMetrics, openOutage, outageMetrics } from '../../src/resilience/outages.js';
import type { StatusJson } from '../../src/supervisor/status.js';

const NOW = Date.UTC(2026, 0, 10, 12, 0, 0);
const S = 1_000;
const M = 60 * S;

type Patch = { [K in keyof StatusJson]?: Partial<StatusJson[K]> };
function status(p: Patch = {}): StatusJson {
  const base: StatusJson = {
    breaker: { state: 'CLOSED', since: NOW - 3_600_000, consecutiveFailures: 0, openedAt: null },
    recovery: { active: false, startedAt: null, rate: null, targetRate: 20 },
    queues: {
      sync: {
        paused: false,
        pausedBy: null,
        waiting: 0,
        active: 0,
        delayed: 0,
        failed: 0,
        completed: 40,
        rateLimit: null,
        pauseReasons: [],
      },
    },
    health: {
      lastProbeAt: NOW - 5 * S,
      ok: true,
      latencyMs: 12,
      nextProbeAt: NOW + 25 * S,
      error: null,
      tokenRejected: false,
      tokenCheckedAt: NOW - M,
      stash: { checked: true, checkedAt: NOW - 10 * S, reachable: true, keyAccepted: true, version: 'v0.28.1', lastError: null },
    },
    outages: { current: null, recent: [], metrics: outageMetrics([], NOW) },
    supervisor: { leader: 'sup-1', alive: true },
    sync: { skipped: {} },
    reconcile: { last: null, lastFailure: null },
  };
  const out = { ...base } as Record<string, unknown>;
  for (const [k, v] of Object.entries(p)) out[k] = { ...(base as unknown as Record<string, object>)[k], ...v };
  return out as unknown as StatusJson;
}
const input = (s: StatusJson, failedReasons: string[] = []): HeadlineInput => ({ status: s, failedReasons, failedKeepDays: 30, now: NOW });
const queue = (q: Partial<StatusJson['queues'][string]>) => ({ sync: { ...status().queues.sync, ...q } });
const stash = (x: Partial<StatusJson['health']['stash']>) => ({ ...status().health.stash, ...x });

describe('headline', () => {
  it('all well: "Plex is up" because the last probe answered, and Stash answers', () => {
    expect(headline(input(status()))).toEqual({
      level: 'ok',
      text: 'Plex is up (answered 5s ago) and Stash answers; nothing waiting.',
      action: null,
    });
  });

  it('never "Plex is up" without an answered probe: no probe yet, or a failed one before the breaker opens', () => {
    expect(headline(input(status({ health: { lastProbeAt: null, ok: null } }))).text).toBe('Waiting for the first probe of Plex.');
    const h = headline(
      input(status({ health: { ok: false, error: 'PlexServerDown: GET /identity → ECONNREFUSED' }, queues: queue({ waiting: 3 }) })),
    );
    expect(h.level).toBe('error');
    expect(h.text).toBe(
      'Plex is unreachable (PlexServerDown: GET /identity → ECONNREFUSED): the breaker opens if it goes on; 3 jobs wait, none fails.',
    );
    expect(h.action).toMatchObject({ setting: 'PLEX_URL', buttonId: 'probe-now' });
    expect(h.text).not.toMatch(/Plex is up/);
  });

  it('Plex down with the breaker open: sync is paused', () => {
    const h = headline(input(status({ breaker: { state: 'OPEN' }, health: { ok: false, error: 'x' } })));
    expect(h.text).toMatch(/^Plex is unreachable \(x\): sync is paused; nothing is waiting\.$/);
  });

  it('a rejected token or key comes first, naming the setting', () => {
    const token = headline(input(status({ health: { tokenRejected: true, ok: false }, queues: queue({ waiting: 2, paused: true }) })));
    expect(token).toMatchObject({ level: 'error', text: 'Plex rejected the token (PLEX_TOKEN): sync is paused; 2 jobs wait, none fails.' });
    expect(token.action?.setting).toBe('PLEX_TOKEN');
    const key = headline(
      input(status({ health: { stash: stash({ keyAccepted: false, lastError: 'Stash … rejected the API key (STASH_API_KEY)' }) } })),
    );
    expect(key).toMatchObject({ level: 'error', text: 'Stash rejected the API key (STASH_API_KEY): sync is paused; nothing is waiting.' });
    expect(key.action?.setting).toBe('STASH_API_KEY');
  });

  it('Stash down: an outage of Stash, jobs wait', () => {
    const h = headline(
      input(
        status({
          health: {
            stash: stash({
              reachable: false,
              keyAccepted: null,
              lastError: 'Stash unreachable at http://s:9999 (STASH_URL): connection refused',
            }),
          },
          queues: queue({ waiting: 4 }),
        }),
      ),
    );
    expect(h.level).toBe('error');
    expect(h.text).toBe(
      'Stash is unreachable (Stash unreachable at http://s:9999 (STASH_URL): connection refused): sync is paused; 4 jobs wait, none fails.',
    );
    expect(h.action?.setting).toBe('STASH_URL');
  });

  it('no supervisor: said, with the command that starts one', () => {
    const h = headline(input(status({ supervisor: { alive: false, leader: null } })));
    expect(h).toMatchObject({ level: 'warn', action: { command: 'npm run supervisor' } });
  });

  it('failed jobs: how many, the main reason, and the button or the command that recovers them', () => {
    const down = ['PlexServerDown: GET /library → ECONNREFUSED', 'PlexServerDown: GET /library → ECONNREFUSED', 'PlexNotFound: x'];
    const h = headline(input(status({ queues: queue({ failed: 37 }) }), down));
    expect(h.text).toBe('37 jobs failed, mostly PlexServerDown (2 of the newest 3: PlexServerDown: GET /library → ECONNREFUSED).');
    expect(h.action).toMatchObject({ buttonId: 'requeue-dry' });
    const auth = headline(input(status({ queues: queue({ failed: 5 }) }), ['StashAuthError: POST /graphql → HTTP 401 (API key rejected)']));
    expect(auth.action?.command).toBe('npm run requeue -- --since 30d --errors StashAuthError');
    expect(mainFailure([])).toBeNull();
  });

  it('after an outage: draining is not "nothing was lost"; drained is', () => {
    const o = closeOutage(
      openOutage({ id: 'o', startedAt: NOW - 10 * M, detectedAt: NOW - 10 * M + 5 * S, trigger: 'probe', firstError: 'x' }),
      NOW - 2 * M,
      12,
    );
    const outages = { current: null, recent: [o], metrics: outageMetrics([o], NOW) };
    const draining = headline(input(status({ outages, recovery: { active: true }, queues: queue({ waiting: 9 }) })));
    expect(draining).toEqual({
      level: 'info',
      text: 'Plex is back after the outage of 8m: 9 jobs of the backlog still to sync.',
      action: null,
    });
    const drained = headline(input(status({ outages })));
    expect(drained.level).toBe('ok');
    expect(drained.text).toBe(
      'Recovered 2m ago from the outage of 8m: the backlog has drained, nothing was lost (12 jobs held, all synced).',
    );
    // With failed jobs left, nothing says nothing was lost.
    expect(headline(input(status({ outages, queues: queue({ failed: 1 }) }), ['PlexServerDown: x'])).text).not.toMatch(/nothing was lost/);
  });

  it('a Reconcile Library run that failed after the last report is said, not the old report', () => {
    const last = { finishedAt: NOW - 3_600_000 } as NonNullable<NonNullable<StatusJson['reconcile']>['last']>;
    const lastFailure = { failedAt: NOW - M, dryRun: false, error: 'POST /graphql → ECONNREFUSED' };
    const h = headline(input(status({ reconcile: { last, lastFailure } })));
    expect(h).toMatchObject({ level: 'warn', text: 'The last Reconcile Library run failed 1m ago: POST /graphql → ECONNREFUSED' });
    const older = { ...lastFailure, failedAt: NOW - 2 * 3_600_000 };
    expect(headline(input(status({ reconcile: { last, lastFailure: older } }))).level).toBe('ok');
  });
});

describe('availability over the whole time observed', () => {
  it('one short outage after a long up-time is a high availability, not the 18 % of the up-time since it alone', () => {
    const start = NOW - 60 * M;
    const o = closeOutage(
      openOutage({ id: 'a', startedAt: NOW - 10 * M, detectedAt: NOW - 10 * M, trigger: 'probe', firstError: null }),
      NOW - 8 * M,
      0,
    );
    const since = observedMetrics([o], NOW - 7 * M, start);
    expect(since.availabilityPct).toBeCloseTo(((53 - 2) / 53) * 100, 6);
    expect(since.mtbfMs).toBe(51 * M);
    // Without the first start: the old measure, between outages only (1 min up against 2 min down).
    expect(outageMetrics([o], NOW - 7 * M).availabilityPct).toBeCloseTo(33.33, 1);
  });

  it('counts an ongoing outage as down time, and nothing observed as 100 %', () => {
    const ongoing = openOutage({ id: 'b', startedAt: NOW - 5 * M, detectedAt: NOW - 5 * M, trigger: 'probe', firstError: null });
    expect(observedMetrics([ongoing], NOW, NOW - 20 * M).availabilityPct).toBeCloseTo(75, 6);
    expect(observedMetrics([], NOW, NOW).availabilityPct).toBe(100);
    expect(observedMetrics([], NOW, NOW - M)).toMatchObject({ availabilityPct: 100, mtbfMs: 0, count: 0 });
  });
});
