// End to end with real processes: Stash hook process → Redis inbox → worker process → Plex simulator.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectRedis } from '../../src/core/redis.js';
import { createSyncQueue } from '../../src/sync/queue.js';
import type { SyncJobData } from '../../src/model/inbox-item.js';
import { runNode, startProcess, type Proc } from '../helpers/proc.js';
import { waitFor } from '../helpers/wait.js';
import { PLEX_TOKEN, STASH_KEY, startWorld, type World } from '../helpers/world.js';

const PLUGIN = 'dist/stash-plugin/stash2plex.cjs';
const WORKER = 'dist/workers/worker.js';

let world: World;
let queue: Queue<SyncJobData>;
let conn: ReturnType<typeof connectRedis>;
let pluginDir: string;
const procs: Proc[] = [];

function hookInput(id: number | string, inputFields: string[] = ['title', 'id'], extra: Record<string, unknown> = {}) {
  return JSON.stringify({
    server_connection: { Scheme: 'http', Host: '0.0.0.0', Port: 9, SessionCookie: null, Dir: pluginDir, PluginDir: pluginDir },
    args: { hookContext: { id, type: 'Scene.Update.Post', input: { id: String(id), title: 'x' }, inputFields }, ...extra },
  });
}

beforeAll(async () => {
  world = await startWorld({ scenes: 20, prefixName: 'e2e', env: { LOG_LEVEL: 'debug' } });
  conn = connectRedis(world.config);
  queue = createSyncQueue(conn, world.prefix);
  pluginDir = mkdtempSync(join(tmpdir(), 's2p-plugin-'));
});
afterAll(async () => {
  await Promise.all(procs.map((p) => p.stop()));
  await queue.close();
  conn.disconnect();
  await world.stop();
});

describe('hook → worker → Plex', () => {
  it('20 edited scenes reach Plex; nothing secret is printed or stored', async () => {
    // Edits first, while no worker runs: the hook only records.
    for (const id of world.ratingKeyOf.keys()) world.stash.updateScene(id, { title: `Edited ${id}` });
    const hookEnv = { REDIS_URL: world.env.REDIS_URL, REDIS_PREFIX: world.prefix };
    const outputs: string[] = [];
    for (const id of world.ratingKeyOf.keys()) {
      const r = await runNode(PLUGIN, hookInput(id), hookEnv);
      expect(r.code).toBe(0);
      const lines = r.stdout.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(JSON.parse(lines[0])).toHaveProperty('output');
      outputs.push(r.stdout, r.stderr);
    }
    const worker = startProcess(WORKER, world.env);
    procs.push(worker);
    await waitFor(async () => (await queue.getJobCounts('completed')).completed === 20, 30_000, '20 completed jobs');
    for (const [id, rk] of world.ratingKeyOf) {
      const s = world.stash.scene(id)!;
      const p = world.plex.item(rk)!;
      expect(p.title).toBe(`Edited ${id}`);
      expect([p.summary, p.studio, p.originallyAvailableAt]).toEqual([s.details, s.studio!.name, s.date]);
      expect(p.genre).toEqual(s.tags.map((t) => t.name));
      expect(p.actor).toEqual(s.performers.map((x) => x.name));
      expect(p.locked).toEqual(expect.arrayContaining(['title', 'summary', 'studio', 'originallyAvailableAt', 'genre', 'actor']));
    }
    // A scan's hook for an unchanged scene (Scene.Update.Post without input, stashapp/stash
    // pkg/scene/scan.go: a file rescanned) re-syncs it at bulk priority, and costs Plex no edit.
    const edits = world.plex.editCount();
    const scan = await runNode(
      PLUGIN,
      JSON.stringify({
        server_connection: { PluginDir: pluginDir },
        args: { hookContext: { id: 1, type: 'Scene.Update.Post', input: null } },
      }),
      hookEnv,
    );
    expect(scan.code).toBe(0);
    expect(JSON.parse(scan.stdout)).toEqual({ output: 'queued scene 1' });
    await waitFor(async () => (await queue.getJobCounts('completed')).completed === 21, 30_000, "the scan hook's job completed");
    const scanJob = (await queue.getJobs(['completed'])).find((j) => j.data.reason === 'reconcile');
    expect(scanJob).toMatchObject({ priority: 10, data: { sceneId: '1', event: 'Scene.Update.Post' } });
    expect(world.plex.editCount()).toBe(edits);

    await worker.stop();
    // No secret in any output, job or key.
    const jobs = JSON.stringify(await queue.getJobs(['completed', 'failed', 'waiting', 'delayed']));
    const dump = [outputs.join(''), worker.output(), jobs].join('\n');
    expect(worker.output()).toContain('scene synced');
    for (const secret of [PLEX_TOKEN, STASH_KEY]) expect(dump).not.toContain(secret);
    const redisKeys = await conn.keys(`${world.prefix}:*`);
    for (const k of redisKeys) {
      const type = await conn.type(k);
      const raw = type === 'string' ? await conn.get(k) : type === 'hash' ? JSON.stringify(await conn.hgetall(k)) : '';
      for (const secret of [PLEX_TOKEN, STASH_KEY]) expect(raw ?? '').not.toContain(secret);
    }
  });

  it('a bad setting stops the worker with exit 2 naming the variable', async () => {
    const p = startProcess(WORKER, { ...world.env, SYNC_MODE: 'sideways' });
    expect(await p.exited).toBe(2);
    expect(p.output()).toMatch(/SYNC_MODE/);
    expect(p.output().trim().split('\n')).toHaveLength(1);
  });
});
