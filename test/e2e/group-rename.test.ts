// A group renamed in Stash, end to end with real processes (issue 24, collections): Stash fires
// Group.Update.Post; the Node hook records one fan-out; the worker re-syncs the group's scenes, and the
// group's Plex collection takes the new name: the same collection (ratingKey, synopsis, poster kept),
// every member with it, and no other scene touched.
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHookWorkerRig, type HookWorkerRig } from '../helpers/hook-worker-rig.js';
import { waitFor } from '../helpers/wait.js';

let rig: HookWorkerRig;

beforeAll(async () => {
  rig = await startHookWorkerRig({ scenes: 6, prefixName: 'group-rename', stash: { clockSkewMs: -300_000 } });
});
afterAll(async () => {
  await rig?.stop();
});

describe('renaming a group renames its Plex collection', () => {
  it('Group.Update.Post → one fan-out → the same collection under the new name, its members with it', async () => {
    const { world, queue } = rig;
    const front = await sharp({ create: { width: 400, height: 600, channels: 3, background: { r: 20, g: 30, b: 200 } } })
      .jpeg()
      .toBuffer();
    const group = world.stash.addGroup('Old Saga', { bytes: front, contentType: 'image/jpeg' }, 'A saga.');
    const sceneIds = world.stash.sceneIds();
    const members = sceneIds.slice(0, 2);
    for (const id of members) world.stash.updateScene(id, { group_ids: [group] });
    await rig.syncAll(sceneIds, 'the first sync');
    const section = world.plex.sections()[0].key;
    await waitFor(() => world.plex.collection(section, 'Old Saga')?.poster != null, 10_000, "the group's collection with its cover");
    const before = world.plex.collection(section, 'Old Saga')!;
    expect(before).toMatchObject({ childCount: 2, summary: 'A saga.' });

    world.stash.updateGroup(group, { name: 'New Saga' });
    const editsBefore = world.plex.requests.length;
    const hook = await rig.runHook({
      id: Number(group),
      type: 'Group.Update.Post',
      input: { id: group, name: 'New Saga' },
      inputFields: ['name', 'id'],
    });
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
