// The dashboard's host names. DNS rebinding (issue 11, point 2): a page on a.example that rebinds its
// name to 127.0.0.1 sends `Host: a.example`; the dashboard must refuse it, whatever Origin /
// Sec-Fetch-Site it claims. And a DASHBOARD_HOST that does not resolve is a configuration error.
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../src/core/config.js';
import { startDashboard, type DashboardHandle } from '../../src/dashboard/server.js';
import { createLogger } from '../../src/core/log.js';
import { connectRedis } from '../../src/core/redis.js';
import { createSyncQueue } from '../../src/sync/queue.js';
import { runNode } from '../helpers/proc.js';
import { testRedisUrl, uniquePrefix } from '../helpers/redis.js';

const quiet = createLogger({ level: 'silent' });
const PASSWORD = 'rebind-pw-5521';
const prefix = uniquePrefix('rebind');
const env = {
  REDIS_URL: testRedisUrl(),
  REDIS_PREFIX: prefix,
  DASHBOARD_PORT: '0',
  PLEX_URL: 'http://127.0.0.1:9',
  PLEX_TOKEN: 'rebind-plex-token',
  STASH_URL: 'http://127.0.0.1:9',
};
const redis = connectRedis(parseConfig(env));
const queue = createSyncQueue(redis, prefix);

/** One request with a Host header of our choosing (fetch does not let a caller set Host). */
function send(url: string, method: string, path: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { method, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const port = (url: string) => new URL(url).port;
/** The request of the issue: same-origin as far as the attacker's page can tell. */
const rebound = (url: string) => ({
  Host: `a.example:${port(url)}`,
  Origin: `http://a.example:${port(url)}`,
  'Sec-Fetch-Site': 'same-origin',
});

let open: DashboardHandle;
beforeAll(async () => {
  open = await startDashboard(parseConfig(env), quiet, { redis, queues: [queue] });
});
afterAll(async () => {
  await open?.stop();
  await queue.obliterate({ force: true }).catch(() => undefined);
  await queue.close();
  redis.disconnect();
});

describe('dashboard without a password: loopback Host only', () => {
  it('refuses the rebinding request of the issue (Bull Board pause) with 421, and the queue keeps running', async () => {
    const r = await send(open.url, 'PUT', '/queues/api/queues/sync/pause', rebound(open.url));
    expect(r.status).toBe(421);
    expect((JSON.parse(r.body) as { error: string }).error).toMatch(/DASHBOARD_ALLOWED_HOSTS/);
    expect(await queue.isPaused()).toBe(false);
    for (const [method, path] of [
      ['GET', '/api/status'],
      ['GET', '/'],
      ['GET', '/metrics'],
      ['POST', '/api/requeue'],
      ['POST', '/api/health-check'],
    ] as const) {
      expect((await send(open.url, method, path, rebound(open.url))).status, `${method} ${path}`).toBe(421);
    }
  });

  it('serves loopback names, with or without the port', async () => {
    for (const host of [
      'localhost',
      `localhost:${port(open.url)}`,
      '127.0.0.1',
      `127.0.0.1:${port(open.url)}`,
      '[::1]',
      `[::1]:${port(open.url)}`,
    ]) {
      expect((await send(open.url, 'GET', '/api/status', { Host: host })).status, host).toBe(200);
    }
  });

  it('leaves /healthz open to any Host (container health checks use the service name)', async () => {
    expect((await send(open.url, 'GET', '/healthz', { Host: 'stash2plex:3000' })).status).toBe(200);
  });
});

describe('DASHBOARD_ALLOWED_HOSTS', () => {
  it('adds a reverse proxy name; other names stay refused', async () => {
    const d = await startDashboard(parseConfig({ ...env, DASHBOARD_ALLOWED_HOSTS: 'dash.example' }), quiet, { redis, queues: [queue] });
    try {
      expect((await send(d.url, 'GET', '/api/status', { Host: 'dash.example' })).status).toBe(200);
      expect((await send(d.url, 'GET', '/api/status', { Host: 'a.example' })).status).toBe(421);
    } finally {
      await d.stop();
    }
  });

  it('with a password: any Host unless the list is set, then loopback and the list only', async () => {
    const auth = { Authorization: `Basic ${Buffer.from(`admin:${PASSWORD}`).toString('base64')}` };
    const free = await startDashboard(parseConfig({ ...env, DASHBOARD_PASSWORD: PASSWORD }), quiet, { redis, queues: [queue] });
    const listed = await startDashboard(
      parseConfig({ ...env, DASHBOARD_PASSWORD: PASSWORD, DASHBOARD_ALLOWED_HOSTS: 'dash.example' }),
      quiet,
      { redis, queues: [queue] },
    );
    try {
      expect((await send(free.url, 'GET', '/api/status', { Host: 'nas.lan:3000', ...auth })).status).toBe(200);
      expect((await send(free.url, 'GET', '/api/status', { Host: 'a.example' })).status).toBe(401);
      expect((await send(listed.url, 'GET', '/api/status', { Host: 'dash.example', ...auth })).status).toBe(200);
      expect((await send(listed.url, 'GET', '/api/status', { Host: 'nas.lan:3000', ...auth })).status).toBe(421);
    } finally {
      await free.stop();
      await listed.stop();
    }
  });
});

describe('an unresolvable DASHBOARD_HOST', () => {
  const unresolvable = { ...env, DASHBOARD_HOST: 'no-such-host.invalid', DASHBOARD_PASSWORD: PASSWORD };
  it('is a ConfigError naming DASHBOARD_HOST', async () => {
    await expect(startDashboard(parseConfig(unresolvable), quiet, { redis, queues: [queue] })).rejects.toThrow(ConfigError);
  });
  it('ends the dashboard process with one line naming the variable and exit 2', { timeout: 20_000 }, async () => {
    const run = await runNode('dist/workers/dashboard.js', '', { ...unresolvable, LOG_LEVEL: 'silent' }, 15_000);
    expect(run.stderr).toMatch(/^stash2plex: configuration error: DASHBOARD_HOST: "no-such-host\.invalid" does not resolve/);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.code).toBe(2);
  });
});
