// POST /api/stash/hook over real HTTP against a real Redis: the token, the limits, the refusals (each
// recording nothing), and the one entry a relevant edit records, as the workers decode it.
import { request } from 'node:http';
import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig, type Config } from '../../src/core/config.js';
import { startDashboard, type DashboardHandle } from '../../src/dashboard/server.js';
import { createLogger } from '../../src/core/log.js';
import { keys } from '../../src/core/redis.js';
import { HTTP_HOOK_TOKEN_BODY_TYPE, MAX_INPUT_BYTES } from '../../src/hook/input.js';
import { decodeInboxEntry } from '../../src/model/job.js';
import { freePort } from '../helpers/ports.js';
import { bulkSceneUpdateHooks, sceneUpdateHook, scenesUpdateHooks } from '../helpers/stash-scene-hooks.js';
import { testRedis, testRedisUrl, uniquePrefix } from '../helpers/redis.js';

const quiet = createLogger({ level: 'silent' });
const TOKEN = 'hook-token-7d1e2c9a5b';
const PASSWORD = 'dash-pw-for-hook-test';
const COOKIE = 'stash-session-cookie-0f3b';
const auth = (token = TOKEN) => ({ Authorization: `Bearer ${token}` });

const redis = testRedis();
const handles: DashboardHandle[] = [];
let dash: DashboardHandle;
let prefix: string;

function configWith(env: Record<string, string>, p = prefix): Config {
  return parseConfig(
    { REDIS_URL: testRedisUrl(), REDIS_PREFIX: p, DASHBOARD_PORT: '0', DASHBOARD_PASSWORD: PASSWORD, LOG_LEVEL: 'silent', ...env },
    { plex: false, stash: false },
  );
}
async function start(env: Record<string, string>, opts: Parameters<typeof startDashboard>[2] = {}, p = prefix) {
  const h = await startDashboard(configWith(env, p), quiet, opts);
  handles.push(h);
  return h;
}

function pluginInput(hookContext: Record<string, unknown> | undefined) {
  return JSON.stringify({
    server_connection: {
      Scheme: 'http',
      Host: '0.0.0.0',
      Port: 9999,
      SessionCookie: { Name: 'session', Value: COOKIE },
      Dir: '/root/.stash',
      PluginDir: '/root/.stash/plugins/stash2plex',
    },
    args: hookContext ? { hookContext } : {},
  });
}
const edit = (id: number | string, inputFields = ['title', 'id']) =>
  pluginInput({ id, type: 'Scene.Update.Post', input: { id: String(id), title: 'New title' }, inputFields });

interface Answer {
  status: number;
  text: string;
  json: Record<string, unknown>;
  headers: Headers;
}
async function hook(body: string | undefined, headers: Record<string, string> = auth(), h = dash, method = 'POST'): Promise<Answer> {
  const res = await fetch(`${h.url}/api/stash/hook`, { method, headers: { 'Content-Type': 'application/json', ...headers }, body });
  const text = await res.text();
  return { status: res.status, text, json: text ? (JSON.parse(text) as Answer['json']) : {}, headers: res.headers };
}
/** The plugin output form: exactly one JSON object with one key, on one line ending in a newline. */
function expectPluginForm(a: Answer, key: 'output' | 'error') {
  expect(a.headers.get('content-type')).toMatch(/^application\/json/);
  expect(a.text.endsWith('\n')).toBe(true);
  expect(a.text.trimEnd().split('\n')).toHaveLength(1);
  expect(Object.keys(a.json)).toEqual([key]);
  expect(typeof a.json[key]).toBe('string');
  expect(a.text).not.toContain(TOKEN);
  expect(a.text).not.toContain(COOKIE);
}
const inboxLen = (p = prefix) => redis.xlen(keys(p).inbox);

beforeAll(async () => {
  prefix = uniquePrefix('hook');
  dash = await start({ HOOK_TOKEN: TOKEN });
});
beforeEach(async () => {
  await redis.del(keys(prefix).inbox);
});
afterAll(async () => {
  await Promise.all(handles.map((h) => h.stop()));
  redis.disconnect();
});

describe('POST /api/stash/hook', () => {
  it('records a relevant edit: one inbox entry the workers decode, `queued scene N`; no basic auth needed', async () => {
    const before = Date.now();
    const a = await hook(edit(45, ['title', 'tag_ids', 'id']));
    expect(a.status).toBe(200);
    expectPluginForm(a, 'output');
    expect(a.json).toEqual({ output: 'queued scene 45' });
    const entries = await redis.xrange(keys(prefix).inbox, '-', '+');
    expect(entries).toHaveLength(1);
    const decoded = decodeInboxEntry(entries[0][1]);
    expect(decoded).toMatchObject({
      ok: true,
      job: { sceneId: '45', reason: 'hook', event: 'Scene.Update.Post', fields: ['title', 'tag_ids', 'id'] },
    });
    if (!decoded.ok || !decoded.job) throw new Error('not a scene entry');
    expect(decoded.job.enqueuedAt).toBeGreaterThanOrEqual(before);
    expect(decoded.job.enqueuedAt).toBeLessThanOrEqual(Date.now());
    // A Scene.Create.Post as Stash sends it (a scan or sceneCreate: "input": null, no inputFields), the
    // id as a string: recorded too.
    const created = await hook(pluginInput({ id: '46', type: 'Scene.Create.Post', input: null }));
    expect(created.json).toEqual({ output: 'queued scene 46' });
    expect(await inboxLen()).toBe(2);
  });

  it('records a scan\'s Scene.Update.Post ("input": null, no inputFields: a file moved, renamed or changed) as a bulk re-sync', async () => {
    const a = await hook(pluginInput({ id: 47, type: 'Scene.Update.Post', input: null }));
    expect(a.status).toBe(200);
    expectPluginForm(a, 'output');
    expect(a.json).toEqual({ output: 'queued scene 47' });
    const entries = await redis.xrange(keys(prefix).inbox, '-', '+');
    expect(entries.map(([, flat]) => decodeInboxEntry(flat))).toEqual([
      { ok: true, job: { sceneId: '47', reason: 'reconcile', event: 'Scene.Update.Post', enqueuedAt: expect.any(Number) as number } },
    ]);
  });

  it('records every scene of scenesUpdate (input: the array of all the inputs) and bulkSceneUpdate ({ids, mode} relations)', async () => {
    // As Stash sends them: 400 "args.hookContext.input must be an object" for the array, before.
    const hooks = [
      sceneUpdateHook(44, 'New title'),
      ...scenesUpdateHooks(45, 46, { title: 'Parsed', date: '2024-05-06', tag: '7' }),
      ...bulkSceneUpdateHooks([47, 48, 49], { performer: '3', tag: '7' }),
    ];
    for (const hookContext of hooks) {
      const a = await hook(pluginInput(hookContext));
      expect(a.status, a.text).toBe(200);
      expectPluginForm(a, 'output');
      expect(a.json).toEqual({ output: `queued scene ${hookContext.id}` });
    }
    const entries = await redis.xrange(keys(prefix).inbox, '-', '+');
    expect(entries.map(([, flat]) => decodeInboxEntry(flat))).toEqual(
      hooks.map((h) => ({
        ok: true,
        job: {
          sceneId: String(h.id),
          reason: 'hook',
          event: 'Scene.Update.Post',
          fields: h.inputFields,
          enqueuedAt: expect.any(Number) as number,
        },
      })),
    );
  });

  it('records a rename (Performer/Studio/Tag hooks) as a fan-out entry', async () => {
    const a = await hook(
      pluginInput({ id: 12, type: 'Studio.Update.Post', input: { id: '12', name: 'New Studio' }, inputFields: ['name', 'id'] }),
    );
    expect(a.status).toBe(200);
    expectPluginForm(a, 'output');
    expect(a.json).toEqual({ output: 'queued studio 12: every scene with it is re-synced' });
    const entries = await redis.xrange(keys(prefix).inbox, '-', '+');
    expect(entries).toHaveLength(1);
    expect(decodeInboxEntry(entries[0][1])).toMatchObject({
      ok: true,
      fanout: { relation: 'studio', id: '12', event: 'Studio.Update.Post' },
    });
  });

  it('a skip answers 200 `skipped: …` and records nothing (irrelevant fields, other hooks)', async () => {
    const cases = [
      edit(45, ['organized', 'play_count', 'id']),
      pluginInput({ id: 45, type: 'Gallery.Update.Post', input: { title: 'x' }, inputFields: ['title'] }),
    ];
    for (const body of cases) {
      const a = await hook(body);
      expect(a.status).toBe(200);
      expectPluginForm(a, 'output');
      expect(a.json.output).toMatch(/^skipped: /);
    }
    expect(await inboxLen()).toBe(0);
  });

  it('401 for a missing or wrong token (dashboard basic auth is no substitute); nothing recorded', async () => {
    const basic = { Authorization: `Basic ${Buffer.from(`admin:${PASSWORD}`).toString('base64')}` };
    for (const headers of [{}, auth('wrong'), auth(`${TOKEN}x`), auth(TOKEN.slice(0, -1)), { Authorization: TOKEN }, basic]) {
      const a = await hook(edit(45), headers);
      expect(a.status, JSON.stringify(headers)).toBe(401);
      expectPluginForm(a, 'error');
      expect(a.headers.get('www-authenticate')).toMatch(/^Bearer/);
    }
    expect(await inboxLen()).toBe(0);
  });

  it('400 for malformed JSON and for input that is no hook input; nothing recorded', async () => {
    const cases: [string | undefined, RegExp][] = [
      ['{"server_connection": {', /not JSON/],
      [`{"server_connection":{"SessionCookie":{"Name":"session","Value":"${COOKIE}"}}, oops}`, /not JSON/],
      ['', /empty/],
      [undefined, /empty/],
      ['[1,2]', /invalid plugin input/],
      [pluginInput(undefined), /hookContext is missing/],
      [pluginInput({ id: 'abc', type: 'Scene.Update.Post', inputFields: ['title'] }), /numeric scene id/],
      [pluginInput({ id: -3, type: 'Scene.Update.Post', inputFields: ['title'] }), /numeric scene id/],
      [pluginInput({ id: 4, type: 'Scene.Update.Post', inputFields: 'title' }), /inputFields/],
    ];
    for (const [body, message] of cases) {
      const a = await hook(body);
      expect(a.status, String(body)).toBe(400);
      expectPluginForm(a, 'error');
      expect(a.json.error).toMatch(message);
    }
    expect(await inboxLen()).toBe(0);
  });

  it('413 for a body over 1 MiB, in the plugin form; 1 MiB itself is read', async () => {
    const filler = (n: number) => {
      const base = edit(45);
      // Pad inside the JSON (an extra key) to exactly n bytes.
      const pad = n - Buffer.byteLength(base) - ',"pad":""'.length;
      return `${base.slice(0, -1)},"pad":"${'x'.repeat(pad)}"}`;
    };
    const over = await hook(filler(MAX_INPUT_BYTES + 1));
    expect(over.status).toBe(413);
    expectPluginForm(over, 'error');
    expect(over.json.error).toMatch(/larger than 1048576 bytes/);
    const huge = await hook(' '.repeat(8 * MAX_INPUT_BYTES));
    expect(huge.status).toBe(413);
    expect(await inboxLen()).toBe(0);
    const exact = await hook(filler(MAX_INPUT_BYTES));
    expect(exact.status).toBe(200);
    expect(exact.json).toEqual({ output: 'queued scene 45' });
    // Without Content-Length (chunked), the limit holds as well.
    const chunked = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const url = new URL(`${dash.url}/api/stash/hook`);
      const req = request(
        { host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { ...auth(), 'Transfer-Encoding': 'chunked' } },
        (res) => {
          let body = '';
          res.on('data', (d) => (body += d));
          res.on('end', () => resolve({ status: res.statusCode!, body }));
        },
      );
      req.on('error', reject);
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      let sent = 0;
      const pump = () => {
        while (sent < 2 * MAX_INPUT_BYTES) {
          sent += chunk.length;
          if (!req.write(chunk)) return void req.once('drain', pump);
        }
        req.end();
      };
      pump();
    }).catch((err: Error) => ({ status: -1, body: err.message }));
    // The server answers 413 and closes: the client sees the answer, or (still writing) a reset.
    expect([413, -1]).toContain(chunked.status);
    if (chunked.status === 413) expect((JSON.parse(chunked.body) as { error: string }).error).toMatch(/larger than/);
    expect(await inboxLen()).toBe(1);
  });

  it('403 for browser cross-site posts even with the right token; wget/curl send no such header', async () => {
    const browserPosts: Record<string, string>[] = [
      { 'Sec-Fetch-Site': 'cross-site' },
      { 'Sec-Fetch-Site': 'same-site' },
      { Origin: 'http://evil.example' },
      { Origin: 'null' },
    ];
    for (const headers of browserPosts) {
      const a = await hook(edit(45), { ...auth(), ...headers });
      expect(a.status, JSON.stringify(headers)).toBe(403);
      expectPluginForm(a, 'error');
      expect(a.json.error).toMatch(/cross-site request refused/);
    }
    expect(await inboxLen()).toBe(0);
    // Same-origin browser requests (the dashboard's own page) are not refused by this check.
    const same = await hook(edit(45), { ...auth(), Origin: dash.url, 'Sec-Fetch-Site': 'same-origin' });
    expect(same.status).toBe(200);
  });

  it('405 for other methods', async () => {
    const a = await hook(undefined, auth(), dash, 'GET');
    expect(a.status).toBe(405);
    expect(a.headers.get('allow')).toBe('POST');
    expectPluginForm(a, 'error');
  });

  it('404 when HOOK_TOKEN is unset, whatever is sent; nothing recorded', async () => {
    const p = uniquePrefix('hook-off');
    const off = await start({}, {}, p);
    for (const headers of [auth(), {}, auth('')]) {
      const a = await hook(edit(45), headers, off);
      expect(a.status).toBe(404);
      expectPluginForm(a, 'error');
    }
    expect(await inboxLen(p)).toBe(0);
    // The rest of the dashboard is unchanged (still behind basic auth).
    expect((await fetch(`${off.url}/api/status`)).status).toBe(401);
  });

  it('429 past the rate per client, with Retry-After; refused requests record nothing; the rate comes back', async () => {
    const p = uniquePrefix('hook-rate');
    // The limiter's clock stands still while the 25 requests run (however slow a busy machine makes them).
    let clock = Date.now();
    const limited = await start({ HOOK_TOKEN: TOKEN }, { hookRateLimit: { ratePerSec: 5, burst: 10 }, now: () => clock }, p);
    const answers: Answer[] = [];
    for (let i = 0; i < 25; i++) answers.push(await hook(edit(100 + i), auth(), limited));
    const ok = answers.filter((a) => a.status === 200).length;
    const refused = answers.filter((a) => a.status === 429);
    // The burst of 10, nothing refilled.
    expect(ok).toBe(10);
    expect(refused.length).toBe(15);
    for (const a of refused) {
      expectPluginForm(a, 'error');
      expect(a.json.error).toMatch(/rate limit/);
      expect(Number(a.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    }
    expect(await inboxLen(p)).toBe(ok);
    // Wrong tokens count against the limit too (no free guessing).
    expect((await hook(edit(1), auth('guess'), limited)).status).toBe(429);
    clock += 450; // 5/s: two requests' worth
    expect((await hook(edit(200), auth(), limited)).status).toBe(200);
    expect((await hook(edit(201), auth(), limited)).status).toBe(200);
    expect((await hook(edit(202), auth(), limited)).status).toBe(429);
  });

  it('503 in the plugin form when Redis is unreachable and the spool unusable (fast, nothing hangs); a skip still answers 200', async () => {
    const port = await freePort(); // nothing listens there
    // HOOK_SPOOL_DIR under a file: no spool (test/integration/http-hook-spool.test.ts covers spooling).
    const h = await startDashboard(
      parseConfig(
        {
          REDIS_URL: `redis://127.0.0.1:${port}`,
          DASHBOARD_PORT: '0',
          HOOK_TOKEN: TOKEN,
          HOOK_SPOOL_DIR: '/dev/null/spool',
          LOG_LEVEL: 'silent',
        },
        { plex: false, stash: false },
      ),
      quiet,
    );
    handles.push(h);
    const t = performance.now();
    const a = await hook(edit(45), auth(), h);
    expect(performance.now() - t).toBeLessThan(5_000); // waits 1 s for a reconnect, then answers (generous: busy machines)
    expect(a.status).toBe(503);
    expectPluginForm(a, 'error');
    expect(a.json.error).toMatch(/Redis/);
    const skip = await hook(edit(45, ['organized']), auth(), h);
    expect(skip.status).toBe(200);
    expect(skip.json.output).toMatch(/^skipped: /);
  });
});

describe('POST /api/stash/hook, the token-in-body form (wget: HOOK_TOKEN, a newline, the plugin input)', () => {
  const bodyForm = { 'Content-Type': HTTP_HOOK_TOKEN_BODY_TYPE };
  const tokenFirst = (input: string, line = TOKEN) => `${line}\n${input}`;
  const WRONG_LINE = 'first-line-not-the-token-Zq9';

  /** The status of a request whose body never comes (headers only, Content-Length promising 1000 bytes). */
  function statusWithoutBody(h: DashboardHandle, headers: Record<string, string>, method = 'POST'): Promise<number> {
    return new Promise((resolve, reject) => {
      const url = new URL(`${h.url}/api/stash/hook`);
      const req = request(
        { host: url.hostname, port: url.port, path: url.pathname, method, headers: { ...headers, 'Content-Length': '1000' } },
        (res) => {
          res.resume();
          resolve(res.statusCode!);
          req.destroy();
        },
      );
      req.on('error', reject);
      req.flushHeaders();
    });
  }

  it('records a relevant edit with no Authorization header; skips what is irrelevant', async () => {
    const a = await hook(tokenFirst(edit(45)), bodyForm);
    expect(a.status, a.text).toBe(200);
    expectPluginForm(a, 'output');
    expect(a.json).toEqual({ output: 'queued scene 45' });
    const entries = await redis.xrange(keys(prefix).inbox, '-', '+');
    expect(entries.map(([, flat]) => decodeInboxEntry(flat))).toMatchObject([{ ok: true, job: { sceneId: '45', reason: 'hook' } }]);
    const skip = await hook(tokenFirst(edit(45, ['organized', 'id'])), { 'Content-Type': `${HTTP_HOOK_TOKEN_BODY_TYPE}; charset=utf-8` });
    expect(skip.json.output).toMatch(/^skipped: /);
    expect(await inboxLen()).toBe(1);
  });

  it("401 in the bearer form's words for a wrong, empty, missing or overlong token line; never echoed; nothing recorded", async () => {
    const bearer401 = await hook(edit(45), auth('wrong'));
    const bodies = [
      tokenFirst(edit(45), WRONG_LINE),
      tokenFirst(edit(45), `${TOKEN}x`),
      tokenFirst(edit(45), TOKEN.slice(0, -1)),
      tokenFirst(edit(45), `Bearer ${TOKEN}`),
      tokenFirst(edit(45), ''), // empty token
      edit(45), // no token line: the input alone (no newline)
      TOKEN, // the token without its newline
      '',
      tokenFirst(edit(45), 'x'.repeat(64 * 1024)), // a first line far past any token
    ];
    for (const body of bodies) {
      const a = await hook(body, bodyForm);
      expect(a.status, body.slice(0, 60)).toBe(401);
      expectPluginForm(a, 'error');
      expect(a.text).toBe(bearer401.text);
      expect(a.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect(a.text).not.toContain(WRONG_LINE);
    }
    // The content type chooses the form: a right bearer header does not stand in for the token line.
    const both = await hook(edit(45), { ...auth(), ...bodyForm });
    expect(both.status).toBe(401);
    expect(await inboxLen()).toBe(0);
  });

  it('400 for input that is not hook input after the right token, the token in no answer', async () => {
    const cases: [string, RegExp][] = [
      [tokenFirst('{"server_connection": {'), /not JSON \(syntax error at position \d+\)/],
      [tokenFirst(''), /empty/],
      [tokenFirst(pluginInput(undefined)), /hookContext is missing/],
    ];
    for (const [body, message] of cases) {
      const a = await hook(body, bodyForm);
      expect(a.status, body).toBe(400);
      expectPluginForm(a, 'error');
      expect(a.json.error).toMatch(message);
    }
    expect(await inboxLen()).toBe(0);
  });

  it('413 for an input over 1 MiB after the right token (1 MiB itself is read); 415 for a compressed body', async () => {
    const input = (n: number) => {
      const base = edit(45);
      return `${base.slice(0, -1)},"pad":"${'x'.repeat(n - Buffer.byteLength(base) - ',"pad":""'.length)}"}`;
    };
    const over = await hook(tokenFirst(input(MAX_INPUT_BYTES + 1)), bodyForm);
    expect(over.status).toBe(413);
    expectPluginForm(over, 'error');
    expect(over.json.error).toMatch(/larger than 1048576 bytes/);
    expect((await hook(tokenFirst(' '.repeat(8 * MAX_INPUT_BYTES)), bodyForm)).status).toBe(413); // refused unread (Content-Length)
    const exact = await hook(tokenFirst(input(MAX_INPUT_BYTES)), bodyForm);
    expect(exact.status, exact.text).toBe(200);
    const gzip = await hook(tokenFirst(edit(46)), { ...bodyForm, 'Content-Encoding': 'gzip' });
    expect(gzip.status).toBe(415);
    expectPluginForm(gzip, 'error');
    expect(await inboxLen()).toBe(1);
  });

  it('404 (no HOOK_TOKEN), 405, 429 and 403 come before any of the body is read', async () => {
    const p = uniquePrefix('hook-body-gate');
    const off = await start({}, {}, p);
    expect(await statusWithoutBody(off, bodyForm)).toBe(404);
    expect(await statusWithoutBody(dash, bodyForm, 'PUT')).toBe(405);
    expect(await statusWithoutBody(dash, { ...bodyForm, 'Sec-Fetch-Site': 'cross-site' })).toBe(403);
    const clock = Date.now();
    const limited = await start({ HOOK_TOKEN: TOKEN }, { hookRateLimit: { ratePerSec: 1, burst: 1 }, now: () => clock }, p);
    expect((await hook(tokenFirst(edit(1), WRONG_LINE), bodyForm, limited)).status).toBe(401); // the burst, spent guessing
    expect(await statusWithoutBody(limited, bodyForm)).toBe(429);
    expect(await inboxLen(p)).toBe(0);
  });

  it('logs no token line, right or wrong', async () => {
    const lines: string[] = [];
    const log = pino({ level: 'debug' }, { write: (l: string) => void lines.push(l) });
    const p = uniquePrefix('hook-body-log');
    const h = await startDashboard(configWith({ HOOK_TOKEN: TOKEN }, p), log);
    handles.push(h);
    expect((await hook(tokenFirst(edit(45)), bodyForm, h)).status).toBe(200);
    expect((await hook(tokenFirst(edit(45), WRONG_LINE), bodyForm, h)).status).toBe(401);
    expect((await hook(tokenFirst('{"server_connection": {'), bodyForm, h)).status).toBe(400);
    const text = lines.join('');
    expect(text).toMatch(/missing or wrong bearer token/);
    expect(text).toMatch(/"via":"body"/);
    expect(text).not.toContain(WRONG_LINE);
    expect(text).not.toContain(TOKEN);
  });
});
