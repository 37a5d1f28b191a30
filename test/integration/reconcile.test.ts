// Reconciliation: changes whose hook events never arrived still reach Plex.
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/core/log.js';
import { connectRedis, keys, type RedisConnection } from '../../src/core/redis.js';
import { parseOutages } from '../../src/resilience/store.js';
import { startSupervisorRole, type SupervisorRole } from '../../src/roles/supervisor.js';
import { PlexSimulator, type SimRequest } from '../../src/sim/plex.js';
import { encodeInboxEntry } from '../../src/model/inbox-item.js';
import { createSyncQueue } from '../../src/sync/queue.js';
import { startWorkerRole, type WorkerRole } from '../../src/roles/worker.js';
import { waitFor } from '../helpers/wait.js';
import { startWorld, type World, type WorldOptions } from '../helpers/world.js';

const quiet = createLogger({ level: 'silent' });
const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
});

async function rig(env: Record<string, string>, stash?: WorldOptions['stash']) {
  const world = await startWorld({
    scenes: 8,
    stash,
    prefixName: 'rec',
    env: {
      SYNC_POSTER: 'false',
      BREAKER_FAILURE_THRESHOLD: '2',
      BREAKER_RECOVERY_TIMEOUT_MS: '300',
      HEALTH_INTERVAL_MS: '200',
      HEALTH_MAX_INTERVAL_MS: '400',
      HEALTH_CLOSED_INTERVAL_MS: '200',
      RAMP_DURATION_MS: '500',
      ...env,
    },
  });
  stops.push(() => world.stop());
  const redis = connectRedis(world.config);
  const queue = createSyncQueue(redis, world.prefix);
  stops.push(async () => {
    await queue.close();
    redis.disconnect();
  });
  const worker: WorkerRole = await startWorkerRole(world.config, quiet);
  stops.push(() => worker.stop());
  return { world, redis, queue };
}
async function supervise(world: World): Promise<SupervisorRole> {
  const s = await startSupervisorRole(world.config, quiet, { tickMs: 100 });
  stops.push(() => s.stop());
  return s;
}
/** Waits until the supervisor has set its first checkpoint mark in Redis. */
async function firstCheckpoint(redis: RedisConnection, world: World): Promise<void> {
  const mark = keys(world.prefix).reconcileCheckpoint;
  await waitFor(async () => (await redis.get(mark)) !== null, 10_000, 'the first checkpoint');
}
/** The first sync of these scenes, through the inbox (as Sync All does). */
async function syncAll(redis: RedisConnection, world: World, sceneIds: readonly string[]): Promise<void> {
  for (const sceneId of sceneIds) {
    await redis.xadd(
      keys(world.prefix).inbox,
      '*',
      ...encodeInboxEntry({ sceneId, reason: 'manual', event: 'sync_all', enqueuedAt: Date.now() }),
    );
  }
}
const title = (w: World, id: string) => w.plex.item(w.ratingKeyOf.get(id)!)!.title;
const actors = (w: World, id: string) => w.plex.item(w.ratingKeyOf.get(id)!)!.actor;
/** The ratingKeys a PUT edit (section edit `id=`) is about. */
const putRatingKeys = (r: SimRequest) =>
  r.method === 'PUT' ? (new URL(r.path, 'http://plex.invalid').searchParams.get('id') ?? '').split(',').filter(Boolean) : [];

describe('reconciliation', () => {
  it('after an outage re-syncs the scenes Stash changed during it, hook events or not', async () => {
    const { world, redis } = await rig({ RECONCILE_INTERVAL_MS: '0', RECONCILE_AFTER_OUTAGE: 'true' });
    await supervise(world);
    await world.plex.setMode('down');
    await waitFor(async () => (await redis.hget(keys(world.prefix).breaker, 'state')) === 'OPEN', 5_000, 'OPEN');
    // Edits made while Plex is down; their hook events were never delivered (nothing enqueued).
    const changed = ['2', '5', '7'];
    for (const id of changed) world.stash.updateScene(id, { title: `Changed during outage ${id}` });
    await world.plex.setMode('up');
    await waitFor(() => changed.every((id) => title(world, id) === `Changed during outage ${id}`), 15_000, 'changed scenes synced');
  });

  // A short outage re-syncs what changed during it, not every scene changed in the hour before (the query
  // is an hour wide for Stash's text comparison; what comes back is kept by its instant).
  it.each([
    ['a Stash at UTC−8', { utcOffsetMinutes: -480 }],
    ['a Stash at UTC+9', { utcOffsetMinutes: 540 }],
    ['a Stash whose clock is 10 minutes behind', { clockSkewMs: -600_000 }],
  ] as const)('a short outage re-syncs only the scenes changed during it on %s', async (_, stash) => {
    const { world, redis, queue } = await rig({ RECONCILE_INTERVAL_MS: '0', RECONCILE_AFTER_OUTAGE: 'true' }, stash);
    const skew = 'clockSkewMs' in stash ? stash.clockSkewMs : 0;
    // Every scene last changed within the hour before the outage (on Stash's clock), none during it.
    const minutesAgo = [55, 40, 30, 20, 10, 5, 3, 2];
    world.stash.sceneIds().forEach((id, i) => world.stash.updateScene(id, { updated_at: Date.now() + skew - minutesAgo[i] * 60_000 }));
    await supervise(world);
    await world.plex.setMode('down');
    await waitFor(async () => (await redis.hget(keys(world.prefix).breaker, 'state')) === 'OPEN', 5_000, 'OPEN');
    const changed = ['2', '5', '7']; // edited during the outage, hook events lost
    for (const id of changed) world.stash.updateScene(id, { title: `Changed during outage ${id}` });
    await world.plex.setMode('up');
    await waitFor(() => changed.every((id) => title(world, id) === `Changed during outage ${id}`), 15_000, 'changed scenes synced');
    // The window's scenes come in one page, so every reconcile job exists once these ran.
    const jobs = await queue.getJobs(['completed', 'active', 'waiting', 'prioritized', 'delayed', 'failed']);
    expect(
      jobs
        .filter((j) => j.data.reason === 'reconcile')
        .map((j) => j.data.sceneId)
        .sort(),
    ).toEqual(changed);
  });

  it('counts as an outage’s jobs affected only the jobs it held, not re-syncs due meanwhile', async () => {
    const { world, redis, queue } = await rig({ RECONCILE_INTERVAL_MS: '300', RECONCILE_AFTER_OUTAGE: 'true' });
    const k = keys(world.prefix);
    for (const id of world.stash.sceneIds()) world.stash.updateScene(id, { updated_at: Date.now() - 20 * 60_000 });
    // A checkpoint walks from its mark's own second (a change in it may come after the mark was read), and
    // the performers, studios and tags were all made in one second at the start: let Stash's clock leave
    // that second, then make the newest change one no scene carries, so checkpoints queue nothing.
    const startSecond = Math.floor(Date.now() / 1000);
    await waitFor(() => Math.floor(Date.now() / 1000) > startSecond, 2_000, 'the next second');
    world.stash.addPerformer('In no scene');
    const role = await supervise(world);
    await waitFor(async () => (await redis.get(k.reconcileCheckpoint)) !== null, 5_000, 'the first checkpoint');
    await world.plex.setMode('down');
    await waitFor(async () => (await redis.hget(k.breaker, 'state')) === 'OPEN', 5_000, 'OPEN');
    const clockReads = world.stash.count({ operationName: 'StashClock' });
    // The outage's work: three edits whose hook events arrive while the queue is paused.
    const edited = ['2', '5', '7'];
    for (const sceneId of edited) {
      world.stash.updateScene(sceneId, { title: `Edited during outage ${sceneId}` });
      await redis.xadd(
        k.inbox,
        '*',
        ...encodeInboxEntry({ sceneId, reason: 'hook', event: 'Scene.Update.Post', fields: ['title'], enqueuedAt: Date.now() }),
      );
    }
    const held = async () => Object.values(await queue.getJobCounts('waiting', 'prioritized', 'delayed')).reduce((a, b) => a + b, 0);
    await waitFor(async () => (await held()) >= edited.length, 5_000, 'the hook jobs held');
    // Checkpoints fall due every 300 ms; let several pass while the breaker is OPEN (probes mark the ticks).
    const probes = new Set<number>();
    await waitFor(
      () => {
        const at = role.supervisor.snapshot()?.health.lastProbeAt;
        if (at) probes.add(at);
        return probes.size > 4;
      },
      10_000,
      'probes while OPEN',
      20,
    );
    expect(await redis.hget(k.breaker, 'state')).toBe('OPEN');
    const clockReadsWhileOpen = world.stash.count({ operationName: 'StashClock' }) - clockReads;
    await world.plex.setMode('up');
    const closed = async () => parseOutages(await redis.get(k.outages), [])[0];
    await waitFor(async () => (await closed())?.endedAt != null, 10_000, 'the outage closed');
    expect((await closed()).jobsAffected).toBe(edited.length);
    expect(clockReadsWhileOpen, 'no reconciliation while the queue is held').toBe(0);
    // Reconciliation runs once it closed: the outage's own window, then the checkpoint that fell due.
    await waitFor(() => edited.every((id) => title(world, id) === `Edited during outage ${id}`), 10_000, 'the edits synced');
    await waitFor(() => world.stash.count({ operationName: 'StashClock' }) > clockReads, 5_000, 'reconciliation after the outage');
  });

  it('at each checkpoint catches changes whose hook events were lost', async () => {
    const { world, queue, redis } = await rig({ RECONCILE_INTERVAL_MS: '500' });
    await supervise(world);
    await firstCheckpoint(redis, world);
    world.stash.updateScene('3', { title: 'Edited, hook lost' });
    await waitFor(() => title(world, '3') === 'Edited, hook lost', 10_000, 'scene 3 synced by a checkpoint');
    // The Plex edit lands before its job completes: wait for the job, not just the title.
    await waitFor(
      async () =>
        (await queue.getJobs(['completed'])).some((j) => j.data.sceneId === '3' && j.data.reason === 'reconcile' && j.opts.priority === 10),
      5_000,
      'a completed bulk-priority reconcile job for scene 3',
    );
  });

  // Stash writes updated_at in its own zone and compares it as text; its clock need not be ours.
  it.each([
    ['a Stash at UTC−8', { utcOffsetMinutes: -480 }],
    ['a Stash at UTC+9', { utcOffsetMinutes: 540 }],
    ['a Stash whose clock is 10 minutes behind', { clockSkewMs: -600_000 }],
  ] as const)('a checkpoint finds a change made just before it on %s', async (_, stash) => {
    const { world, redis } = await rig({ RECONCILE_INTERVAL_MS: '500' }, stash);
    await supervise(world);
    const mark = keys(world.prefix).reconcileCheckpoint;
    await waitFor(async () => (await redis.get(mark)) !== null, 5_000, 'the first checkpoint');
    // The mark is Stash's own newest change, as Stash wrote it (in its zone).
    expect(await redis.get(mark)).toBe(world.stash.scene(world.stash.sceneIds().at(-1)!)!.updated_at);
    world.stash.updateScene('3', { title: 'Edited, hook lost' }); // no hook event at all
    await waitFor(() => title(world, '3') === 'Edited, hook lost', 10_000, 'scene 3 synced by a checkpoint');
  });

  it('reads a checkpoint an earlier version stored (epoch ms) and moves it to Stash’s terms', async () => {
    const { world, redis } = await rig({ RECONCILE_INTERVAL_MS: '500' }, { utcOffsetMinutes: -480 });
    const mark = keys(world.prefix).reconcileCheckpoint;
    await redis.set(mark, String(Date.now() - 5_000));
    world.stash.updateScene('6', { title: 'Edited before the upgrade, hook lost' });
    await supervise(world);
    await waitFor(() => title(world, '6') === 'Edited before the upgrade, hook lost', 10_000, 'scene 6 synced by the first checkpoint');
    await waitFor(async () => (await redis.get(mark))?.endsWith('-08:00') === true, 5_000, 'the mark in Stash’s zone');
  });

  it('catches up at start on what changed while stash2plex was down (the HTTP hook could not deliver)', async () => {
    const { world, redis } = await rig({ RECONCILE_INTERVAL_MS: '600000' });
    const first = await startSupervisorRole(world.config, quiet, { tickMs: 100 });
    await firstCheckpoint(redis, world); // set at start
    await first.stop(); // stash2plex goes down…
    world.stash.updateScene('4', { title: 'Edited while stash2plex was down' }); // …and this hook event is lost
    await new Promise((r) => setTimeout(r, 1_100)); // Stash stores updated_at in whole seconds
    await supervise(world); // starts again: the checkpoint in Redis says where to resume
    await waitFor(() => title(world, '4') === 'Edited while stash2plex was down', 10_000, 'scene 4 synced after the restart');
  });

  it('at each checkpoint fans out performers renamed without a hook, editing only the scenes carrying them', async () => {
    const { world, redis, queue } = await rig({ RECONCILE_INTERVAL_MS: '500' });
    const sceneIds = world.stash.sceneIds();
    // Scenes last changed long ago: the checkpoints' scene window (widened by 61 min) must not re-sync
    // them, so only the performer fan-out can carry the rename to Plex.
    for (const id of sceneIds) world.stash.updateScene(id, { updated_at: Date.now() - 3 * 3_600_000 });
    await supervise(world);
    await syncAll(redis, world, sceneIds);
    await waitFor(() => sceneIds.every((id) => actors(world, id).length > 0), 10_000, 'the first sync');
    // Stash's clock two minutes on: the library's creation (the mark's second) settles at the next
    // checkpoint, which then stops fanning it out again, so the queue goes idle even on a loaded machine.
    world.stash.setClockSkewMs(120_000);
    // A checkpoint after the first sync, with every job of it done: what follows is the rename's alone.
    await firstCheckpoint(redis, world);
    const readsAfterSync = world.stash.count({ operationName: 'StashClock' });
    await waitFor(
      async () => {
        const counts = await queue.getJobCounts('active', 'waiting', 'prioritized', 'delayed');
        return world.stash.count({ operationName: 'StashClock' }) > readsAfterSync && Object.values(counts).every((n) => n === 0);
      },
      10_000,
      'a checkpoint after the first sync, the queue idle',
    );
    const carriers = sceneIds.filter((id) => world.stash.scene(id)!.performers.some((p) => p.name === 'Performer 1'));
    const others = sceneIds.filter((id) => !carriers.includes(id));
    expect(carriers.length).toBeGreaterThan(0);
    expect(others.length).toBeGreaterThan(0);
    const performerId = world.stash.scene(carriers[0])!.performers.find((p) => p.name === 'Performer 1')!.id;

    const before = world.plex.requests.length;
    world.stash.renamePerformer(performerId, 'Performer One (renamed, hook lost)'); // no hook at all
    await waitFor(
      () => carriers.every((id) => actors(world, id).includes('Performer One (renamed, hook lost)')),
      10_000,
      'the new actor name on every scene with the performer, from a checkpoint',
    );
    // Two further checkpoints (each reads Stash's clock) fan out again: still no edit elsewhere.
    const clockReads = world.stash.count({ operationName: 'StashClock' });
    await waitFor(() => world.stash.count({ operationName: 'StashClock' }) >= clockReads + 2, 10_000, 'two further checkpoints');
    const edited = new Set(
      world.plex.requests
        .slice(before)
        .filter((r) => PlexSimulator.isEdit(r))
        .flatMap(putRatingKeys),
    );
    for (const id of others) {
      expect(edited.has(world.ratingKeyOf.get(id)!), `scene ${id} edited`).toBe(false);
      expect(actors(world, id)).not.toContain('Performer One (renamed, hook lost)');
    }
    for (const id of carriers) expect(edited.has(world.ratingKeyOf.get(id)!), `scene ${id} edited`).toBe(true);
    const jobs = await queue.getJobs(['completed']);
    for (const id of carriers) {
      expect(
        jobs.some((j) => j.data.sceneId === id && j.data.event === 'reconcile:performer-updated'),
        `scene ${id} fanned out`,
      ).toBe(true);
    }
  });

  it("fans out the rename at the mark until a checkpoint saw the mark's second complete, then walks from the next second", async () => {
    const { world, redis } = await rig({ RECONCILE_INTERVAL_MS: '300' });
    const sceneIds = world.stash.sceneIds();
    for (const id of sceneIds) world.stash.updateScene(id, { updated_at: Date.now() - 3 * 3_600_000 });
    await supervise(world);
    await syncAll(redis, world, sceneIds);
    await waitFor(() => sceneIds.every((id) => actors(world, id).length > 0), 10_000, 'the first sync');
    await firstCheckpoint(redis, world);
    const performerId = world.stash.scene(sceneIds[0])!.performers[0].id;
    world.stash.renamePerformer(performerId, 'Renamed at the mark'); // no hook: the newest change, so the mark
    const carriers = sceneIds.filter((id) => world.stash.scene(id)!.performers.some((p) => p.id === performerId));
    await waitFor(() => carriers.every((id) => actors(world, id).includes('Renamed at the mark')), 10_000, 'the rename, from a checkpoint');
    const k = keys(world.prefix);
    // Fan-outs a checkpoint wrote to the inbox (after the first sync, nothing else writes there). Counted
    // when written, not when expanded: the expansion of one written before the mark settled may come later.
    const fanouts = async () => {
      const info = (await redis.xinfo('STREAM', k.inbox)) as unknown[];
      return Number(info[info.indexOf('entries-added') + 1]);
    };
    const clockReads = () => world.stash.count({ operationName: 'StashClock' });
    // Within MARK_SETTLE_MS of the rename, each checkpoint walks the mark's second again: fanned out again.
    const fannedOnce = await fanouts();
    await waitFor(async () => (await fanouts()) > fannedOnce, 10_000, 'the rename fanned out again by the next checkpoint');
    // Stash's clock two minutes on: the next checkpoint sees the mark's second complete.
    world.stash.setClockSkewMs(120_000);
    const mark = await redis.get(k.reconcileCheckpoint);
    await waitFor(async () => (await redis.get(k.reconcileSettled)) === mark, 10_000, 'the mark settled');
    const settledAt = { fanouts: await fanouts(), clockReads: clockReads() };
    await waitFor(() => clockReads() >= settledAt.clockReads + 3, 10_000, 'three further checkpoints');
    expect(await fanouts()).toBe(settledAt.fanouts);
    expect(await redis.get(k.reconcileCheckpoint)).toBe(mark);
    // A change after the mark is still caught.
    world.stash.renamePerformer(performerId, 'Renamed after the mark');
    await waitFor(() => carriers.every((id) => actors(world, id).includes('Renamed after the mark')), 10_000, 'the second rename');
  });

  it('at a checkpoint fans out a group renamed without a hook: its collection takes the new name', async () => {
    const { world, redis } = await rig({ RECONCILE_INTERVAL_MS: '500' });
    const group = world.stash.addGroup('Saga');
    const [a, b] = world.stash.sceneIds();
    for (const id of world.stash.sceneIds()) world.stash.updateScene(id, { updated_at: Date.now() - 3 * 3_600_000 });
    for (const id of [a, b]) world.stash.updateScene(id, { group_ids: [group], updated_at: Date.now() - 3 * 3_600_000 });
    await supervise(world);
    await syncAll(redis, world, [a, b]);
    const collections = (id: string) => world.plex.item(world.ratingKeyOf.get(id)!)!.collection;
    await waitFor(() => [a, b].every((id) => collections(id).includes('Saga')), 10_000, 'the first sync');
    await firstCheckpoint(redis, world);
    world.stash.updateGroup(group, { name: 'Saga (renamed, hook lost)' }); // no hook at all
    await waitFor(
      () => [a, b].every((id) => JSON.stringify(collections(id)) === JSON.stringify(['Saga (renamed, hook lost)'])),
      10_000,
      "the group's new name on both scenes' collection, from a checkpoint",
    );
  });
});
