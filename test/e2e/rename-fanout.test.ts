// A rename end to end, with real processes: a performer renamed in Stash fires Performer.Update.Post
// (no scene hook); the Node hook records one fan-out event; a worker process fans it out to the scenes
// carrying that performer and syncs them. Every such scene shows the new actor name in Plex; the
// scenes without the performer get no edit at all.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PlexSimulator, type SimRequest } from '../../src/sim/plex.js';
import { startHookWorkerRig, type HookWorkerRig } from '../helpers/hook-worker-rig.js';
import { waitFor } from '../helpers/wait.js';

const OLD_NAME = 'Performer 1';
const NEW_NAME = 'Performer One (renamed)';

let rig: HookWorkerRig;

/** The ratingKey an edit request is about (the section edit's `id`, the rating's `key`, a poster's path). */
function editedRatingKeys(r: SimRequest): string[] {
  const url = new URL(r.path, 'http://plex.invalid');
  if (r.method === 'PUT' && url.pathname.endsWith('/all')) return (url.searchParams.get('id') ?? '').split(',').filter(Boolean);
  if (url.pathname === '/:/rate') return [url.searchParams.get('key') ?? ''];
  const poster = /^\/library\/metadata\/([^/]+)\/posters$/.exec(url.pathname);
  return poster ? [poster[1]] : [];
}

beforeAll(async () => {
  rig = await startHookWorkerRig({ scenes: 12, prefixName: 'rename', env: { LOG_LEVEL: 'info' } });
});
afterAll(async () => {
  await rig?.stop();
});

/** The rating keys a `/library/metadata/{k1},{k2},…` request reads (the worker coalesces item reads). */
function metadataKeys(path: string): string[] {
  return /^\/library\/metadata\/([\d,]+)/.exec(path)?.[1]!.split(',') ?? [];
}

describe('renaming a performer re-syncs exactly the scenes carrying it', () => {
  it('Performer.Update.Post → one fan-out → the new actor name on every scene with the performer, no edit elsewhere', async () => {
    const { world, queue, worker, conn } = rig;
    const sceneIds = world.stash.sceneIds();
    expect(sceneIds).toHaveLength(12);

    // 1. Sync the whole library once, through the inbox (as Sync All Scenes does).
    await rig.syncAll(sceneIds, 'the first sync of 12 scenes');
    const carriers = sceneIds.filter((id) => world.stash.scene(id)!.performers.some((p) => p.name === OLD_NAME));
    const others = sceneIds.filter((id) => !carriers.includes(id));
    expect(carriers.length).toBeGreaterThan(1);
    expect(others.length).toBeGreaterThan(1);
    for (const id of carriers) expect(world.plex.item(world.ratingKeyOf.get(id)!)!.actor).toContain(OLD_NAME);
    const performerId = world.stash.scene(carriers[0])!.performers.find((p) => p.name === OLD_NAME)!.id;

    // 2. Rename it in Stash: no scene changes (updated_at untouched), so no scene hook; Stash fires
    //    Performer.Update.Post with the fields given.
    const editsBefore = world.plex.requests.length;
    const updatedAt = new Map(sceneIds.map((id) => [id, world.stash.scene(id)!.updated_at]));
    world.stash.renamePerformer(performerId, NEW_NAME);
    for (const id of sceneIds) expect(world.stash.scene(id)!.updated_at).toBe(updatedAt.get(id));

    const hook = await rig.runHook({
      id: Number(performerId),
      type: 'Performer.Update.Post',
      input: { id: performerId, name: NEW_NAME },
      inputFields: ['name', 'id'],
    });
    expect(hook.code, hook.stderr).toBe(0);
    expect(JSON.parse(hook.stdout)).toEqual({ output: `queued performer ${performerId}: every scene with it is re-synced` });

    // 3. The worker fans out: every carrier shows the new name.
    await waitFor(
      () => carriers.every((id) => world.plex.item(world.ratingKeyOf.get(id)!)!.actor.includes(NEW_NAME)),
      30_000,
      'the new actor name on every scene with the performer',
    );
    await waitFor(
      async () => (await queue.getJobCounts('completed')).completed >= 12 + carriers.length,
      30_000,
      'the fan-out jobs to complete',
    );
    await waitFor(
      async () => {
        const c = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
        return c.waiting + c.active + c.delayed + c.prioritized === 0;
      },
      10_000,
      'an idle queue',
    );
    for (const id of carriers) {
      const actors = world.plex.item(world.ratingKeyOf.get(id)!)!.actor;
      expect(actors).toContain(NEW_NAME);
      expect(actors).not.toContain(OLD_NAME);
    }

    // 4. Only the carriers were edited: no PUT (nor rating, nor poster) on any other scene's item.
    const after = world.plex.requests.slice(editsBefore);
    const edited = new Set(after.filter((r) => PlexSimulator.isEdit(r)).flatMap(editedRatingKeys));
    expect([...edited].sort()).toEqual(carriers.map((id) => world.ratingKeyOf.get(id)!).sort());
    for (const id of others) {
      const rk = world.ratingKeyOf.get(id)!;
      expect(
        after.filter((r) => r.method === 'PUT' && editedRatingKeys(r).includes(rk)),
        `scene ${id}`,
      ).toEqual([]);
      // Not even read: a re-sync of every scene would send no edit either (the worker diffs first), but
      // it would fetch each item; the fan-out must not touch these scenes at all.
      expect(
        after.filter((r) => metadataKeys(r.path).includes(rk)),
        `scene ${id}`,
      ).toEqual([]);
      expect(world.plex.item(rk)!.actor).not.toContain(NEW_NAME);
    }
    for (const id of carriers)
      expect(
        after.some((r) => metadataKeys(r.path).includes(world.ratingKeyOf.get(id)!)),
        `scene ${id} read`,
      ).toBe(true);
    expect((await queue.getJobCounts('completed')).completed).toBe(12 + carriers.length);
    expect(worker.output()).toMatch(new RegExp(`performer ${performerId} changed: ${carriers.length} scene\\(s\\) to re-sync`));
    expect(await conn.xlen(`${world.prefix}:inbox`)).toBe(0);
  }, 90_000);
});
