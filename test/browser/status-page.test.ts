// The status page in a real headless Chromium, driven through a real outage and its recovery: the page
// must follow the breaker CLOSED → OPEN → CLOSED on its own (no reload), show the recovery ramp, and
// leave screenshots in test-output/screenshots/ for people to look at.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDashboard, type DashboardHandle } from '../../src/dashboard/server.js';
import { createMetricsRegistry, workerMetrics } from '../../src/dashboard/metrics.js';
import { createLogger } from '../../src/core/log.js';
import { connectRedis, keys, originalsKey } from '../../src/core/redis.js';
import type { Outage } from '../../src/resilience/outages.js';
import { startSupervisorRole, type SupervisorRole } from '../../src/roles/supervisor.js';
import { createSyncQueue, enqueueSyncBulk } from '../../src/sync/queue.js';
import { startWorkerRole, type WorkerRole } from '../../src/roles/worker.js';
import { startWorld, type World } from '../helpers/world.js';
import { makeFailedJobs } from '../../bench/requeue.js';
import { specs } from '../helpers/failed-jobs.js';

const SHOTS = join(process.cwd(), 'test-output', 'screenshots');
const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];

/** A Chromium on this machine; on CI (S2P_SLOW_TESTS=1 or CI) one `apt-get install chromium` is tried. */
function findChromium(): string | null {
  const found = () => CANDIDATES.find((p) => existsSync(p)) ?? null;
  if (found()) return found();
  if ((process.env.S2P_SLOW_TESTS === '1' || process.env.CI) && process.getuid?.() === 0) {
    console.warn('[browser test] no Chromium found: trying apt-get install -y chromium once');
    spawnSync('sh', ['-c', 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium'], {
      stdio: 'ignore',
      timeout: 600_000,
    });
  }
  return found();
}

const executablePath = findChromium();
if (!executablePath) {
  console.warn(
    '\n[browser test] SKIPPED: no Chromium at ' +
      CANDIDATES.join(', ') +
      ' and none could be installed.\n' +
      '[browser test] Install one with `apt-get install -y chromium` to run test/browser/status-page.test.ts.\n',
  );
}

const PASSWORD = 'browser-dash-pw-3c7d';
const quiet = createLogger({ level: 'silent' });
const badge = (page: Page) => page.locator('[data-testid="breaker-badge"]');
const waitBadge = (page: Page, state: string, timeout = 15_000) =>
  page.waitForFunction((s) => document.querySelector('[data-testid="breaker-badge"]')?.textContent === s, state, { timeout, polling: 100 });

describe.skipIf(!executablePath)('status page in a browser', () => {
  let world: World;
  let supervisor: SupervisorRole;
  let worker: WorkerRole;
  let dash: DashboardHandle;
  let browser: Browser;
  let redis: ReturnType<typeof connectRedis>;

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    world = await startWorld({
      scenes: 60,
      env: {
        BREAKER_FAILURE_THRESHOLD: '2',
        BREAKER_RECOVERY_TIMEOUT_MS: '500',
        HEALTH_CLOSED_INTERVAL_MS: '300',
        HEALTH_INTERVAL_MS: '200',
        HEALTH_MAX_INTERVAL_MS: '400',
        HEALTH_TIMEOUT_MS: '500',
        RAMP_INITIAL_RATE: '2',
        RAMP_TARGET_RATE: '10',
        RAMP_DURATION_MS: '10000',
        DASHBOARD_PASSWORD: PASSWORD,
        DASHBOARD_PORT: '0',
        WORKER_CONCURRENCY: '2',
      },
    });
    redis = connectRedis(world.config);
    // Two earlier outages in the history, so the chart and the metrics have something to show.
    const now = Date.now();
    const past = (id: string, agoMs: number, ms: number, jobs: number): Outage => ({
      id,
      startedAt: now - agoMs,
      detectedAt: now - agoMs + 1_200,
      endedAt: now - agoMs + ms,
      durationMs: ms,
      trigger: 'failures',
      firstError: 'PlexServerDown',
      jobsAffected: jobs,
      rampEndedAt: now - agoMs + ms + 15_000,
    });
    await redis.set(keys(world.prefix).outages, JSON.stringify([past('seed-2', 90_000, 12_000, 4), past('seed-1', 170_000, 25_000, 11)]));
    const registry = createMetricsRegistry();
    supervisor = await startSupervisorRole(world.config, quiet, { tickMs: 50 });
    worker = await startWorkerRole(world.config, quiet, { onAttempt: workerMetrics(registry).onAttempt, holdMs: 300 });
    dash = await startDashboard(world.config, quiet, { supervisor: supervisor.supervisor, registry });
    browser = await chromium.launch({
      executablePath: executablePath!,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        '--disable-quic',
      ],
    });
  });

  afterAll(async () => {
    await browser?.close();
    await dash?.stop();
    await worker?.stop();
    await supervisor?.stop();
    if (redis) {
      const q = createSyncQueue(redis, world.prefix);
      await q.obliterate({ force: true }).catch(() => undefined);
      await q.close();
      redis.disconnect();
    }
    await world?.stop();
  });

  it('needs the password', async () => {
    const ctx = await browser.newContext();
    expect((await ctx.request.get(dash.url)).status()).toBe(401);
    // Chromium gives up on a 401 it has no credentials for.
    await expect((await ctx.newPage()).goto(dash.url)).rejects.toThrow(/ERR_INVALID_AUTH_CREDENTIALS/);
    await ctx.close();
  });

  it('follows an outage and its recovery live: CLOSED → OPEN → CLOSED, with the ramp', { timeout: 90_000 }, async () => {
    const ctx = await browser.newContext({
      httpCredentials: { username: 'admin', password: PASSWORD },
      viewport: { width: 1280, height: 900 },
    });
    const page = await ctx.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    await page.goto(dash.url);
    await page.evaluate(() => ((window as unknown as { loadedOnce: boolean }).loadedOnce = true));
    await waitBadge(page, 'CLOSED');
    await expect(badge(page).getAttribute('class')).resolves.toContain('badge-CLOSED');
    expect(await page.locator('[data-testid="metric-count"]').textContent()).toBe('2');
    await page.screenshot({ path: join(SHOTS, '1-closed.png'), fullPage: true });

    // Plex goes down: the page turns red by itself.
    await world.plex.setMode('down');
    await waitBadge(page, 'OPEN');
    expect(await badge(page).evaluate((el) => getComputedStyle(el).backgroundColor)).toBe('rgb(220, 38, 38)');
    // A backlog builds up in the paused queue while Plex is down.
    const queue = createSyncQueue(redis, world.prefix);
    await enqueueSyncBulk(
      queue,
      [...world.ratingKeyOf.keys()].map((sceneId) => ({ sceneId, reason: 'hook' as const, enqueuedAt: Date.now() })),
      world.config.errorStrategies,
    );
    await queue.close();
    await page.waitForFunction(() => Number(document.querySelector('[data-testid="queue-sync-waiting"]')?.textContent) >= 60, null, {
      timeout: 10_000,
    });
    await page.waitForFunction(
      () => /^OPEN for [1-9]/.test(document.querySelector('[data-testid="breaker-held"]')?.textContent ?? ''),
      null,
      { timeout: 10_000 },
    );
    expect(await page.locator('[data-testid="queue-sync-paused"]').textContent()).toBe('paused by supervisor');
    expect(await page.locator('svg [data-ongoing="true"]').count()).toBe(1);
    // The headline says the worst problem and what recovers it; nothing says Plex is up.
    expect(await page.locator('[data-testid="headline"]').getAttribute('data-level')).toBe('error');
    expect(await page.locator('[data-testid="headline-text"]').textContent()).toMatch(
      /^Plex is unreachable .*: sync is paused; \d+ jobs wait, none fails\.$/,
    );
    expect(await page.locator('[data-testid="headline-action"]').textContent()).toContain('PLEX_URL');
    expect(await page.locator('main').textContent()).not.toContain('Plex is up');
    await page.screenshot({ path: join(SHOTS, '2-outage-open.png'), fullPage: true });

    // The manual probe button reports Plex down.
    await page.click('[data-testid="probe-now"]');
    await page.waitForFunction(
      () => /did not answer/.test(document.querySelector('[data-testid="probe-result"]')?.textContent ?? ''),
      null,
      { timeout: 5_000 },
    );

    // Plex comes back after ~3 s: the trial, then the ramp drains the backlog.
    await new Promise((r) => setTimeout(r, 2_000));
    await world.plex.setMode('up');
    await waitBadge(page, 'CLOSED', 20_000);
    await page.waitForSelector('[data-testid="ramp-progress"]', { timeout: 10_000 });
    await page.waitForFunction(() => Number(document.querySelector('[data-testid="queue-sync-completed"]')?.textContent) >= 3, null, {
      timeout: 10_000,
    });
    const pct = Number(await page.locator('[data-testid="ramp-progress"]').getAttribute('value'));
    expect(pct).toBeGreaterThan(0);
    expect(pct).toBeLessThanOrEqual(100);
    expect(await page.locator('[data-testid="ramp-rate"]').textContent()).toMatch(/jobs\/s of 10 jobs\/s/);
    expect(await page.locator('svg [data-ongoing="true"]').count()).toBe(0);
    expect(await page.locator('table[data-testid="outage-table"] tbody tr').count()).toBe(3);
    await page.screenshot({ path: join(SHOTS, '3-recovery-ramp.png'), fullPage: true });

    // The ramp ends: full rate, the backlog is gone.
    await page.waitForFunction(() => /^Full rate/.test(document.querySelector('[data-testid="ramp-rate"]')?.textContent ?? ''), null, {
      timeout: 20_000,
    });
    await page.waitForFunction(() => document.querySelector('[data-testid="queue-sync-waiting"]')?.textContent === '0', null, {
      timeout: 20_000,
    });
    expect(await page.locator('[data-testid="metric-count"]').textContent()).toBe('3');
    await page.screenshot({ path: join(SHOTS, '4-recovered.png'), fullPage: true });

    // All of it without a reload, and without script errors.
    expect(await page.evaluate(() => (window as unknown as { loadedOnce?: boolean }).loadedOnce)).toBe(true);
    expect(await page.title()).toMatch(/CLOSED — stash2plex/);
    expect(errors).toEqual([]);

    // Bull Board is reachable from the page's link, under the same credentials.
    await page.click('header a[href="queues"]');
    await page.waitForSelector('text=sync', { timeout: 15_000 });
    await page.waitForFunction(() => !document.body.innerText.includes('Loading'), null, { timeout: 15_000 });
    await page.screenshot({ path: join(SHOTS, '5-bull-board.png') });
    // Its own state-changing calls pass the cross-site check (the browser marks them same-origin).
    const statuses = await page.evaluate(async () => {
      const pause = await fetch('/queues/api/queues/sync/pause', { method: 'PUT' });
      const resume = await fetch('/queues/api/queues/sync/resume', { method: 'PUT' });
      return [pause.status, resume.status];
    });
    expect(statuses).toEqual([200, 200]);
    await ctx.close();
  });

  it('queue maintenance: a dry run first, then the confirmed removal of the failed set', { timeout: 60_000 }, async () => {
    // No worker from here on: the failed jobs below are made by hand.
    await worker.stop();
    worker = undefined as unknown as WorkerRole;
    const queue = createSyncQueue(redis, world.prefix);
    await makeFailedJobs({
      connection: redis,
      prefix: world.prefix,
      queue,
      strategies: world.config.errorStrategies,
      jobs: specs(9001, 4),
    });
    const ctx = await browser.newContext({ httpCredentials: { username: 'admin', password: PASSWORD } });
    const page = await ctx.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(dash.url);
    const result = page.locator('[data-testid="clean-result"]');
    await page.selectOption('[data-testid="clean-action"]', 'clear_failed');
    await page.click('[data-testid="clean-dry"]');
    await expect
      .poll(() => result.textContent())
      .toBe('Clear Failed Jobs (dry run): 4 jobs of the failed set would be removed (dry run: nothing removed)');
    expect(await queue.getFailedCount()).toBe(4);
    await page.click('[data-testid="clean-confirm"]');
    await expect.poll(() => result.textContent()).toBe('Clear Failed Jobs: 4 jobs of the failed set removed');
    expect(await queue.getFailedCount()).toBe(0);
    expect(await page.locator('[data-testid="clean-confirm"]').isHidden()).toBe(true);
    expect(errors).toEqual([]);
    await queue.close();
    await ctx.close();
  });

  it(
    'Reconcile Library: a dry run shows the gaps, the confirm queues them, the card shows the last report',
    { timeout: 60_000 },
    async () => {
      const added = world.addScene(61); // in Stash and in Plex, never synced: a gap (no worker runs now)
      const queue = createSyncQueue(redis, world.prefix);
      await queue.obliterate({ force: true });
      const ctx = await browser.newContext({ httpCredentials: { username: 'admin', password: PASSWORD } });
      const page = await ctx.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(dash.url);
      const result = page.locator('[data-testid="reconcile-result"]');
      await page.click('[data-testid="reconcile-dry"]');
      await expect.poll(() => result.textContent(), { timeout: 30_000 }).toMatch(/would be queued for a sync; nothing queued$/);
      expect(await result.textContent()).toContain(`Ready but never synced by stash2plex: `);
      expect(await queue.count()).toBe(0);
      const confirm = page.locator('[data-testid="reconcile-confirm"]');
      expect(await confirm.isHidden()).toBe(false);
      await confirm.click();
      await expect.poll(() => result.textContent(), { timeout: 30_000 }).toMatch(/Queued \d+ scenes? for a sync \(bulk priority\)$/);
      expect((await queue.getJobs(['prioritized', 'waiting'])).map((j) => j.data.sceneId)).toContain(added);
      await expect
        .poll(() => page.locator('[data-testid="reconcile-queued"]').textContent(), { timeout: 10_000 })
        .toMatch(/^Queued \d+ scenes? for a sync/);
      await page.screenshot({ path: join(SHOTS, 'reconcile-library.png'), fullPage: true });
      expect(errors).toEqual([]);
      await queue.close();
      await ctx.close();
    },
  );

  it(
    'Restore: a dry run, the confirm puts the scanner title back; the scene is listed as kept out of sync; Sync again queues it',
    { timeout: 60_000 },
    async () => {
      const k = keys(world.prefix);
      // A scene the worker synced earlier in this run: its item's originals were kept.
      let sceneId: string | undefined;
      for (const [id, rk] of world.ratingKeyOf) {
        if ((await redis.exists(originalsKey(k, rk))) === 1) {
          sceneId = id;
          break;
        }
      }
      expect(sceneId).toBeDefined();
      const ratingKey = world.ratingKeyOf.get(sceneId!)!;
      const queue = createSyncQueue(redis, world.prefix);
      await queue.obliterate({ force: true });
      const ctx = await browser.newContext({ httpCredentials: { username: 'admin', password: PASSWORD } });
      const page = await ctx.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(dash.url);
      const result = page.locator('[data-testid="restore-result"]');
      await page.fill('[data-testid="restore-scenes"]', sceneId!);
      await page.click('[data-testid="restore-dry"]');
      await expect
        .poll(() => result.textContent(), { timeout: 20_000 })
        .toMatch(/Dry run: 1 scene would be restored \(\d+ fields\), 1 scene would be excluded from sync; nothing changed$/);
      expect(world.plex.item(ratingKey)!.title).not.toBe(`scene-${sceneId}`);
      const confirm = page.locator('[data-testid="restore-confirm"]');
      expect(await confirm.textContent()).toBe('Restore 1 scene');
      await confirm.click();
      await expect
        .poll(() => result.textContent(), { timeout: 20_000 })
        .toMatch(/1 scene restored \(\d+ fields\), 1 scene excluded from sync$/);
      expect(world.plex.item(ratingKey)).toMatchObject({ title: `scene-${sceneId}`, locked: [] });
      // The next refresh lists it, with its button.
      const resume = page.locator(`[data-testid="resume-${sceneId}"]`);
      await resume.waitFor({ timeout: 10_000 });
      await page.screenshot({ path: join(SHOTS, 'restore.png'), fullPage: true });
      await resume.click();
      await expect
        .poll(async () => (await queue.getJobs(['prioritized', 'waiting'])).map((j) => j.data.sceneId), { timeout: 10_000 })
        .toContain(sceneId);
      await expect.poll(() => page.locator(`[data-testid="resume-${sceneId}"]`).count(), { timeout: 10_000 }).toBe(0);
      expect(await redis.hexists(k.syncExcluded, sceneId!)).toBe(0);
      expect(errors).toEqual([]);
      await queue.close();
      await ctx.close();
    },
  );
});
