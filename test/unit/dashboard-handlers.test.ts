// The dashboard's handlers called with fakes of their ports: no Redis, no HTTP.
import { describe, expect, it, vi } from 'vitest';
import { explainHandler } from '../../src/dashboard/handlers/explain.js';
import { ExplainInputError, type Explanation } from '../../src/explain/explain.js';
import { ExplainUnavailable } from '../../src/explain/from-config.js';
import { healthCheckHandler } from '../../src/dashboard/handlers/health-check.js';
import { healthzHandler } from '../../src/dashboard/handlers/healthz.js';
import { metricsHandler } from '../../src/dashboard/handlers/metrics.js';
import { pageHandler } from '../../src/dashboard/handlers/page.js';
import { requeueHandler, type RequeuePorts } from '../../src/dashboard/handlers/requeue.js';
import { restoreHandler, resumeHandler, type RestorePorts } from '../../src/dashboard/handlers/restore.js';
import { RestoreUnavailable } from '../../src/restore/from-config.js';
import type { RestoreScope, RestoreSummary } from '../../src/restore/run.js';
import { statusHandler } from '../../src/dashboard/handlers/status.js';
import { oneAtATime } from '../../src/dashboard/one-at-a-time.js';
import { stashTaskExplainHandler } from '../../src/dashboard/handlers/stash-task-explain.js';
import { stashTaskHealthCheckHandler } from '../../src/dashboard/handlers/stash-task-health-check.js';
import { stashTaskReconcileHandler } from '../../src/dashboard/handlers/stash-task-reconcile.js';
import { stashTaskRestoreHandler } from '../../src/dashboard/handlers/stash-task-restore.js';
import type { LibraryReport } from '../../src/sync/library-gaps.js';
import { LibraryReconcileUnavailable } from '../../src/sync/library-reconcile-run.js';
import type { PageContext } from '../../src/dashboard/page.js';
import type { Reply } from '../../src/dashboard/reply.js';
import { dashboardRoutes, type DashboardPorts } from '../../src/dashboard/routes.js';
import type { StatusRead } from '../../src/dashboard/status-reader.js';
import { HttpError, settlesWithin, TimeoutError, withTimeout } from '../../src/dashboard/timeout.js';
import type { RequeueOptions, RequeueSummary } from '../../src/dlq/requeue.js';
import { RequeueInputError } from '../../src/dlq/select.js';
import { shapeStatus, type StatusSources } from '../../src/supervisor/status.js';
import { freshSnapshot } from '../helpers/snapshot-fixture.js';

const NOW = Date.UTC(2024, 4, 1, 12, 0, 0);
const sources: StatusSources = {
  snapshot: freshSnapshot(NOW),
  breakerStored: true,
  queues: { sync: { paused: false, pausedBy: null, waiting: 3, active: 0, delayed: 0, failed: 1, completed: 7, rateLimit: null } },
  leader: 'sup-1',
  skipped: {},
  leaderTtlMs: 10_000,
};
const settings = { ramp: { initialRate: 5, targetRate: 20, durationMs: 300_000 }, plexMaxRate: null, trial: { calls: 10, errorRate: 0.2 } };
const read: StatusRead = {
  status: shapeStatus(sources, { ramp: { ...settings.ramp, errorThreshold: 0.3, errorWindowMs: 60_000, restoreAfterMs: 5000 } }, NOW),
  sources,
  headline: {
    level: 'warn',
    text: '1 job failed.',
    action: { label: 'Recover failed outage jobs (a dry run first)', buttonId: 'requeue-dry' },
  },
  at: NOW,
};
const readStatus = () => Promise.resolve(read);
const never = () => new Promise<never>(() => undefined);
const jsonOf = (r: Reply) => ('json' in r ? r.json : undefined);
const body = (text: string) => ({ query: {}, body: Buffer.from(text), remote: '127.0.0.1' });

describe('GET /api/status', () => {
  it('answers the status document read through its port', async () => {
    expect(await statusHandler({ readStatus })({ query: {} })).toEqual({ status: 200, json: { ...read.status, headline: read.headline } });
  });

  it('passes a read that timed out on (503 from the error handler)', async () => {
    const handler = statusHandler({ readStatus: () => withTimeout(never(), 5, 'Redis did not answer') });
    await expect(handler({ query: {} })).rejects.toMatchObject({ status: 503, message: 'Redis did not answer within 5 ms' });
  });
});

describe('GET /healthz', () => {
  it('is 200 when Redis answers the ping, 503 when it fails or does not answer in time', async () => {
    expect(await healthzHandler({ ping: () => Promise.resolve('PONG'), pingTimeoutMs: 1_000 })({ query: {} })).toEqual({
      status: 200,
      json: { ok: true },
    });
    const down = { status: 503, json: { ok: false, error: 'Redis is not answering' } };
    expect(
      await healthzHandler({ ping: async () => Promise.reject(new Error('ECONNREFUSED')), pingTimeoutMs: 1_000 })({ query: {} }),
    ).toEqual(down);
    expect(await healthzHandler({ ping: never, pingTimeoutMs: 5 })({ query: {} })).toEqual(down);
  });
});

describe('POST /api/health-check', () => {
  it('answers the probe result, its four fields only', async () => {
    const probe = vi.fn(() =>
      Promise.resolve({ ok: false, latencyMs: null, error: 'PlexServerDown: ECONNREFUSED', at: NOW, extra: 'not shown' }),
    );
    const reply = await healthCheckHandler({ probe })({ query: {} });
    expect(probe).toHaveBeenCalledTimes(1);
    expect(reply).toEqual({ status: 200, json: { ok: false, latencyMs: null, error: 'PlexServerDown: ECONNREFUSED', at: NOW } });
  });
});

describe('POST /api/requeue', () => {
  const summary = { dryRun: true, selected: 0 } as unknown as RequeueSummary;
  function fakes(over: Partial<RequeuePorts> = {}) {
    const calls: RequeueOptions[] = [];
    const info = vi.fn();
    const redisAnswers = vi.fn(() => Promise.resolve('PONG'));
    const ports: RequeuePorts = {
      requeue: (o) => {
        calls.push(o);
        return Promise.resolve({ ...summary, dryRun: o.dryRun });
      },
      redisAnswers,
      log: { info },
      ...over,
    };
    return { ports, calls, info, redisAnswers };
  }

  it('is a dry run without a body, and says so in the log', async () => {
    const f = fakes();
    const reply = await requeueHandler(f.ports)({ query: {}, remote: '10.0.0.9' });
    expect(reply).toEqual({ status: 200, json: { ...summary, dryRun: true } });
    expect(f.calls).toEqual([{ dryRun: true }]);
    expect(f.redisAnswers).toHaveBeenCalledTimes(1);
    expect(f.info).toHaveBeenCalledWith({ remote: '10.0.0.9', options: { dryRun: true } }, 'dashboard: requeue requested (dry run)');
  });

  it('moves jobs only with dryRun: false, with the options given', async () => {
    const f = fakes();
    const reply = await requeueHandler(f.ports)(body('{"dryRun": false, "errors": "PlexServerDown, PlexTimeout", "limit": 5}'));
    expect(jsonOf(reply)).toMatchObject({ dryRun: false });
    expect(f.calls).toEqual([{ dryRun: false, errors: ['PlexServerDown', 'PlexTimeout'], limit: 5 }]);
    expect(f.info.mock.calls[0][1]).toBe('dashboard: requeue requested');
  });

  it('answers 400 to bad input without touching Redis or the queue', async () => {
    for (const [text, error] of [
      ['not json', 'the body must be a JSON object of requeue options'],
      ['{"dry_run": false}', /dry_run/],
      ['{"limit": "all"}', /^limit: /],
      ['[1]', /array|object/i],
    ] as const) {
      const f = fakes();
      const reply = await requeueHandler(f.ports)(body(text));
      expect(reply.status, text).toBe(400);
      expect((jsonOf(reply) as { error: string }).error).toMatch(error);
      expect(f.calls).toEqual([]);
      expect(f.redisAnswers).not.toHaveBeenCalled();
    }
  });

  it('answers 400 in the API wording when the selection refuses the options', async () => {
    const f = fakes({ requeue: async () => Promise.reject(new RequeueInputError('--include-optional needs --limit')) });
    expect(await requeueHandler(f.ports)(body('{"dryRun": false}'))).toEqual({
      status: 400,
      json: { error: 'includeOptional needs limit' },
    });
  });

  it('fails with 500 without a sync queue, and with Redis’s error when it does not answer', async () => {
    await expect(requeueHandler(fakes({ requeue: null }).ports)(body('{}'))).rejects.toMatchObject({
      status: 500,
      message: 'no "sync" queue here',
    });
    const down = fakes({ redisAnswers: () => withTimeout(never(), 5, 'Redis did not answer') });
    await expect(requeueHandler(down.ports)(body('{}'))).rejects.toBeInstanceOf(TimeoutError);
    expect(down.calls).toEqual([]);
  });
});

describe('GET /metrics and GET /', () => {
  it('refreshes the status metrics from one read, then answers the registry text', async () => {
    const update = vi.fn();
    const registry = {
      contentType: 'text/plain; version=0.0.4; charset=utf-8',
      metrics: () => Promise.resolve('stash2plex_up 1\n'),
    } as never;
    const reply = await metricsHandler({ readStatus, statusMetrics: { update }, registry })({ query: {} });
    expect(update).toHaveBeenCalledWith(read.status, read.sources);
    expect(reply).toEqual({
      status: 200,
      type: 'text/plain; version=0.0.4; charset=utf-8',
      text: 'stash2plex_up 1\n',
      headers: { 'Cache-Control': 'no-store' },
    });
  });

  it('renders the page (or its main part) with the nonce of its CSP', async () => {
    const pageContext = (at: number, nonce: string): PageContext => ({ now: at, nonce, timeZone: 'UTC', settings });
    const handler = pageHandler({ readStatus, pageContext, nonce: () => 'n0nce' });
    const full = await handler({ query: {} });
    const main = await handler({ query: { partial: 'main' } });
    for (const r of [full, main]) {
      if ('json' in r) throw new Error('expected HTML');
      expect(r.type).toBe('html');
      expect(r.headers?.['Content-Security-Policy']).toContain("script-src 'nonce-n0nce'");
    }
    expect('text' in full && full.text.startsWith('<!doctype html>')).toBe(true);
    expect('text' in main && main.text.length < ('text' in full ? full.text.length : 0)).toBe(true);
  });
});

describe('POST /api/restore and /api/restore/resume', () => {
  const summary: RestoreSummary = {
    restored: 1,
    fields: 3,
    excluded: 1,
    skipped: { neverWritten: 6, plexChanged: 0 },
    dryRun: true,
    examined: 1,
    scenes: [],
    failed: 0,
    durationMs: 5,
  };
  function ports(over: Partial<RestorePorts> = {}) {
    const calls: [string, RestoreScope, boolean][] = [];
    const p: RestorePorts = {
      restore: (scope, dryRun) => (calls.push(['restore', scope, dryRun]), Promise.resolve({ ...summary, dryRun })),
      resume: (scope, dryRun) => (
        calls.push(['resume', scope, dryRun]),
        Promise.resolve({ resumed: 1, queued: dryRun ? 0 : 1, notExcluded: 0, sceneIds: ['12'], dryRun })
      ),
      redisAnswers: () => Promise.resolve('PONG'),
      log: { info: () => undefined },
      ...over,
    };
    return { p, calls };
  }

  it('a dry run unless dryRun: false; scenes by id or all: true, never both, nothing else', async () => {
    const { p, calls } = ports();
    const restore = restoreHandler(p);
    const dry = await restore(body('{"sceneIds":["12"]}'));
    expect(dry.status).toBe(200);
    expect(jsonOf(dry)).toMatchObject({
      dryRun: true,
      text: 'Dry run: 1 scene would be restored (3 fields), 1 scene would be excluded from sync; nothing changed',
    });
    expect((await restore(body('{"all":true,"dryRun":false}'))).status).toBe(200);
    expect(calls).toEqual([
      ['restore', { sceneIds: ['12'] }, true],
      ['restore', { all: true }, false],
    ]);
    for (const bad of [
      '{}',
      '{"all":true,"sceneIds":["1"]}',
      '{"sceneIds":["x"]}',
      '{"sceneIds":[]}',
      '{"all":true,"dry_run":false}',
      'nope',
    ]) {
      const r = await restore(body(bad));
      expect(r.status, bad).toBe(400);
    }
    expect(calls).toHaveLength(2);
  });

  it('one restore at a time; a missing Plex setting is a 503', async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const { p } = ports({ restore: async () => (await held, summary) });
    const restore = restoreHandler(p);
    const first = restore(body('{"all":true}'));
    await expect(restore(body('{"all":true}'))).rejects.toMatchObject({ status: 409 });
    release();
    expect((await first).status).toBe(200);
    const unavailable = restoreHandler(
      ports({ restore: async () => Promise.reject(new RestoreUnavailable('Restore needs PLEX_URL and PLEX_TOKEN')) }).p,
    );
    await expect(unavailable(body('{"all":true}'))).rejects.toMatchObject({
      status: 503,
      message: 'Restore needs PLEX_URL and PLEX_TOKEN',
    });
  });

  it('resume: the same body; its text says what was brought back', async () => {
    const { p, calls } = ports();
    const r = await resumeHandler(p)(body('{"sceneIds":["12"],"dryRun":false}'));
    expect(jsonOf(r)).toMatchObject({
      resumed: 1,
      queued: 1,
      text: '1 scene brought back into sync (scene 12), 1 sync queued (bulk priority)',
    });
    expect(calls).toEqual([['resume', { sceneIds: ['12'] }, false]]);
    expect((await resumeHandler({ ...p, resume: null })(body('{"all":true}')).catch((e: HttpError) => e)) as HttpError).toMatchObject({
      status: 500,
    });
  });
});

describe('GET /api/explain', () => {
  const explanation: Explanation = {
    scene: {
      id: '12',
      title: 'A',
      details: null,
      date: null,
      studio: null,
      performers: [],
      tags: [],
      rating100: null,
      organized: false,
      stashIds: 0,
      files: [],
      updatedAt: '',
    },
    requirements: { require: [], ready: true, checks: [] },
    tried: [],
    candidates: [],
    match: null,
    fields: [],
    excluded: null,
    next: 'retry later',
  };
  const handler = (explainScene: (id: string) => Promise<Explanation>) => explainHandler({ explainScene, log: { info: () => undefined } });

  it('answers the explanation with its text lines', async () => {
    const asked: string[] = [];
    const r = await handler((id) => (asked.push(id), Promise.resolve(explanation)))({ query: { scene: ' 12 ' } });
    expect(r.status).toBe(200);
    expect(asked).toEqual(['12']);
    expect(jsonOf(r)).toMatchObject({
      scene: { id: '12' },
      match: null,
      next: 'retry later',
      lines: expect.arrayContaining(['Next sync: retry later']) as string[],
    });
  });

  it('a scene id that is no number: 400 naming the parameter, Stash not asked', async () => {
    const ask = vi.fn();
    for (const query of [{}, { scene: 'abc' }, { scene: ['1', '2'] }, { scene: '1;2' }]) {
      const r = await handler(ask)({ query });
      expect(r.status).toBe(400);
      expect(jsonOf(r)).toEqual({ error: 'scene: a Stash scene id (a number) is needed, e.g. /api/explain?scene=12' });
    }
    expect(ask).not.toHaveBeenCalled();
  });

  it('a scene Stash does not have: 404; a missing setting: 503', async () => {
    const unknown = handler(() => Promise.reject(new ExplainInputError('Stash has no scene 99', 'unknown scene')))({
      query: { scene: '99' },
    });
    await expect(unknown).rejects.toMatchObject({ status: 404, message: 'Stash has no scene 99' });
    const unset = handler(() => Promise.reject(new ExplainUnavailable('explain needs STASH_URL')))({ query: { scene: '1' } });
    await expect(unset).rejects.toMatchObject({ status: 503, message: 'explain needs STASH_URL' });
  });
});

describe('the route table', () => {
  it('lists every route once, /healthz and performer images open, the hook behind its token, the rest behind the dashboard guards', () => {
    const router = (() => undefined) as unknown as DashboardPorts['stashHook'];
    const routes = dashboardRoutes({ stashHook: router, bullBoard: router } as DashboardPorts);
    expect(routes.map((r) => `${r.method.toUpperCase()} ${r.path} ${r.access}`)).toEqual([
      'GET /healthz open',
      'GET /images/performer/:id open',
      'ALL /api/stash/hook hook-token',
      'TASK /api/stash/task/reconcile-library hook-token',
      'TASK /api/stash/task/restore-dry-run hook-token',
      'TASK /api/stash/task/explain hook-token',
      'TASK /api/stash/task/health-check hook-token',
      'GET /api/status dashboard',
      'POST /api/health-check dashboard',
      'POST /api/requeue dashboard',
      'POST /api/queue/clean dashboard',
      'POST /api/reconcile dashboard',
      'POST /api/restore dashboard',
      'POST /api/restore/resume dashboard',
      'GET /api/explain dashboard',
      'GET /metrics dashboard',
      'GET / dashboard',
      'ALL /queues dashboard',
    ]);
  });
});

describe("the Stash tasks' routes", () => {
  const raw = (text: string) => ({ query: {}, body: Buffer.from(text) });
  const quietLog = { info: () => undefined };
  const report = { dryRun: true } as unknown as LibraryReport;

  it('reconcile: a dry run unless dryRun: false, one at a time, progress handed on, a missing setting ends the stream with 503', async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const calls: boolean[] = [];
    const signals: (AbortSignal | undefined)[] = [];
    const handler = stashTaskReconcileHandler({
      reconcileLibrary: async (dryRun, onProgress, signal) => {
        calls.push(dryRun);
        signals.push(signal);
        onProgress?.({ scanned: 1, total: 2, queued: 0, sentToInbox: 0 });
        await held;
        return report;
      },
      redisAnswers: () => Promise.resolve('PONG'),
      log: quietLog,
    });
    expect(handler(raw('{"dry_run":false}'))).toMatchObject({ reply: { status: 400 } });
    const first = handler(raw(''));
    if (!('run' in first)) throw new Error('expected a run');
    const progress: unknown[] = [];
    const callerGone = new AbortController();
    const running = first.run((p) => progress.push(p), callerGone.signal);
    expect(handler(raw('{"dryRun":false}'))).toMatchObject({ reply: { status: 409 } });
    release();
    expect(await running).toBe(report);
    expect(progress).toEqual([{ scanned: 1, total: 2, queued: 0, sentToInbox: 0 }]);
    // The stream's signal reaches the run (it stops the walk when the Stash task goes).
    expect(signals[0]).toBe(callerGone.signal);
    const real = handler(raw('{"dryRun":false}'));
    if (!('run' in real)) throw new Error('expected a run');
    await real.run(() => undefined);
    expect(calls).toEqual([true, false]);
    const unavailable = stashTaskReconcileHandler({
      reconcileLibrary: async () => Promise.reject(new LibraryReconcileUnavailable('Reconcile Library needs PLEX_URL and PLEX_TOKEN')),
      redisAnswers: () => Promise.resolve('PONG'),
      log: quietLog,
    })(raw('{}'));
    if (!('run' in unavailable)) throw new Error('expected a run');
    await expect(unavailable.run(() => undefined)).rejects.toMatchObject({ status: 503 });
  });

  it('restore: only the dry run of every scene; anything else in the body is refused', async () => {
    const scopes: [RestoreScope, boolean][] = [];
    const handler = stashTaskRestoreHandler({
      restore: (scope, dryRun) => (scopes.push([scope, dryRun]), Promise.resolve({ dryRun } as unknown as RestoreSummary)),
      redisAnswers: () => Promise.resolve('PONG'),
      log: quietLog,
    });
    expect(handler(raw('{"dryRun":false}'))).toMatchObject({ reply: { status: 400 } });
    expect(handler(raw('{"all":true}'))).toMatchObject({ reply: { status: 400 } });
    const ok = handler(raw('{}'));
    if (!('run' in ok)) throw new Error('expected a run');
    await ok.run(() => undefined);
    expect(scopes).toEqual([[{ all: true }, true]]);
  });

  it("explain: the scene's faults end the stream with 400 / 404, the explanation otherwise; health check: the probe's three fields", async () => {
    const handler = stashTaskExplainHandler({
      explainScene: (id) => {
        if (id === '777') return Promise.reject(new ExplainInputError('Stash has no scene 777', 'unknown scene'));
        if (id === 'x') return Promise.reject(new ExplainInputError('a scene id is a number, not "x"', 'bad id'));
        return Promise.resolve({ next: 'nothing' } as unknown as Explanation);
      },
      log: quietLog,
    });
    expect(handler(raw('{}'))).toMatchObject({ reply: { status: 400 } });
    const run = (id: string) => {
      const start = handler(raw(JSON.stringify({ sceneId: id })));
      if (!('run' in start)) throw new Error('expected a run');
      return start.run(() => undefined);
    };
    await expect(run('777')).rejects.toMatchObject({ status: 404, message: 'Stash has no scene 777' });
    await expect(run('x')).rejects.toMatchObject({ status: 400 });
    expect(await run('1')).toEqual({ next: 'nothing' });
    const health = stashTaskHealthCheckHandler({ probe: () => Promise.resolve({ ok: true, latencyMs: 4, error: null, at: NOW }) })(raw(''));
    if (!('run' in health)) throw new Error('expected a run');
    expect(await health.run(() => undefined)).toEqual({ ok: true, latencyMs: 4, error: null });
  });
});

describe('oneAtATime', () => {
  it('refuses a second call with 409 while the first runs, takes calls again once it has settled', async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const run = oneAtATime(async (n: number) => (await held, n), 'busy here');
    const first = run(1);
    await expect(run(2)).rejects.toMatchObject({ status: 409, message: 'busy here' });
    release();
    expect(await first).toBe(1);
    expect(await run(3)).toBe(3);
  });
});

describe('withTimeout', () => {
  it('passes the value or the rejection on, else a 503 TimeoutError naming what did not answer', async () => {
    await expect(withTimeout(Promise.resolve(1), 1_000, 'Redis did not answer')).resolves.toBe(1);
    await expect(withTimeout(Promise.reject(new Error('boom')), 1_000, 'Redis did not answer')).rejects.toThrow('boom');
    const late = withTimeout(never(), 5, 'Redis did not answer');
    await expect(late).rejects.toBeInstanceOf(HttpError);
    await expect(late).rejects.toMatchObject({ status: 503, message: 'Redis did not answer within 5 ms' });
    expect(await settlesWithin(Promise.resolve(), 1_000)).toBe(true);
    expect(await settlesWithin(never(), 5)).toBe(false);
  });
});
