// `npm run explain` end to end: the built CLI (`node dist/workers/explain.js`) against both simulators and
// a real Redis. A synced scene since edited in Stash (set and keep, by the same decision the sync takes),
// an unmatched scene (every path tried, what the sync would do), a scene below SYNC_REQUIRE; bad input
// exits 2 with one line. Nothing in Redis or in Plex changes, whatever is explained.
import type { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectRedis, type RedisConnection } from '../../src/core/redis.js';
import type { Explanation } from '../../src/explain/explain.js';
import type { SyncJobData } from '../../src/model/inbox-item.js';
import { createSyncQueue, enqueueSync } from '../../src/sync/queue.js';
import { runScript, startProcess } from '../helpers/proc.js';
import { plexSnapshot, redisSnapshot } from '../helpers/snapshot.js';
import { waitFor } from '../helpers/wait.js';
import { startWorld, type World } from '../helpers/world.js';

const CLI = 'dist/workers/explain.js';
const WORKER = 'dist/workers/worker.js';

let world: World;
let redis: RedisConnection;
let queue: Queue<SyncJobData>;
let unmatched: string;
let bare: string;

const explain = async (args: string[]) => runScript(CLI, args, world.env, 30_000);
const explainJson = async (id: string): Promise<Explanation> => {
  const r = await explain([id, '--json']);
  expect(r.code, r.stderr).toBe(0);
  const lines = r.stdout.trim().split('\n');
  expect(lines).toHaveLength(1);
  return JSON.parse(lines[0]) as Explanation;
};

beforeAll(async () => {
  world = await startWorld({ scenes: 3, prefixName: 'explain' });
  // In Stash, not in Plex; and one with nothing but its file (SYNC_REQUIRE=metadata holds it back), in Plex.
  unmatched = world.stash.addScene({ title: 'Not in Plex', files: ['/stash/videos/elsewhere/lost.mp4'] });
  bare = world.stash.addScene({ files: ['/stash/videos/folder0/bare.mp4'] });
  world.plex.addItem({ sectionKey: world.plex.sections()[0].key, title: 'bare', file: '/plex/videos/folder0/bare.mp4' });
  redis = connectRedis(world.config);
  queue = createSyncQueue(redis, world.prefix);
  const worker = startProcess(WORKER, world.env);
  await enqueueSync(queue, { sceneId: '1', reason: 'hook', enqueuedAt: Date.now() }, world.config.errorStrategies);
  await waitFor(async () => (await queue.getJobCounts('completed')).completed === 1, 30_000, 'scene 1 synced');
  await worker.stop();
  world.stash.updateScene('1', { title: 'Scene 1, renamed in Stash' });
});
afterAll(async () => {
  await queue.close();
  redis.disconnect();
  await world.stop();
});

describe('npm run explain', () => {
  it('a synced scene: its match, the path tried, and per field what the next sync does; nothing changes', async () => {
    const redisBefore = await redisSnapshot(redis, world.prefix);
    const plexBefore = plexSnapshot(world.plex);
    const e = await explainJson('1');
    expect(Object.keys(e).slice(0, 6)).toEqual(['scene', 'requirements', 'tried', 'candidates', 'match', 'fields']);
    expect(e.scene).toMatchObject({ id: '1', title: 'Scene 1, renamed in Stash', files: [{ path: '/stash/videos/folder0/scene-1.mp4' }] });
    expect(e.requirements).toMatchObject({ require: ['metadata'], ready: true });
    expect(e.tried).toEqual([
      {
        stashPath: '/stash/videos/folder0/scene-1.mp4',
        plexPath: '/plex/videos/folder0/scene-1.mp4',
        section: { key: world.plex.sections()[0].key, title: 'Videos', location: '/plex/videos' },
        outcome: 'found',
        detail: `Plex item ${world.ratingKeyOf.get('1')}`,
      },
    ]);
    // The path cache's entry, kept by the sync, verified by reading the item.
    expect(e.candidates.filter((c) => c.taken)).toEqual([
      expect.objectContaining({ ratingKey: world.ratingKeyOf.get('1'), source: 'cache', taken: true }),
    ]);
    expect(e.match).toMatchObject({
      ratingKey: world.ratingKeyOf.get('1'),
      how: 'cache',
      lastSyncedTo: world.ratingKeyOf.get('1'),
      conflict: null,
    });
    const title = e.fields.find((f) => f.field === 'title')!;
    expect(title).toMatchObject({ stash: 'Scene 1, renamed in Stash', plex: 'Scene 1', locked: true, action: 'set' });
    expect(title.ownership).toBe("stash2plex's (Plex shows the value it set)");
    expect(e.fields.find((f) => f.field === 'summary')).toMatchObject({ action: 'keep', locked: true, plex: 'Details of scene 1' });
    expect(e.fields.find((f) => f.field === 'poster')).toMatchObject({ action: 'keep' });
    expect(e.next).toBe('send to Plex: set title');
    expect(await redisSnapshot(redis, world.prefix)).toEqual(redisBefore);
    expect(plexSnapshot(world.plex)).toBe(plexBefore);
  });

  it('a scene with no metadata: the unmet requirement, and every field skipped for it', async () => {
    const e = await explainJson(bare);
    expect(e.requirements).toEqual({
      require: ['metadata'],
      ready: false,
      checks: [{ requirement: 'metadata', met: false, why: 'no title, details, date, studio, performers or tags' }],
    });
    expect(e.next).toBe('skip: not ready: no title, details, date, studio, performers or tags (SYNC_REQUIRE)');
    // Its file is in Plex (never synced: found by the file= search, in a folder of other items, refused).
    expect(e.match).toMatchObject({ how: 'path' });
    expect(e.candidates.filter((c) => !c.taken).length).toBeGreaterThan(0);
    expect(e.candidates.find((c) => !c.taken)?.why).toBe('does not hold /plex/videos/folder0/bare.mp4');
    expect(e.fields.every((f) => f.action === 'skip' && f.why === e.next.slice('skip: '.length))).toBe(true);
  });

  it('an unmatched scene: the path tried, no match, and what the sync would do', async () => {
    const redisBefore = await redisSnapshot(redis, world.prefix);
    const e = await explainJson(unmatched);
    expect(e.match).toBeNull();
    expect(e.tried).toEqual([
      expect.objectContaining({
        stashPath: '/stash/videos/elsewhere/lost.mp4',
        plexPath: '/plex/videos/elsewhere/lost.mp4',
        outcome: 'not found',
        detail: expect.stringContaining('no item in library section') as string,
      }),
    ]);
    expect(e.next).toBe('ask Plex to scan the file’s folder (PLEX_SCAN_MISSING), then retry later (PlexNotFound, PLEX_NOT_FOUND=retry)');
    expect(e.fields.find((f) => f.field === 'title')).toMatchObject({ stash: 'Not in Plex', plex: null, action: 'skip' });
    expect(await redisSnapshot(redis, world.prefix)).toEqual(redisBefore);
  });

  it('without PATH_MAP: no library holds the Stash path, the one file of the same name and size is taken (fallback)', async () => {
    const r = await runScript(CLI, ['2', '--json'], { ...world.env, PATH_MAP: '' }, 30_000);
    expect(r.code, r.stderr).toBe(0);
    const e = JSON.parse(r.stdout) as Explanation;
    expect(e.tried).toEqual([
      expect.objectContaining({
        stashPath: '/stash/videos/folder0/scene-2.mp4',
        plexPath: '/stash/videos/folder0/scene-2.mp4',
        section: null,
        outcome: 'found',
      }),
    ]);
    expect(e.candidates).toEqual([
      expect.objectContaining({
        ratingKey: world.ratingKeyOf.get('2'),
        source: 'basename',
        taken: true,
        files: ['/plex/videos/folder0/scene-2.mp4'],
      }),
    ]);
    expect(e.match).toMatchObject({ ratingKey: world.ratingKeyOf.get('2'), how: 'fallback', conflict: null });
  });

  it('prints lines for a person without --json', async () => {
    const r = await explain(['1']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Requirements (SYNC_REQUIRE=metadata): ready');
    expect(r.stdout).toContain('Paths tried (PATH_MAP applied):');
    expect(r.stdout).toMatch(/TAKEN +\d+ \(cache\)/);
    expect(r.stdout).toMatch(/title +"Scene 1, renamed in Stash" \| "Scene 1" \| locked \| .* → SET: Plex shows another value/);
    expect(r.stdout).toContain('Next sync: send to Plex: set title');
    expect(r.stdout + r.stderr).not.toContain(world.env.PLEX_TOKEN);
  });

  it('bad input: a scene id that is no number, or no scene of Stash, exits 2 with one line', async () => {
    const bad = await explain(['abc']);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim()).toBe('stash2plex explain: a scene id is a number, not "abc" (see --help)');
    const unknown = await explain(['99999']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr.trim()).toBe('stash2plex explain: Stash has no scene 99999 (see --help)');
    const none = await explain([]);
    expect(none.code).toBe(2);
    expect(none.stdout).toBe('');
  });
});
