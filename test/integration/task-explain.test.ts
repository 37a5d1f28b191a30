// The Stash task Explain Scene, in process, against both simulators and the run's real Redis: the scene
// named by the plugin setting "Scene to explain" (as saved in the simulated Stash) or by args.sceneId,
// explained line by line into Stash's log; nothing changes; no setting, or no such scene, says so.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectRedis, type RedisConnection } from '../../src/core/redis.js';
import { runTask, type TaskContext } from '../../src/stash-plugin/tasks.js';
import { plexSnapshot, redisSnapshot } from '../helpers/snapshot.js';
import { startWorld, type World } from '../helpers/world.js';

let world: World;
let redis: RedisConnection;
let dir: string;

beforeAll(async () => {
  world = await startWorld({ scenes: 2, prefixName: 'task-explain' });
  redis = connectRedis(world.config);
  dir = mkdtempSync(join(tmpdir(), 's2p-task-explain-'));
});
afterAll(async () => {
  redis.disconnect();
  await world.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function explainTask(args: Record<string, unknown> = {}) {
  const lines: string[] = [];
  const ctx: TaskContext = {
    input: {
      server_connection: { Scheme: 'http', Host: '127.0.0.1', Port: Number(new URL(world.stash.url).port), PluginDir: dir },
      args: { mode: 'explain_scene', ...args },
    },
    env: { ...world.env },
    dir,
    redis: { url: world.config.redis.url, prefix: world.prefix },
    log: (_level, msg) => lines.push(msg),
    progress: () => undefined,
  };
  const summary = await runTask('explain_scene', ctx);
  return { summary, lines };
}

describe('Explain Scene', () => {
  it('without a scene saved in the plugin settings: says where to set it', async () => {
    await expect(explainTask()).rejects.toThrow(
      `Explain Scene: say which scene: set "Scene to explain" in the plugin's settings (Settings → Plugins → stash2plex), save, then run the task`,
    );
  });

  it('the scene saved in the plugin settings: explained line by line, nothing changed', async () => {
    world.stash.setPluginSettings('stash2plex', { explainSceneId: '2' });
    const before = await redisSnapshot(redis, world.prefix);
    const plexBefore = plexSnapshot(world.plex);
    const { summary, lines } = await explainTask();
    expect(summary).toMatch(/^scene 2: next sync: send to Plex: set title, /);
    expect(lines[0]).toBe('Scene 2: "Scene 2"');
    expect(lines).toContain('Requirements (SYNC_REQUIRE=metadata): ready');
    expect(lines.some((l) => /TAKEN +\d+ \(file=\) \/plex\/videos\/folder0\/scene-2\.mp4: holds/.test(l))).toBe(true);
    expect(await redisSnapshot(redis, world.prefix)).toEqual(before);
    expect(plexSnapshot(world.plex)).toBe(plexBefore);
  });

  it('args.sceneId (an API caller) wins; an unknown scene names the setting', async () => {
    expect((await explainTask({ sceneId: '1' })).summary).toMatch(/^scene 1: /);
    await expect(explainTask({ sceneId: '777' })).rejects.toThrow(
      'Explain Scene: Stash has no scene 777 (the plugin setting "Scene to explain")',
    );
    await expect(explainTask({ sceneId: 'x1' })).rejects.toThrow('Explain Scene: a scene id is a number, not "x1"');
  });
});
