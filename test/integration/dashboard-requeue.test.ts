// POST /api/requeue over real HTTP on a real Redis with real failed jobs (added, fetched by a BullMQ
// worker and failed through job.moveToFailed: bench/requeue.ts makeFailedJobs), the clock faked (Date
// only) to place their failure times in an outage window.
import type { Queue } from 'bullmq';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { FailedJobSpec } from '../../bench/requeue.js';
import { DOWN, failAt, specs } from '../helpers/failed-jobs.js';
import { parseConfig, type Config } from '../../src/core/config.js';
import { apiWording, requeueOptionsFrom } from '../../src/dashboard/handlers/requeue.js';
import { startDashboard, type DashboardHandle } from '../../src/dashboard/server.js';
import { RequeueInputError } from '../../src/dlq/select.js';
import type { RequeueSummary } from '../../src/dlq/types.js';
import { createLogger } from '../../src/core/log.js';
import { connectRedis, keys, type RedisConnection } from '../../src/core/redis.js';
import { initialBreaker, serializeBreaker } from '../../src/resilience/breaker.js';
import type { Outage } from '../../src/resilience/outages.js';
import { PRIORITY } from '../../src/model/job.js';
import type { SyncJobData } from '../../src/model/inbox-item.js';
import { createSyncQueue } from '../../src/sync/queue.js';
import { testRedisUrl, uniquePrefix } from '../helpers/redis.js';

const quiet = createLogger({ level: 'silent' });
const PASSWORD = 'requeue-dash-pw-5a1c';
const MIN = 60_000;
const AUTH = 'PlexAuthError: GET /library/sections → HTTP 401 (token rejected)';
const TEMP = 'PlexTemporaryError: PUT /library/metadata/7 → HTTP 503';
const basic = (user = 'admin', password = PASSWORD) => ({
  Authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
});
const SAME = { 'X-Requested-With': 'stash2plex' };

let config: Config;
let conn: RedisConnection;
let queue: Queue<SyncJobData>;
let dash: DashboardHandle;
let T: number;

beforeAll(async () => {
  config = parseConfig(
    {
      REDIS_URL: testRedisUrl(),
      REDIS_PREFIX: uniquePrefix('dashrq'),
      DASHBOARD_PORT: '0',
      DASHBOARD_PASSWORD: PASSWORD,
      LOG_LEVEL: 'silent',
    },
    { plex: false, stash: false },
  );
  conn = connectRedis(config);
  queue = createSyncQueue(conn, config.redis.prefix);
  dash = await startDashboard(config, quiet);
});
beforeEach(async () => {
  T = Date.now();
  await conn.set(keys(config.redis.prefix).outages, JSON.stringify([outage('o-1', T - 30 * MIN, T - 20 * MIN)]));
});
afterEach(async () => {
  vi.useRealTimers();
  await queue.obliterate({ force: true });
  await conn.del(keys(config.redis.prefix).breaker, keys(config.redis.prefix).requeueCounts);
});
afterAll(async () => {
  await dash?.stop();
  await queue?.close();
  conn?.disconnect();
});

function outage(id: string, startedAt: number, endedAt: number | null): Outage {
  return {
    id,
    startedAt,
    detectedAt: startedAt,
    endedAt,
    durationMs: endedAt && endedAt - startedAt,
    trigger: 'failures',
    firstError: null,
    jobsAffected: 0,
    rampEndedAt: null,
  };
}
const fail = (at: number, jobs: FailedJobSpec[]) => failAt(at, jobs, { connection: conn, config, queue });
const failedCount = () => conn.zcard(`${config.redis.prefix}:sync:failed`);
const sorted = (ids: string[]) => [...ids].sort((a, b) => Number(a) - Number(b));

async function post(body: unknown, headers: Record<string, string> = { ...basic(), ...SAME }) {
  const res = await fetch(`${dash.url}/api/requeue`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  // The summary, or (a refused request) an error.
  return { status: res.status, json: JSON.parse(text) as RequeueSummary & { error?: string }, text };
}

describe('POST /api/requeue', () => {
  it('is a dry run by default; the real run that follows requeues exactly the jobs the dry run counted', async () => {
    const down = await fail(T - 25 * MIN, specs(1, 6));
    await fail(T - 24 * MIN, [{ sceneId: '50', failedReason: AUTH }]);
    await fail(T - 23 * MIN, [{ sceneId: '51', failedReason: TEMP }]);
    await fail(T - 60 * MIN, [{ sceneId: '52', failedReason: DOWN(52) }]); // before the outage

    for (const body of [undefined, {}, { dryRun: true }]) {
      const dry = await post(body);
      expect(dry.status, JSON.stringify(body)).toBe(200);
      expect(dry.json).toMatchObject({ dryRun: true, scanned: 9, matched: 6, requeued: 6, breaker: 'CLOSED', refused: null });
      expect(await failedCount()).toBe(9); // nothing moved
    }
    const dry = (await post({})).json;
    const real = await post({ dryRun: false });
    expect(real.status).toBe(200);
    expect(real.json).toMatchObject({ dryRun: false, requeued: dry.requeued, matched: dry.matched, skipped: dry.skipped });
    expect(sorted(real.json.jobIds)).toEqual(sorted(dry.jobIds));
    expect(sorted(real.json.jobIds)).toEqual(sorted(down));
    expect(await failedCount()).toBe(3);
    for (const id of real.json.jobIds) {
      const job = (await queue.getJob(id))!;
      expect(await job.getState()).toBe('prioritized');
      expect(job.priority).toBe(PRIORITY.bulk);
    }
    // The summary carries the contract's keys.
    expect(Object.keys(real.json)).toEqual(expect.arrayContaining(['scanned', 'matched', 'requeued', 'skipped', 'jobIds']));
    expect(Object.keys(real.json.skipped)).toEqual(
      expect.arrayContaining(['alreadyQueued', 'errorType', 'outsideWindow', 'breakerNotClosed']),
    );
    // Idempotent: a second real run requeues nothing.
    expect((await post({ dryRun: false })).json).toMatchObject({ requeued: 0, jobIds: [] });
  });

  it('takes the CLI options: errors (list or comma string), includeOptional, since/until, outage, limit', async () => {
    await fail(T - 25 * MIN, [
      { sceneId: '1', failedReason: DOWN(1) },
      { sceneId: '2', failedReason: TEMP },
      { sceneId: '3', failedReason: 'PlexNotFound: no Plex item for /x.mp4' },
      { sceneId: '4', failedReason: AUTH },
    ]);
    await fail(T - 5 * MIN, specs(10, 2));
    expect((await post({ includeOptional: true })).json).toMatchObject({ dryRun: true, requeued: 3 });
    expect((await post({ errors: ['PlexAuthError'] })).json).toMatchObject({ requeued: 1, errorTypes: ['PlexAuthError'] });
    expect((await post({ errors: 'PlexAuthError, PlexTemporaryError' })).json).toMatchObject({ requeued: 2 });
    expect((await post({ since: '10m' })).json).toMatchObject({ requeued: 2 }); // after the outage
    expect((await post({ since: T - 40 * MIN, until: new Date(T).toISOString() })).json).toMatchObject({ requeued: 3 });
    expect((await post({ outage: 'all' })).json).toMatchObject({ requeued: 1 });
    const limited = await post({ dryRun: false, since: '1h', limit: 2 });
    expect(limited.json).toMatchObject({ dryRun: false, requeued: 2, limitReached: true });
    expect(await failedCount()).toBe(4);
  });

  it('reports a refusal while the breaker is not CLOSED; force overrides', async () => {
    await fail(T - 25 * MIN, specs(1, 3));
    const now = Date.now();
    await conn.hset(keys(config.redis.prefix).breaker, serializeBreaker({ ...initialBreaker(now), state: 'OPEN', openedAt: now }));
    const dry = await post({});
    expect(dry.json).toMatchObject({ dryRun: true, breaker: 'OPEN', requeued: 0, skipped: { breakerNotClosed: 3 } });
    expect(dry.json.refused).toMatch(/breaker is OPEN/);
    expect((await post({ dryRun: false })).json).toMatchObject({ requeued: 0, refused: expect.stringMatching(/OPEN/) as string });
    expect(await failedCount()).toBe(3);
    expect((await post({ dryRun: false, force: true })).json).toMatchObject({ requeued: 3, refused: null });
  });

  it('400 with the message for bad input; nothing moved', async () => {
    await fail(T - 25 * MIN, specs(1, 3));
    const cases: [unknown, RegExp][] = [
      ['{"dryRun": false', /JSON object/],
      ['[1]', /object/i],
      [{ dry_run: false }, /dry_run/], // a misspelt key is refused, not taken for a dry run (or a real one)
      [{ dryRun: 'false' }, /dryRun/],
      [{ dryRun: 0 }, /dryRun/],
      [{ dryRun: false, limit: 0 }, /limit/],
      [{ dryRun: false, limit: 1.5 }, /limit/],
      [{ dryRun: false, errors: ['NoSuchError'] }, /NoSuchError/],
      [{ dryRun: false, outage: 'latest', since: '2h' }, /exclude each other/],
      [{ dryRun: false, since: 'yesterday' }, /not a time/],
      [{ dryRun: false, since: '1h', until: '2h' }, /reversed window/],
      [{ dryRun: false, outage: 'o-404' }, /o-404/],
    ];
    for (const [body, message] of cases) {
      const r = await post(body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(Object.keys(r.json)).toEqual(['error']);
      expect(r.json.error, JSON.stringify(body)).toMatch(message);
    }
    expect(await failedCount()).toBe(3);
  });

  it('401 without (or with wrong) credentials, 403 cross-site; nothing moved', async () => {
    await fail(T - 25 * MIN, specs(1, 3));
    expect((await post({ dryRun: false }, { ...SAME })).status).toBe(401);
    expect((await post({ dryRun: false }, { ...basic('admin', 'wrong'), ...SAME })).status).toBe(401);
    const crossSite: Record<string, string>[] = [
      {},
      { Origin: 'http://evil.example' },
      { 'Sec-Fetch-Site': 'cross-site' },
      { Origin: 'http://evil.example', 'Sec-Fetch-Site': 'cross-site' },
    ];
    for (const headers of crossSite) {
      const r = await post({ dryRun: false }, { ...basic(), ...headers });
      expect(r.status, JSON.stringify(headers)).toBe(403);
      expect(r.json.error).toMatch(/cross-site request refused/);
    }
    expect(await failedCount()).toBe(3);
    // The page's own fetch (same origin) passes.
    expect((await post({}, { ...basic(), 'Sec-Fetch-Site': 'same-origin', Origin: dash.url })).status).toBe(200);
  });

  it('the status page carries the recovery panel under the page nonce', async () => {
    const res = await fetch(`${dash.url}/`, { headers: basic() });
    const html = await res.text();
    const nonce = /script-src 'nonce-([^']+)'/.exec(res.headers.get('content-security-policy')!)![1];
    expect(html).toContain(`<script nonce="${nonce}">`);
    expect(html).toContain('data-testid="requeue-dry"');
    expect(html).toContain('Recover failed outage jobs');
    expect(html).toContain("fetch('./api/requeue'");
    // Outside the refreshed part, so the dialog survives the 2 s refresh.
    expect(html.indexOf('data-testid="requeue-panel"')).toBeGreaterThan(html.indexOf('</main>'));
    const partial = await (await fetch(`${dash.url}/?partial=main`, { headers: basic() })).text();
    expect(partial).not.toContain('requeue-panel');
  });
});

describe('requeueOptionsFrom', () => {
  it('dry run unless dryRun is exactly false', () => {
    expect(requeueOptionsFrom(undefined)).toEqual({ dryRun: true });
    expect(requeueOptionsFrom({})).toEqual({ dryRun: true });
    expect(requeueOptionsFrom({ dryRun: true })).toEqual({ dryRun: true });
    expect(requeueOptionsFrom({ dryRun: false, limit: null })).toEqual({ dryRun: false, limit: null });
    expect(requeueOptionsFrom({ errors: ' PlexServerDown ,PlexNotFound,' })).toEqual({
      dryRun: true,
      errors: ['PlexServerDown', 'PlexNotFound'],
    });
    expect(() => requeueOptionsFrom({ dryRun: null })).toThrow(RequeueInputError);
    expect(() => requeueOptionsFrom({ rate: 1000 })).toThrow(/rate/);
    expect(() => requeueOptionsFrom('x')).toThrow(RequeueInputError);
  });
});

describe('apiWording', () => {
  it("names the API's keys instead of the CLI's flags", () => {
    expect(apiWording('--limit must be a whole number of at least 1, not 0')).toBe('limit must be a whole number of at least 1, not 0');
    expect(apiWording('--outage and --since/--until exclude each other')).toBe('outage and since/until exclude each other');
    expect(apiWording('use --include-optional or --force')).toBe('use includeOptional or force');
    expect(apiWording('time 2024-05-01T12:00:00Z is fine')).toBe('time 2024-05-01T12:00:00Z is fine');
  });
});
