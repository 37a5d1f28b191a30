// `npm run reconcile` end to end: the built CLI (`node dist/workers/reconcile.js`) against both
// simulators and a real Redis. `--json` prints one object on stdout (every class, `moved` too); a dry run queues nothing; a second
// real run right after the first queues (and says) nothing; a bad option or a missing setting exits 2
// with one line; a run whose index Redis loses twice exits 1 with the reason in one line.
import type { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectRedis, keys, type RedisConnection } from '../../src/core/redis.js';
import type { SyncJobData } from '../../src/model/inbox-item.js';
import type { LibraryReport } from '../../src/sync/library-gaps.js';
import { createSyncQueue, enqueueSync } from '../../src/sync/queue.js';
import { startProxy } from '../helpers/plex-proxy.js';
import { runScript, startProcess } from '../helpers/proc.js';
import { waitFor } from '../helpers/wait.js';
import { STASH_KEY, startWorld, type World } from '../helpers/world.js';

const CLI = 'dist/workers/reconcile.js';
const WORKER = 'dist/workers/worker.js';

const cli = (args: string[], env: Record<string, string>, timeoutMs = 30_000) => runScript(CLI, args, env, timeoutMs);

let world: World;
let redis: RedisConnection;
let queue: Queue<SyncJobData>;

beforeAll(async () => {
  // 12 scenes, every one in Plex and never synced but 11; scene 12's item removed (not in Plex, nothing on
  // disk); scene 11 synced, then its file moved by Stash's moveFiles (no hook), not scanned by Plex yet.
  world = await startWorld({ scenes: 12, prefixName: 'rcli', env: { LOG_LEVEL: 'info' } });
  world.plex.removeItem(world.ratingKeyOf.get('12')!);
  redis = connectRedis(world.config);
  queue = createSyncQueue(redis, world.prefix);
  const worker = startProcess(WORKER, world.env);
  await enqueueSync(queue, { sceneId: '11', reason: 'hook', enqueuedAt: Date.now() }, world.config.errorStrategies);
  await waitFor(async () => (await queue.getJobCounts('completed')).completed === 1, 30_000, 'scene 11 synced');
  await worker.stop();
  await queue.clean(0, 10, 'completed');
  const res = await fetch(`${world.stash.url}/graphql`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ApiKey: STASH_KEY },
    body: JSON.stringify({
      query: 'mutation Move($input: MoveFilesInput!) { moveFiles(input: $input) }',
      variables: { input: { ids: [world.stash.filesOf('11')[0].id], destination_folder: '/stash/videos/moved' } },
    }),
  });
  expect(await res.json()).toEqual({ data: { moveFiles: true } });
  world.plex.moveFile(world.plex.item(world.ratingKeyOf.get('11')!)!.files[0], '/plex/videos/moved/scene-11.mp4', 'unscanned');
});
afterAll(async () => {
  await queue.close();
  redis.disconnect();
  await world.stop();
});

describe('npm run reconcile', () => {
  it('--dry-run --json: one JSON object on stdout, logs on stderr, nothing queued', async () => {
    const r = await cli(['--dry-run', '--json'], world.env);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const report = JSON.parse(lines[0]) as LibraryReport;
    expect(Object.keys(report).slice(0, 8)).toEqual([
      'scanned',
      'notInPlex',
      'empty',
      'drifted',
      'neverSynced',
      'moved',
      'queued',
      'durationMs',
    ]);
    expect(report).toMatchObject({
      scanned: 12,
      notInPlex: { count: 2, sceneIds: ['11', '12'] },
      empty: { count: 10 },
      drifted: { count: 0, sceneIds: [] },
      neverSynced: { count: 10 },
      moved: { count: 1, sceneIds: ['11'] },
      queued: 0,
      dryRun: true,
      toQueue: 12,
    });
    expect(report.neverSynced.sceneIds).toEqual(['1', '2', '3', '4', '5', '6', '7', '8', '9', '10']);
    expect(typeof report.durationMs).toBe('number');
    expect(r.stderr).toContain('reconcile library');
    expect(await queue.count()).toBe(0);
    expect(JSON.parse((await redis.get(keys(world.prefix).reconcileReport))!)).toEqual(report);
  });

  it('queues what a sync would fix, and prints the report as text without --json', async () => {
    const r = await cli([], { ...world.env, LOG_LEVEL: 'warn' });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Reconcile Library: 12 scenes read');
    expect(r.stdout).toContain('Not in Plex: 2 (scene 11, 12)');
    expect(r.stdout).toContain('Moved or renamed in Stash since their last sync: 1 (scene 11)');
    expect(r.stdout).toContain('Queued 12 scenes for a sync (bulk priority)');
    expect(await queue.count()).toBe(12);
    const again = await cli(['--json'], world.env);
    // Deduplicated: the scenes still wait, the queue does not grow, and the report counts no job added.
    expect(JSON.parse(again.stdout)).toMatchObject({ dryRun: false, toQueue: 12, queued: 0, sentToInbox: 0 });
    expect(await queue.count()).toBe(12);
    const text = await cli([], { ...world.env, LOG_LEVEL: 'warn' });
    expect(text.stdout).toContain('Queued 0 scenes for a sync (bulk priority); 12 already waiting, not queued twice');
  });

  it('exits 1 with the reason in one line when Redis loses its index, again after a rebuild', async () => {
    const before = await redis.get(keys(world.prefix).reconcileReport);
    // Before every listing request of Plex's libraries, the index vanishes (as a FLUSHDB or eviction would do).
    const proxy = await startProxy(world.plex.url, async (path) => {
      if (!/^\/library\/sections\/\d+\/all/.test(path)) return;
      const gone = await redis.keys(`${keys(world.prefix).reconcileIndex}:*`);
      if (gone.length) await redis.del(...gone);
    });
    try {
      const r = await cli(['--dry-run'], { ...world.env, PLEX_URL: proxy.url, LOG_LEVEL: 'silent' });
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr.trim().split('\n')).toEqual([
        "stash2plex reconcile: failed: the index of Plex's files this run keeps in Redis was lost mid-run, and again after a rebuild " +
          '(evicted or flushed? Redis needs maxmemory-policy noeviction); stopped after 0 of 12 scenes, nothing was queued, and no report was kept',
      ]);
      expect(await redis.get(keys(world.prefix).reconcileReport)).toBe(before);
    } finally {
      await proxy.stop();
    }
  });

  it('exits 2 with one line for a bad option or a missing setting', async () => {
    const bad = await cli(['--dryrun'], world.env);
    expect(bad.code).toBe(2);
    expect(bad.stdout).toBe('');
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toMatch(/^stash2plex reconcile: Unknown option '--dryrun'/);
    const noStash = await cli(['--json'], { ...world.env, STASH_URL: '' });
    expect(noStash.code).toBe(2);
    expect(noStash.stderr.trim()).toBe('stash2plex: configuration error: STASH_URL: is required but not set');
  });

  it('exits 1 when Redis does not answer', async () => {
    const r = await cli(['--json'], { ...world.env, REDIS_URL: 'redis://127.0.0.1:1' }, 20_000);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('Redis unreachable at 127.0.0.1:1');
  });
});
