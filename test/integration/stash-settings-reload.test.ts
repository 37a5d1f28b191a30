// The settings a user changes in Stash (Settings → Plugins → stash2plex) apply without a restart: a
// worker and a supervisor run, the setting is saved with Stash's own configurePlugin mutation on the
// simulator, and the next sync uses it; /api/status's document lists each setting and where it came
// from. A value Stash holds that does not parse keeps the last good one and is shown with its name.
import { afterEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { connectRedis, keys, type RedisConnection } from '../../src/core/redis.js';
import { encodeInboxEntry } from '../../src/model/inbox-item.js';
import { startSupervisorRole } from '../../src/roles/supervisor.js';
import { startWorkerRole } from '../../src/roles/worker.js';
import { readSettingsRecord } from '../../src/settings/store.js';
import { buildStatus } from '../../src/supervisor/status.js';
import { createSyncQueue } from '../../src/sync/queue.js';
import { waitFor } from '../helpers/wait.js';
import { STASH_KEY, startWorld, type World } from '../helpers/world.js';

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
});

/** The log lines, as text (a pino destination of our own). */
function capturingLogger() {
  const lines: string[] = [];
  const log = pino({ level: 'info' }, { write: (l: string) => void lines.push(l) });
  return { log, lines };
}

/** configurePlugin as Stash's UI sends it when the plugin's settings are saved (the whole map). */
async function configurePlugin(world: World, input: Record<string, unknown>, pluginId = 'stash2plex'): Promise<void> {
  const res = await fetch(`${world.stash.url}/graphql`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ApiKey: STASH_KEY },
    body: JSON.stringify({
      query: 'mutation Configure($id: ID!, $input: Map!) { configurePlugin(plugin_id: $id, input: $input) }',
      variables: { id: pluginId, input },
    }),
  });
  const body = (await res.json()) as { data?: { configurePlugin: Record<string, unknown> }; errors?: unknown[] };
  expect(body.errors, JSON.stringify(body.errors)).toBeUndefined();
  expect(body.data?.configurePlugin).toEqual(input);
}

async function hookEvent(redis: RedisConnection, world: World, sceneId: string): Promise<void> {
  const entry = encodeInboxEntry({
    sceneId,
    reason: 'hook',
    event: 'Scene.Update.Post',
    fields: ['title', 'details'],
    enqueuedAt: Date.now(),
  });
  await redis.xadd(keys(world.prefix).inbox, '*', ...entry);
}

async function rig() {
  const world = await startWorld({
    scenes: 3,
    prefixName: 'settings',
    env: { SYNC_POSTER: 'false', SYNC_FIELDS: 'title,summary', STASH_SETTINGS_INTERVAL_MS: '1000', MAX_TAGS: '40' },
  });
  stops.push(() => world.stop());
  const redis = connectRedis(world.config);
  const queue = createSyncQueue(redis, world.prefix);
  stops.push(async () => {
    await queue.close();
    redis.disconnect();
  });
  const { log, lines } = capturingLogger();
  const worker = await startWorkerRole(world.config, log);
  stops.push(() => worker.stop());
  const supervisor = await startSupervisorRole(world.config, log, { tickMs: 100 });
  stops.push(() => supervisor.stop());
  return { world, redis, queue, lines };
}

const item = (w: World, id: string) => w.plex.item(w.ratingKeyOf.get(id)!)!;
const setting = async (redis: RedisConnection, w: World, key: string) =>
  (await readSettingsRecord(redis, keys(w.prefix))).record?.settings.find((s) => s.key === key);

describe('settings saved in Stash', () => {
  it('apply to the next sync without a restart, and /api/status says where each came from', async () => {
    const { world, redis, queue, lines } = await rig();
    // Before: SYNC_FIELDS of the environment syncs the title.
    world.stash.updateScene('1', { title: 'Before the change', details: 'first summary' });
    await hookEvent(redis, world, '1');
    await waitFor(
      () => item(world, '1').title === 'Before the change' && item(world, '1').summary === 'first summary',
      15_000,
      'first sync',
    );

    const saved = Date.now();
    await configurePlugin(world, { syncFields: 'summary', maxTags: 7, preservePlexEdits: false });
    // Workers and supervisor both record what they read: wait for the worker's (it is the one that syncs).
    const workerRead = async () => {
      const { record } = await readSettingsRecord(redis, keys(world.prefix));
      return !!record?.by.startsWith('worker@') && record.settings.find((x) => x.key === 'syncFields')?.source === 'stash';
    };
    await waitFor(workerRead, 30_000, 'the setting read from Stash by the worker', 10);
    // Within 30 s of the save (the interval here is 1 s: the bound is generous for a loaded machine).
    expect(Date.now() - saved).toBeLessThan(30_000);
    // The next sync uses it: the title is no longer synced, the summary is.
    world.stash.updateScene('1', { title: 'After the change', details: 'second summary' });
    await hookEvent(redis, world, '1');
    await waitFor(() => item(world, '1').summary === 'second summary', 15_000, 'second sync');
    expect(item(world, '1').title).toBe('Before the change');

    const status = await buildStatus({ redis, keys: keys(world.prefix), queues: [queue], config: world.config, now: Date.now() });
    const shown = Object.fromEntries((status.settings?.settings ?? []).map((s) => [s.key, [s.value, s.source]]));
    expect(shown).toMatchObject({
      syncFields: ['summary', 'stash'],
      maxTags: ['7', 'stash'],
      preservePlexEdits: ['false', 'stash'],
      syncMode: ['mirror', 'default'],
    });
    expect(status.settings?.stashError).toBeNull();
    expect(lines.join('')).toMatch(/settings: changed in Stash, applied/);

    // A bad value: the last good one stays, one line names the setting, the status shows the problem.
    await configurePlugin(world, { syncFields: 'summary,titel', maxTags: 7 });
    await waitFor(async () => !!(await setting(redis, world, 'syncFields'))?.problem, 30_000, 'the problem recorded');
    const bad = await setting(redis, world, 'syncFields');
    expect(bad).toMatchObject({ value: 'summary', source: 'stash' });
    expect(bad?.problem).toMatch(/syncFields in Stash \(SYNC_FIELDS\) "titel" is unknown/);
    world.stash.updateScene('1', { title: 'Still not synced', details: 'third summary' });
    await hookEvent(redis, world, '1');
    await waitFor(() => item(world, '1').summary === 'third summary', 15_000, 'third sync');
    expect(item(world, '1').title).toBe('Before the change');
    // Logged once per process that reads it (worker and supervisor), not at every read.
    await waitFor(
      async () => ((await readSettingsRecord(redis, keys(world.prefix))).record?.at ?? 0) > Date.now() - 500,
      10_000,
      'a later read',
    );
    const warned = lines.filter((l) => l.includes('titel') && l.includes('settings: syncFields in Stash'));
    expect(warned.length).toBeGreaterThanOrEqual(1);
    expect(warned.length).toBeLessThanOrEqual(2);
    expect(lines.filter((l) => l.includes('"level":50') || l.includes('"stack"'))).toEqual([]);

    // Emptied in Stash: back to the environment.
    await configurePlugin(world, { maxTags: 7 });
    await waitFor(async () => (await setting(redis, world, 'syncFields'))?.source === 'environment', 30_000, 'back to the environment');
    expect((await setting(redis, world, 'syncFields'))?.value).toBe('title,summary');
  }, 120_000);
});
