// Restore (issue 20, part 7) against both simulators and the run's Redis: a scene whose Plex item had
// what its agent found is synced, then restored: the agent's title, summary, genres, rating and poster
// come back unlocked, the scene is kept out of sync (the next hook changes nothing) until it is resumed,
// and every rule (never written, changed in Plex since, dry run) holds.
import type { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/core/log.js';
import { connectRedis, keys, originalsKey, ownershipKey, type RedisConnection } from '../../src/core/redis.js';
import type { SyncJobData } from '../../src/model/inbox-item.js';
import type { PlexEdit } from '../../src/model/types.js';
import { startDashboard } from '../../src/dashboard/server.js';
import type { PlexClient } from '../../src/plex/client.js';
import { runRestore, runResume } from '../../src/restore/from-config.js';
import { restoreScenes } from '../../src/restore/run.js';
import { PlexSimulator } from '../../src/sim/plex.js';
import type { StatusJson } from '../../src/supervisor/status.js';
import { syncScene, type SyncDeps } from '../../src/sync/processor.js';
import { createSyncQueue } from '../../src/sync/queue.js';
import { worldSyncDeps } from '../helpers/sync-deps.js';
import { startWorld, type World } from '../helpers/world.js';

const quiet = createLogger({ level: 'silent' });
const AGENT_POSTER = { bytes: Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 1, 1]), contentType: 'image/jpeg' };

let world: World;
let redis: RedisConnection;
let queue: Queue<SyncJobData>;
let section: string;
let n = 0;

beforeAll(async () => {
  world = await startWorld({ scenes: 0, prefixName: 'restore' });
  redis = connectRedis(world.config);
  queue = createSyncQueue(redis, world.prefix);
  section = world.plex.sections()[0].key;
});
afterAll(async () => {
  await queue.close();
  redis.disconnect();
  await world.stop();
});

const k = () => keys(world.prefix);

const depsWith = (env: Record<string, string> = {}): SyncDeps => worldSyncDeps(world, redis, env);

/** A Stash scene with every field, and its Plex item as the agent left it (values, a poster, nothing locked). */
function agentPair(): { sceneId: string; ratingKey: string } {
  const name = `agent-${++n}`;
  const sceneId = world.stash.addScene({
    title: `Stash title ${n}`,
    details: `Stash details ${n}`,
    date: '2024-03-01',
    rating100: 80,
    studio_id: world.stash.addStudio('Stash Studio'),
    performer_ids: [world.stash.addPerformer('Stash Performer')],
    tag_ids: [world.stash.addTag('stash-tag')],
    files: [`/stash/videos/restore/${name}.mp4`],
  });
  const ratingKey = world.plex.addItem({
    sectionKey: section,
    title: 'The Agent Title',
    file: `/plex/videos/restore/${name}.mp4`,
    summary: 'What the agent found',
    genre: ['Drama', 'Agent Genre'],
    userRating: 6,
    poster: AGENT_POSTER,
  });
  return { sceneId, ratingKey };
}

const restore = (sceneIds: string[] | 'all', dryRun = false) =>
  runRestore(world.config, { scope: sceneIds === 'all' ? { all: true } : { sceneIds }, dryRun, log: quiet, redis });

/** What a person sees of an item in Plex (the fields stash2plex may touch, the poster, the locks). */
const shown = (ratingKey: string) => {
  const i = world.plex.item(ratingKey)!;
  return {
    title: i.title,
    summary: i.summary,
    studio: i.studio,
    date: i.originallyAvailableAt,
    genre: i.genre,
    actor: i.actor,
    userRating: i.userRating,
    posterKey: i.posterKey,
    locked: i.locked,
  };
};

describe('restore of a scene whose item had agent values', () => {
  it('puts title, summary, genres, rating and poster back unlocked; the next hook changes nothing; resume syncs it again', async () => {
    const deps = depsWith();
    const { sceneId, ratingKey } = agentPair();
    const agent = shown(ratingKey);
    expect(agent.locked).toEqual([]);
    expect(await syncScene(sceneId, deps)).toMatchObject({ ratingKey, posterUploaded: true });
    expect(shown(ratingKey)).toMatchObject({
      title: `Stash title ${n}`,
      genre: ['stash-tag'],
      posterKey: expect.stringMatching(/^upload:\/\//) as string,
    });

    const summary = await restore([sceneId]);
    expect(summary).toMatchObject({ restored: 1, excluded: 1, dryRun: false, failed: 0 });
    // The background too (SYNC_FIELDS' default): the item had none, the uploaded one stays, unlocked.
    expect(summary.scenes[0]).toMatchObject({
      sceneId,
      ratingKey,
      plexChanged: [],
      neverWritten: ['collection', 'actorphotos', 'originaltitle', 'sorttitle', 'tagline', 'labels'],
    });
    expect(summary.scenes[0].restored.sort()).toEqual([
      'actors',
      'background',
      'contentrating',
      'date',
      'genres',
      'poster',
      'rating',
      'studio',
      'summary',
      'title',
    ]);
    expect(summary).toMatchObject({ fields: 10, skipped: { neverWritten: 6, plexChanged: 0 } });
    expect(shown(ratingKey)).toEqual(agent);
    expect(await redis.exists(ownershipKey(k(), ratingKey), originalsKey(k(), ratingKey))).toBe(0);
    expect(JSON.parse((await redis.hget(k().syncExcluded, sceneId))!)).toMatchObject({ why: 'restored', ratingKey });

    // The next hook: the scene changed in Stash, its job runs, and Plex is not asked anything.
    world.stash.updateScene(sceneId, { title: 'Edited again in Stash' });
    world.plex.resetCounters();
    expect(await syncScene(sceneId, deps)).toEqual({ skipped: expect.stringMatching(/^excluded from sync \(restored\)/) as string });
    expect(world.plex.count()).toBe(0);
    expect(shown(ratingKey)).toEqual(agent);

    // Resume: the exclusion goes, a bulk sync is queued, and that sync runs as a first sync would.
    const resumed = await runResume(world.config, { scope: { sceneIds: [sceneId] }, dryRun: false, redis, queue });
    expect(resumed).toEqual({ resumed: 1, queued: 1, notExcluded: 0, sceneIds: [sceneId], dryRun: false });
    expect(await redis.hexists(k().syncExcluded, sceneId)).toBe(0);
    const [job] = await queue.getJobs(['prioritized', 'waiting']);
    expect(job).toMatchObject({ data: { sceneId, reason: 'manual', event: 'restore_resume' }, opts: { priority: 10 } });
    await job.remove();
    await syncScene(sceneId, deps);
    expect(shown(ratingKey)).toMatchObject({ title: 'Edited again in Stash', genre: ['stash-tag'] });
    expect(JSON.parse((await redis.hget(originalsKey(k(), ratingKey), 'title'))!)).toEqual({ value: 'The Agent Title', locked: false });
  });
});

describe('the rules', () => {
  it('a field stash2plex never wrote is skipped as neverWritten and left as Plex has it', async () => {
    const deps = depsWith({ SYNC_FIELDS: 'title' });
    const { sceneId, ratingKey } = agentPair();
    await syncScene(sceneId, deps);
    // Someone edits the summary in Plex: not stash2plex's, so the restore must not touch it.
    await deps.plex.applyEdit(section, ratingKey, { scalars: { summary: 'Typed in Plex' }, tags: {} });
    const summary = await restore([sceneId]);
    expect(summary).toMatchObject({ restored: 1, fields: 1, skipped: { neverWritten: 15, plexChanged: 0 } });
    expect(shown(ratingKey)).toMatchObject({ title: 'The Agent Title', summary: 'Typed in Plex', locked: ['summary'] });
  });

  it('a scene never synced: every field neverWritten, nothing sent, not excluded', async () => {
    const { sceneId } = agentPair();
    world.plex.resetCounters();
    const summary = await restore([sceneId]);
    expect(summary).toMatchObject({ restored: 0, fields: 0, excluded: 0, skipped: { neverWritten: 16, plexChanged: 0 } });
    expect(world.plex.editCount()).toBe(0);
    expect(await redis.hexists(k().syncExcluded, sceneId)).toBe(0);
  });

  it('a field changed in Plex since stash2plex wrote it is reported as plexChanged and left untouched', async () => {
    const deps = depsWith();
    const { sceneId, ratingKey } = agentPair();
    await syncScene(sceneId, deps);
    await deps.plex.applyEdit(section, ratingKey, { scalars: { title: 'My Plex Title' }, tags: {} });
    const summary = await restore([sceneId]);
    expect(summary).toMatchObject({ restored: 1, excluded: 1, skipped: { plexChanged: 1 } });
    expect(summary.scenes[0].plexChanged).toEqual(['title']);
    expect(shown(ratingKey)).toMatchObject({
      title: 'My Plex Title',
      summary: 'What the agent found',
      genre: ['Drama', 'Agent Genre'],
      locked: ['title'],
    });
  });

  it('a poster someone picked in Plex since is left; the rest is restored', async () => {
    const deps = depsWith();
    const { sceneId, ratingKey } = agentPair();
    await syncScene(sceneId, deps);
    const plex = deps.plex as PlexClient;
    await plex.uploadPoster(section, ratingKey, Buffer.from([0x89, 0x50, 0x4e, 0x47, 7]), 'image/png');
    const picked = world.plex.item(ratingKey)!.posterKey;
    const summary = await restore([sceneId]);
    expect(summary.scenes[0].plexChanged).toEqual(['poster']);
    expect(shown(ratingKey)).toMatchObject({ posterKey: picked, title: 'The Agent Title', locked: ['thumb'] });
  });

  it('a dry run changes nothing in Plex or Redis and reports what the real run then does', async () => {
    const deps = depsWith();
    const { sceneId, ratingKey } = agentPair();
    await syncScene(sceneId, deps);
    const before = {
      plex: world.plex.item(ratingKey),
      own: await redis.hgetall(ownershipKey(k(), ratingKey)),
      orig: await redis.hgetall(originalsKey(k(), ratingKey)),
    };
    world.plex.resetCounters();
    const dry = await restore([sceneId], true);
    expect(world.plex.count((r) => PlexSimulator.isEdit(r))).toBe(0);
    expect(world.plex.item(ratingKey)).toEqual(before.plex);
    expect(await redis.hgetall(ownershipKey(k(), ratingKey))).toEqual(before.own);
    expect(await redis.hgetall(originalsKey(k(), ratingKey))).toEqual(before.orig);
    expect(await redis.hexists(k().syncExcluded, sceneId)).toBe(0);
    const real = await restore([sceneId]);
    const { durationMs: _a, ...dryFigures } = dry;
    const { durationMs: _b, ...realFigures } = real;
    expect(dryFigures).toEqual({ ...realFigures, dryRun: true });
    expect(dry).toMatchObject({ restored: 1, fields: 10, excluded: 1 });
  });

  it('--all restores every scene whose item has kept originals, and resume --all brings them all back', async () => {
    const deps = depsWith();
    const pairs = [agentPair(), agentPair()];
    const untouched = agentPair();
    for (const p of pairs) await syncScene(p.sceneId, deps);
    await redis.hset(k().plexSceneItem, untouched.sceneId, untouched.ratingKey); // a hint, but nothing kept
    const summary = await restore('all');
    expect(summary.scenes.map((s) => s.sceneId)).toEqual(expect.arrayContaining(pairs.map((p) => p.sceneId)));
    expect(summary.scenes.map((s) => s.sceneId)).not.toContain(untouched.sceneId);
    for (const p of pairs) expect(shown(p.ratingKey)).toMatchObject({ title: 'The Agent Title', locked: [] });
    const excluded = await redis.hkeys(k().syncExcluded);
    expect(excluded).toEqual(expect.arrayContaining(pairs.map((p) => p.sceneId)));
    const resumed = await runResume(world.config, { scope: { all: true }, dryRun: false, redis, queue });
    expect(resumed.resumed).toBe(excluded.length);
    expect(await redis.hlen(k().syncExcluded)).toBe(0);
    await queue.obliterate({ force: true });
  });

  it('an item Plex no longer has: that scene fails with the reason, its originals are forgotten, the run goes on', async () => {
    const deps = depsWith();
    const gone = agentPair();
    const fine = agentPair();
    for (const p of [gone, fine]) await syncScene(p.sceneId, deps);
    world.plex.removeItem(gone.ratingKey);
    const summary = await restore([gone.sceneId, fine.sceneId]);
    expect(summary).toMatchObject({ restored: 1, failed: 1, excluded: 1 });
    expect(summary.scenes[0]).toMatchObject({ sceneId: gone.sceneId, error: expect.stringMatching(/^PlexNotFound: /) as string });
    expect(await redis.exists(originalsKey(k(), gone.ratingKey))).toBe(0);
  });

  it('Plex failing at the put-back: the run stops with its error, and the scene is not left excluded', async () => {
    const deps = depsWith();
    const { sceneId, ratingKey } = agentPair();
    await syncScene(sceneId, deps);
    const plex = deps.plex as PlexClient;
    // Plex answers the reads, then starts failing (503) just as the edit is sent.
    const failing = {
      getItem: (rk: string) => plex.getItem(rk),
      posters: (rk: string) => plex.posters(rk),
      selectPoster: async (rk: string, key: string) => {
        await world.plex.setMode('503');
        return plex.selectPoster(rk, key);
      },
      applyEdit: (sk: string, rk: string, edit: PlexEdit) => plex.applyEdit(sk, rk, edit),
      arts: (rk: string) => plex.arts(rk),
      selectArt: (rk: string, key: string) => plex.selectArt(rk, key),
      collection: (rk: string) => plex.collection(rk),
      editCollection: (sk: string, rk: string, fields: { summary?: string }, unlock?: readonly string[]) =>
        plex.editCollection(sk, rk, fields, unlock),
    };
    try {
      await expect(
        restoreScenes({ redis, keys: k(), plex: failing }, { scope: { sceneIds: [sceneId] }, dryRun: false }),
      ).rejects.toMatchObject({ type: 'PlexTemporaryError' });
    } finally {
      await world.plex.setMode('up');
    }
    expect(await redis.hexists(k().syncExcluded, sceneId)).toBe(0);
    expect(await redis.exists(originalsKey(k(), ratingKey))).toBe(1);
  });
});

describe('the status page: POST /api/restore, the excluded scenes in /api/status, Sync again', () => {
  it('a dry run by default, then the real run; /api/status lists the scene; resume brings it back and queues its sync', async () => {
    const deps = depsWith();
    const { sceneId, ratingKey } = agentPair();
    await syncScene(sceneId, deps);
    const dash = await startDashboard({ ...world.config, dashboard: { ...world.config.dashboard, port: 0 } }, quiet, {
      redis,
      queues: [queue],
    });
    try {
      const post = async (path: string, body: unknown, headers: Record<string, string> = { 'X-Requested-With': 'stash2plex' }) => {
        const res = await fetch(`${dash.url}${path}`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', ...headers },
          body: JSON.stringify(body),
        });
        return { status: res.status, json: (await res.json()) as Record<string, unknown> };
      };
      const status = async () => (await (await fetch(`${dash.url}/api/status`)).json()) as Required<StatusJson>;
      expect((await post('/api/restore', { sceneIds: [sceneId], dryRun: false }, { Origin: 'http://evil.example' })).status).toBe(403);
      const dry = await post('/api/restore', { sceneIds: [sceneId] });
      expect(dry.json).toMatchObject({
        dryRun: true,
        restored: 1,
        excluded: 1,
        text: expect.stringMatching(/^Dry run: 1 scene would be restored/) as string,
      });
      expect(world.plex.item(ratingKey)!.title).toBe(`Stash title ${n}`);
      const before = (await status()).excluded;
      expect(before.scenes.map((x: { sceneId: string }) => x.sceneId)).not.toContain(sceneId);

      const real = await post('/api/restore', { sceneIds: [sceneId], dryRun: false });
      expect(real.json).toMatchObject({
        dryRun: false,
        restored: 1,
        lines: expect.arrayContaining([
          expect.stringMatching(new RegExp(`^scene ${sceneId} \\(item ${ratingKey}\\): restored title`)),
        ]) as string[],
      });
      expect(world.plex.item(ratingKey)!.title).toBe('The Agent Title');
      const listed = (await status()).excluded;
      expect(listed.count).toBe(before.count + 1);
      expect(listed.scenes[0]).toMatchObject({ sceneId, why: 'restored', ratingKey });
      const page = await (await fetch(`${dash.url}/?partial=main`, { headers: { 'X-Requested-With': 'stash2plex' } })).text();
      expect(page).toContain(`data-resume="${sceneId}"`);

      const resumed = await post('/api/restore/resume', { sceneIds: [sceneId], dryRun: false });
      expect(resumed.json).toMatchObject({ resumed: 1, queued: 1 });
      expect((await status()).excluded.scenes.map((x: { sceneId: string }) => x.sceneId)).not.toContain(sceneId);
      expect((await queue.getJobs(['prioritized', 'waiting'])).map((j) => j.data.sceneId)).toContain(sceneId);
      await queue.obliterate({ force: true });
    } finally {
      await dash.stop();
    }
  });
});
