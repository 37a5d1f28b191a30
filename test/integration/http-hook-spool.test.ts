// The HTTP hook while Redis refuses writes (issue 11, point 5): the event is spooled on the dashboard's
// disk and replayed into the inbox once Redis takes writes again. A redis-server of its own, since
// running it out of memory would disturb the other test files.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/core/config.js';
import { startDashboard, type DashboardHandle } from '../../src/dashboard/server.js';
import { createLogger } from '../../src/core/log.js';
import { connectRedis, keys } from '../../src/core/redis.js';
import { startPrivateRedis, type PrivateRedis } from '../../src/sim/redis-server.js';
import { SPOOL_FILE } from '../../src/hook/spool.js';
import { decodeInboxEntry } from '../../src/model/job.js';
import { uniquePrefix } from '../helpers/redis.js';
import { waitFor } from '../helpers/wait.js';

const quiet = createLogger({ level: 'silent' });
const TOKEN = 'spool-hook-token-7731';
const prefix = uniquePrefix('hookspool');
const spoolBase = mkdtempSync(join(tmpdir(), 's2p-hook-spool-'));
let server: PrivateRedis;
let redis: ReturnType<typeof connectRedis>;
let dash: DashboardHandle;

const edit = (id: number) =>
  JSON.stringify({
    server_connection: { Scheme: 'http', Host: 'stash', Port: 9999 },
    args: { hookContext: { id, type: 'Scene.Update.Post', input: { id: String(id), title: 'x' }, inputFields: ['id', 'title'] } },
  });
const post = async (body: string, d = dash) => {
  const res = await fetch(`${d.url}/api/stash/hook`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
    body,
  });
  return { status: res.status, json: (await res.json()) as { output?: string; error?: string } };
};
const inbox = keys(prefix).inbox;
const spoolFile = join(spoolBase, prefix, SPOOL_FILE);

/** Everything in the spool folder (the spool and any claim of it); a file renamed while read counts as empty. */
function spooledText(): string {
  const dir = dirname(spoolFile);
  return readdirSync(dir)
    .map((name) => {
      try {
        return readFileSync(join(dir, name), 'utf8');
      } catch {
        return '';
      }
    })
    .join('');
}

beforeAll(async () => {
  server = await startPrivateRedis();
  const config = parseConfig(
    { REDIS_URL: server.url, REDIS_PREFIX: prefix, DASHBOARD_PORT: '0', HOOK_TOKEN: TOKEN, HOOK_SPOOL_DIR: spoolBase },
    { plex: false, stash: false },
  );
  redis = connectRedis(config);
  dash = await startDashboard(config, quiet, { hookSpoolReplayMs: 200 });
});
afterAll(async () => {
  await dash?.stop();
  redis?.disconnect();
  server?.stop();
  rmSync(spoolBase, { recursive: true, force: true });
});

describe('HTTP hook while Redis refuses writes (OOM)', () => {
  it('spools the event (200 "spooled") and replays it into the inbox when Redis takes writes again', { timeout: 20_000 }, async () => {
    await redis.config('SET', 'maxmemory-policy', 'noeviction');
    await redis.config('SET', 'maxmemory', '1');
    try {
      const a = await post(edit(42));
      expect(a.status).toBe(200);
      expect(a.json.output).toMatch(/^spooled scene 42 \(Redis did not take the event \(OOM/);
      expect(await redis.xlen(inbox)).toBe(0);
      // The spool file, or a claim of it: the 200 ms replay may be holding it at this very moment.
      await waitFor(() => spooledText().includes('"sceneId":"42"'), 5_000, 'the event in the spool');
    } finally {
      await redis.config('SET', 'maxmemory', '0');
    }
    await waitFor(async () => (await redis.xlen(inbox)) === 1, 10_000, 'the spooled event replayed into the inbox');
    const [[, fields]] = (await redis.xrange(inbox, '-', '+')) as [string, string[]][];
    const decoded = decodeInboxEntry(fields);
    expect(decoded.ok ? decoded.job?.sceneId : decoded).toBe('42');
    await waitFor(() => readFileSync(spoolFile, { encoding: 'utf8', flag: 'a+' }).trim() === '', 5_000, 'the spool emptied');
  });

  it('answers 503 when the spool cannot be written either', { timeout: 20_000 }, async () => {
    const config = parseConfig(
      { REDIS_URL: server.url, REDIS_PREFIX: prefix, DASHBOARD_PORT: '0', HOOK_TOKEN: TOKEN, HOOK_SPOOL_DIR: '/dev/null/spool' },
      { plex: false, stash: false },
    );
    const unspooled = await startDashboard(config, quiet);
    await redis.config('SET', 'maxmemory', '1');
    try {
      const a = await post(edit(43), unspooled);
      expect(a.status).toBe(503);
      expect(a.json.error).toMatch(/^Redis did not take the event \(OOM.*event not recorded/);
    } finally {
      await redis.config('SET', 'maxmemory', '0');
      await unspooled.stop();
    }
  });
});
