// The rig of the end-to-end rename tests: a world (simulators, private Redis), a worker process, the sync
// queue to watch, and the built Node hook run as Stash runs it (a plugin folder of its own).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Queue } from 'bullmq';
import { connectRedis } from '../../src/core/redis.js';
import { encodeInboxEntry, type SyncJobData } from '../../src/model/inbox-item.js';
import { createSyncQueue } from '../../src/sync/queue.js';
import { runNode, startProcess, type Proc, type RunResult } from './proc.js';
import { waitFor } from './wait.js';
import { startWorld, type World, type WorldOptions } from './world.js';

const PLUGIN = 'dist/stash-plugin/stash2plex.cjs';
const WORKER = 'dist/workers/worker.js';

export interface HookWorkerRig {
  world: World;
  conn: ReturnType<typeof connectRedis>;
  queue: Queue<SyncJobData>;
  /** The worker process (its output: what it logged). */
  worker: Proc;
  /** Every scene through the inbox (as Sync All Scenes does), then waits for `completed` jobs in all. */
  syncAll(sceneIds: readonly string[], what: string): Promise<void>;
  /** The Node hook for a hook context, as Stash runs it. */
  runHook(hookContext: Record<string, unknown>): Promise<RunResult>;
  stop(): Promise<void>;
}

export async function startHookWorkerRig(opts: WorldOptions): Promise<HookWorkerRig> {
  const world = await startWorld(opts);
  const conn = connectRedis(world.config);
  const queue = createSyncQueue(conn, world.prefix);
  const pluginDir = mkdtempSync(join(tmpdir(), 's2p-rig-plugin-'));
  const worker: Proc = startProcess(WORKER, world.env);
  return {
    world,
    conn,
    queue,
    worker,
    async syncAll(sceneIds, what) {
      for (const sceneId of sceneIds)
        await conn.xadd(
          `${world.prefix}:inbox`,
          '*',
          ...encodeInboxEntry({ sceneId, reason: 'manual', event: 'sync_all', enqueuedAt: Date.now() }),
        );
      await waitFor(async () => (await queue.getJobCounts('completed')).completed >= sceneIds.length, 30_000, what);
    },
    runHook: (hookContext) =>
      runNode(
        PLUGIN,
        JSON.stringify({
          server_connection: { Scheme: 'http', Host: '0.0.0.0', Port: 9, SessionCookie: null, Dir: pluginDir, PluginDir: pluginDir },
          args: { hookContext },
        }),
        { REDIS_URL: world.env.REDIS_URL, REDIS_PREFIX: world.prefix },
      ),
    async stop() {
      await worker.stop();
      await queue.close();
      conn.disconnect();
      await world.stop();
      rmSync(pluginDir, { recursive: true, force: true });
    },
  };
}
