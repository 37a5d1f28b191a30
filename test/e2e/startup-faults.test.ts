// The faults of issue 23's table, with the real processes (dist/workers/*): each is said in one line
// naming the setting and the address tried, within 10 s, without a stack trace, at most once per 30 s
// while it lasts, and once more when it ends.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { keys } from '../../src/core/redis.js';
import { freePort } from '../helpers/ports.js';
import { startProcess, type Proc } from '../helpers/proc.js';
import { testRedis, testRedisUrl, uniquePrefix } from '../helpers/redis.js';
import { waitFor } from '../helpers/wait.js';
import { startWorld } from '../helpers/world.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const script = (name: string) => resolve(`dist/workers/${name}.js`);

function proc(name: string, env: Record<string, string>, cwd?: string): Proc {
  const p = startProcess(script(name), { LOG_LEVEL: 'info', ...env }, [], { cwd });
  cleanups.push(() => p.stop('SIGKILL'));
  return p;
}

/** Lines of the output that mention `text`. */
const linesWith = (p: Proc, text: string | RegExp) =>
  p
    .output()
    .split('\n')
    .filter((l) => (typeof text === 'string' ? l.includes(text) : text.test(l)));

/** No stack trace and no ioredis "Unhandled error event" anywhere in the output. */
function expectNoStack(p: Proc): void {
  expect(p.output()).not.toMatch(/Unhandled error event|^\s+at .+:\d+:\d+\)?$/m);
}

/** A port nothing listens on. */
async function deadPort(): Promise<number> {
  return freePort();
}

/** Waits `ms`: these tests measure that nothing more is said over a span of time. */
const during = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('Redis unreachable', () => {
  for (const role of ['worker', 'all-in-one'] as const) {
    it(`${role}: one line naming REDIS_URL and the address within 10 s, no stack, no repeat within 30 s; one line when Redis answers`, async () => {
      const port = await deadPort();
      const env = {
        REDIS_URL: `redis://:s3cret-pw@127.0.0.1:${port}`,
        REDIS_PREFIX: uniquePrefix('rdown'),
        PLEX_URL: `http://127.0.0.1:${await deadPort()}`,
        PLEX_TOKEN: 'token',
        STASH_URL: `http://127.0.0.1:${await deadPort()}`,
        DASHBOARD_PORT: String(await freePort()),
      };
      const p = proc(role, env);
      const line = `Redis unreachable at redis://127.0.0.1:${port} (REDIS_URL)`;
      await waitFor(() => linesWith(p, line).length > 0, 10_000, 'the Redis line');
      await during(6_000); // ioredis retries every 2 s at most: several failures, one line
      expect(linesWith(p, 'Redis')).toHaveLength(1);
      expect(p.output()).not.toContain('s3cret-pw');
      expectNoStack(p);
      // Redis comes up: said once, and the process carries on.
      const server = spawn(
        'redis-server',
        ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--requirepass', 's3cret-pw'],
        {
          stdio: 'ignore',
        },
      );
      cleanups.push(() => server.kill('SIGKILL'));
      await waitFor(() => linesWith(p, `Redis at redis://127.0.0.1:${port} answers again`).length === 1, 15_000, 'the recovery line');
      await waitFor(() => linesWith(p, 'worker started').length === 1, 15_000, 'the worker starts');
      expectNoStack(p);
    }, 60_000);
  }
});

describe('npm start and .env', () => {
  it('honours REDIS_URL from .env before deciding to embed a Redis', async () => {
    const dir = mkdtempSync(join(tmpdir(), 's2p-dotenv-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const prefix = uniquePrefix('dotenv');
    writeFileSync(join(dir, '.env'), `REDIS_URL=${testRedisUrl()}\nREDIS_PREFIX=${prefix}\n`);
    const p = proc(
      'all-in-one',
      {
        PLEX_URL: `http://127.0.0.1:${await deadPort()}`,
        PLEX_TOKEN: 'token',
        STASH_URL: `http://127.0.0.1:${await deadPort()}`,
        DASHBOARD_PORT: String(await freePort()),
      },
      dir,
    );
    await waitFor(() => linesWith(p, 'dashboard listening').length > 0, 20_000, 'started');
    expect(p.output()).not.toContain('embedded redis-server');
    // It talks to the Redis .env names: the supervisor's lease is there, under .env's prefix.
    const redis = testRedis();
    cleanups.push(() => redis.disconnect());
    await waitFor(async () => (await redis.exists(keys(prefix).leader)) === 1, 10_000, 'the lease in the .env Redis');
  }, 40_000);
});

describe('Plex and Stash unreachable or refusing', () => {
  it('wrong PLEX_URL and STASH_URL, nothing queued: each named within 10 s, once; the status headline is not "Plex is up"', async () => {
    const plexPort = await deadPort();
    const stashPort = await deadPort();
    const dashboardPort = await freePort();
    const p = proc('all-in-one', {
      REDIS_URL: testRedisUrl(),
      REDIS_PREFIX: uniquePrefix('wrongurl'),
      PLEX_URL: `http://127.0.0.1:${plexPort}`,
      PLEX_TOKEN: 'token',
      STASH_URL: `http://127.0.0.1:${stashPort}`,
      DASHBOARD_PORT: String(dashboardPort),
      HEALTH_INTERVAL_MS: '500',
      HEALTH_MAX_INTERVAL_MS: '1000',
    });
    await waitFor(() => linesWith(p, `Plex unreachable at http://127.0.0.1:${plexPort} (PLEX_URL)`).length > 0, 10_000, 'the Plex line');
    await waitFor(
      () => linesWith(p, `Stash unreachable at http://127.0.0.1:${stashPort} (STASH_URL)`).length > 0,
      10_000,
      'the Stash line',
    );
    await during(6_000); // probes every second meanwhile
    expect(linesWith(p, 'Plex unreachable')).toHaveLength(1);
    expect(linesWith(p, 'Stash unreachable')).toHaveLength(1);
    expect(p.output()).not.toMatch(/StashClock|StashVersion/);
    expectNoStack(p);
    const res = await fetch(`http://127.0.0.1:${dashboardPort}/api/status`, { headers: { Host: `127.0.0.1:${dashboardPort}` } });
    const body = (await res.json()) as { headline: { level: string; text: string }; health: { ok: boolean } };
    expect(body.health.ok).toBe(false);
    expect(body.headline.level).toBe('error');
    expect(body.headline.text).toMatch(/^Plex is unreachable/);
    const page = await (await fetch(`http://127.0.0.1:${dashboardPort}/`)).text();
    expect(page).not.toContain('Plex is up');
    expect(page).toContain('data-testid="headline"');
  }, 40_000);

  it('wrong STASH_API_KEY: the worker names STASH_API_KEY within 10 s, once', async () => {
    const world = await startWorld({ scenes: 2, prefixName: 'badkey' });
    cleanups.push(() => world.stop());
    const p = proc('worker', { ...world.env, STASH_API_KEY: 'not-the-key' });
    await waitFor(() => linesWith(p, 'rejected the API key (STASH_API_KEY)').length > 0, 10_000, 'the key line');
    expect(p.output()).not.toContain('not-the-key');
    expectNoStack(p);
  }, 30_000);
});

describe('dashboard port busy', () => {
  let holder: Server | undefined;
  afterEach(() => holder?.close());

  for (const role of ['dashboard', 'all-in-one'] as const) {
    it(`${role}: one line naming DASHBOARD_PORT, exit 2, before the worker and the supervisor start`, async () => {
      const port = await freePort();
      holder = createServer();
      await new Promise<void>((r) => holder!.listen(port, '127.0.0.1', () => r()));
      const p = proc(role, {
        REDIS_URL: testRedisUrl(),
        REDIS_PREFIX: uniquePrefix('busy'),
        PLEX_URL: `http://127.0.0.1:${await deadPort()}`,
        PLEX_TOKEN: 'token',
        STASH_URL: `http://127.0.0.1:${await deadPort()}`,
        DASHBOARD_PORT: String(port),
      });
      expect(await p.exited).toBe(2);
      const lines = p.output().trim().split('\n');
      expect(lines).toEqual([
        `stash2plex: configuration error: DASHBOARD_PORT: 127.0.0.1:${port} is already in use (EADDRINUSE): stop what listens there or choose another port`,
      ]);
    }, 20_000);
  }
});
