// StashSettings (src/settings/reload.ts) when Stash cannot be read, with a real Redis and a clock passed
// in: at start the environment applies; later the settings in force stay; one line when it starts
// failing, one per 30 s while it lasts, one when it recovers; the record says why.
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/core/config.js';
import { keys } from '../../src/core/keys.js';
import { StashSettings } from '../../src/settings/reload.js';
import { readSettingsRecord } from '../../src/settings/store.js';
import { testRedis, testRedisUrl, uniquePrefix } from '../helpers/redis.js';

const redis = testRedis();
afterAll(() => redis.disconnect());

function rig(read: () => Promise<Record<string, unknown>>) {
  const prefix = uniquePrefix('settings-fail');
  const config = parseConfig({ REDIS_URL: testRedisUrl(), REDIS_PREFIX: prefix, SYNC_MODE: 'merge' }, { plex: false, stash: false });
  const lines: { level: number; msg: string }[] = [];
  const log = pino({ level: 'info' }, { write: (l: string) => void lines.push(JSON.parse(l) as { level: number; msg: string }) });
  let now = 1_000_000;
  const applied: string[] = [];
  const settings = new StashSettings({
    config,
    role: 'worker',
    redis,
    keys: keys(prefix),
    log,
    read,
    now: () => now,
    apply: (next) => applied.push(next.sync.mode),
  });
  return { settings, lines, applied, prefix, advance: (ms: number) => (now += ms) };
}

describe('StashSettings when Stash cannot be read', () => {
  it('starts on the environment, keeps what Stash gave later, and logs the outage sparingly', async () => {
    let answer: Record<string, unknown> | Error = new Error('POST /graphql PluginConfiguration: connect ECONNREFUSED 127.0.0.1:9');
    const r = rig(() => (answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer)));
    await r.settings.reload();
    expect(r.applied).toEqual(['merge']); // the environment's
    const record = (await readSettingsRecord(redis, keys(r.prefix))).record;
    expect(record?.stashError).toMatch(/ECONNREFUSED/);
    expect(record?.settings.find((s) => s.key === 'syncMode')).toMatchObject({ value: 'merge', source: 'environment' });

    answer = { syncMode: 'mirror' };
    r.advance(1_000);
    await r.settings.reload();
    expect(r.applied).toEqual(['merge', 'mirror']);
    expect(r.settings.config.sync.mode).toBe('mirror');

    // Stash down again: the settings in force stay (not the environment's), the record says why.
    answer = new Error('POST /graphql PluginConfiguration: HTTP 503');
    for (let i = 0; i < 40; i++) {
      r.advance(1_000);
      await r.settings.reload();
    }
    expect(r.applied).toEqual(['merge', 'mirror']);
    expect((await readSettingsRecord(redis, keys(r.prefix))).record).toMatchObject({ stashError: expect.stringMatching(/503/) as unknown });
    const failing = r.lines.filter((l) => l.msg.startsWith('settings: the plugin settings could not be read'));
    // The first outage (one line), then 40 s of the second: its first line and one 30 s later.
    expect(failing).toHaveLength(3);
    expect(failing[1].msg).toMatch(/the settings in force stay/);

    answer = { syncMode: 'mirror' };
    r.advance(1_000);
    await r.settings.reload();
    expect(r.lines.filter((l) => l.msg.startsWith('settings: Stash answers again'))).toHaveLength(2);
    expect((await readSettingsRecord(redis, keys(r.prefix))).record?.stashError).toBeNull();
    expect(r.applied).toEqual(['merge', 'mirror']); // nothing changed: nothing applied again
  });

  it('a Stash before v0.24.0 (its schema refuses the query: 422) is said once, then the environment applies quietly', async () => {
    const r = rig(() =>
      Promise.reject(new Error('POST /graphql PluginConfiguration: HTTP 422: Cannot query field "plugins" on type "ConfigResult".')),
    );
    for (let i = 0; i < 5; i++) {
      r.advance(40_000);
      await r.settings.reload();
    }
    expect(r.applied).toEqual(['merge']);
    expect(r.lines.map((l) => l.msg)).toEqual([
      'settings: this Stash keeps no plugin settings (before v0.24.0): the environment applies',
      'settings: none set in Stash',
    ]);
  });

  it('reloads never overlap, and stop waits for the one under way', async () => {
    let calls = 0;
    let release!: () => void;
    const r = rig(
      () =>
        new Promise((resolve) => {
          calls++;
          release = () => resolve({});
        }),
    );
    const a = r.settings.reload();
    const b = r.settings.reload();
    expect(a).toBe(b);
    await new Promise((res) => setImmediate(res));
    expect(calls).toBe(1);
    release();
    await a;
    await r.settings.stop();
  });
});
