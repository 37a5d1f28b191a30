// End to end through the built CLI (`node dist/workers/restore.js`): a scene synced to the Plex simulator
// by a real worker, restored (a dry run first), kept out of sync, then resumed; the --json shape; bad
// options (exit 2) and an unreachable Redis (exit 1).
import type { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/core/log.js';
import { connectRedis, keys, type RedisConnection } from '../../src/core/redis.js';
import type { SyncJobData } from '../../src/model/inbox-item.js';
import type { ResumeSummary } from '../../src/restore/resume.js';
import type { RestoreSummary } from '../../src/restore/run.js';
import { startWorkerRole, type WorkerRole } from '../../src/roles/worker.js';
import { createSyncQueue, enqueueSync } from '../../src/sync/queue.js';
import { freePort } from '../helpers/ports.js';
import { runScript } from '../helpers/proc.js';
import { waitFor } from '../helpers/wait.js';
import { startWorld, type World } from '../helpers/world.js';

const CLI = 'dist/workers/restore.js';
const quiet = createLogger({ level: 'silent' });

type Run = Awaited<ReturnType<typeof runScript>>;
const cli = (args: string[], env: Record<string, string> = world.env) => runScript(CLI, args, env, 20_000);
const json = <Summary = RestoreSummary>(r: Run) => {
  const lines = r.stdout.trim().split('\n');
  expect(lines).toHaveLength(1); // --json: only the JSON on stdout
  return JSON.parse(lines[0]) as Summary;
};

let world: World;
let conn: RedisConnection;
let queue: Queue<SyncJobData>;
let worker: WorkerRole | undefined;
const k = () => keys(world.prefix);

beforeAll(async () => {
  world = await startWorld({ scenes: 2, prefixName: 'restore-cli', env: { SYNC_POSTER: 'false' } });
  conn = connectRedis(world.config);
  queue = createSyncQueue(conn, world.prefix);
});
afterAll(async () => {
  await worker?.stop();
  await queue.close();
  conn.disconnect();
  await world.stop();
});

/** Runs one sync of each scene through a real worker and waits until all completed. */
async function syncAll(ids: string[]) {
  worker ??= await startWorkerRole(world.config, quiet);
  const done = (await queue.getJobCounts('completed')).completed;
  for (const sceneId of ids) await enqueueSync(queue, { sceneId, reason: 'hook', enqueuedAt: Date.now() }, world.config.errorStrategies);
  await waitFor(async () => (await queue.getJobCounts('completed')).completed >= done + ids.length, 15_000, 'the syncs');
}

describe('npm run restore', () => {
  it('--dry-run --json, then the real run: the agent title back unlocked, the scene excluded; --resume queues its sync', async () => {
    const [sceneId, other] = [...world.ratingKeyOf.keys()];
    const ratingKey = world.ratingKeyOf.get(sceneId)!;
    const agentTitle = world.plex.item(ratingKey)!.title;
    await syncAll([sceneId, other]);
    expect(world.plex.item(ratingKey)).toMatchObject({ title: 'Scene 1', locked: expect.arrayContaining(['title']) as string[] });

    const dry = await cli(['--scene', sceneId, '--dry-run', '--json']);
    expect(dry.code).toBe(0);
    const d = json(dry);
    expect(Object.keys(d).slice(0, 5)).toEqual(['restored', 'fields', 'excluded', 'skipped', 'dryRun']);
    expect(d).toMatchObject({
      restored: 1,
      excluded: 1,
      skipped: { neverWritten: expect.any(Number) as number, plexChanged: 0 },
      dryRun: true,
    });
    expect(Object.keys(d.skipped)).toEqual(['neverWritten', 'plexChanged']);
    expect(world.plex.item(ratingKey)!.title).toBe('Scene 1');

    const real = await cli(['--scene', sceneId, '--json']);
    expect(real.code).toBe(0);
    const r = json(real);
    expect({ ...r, durationMs: 0 }).toEqual({ ...d, dryRun: false, durationMs: 0 });
    expect(world.plex.item(ratingKey)).toMatchObject({ title: agentTitle, locked: [] });
    expect(await conn.hexists(k().syncExcluded, sceneId)).toBe(1);

    // The next edit in Stash: its job completes as skipped, Plex keeps the agent's title.
    world.stash.updateScene(sceneId, { title: 'Edited in Stash' });
    await syncAll([sceneId]);
    expect(world.plex.item(ratingKey)!.title).toBe(agentTitle);

    const text = await cli(['--resume', '--scene', `${sceneId},999`]);
    expect(text.code).toBe(0);
    expect(text.stdout).toBe(
      `1 scene brought back into sync (scene ${sceneId}), 1 sync queued (bulk priority); 1 scene was not excluded\n`,
    );
    await waitFor(() => world.plex.item(ratingKey)!.title === 'Edited in Stash', 15_000, 'the resumed sync');
  });

  it('text output: one line per scene, then the totals', async () => {
    const r = await cli(['--scene', '424242', '--dry-run']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      'scene 424242: never synced: nothing to restore\nDry run: 0 scenes would be restored (0 fields), 0 scenes would be excluded from sync; nothing changed\n',
    );
  });

  it.each([
    [[], 'say which scenes: --scene ID (repeatable) or --all'],
    [['--all', '--scene', '1'], 'give --scene or --all, not both'],
    [['--scene', 'abc'], '--scene takes Stash scene ids (numbers), not "abc"'],
    [['--scenes', '1'], "Unknown option '--scenes'"],
  ])('bad options %j: exit 2 with one clear line, nothing done', async (args, message) => {
    const r = await cli(args);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`stash2plex restore: ${message}`);
  });

  it('without PLEX_URL a restore is a setting error (exit 2); a resume needs only Redis', async () => {
    const { PLEX_URL: _u, PLEX_TOKEN: _t, ...noPlex } = world.env;
    const r = await cli(['--all', '--dry-run'], noPlex);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/PLEX_URL/);
    const resume = await cli(['--resume', '--all', '--dry-run', '--json'], noPlex);
    expect(resume.code).toBe(0);
    expect(json<ResumeSummary>(resume)).toMatchObject({ dryRun: true, queued: 0 });
  });

  it('Redis unreachable: exit 1, one line', async () => {
    const r = await cli(['--all'], { ...world.env, REDIS_URL: `redis://127.0.0.1:${await freePort()}` });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^stash2plex restore: Redis unreachable at 127\.0\.0\.1:\d+\n$/);
  });
});
