// The status page and Bull Board judged in a real headless Chromium: Bull Board requests nothing from
// outside 127.0.0.1 (its Google Fonts link is dropped) and links back to the status page; the status page
// fits a 390 px screen without horizontal scrolling, follows prefers-color-scheme: dark, links to Bull
// Board, and passes axe-core's WCAG 2.1 AA rules in light and dark. The page is rich: outages, a failed
// job, a Reconcile Library report, a scene kept out of sync, an explanation shown.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/core/log.js';
import { connectRedis, keys } from '../../src/core/redis.js';
import { startDashboard, type DashboardHandle } from '../../src/dashboard/server.js';
import type { Outage } from '../../src/resilience/outages.js';
import { storeLibraryReport } from '../../src/sync/library-report-store.js';
import { excludeScene } from '../../src/sync/sync-exclusions.js';
import { createSyncQueue } from '../../src/sync/queue.js';
import { startWorld, type World } from '../helpers/world.js';

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];
const executablePath = CANDIDATES.find((p) => existsSync(p)) ?? null;
if (!executablePath) console.warn(`\n[browser test] SKIPPED: no Chromium at ${CANDIDATES.join(', ')} (apt-get install -y chromium)\n`);

const AXE = join(process.cwd(), 'node_modules/axe-core/axe.min.js');
const WCAG_21_AA = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];
const PASSWORD = 'quality-dash-pw-81d2';

interface AxeViolation {
  id: string;
  help: string;
  nodes: { target: string[]; failureSummary?: string }[];
}

/** axe-core's WCAG 2.1 A and AA violations of the page, each with the elements at fault. */
async function axeViolations(page: Page): Promise<string[]> {
  await page.addScriptTag({ path: AXE });
  const violations = await page.evaluate(async (tags) => {
    const axe = (window as unknown as { axe: { run(ctx: Document, o: object): Promise<{ violations: AxeViolation[] }> } }).axe;
    return (await axe.run(document, { runOnly: { type: 'tag', values: tags } })).violations;
  }, WCAG_21_AA);
  return violations.flatMap((v) => v.nodes.map((n) => `${v.id} (${v.help}): ${n.target.join(' ')} — ${n.failureSummary ?? ''}`));
}

describe.skipIf(!executablePath)('page quality in a browser', () => {
  let world: World;
  let dash: DashboardHandle;
  let browser: Browser;
  const contexts: BrowserContext[] = [];

  const open = async (opts: { width?: number; dark?: boolean } = {}) => {
    // bypassCSP: only so that the test can inject axe-core into the page; the page itself runs under its CSP.
    const ctx = await browser.newContext({
      httpCredentials: { username: 'admin', password: PASSWORD },
      viewport: { width: opts.width ?? 1280, height: 900 },
      colorScheme: opts.dark ? 'dark' : 'light',
      bypassCSP: true,
    });
    contexts.push(ctx);
    return ctx.newPage();
  };

  beforeAll(async () => {
    world = await startWorld({ scenes: 3, prefixName: 'quality', env: { DASHBOARD_PASSWORD: PASSWORD, DASHBOARD_PORT: '0' } });
    const redis = connectRedis(world.config);
    const k = keys(world.prefix);
    const now = Date.now();
    const outage = (i: number): Outage => ({
      id: `o${i}`,
      startedAt: now - (i + 1) * 3_600_000,
      detectedAt: now - (i + 1) * 3_600_000 + 4_000,
      endedAt: now - (i + 1) * 3_600_000 + 90_000,
      durationMs: 90_000,
      trigger: 'probe',
      firstError: 'PlexServerDown: GET /identity → ECONNREFUSED 127.0.0.1:32400 (a long error to wrap on a small screen)',
      jobsAffected: 12,
      rampEndedAt: now - (i + 1) * 3_600_000 + 400_000,
    });
    await redis.set(k.outages, JSON.stringify([0, 1, 2].map(outage)));
    await excludeScene(redis, k, '2', { why: 'restored', at: now, ratingKey: world.ratingKeyOf.get('2') ?? null });
    await storeLibraryReport(redis, k, {
      scanned: 3,
      notInPlex: { count: 1, sceneIds: ['3'] },
      empty: { count: 0, sceneIds: [] },
      drifted: { count: 0, sceneIds: [] },
      neverSynced: { count: 2, sceneIds: ['1', '2'] },
      moved: { count: 0, sceneIds: [] },
      queued: 0,
      durationMs: 1200,
      dryRun: true,
      toQueue: 2,
      startedAt: now - 5_000,
      finishedAt: now - 3_800,
      sentToInbox: 0,
    });
    const queue = createSyncQueue(redis, world.prefix);
    await queue.close();
    redis.disconnect();
    dash = await startDashboard(world.config, createLogger({ level: 'silent' }));
    browser = await chromium.launch({ executablePath: executablePath!, args: ['--no-sandbox'] });
  });
  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    await dash?.stop();
    await world?.stop();
  });

  it('Bull Board loads nothing from outside 127.0.0.1, and links back to the status page', async () => {
    const page = await open();
    const requested: string[] = [];
    page.on('request', (r) => requested.push(r.url()));
    const listed = page.waitForResponse((r) => r.url().includes('/queues/api/queues'), { timeout: 20_000 });
    await page.goto(`${dash.url}/queues/`);
    await listed;
    await page.locator('a[href="/queues/queue/sync"]').first().waitFor({ timeout: 20_000 });
    // Its scripts, styles, locale, logo and the API: all from the dashboard.
    expect(requested.some((u) => u.includes('/static/locales/'))).toBe(true);
    expect(requested.filter((u) => !/^(data:|blob:)/.test(u) && new URL(u).hostname !== '127.0.0.1')).toEqual([]);
    // The header's last menu holds the misc links: the way back.
    await page.locator('header ul > li').last().locator('button').click();
    const back = page.getByText('← stash2plex status');
    await back.waitFor({ timeout: 10_000 });
    await expect(back.evaluate((el) => el.closest('a')?.getAttribute('href'))).resolves.toBe('../');
    expect(requested.filter((u) => !/^(data:|blob:)/.test(u) && new URL(u).hostname !== '127.0.0.1')).toEqual([]);
  });

  it('the status page fits 390 px without horizontal scrolling, light and dark, and links to Bull Board', async () => {
    for (const dark of [false, true]) {
      const page = await open({ width: 390, dark });
      await page.goto(dash.url);
      await page.locator('[data-testid="outage-table"]').waitFor();
      const { scrollWidth, clientWidth } = await page.evaluate(() => ({
        scrollWidth: document.documentElement.scrollWidth,
        clientWidth: document.documentElement.clientWidth,
      }));
      expect(scrollWidth, dark ? 'dark' : 'light').toBeLessThanOrEqual(clientWidth);
      await expect(page.locator('header a[href="queues"]').textContent()).resolves.toContain('Bull Board');
    }
  });

  it('follows prefers-color-scheme: dark', async () => {
    const background = async (dark: boolean) => {
      const page = await open({ dark });
      await page.goto(dash.url);
      return page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    };
    const luminance = (rgb: string) => {
      const [r, g, b] = (rgb.match(/\d+/g) ?? []).map(Number);
      return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255;
    };
    expect(luminance(await background(false))).toBeGreaterThan(0.8);
    expect(luminance(await background(true))).toBeLessThan(0.2);
  });

  it.each([
    ['light', false],
    ['dark', true],
  ])('passes axe-core WCAG 2.1 AA (%s), with an explanation shown', async (_name, dark) => {
    const page = await open({ dark });
    await page.goto(dash.url);
    await page.locator('[data-testid="explain-scene"]').fill('1');
    await page.locator('[data-testid="explain-submit"]').click();
    await page.locator('[data-testid="explain-result"]').filter({ hasText: 'Next sync' }).waitFor({ timeout: 15_000 });
    expect(await axeViolations(page)).toEqual([]);
  });
});
