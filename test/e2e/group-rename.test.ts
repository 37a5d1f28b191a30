// A group renamed in Stash, end to end with real processes (issue 24, collections): Stash fires
// Group.Update.Post; the Node hook records one fan-out; the worker re-syncs the group's scenes, and the
// group's Plex collection takes the new name: the same collection (ratingKey, synopsis, poster kept),
// every member with it, and no other scene touched.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Queue } from 'bullmq';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectRedis } from '../../src/core/redis.js';
import { encodeInboxEntry, type SyncJobData } from '../../src/model/inbox-item.js';
import { createSyncQueue } from '../../src/sync/queue.js';
import { runNode, startProcess, type Proc } from '../helpers/proc.js';
import { waitFor } from '../helpers/wait.js';
import { startWorld, type World } from '../helpers/world.js';

const PLUGIN = 'dist/stash-plugin/stash2plex.cjs';
const WORKER = 'dist/workers/worker.js';

let world: World;
let conn: ReturnType<typeof connectRedis>;
let queue: Queue<SyncJobData>;
let worker: Proc;
let pluginDir: string;

beforeAll(async () => {
  world = await startWorld({ scenes: 6, prefixName: 'group-rename', stash: { clockSkewMs: -300_000 } });
  conn = connectRedis(world.config);
  queue = createSyncQueue(conn, world.prefix);
  pluginDir = mkdtempSync(join(tmpdir(), 's2p-group-plugin-'));
  worker = startProcess(WORKER, world.env);
});
afterAll(async () => {
  await worker?.stop();
  await queue?.close();
  conn?.disconnect();
  await world?.stop();
  rmSync(pluginDir, { recursive: true, force: true });
});

describe('renaming a group renames its Plex collection', () => {
  it('Group.Update.Post → one fan-out → the same collection under the new name, its members with it', async () => {
    const front = await sharp({ create: { width: 400, height: 600, channels: 3, background: { r: 20, g: 30, b: 200 } } })
      .jpeg()
      .toBuffer();
    const group = world.stash.addGroup('Old Saga', { bytes: front, contentType: 'image/jpeg' }, 'A saga.');
    const sceneIds = world.stash.sceneIds();
    const members = sceneIds.slice(0, 2);
    for (const id of members) world.stash.updateScene(id, { group_ids: [group] });
    for (const id of sceneIds)
      await conn.xadd(
        `${world.prefix}:inbox`,
        '*',
        ...encodeInboxEntry({ sceneId: id, reason: 'manual', event: 'sync_all', enqueuedAt: Date.now() }),
      );
    await waitFor(async () => (await queue.getJobCounts('completed')).completed >= sceneIds.length, 30_000, 'the first sync');
    const section = world.plex.sections()[0].key;
    await waitFor(() => world.plex.collection(section, 'Old Saga')?.poster != null, 10_000, "the group's collection with its cover");
    const before = world.plex.collection(section, 'Old Saga')!;
    expect(before).toMatchObject({ childCount: 2, summary: 'A saga.' });

    world.stash.updateGroup(group, { name: 'New Saga' });
    const editsBefore = world.plex.requests.length;
    const hook = await runNode(
      PLUGIN,
      JSON.stringify({
        server_connection: { Scheme: 'http', Host: '0.0.0.0', Port: 9, SessionCookie: null, Dir: pluginDir, PluginDir: pluginDir },
        args: {
          hookContext: {
            id: Number(group),
            type: 'Group.Update.Post',
            input: { id: group, name: 'New Saga' },
            inputFields: ['name', 'id'],
          },
        },
      }),
      { REDIS_URL: world.env.REDIS_URL, REDIS_PREFIX: world.prefix },
    );
    expect(hook.code, hook.stderr).toBe(0);
    expect(JSON.parse(hook.stdout)).toEqual({ output: expect.stringContaining(`group ${group}`) as string });

    await waitFor(() => world.plex.collection(section, 'New Saga') !== undefined, 30_000, 'the collection under its new name');
    await waitFor(
      async () => (await queue.getJobCounts('completed')).completed >= sceneIds.length + members.length,
      30_000,
      'the fan-out jobs to complete',
    );
    expect(world.plex.collection(section, 'New Saga')).toMatchObject({
      ratingKey: before.ratingKey,
      childCount: 2,
      summary: 'A saga.',
      poster: { sha256: before.poster!.sha256 },
    });
    expect(world.plex.collection(section, 'Old Saga')).toBeUndefined();
    for (const id of members) expect(world.plex.item(world.ratingKeyOf.get(id)!)!.collection).toEqual(['New Saga']);
    // No other scene's item was edited.
    const others = new Set(sceneIds.slice(2).map((id) => world.ratingKeyOf.get(id)!));
    const edited = world.plex.requests
      .slice(editsBefore)
      .filter((r) => r.method === 'PUT')
      .flatMap((r) => (new URL(r.path, 'http://plex.invalid').searchParams.get('id') ?? '').split(','));
    expect(edited.filter((k) => others.has(k))).toEqual([]);
  });
});
