// The worker's summary line with a real worker, Redis and simulators: bulk jobs log at debug and are
// counted in one info line per interval; a hook's job keeps its own info line.
import { Writable } from 'node:stream';
import type { Queue } from 'bullmq';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectRedis, type RedisConnection } from '../../src/core/redis.js';
import type { SyncJobData } from '../../src/model/inbox-item.js';
import { startWorkerRole, type WorkerRole } from '../../src/roles/worker.js';
import { createSyncQueue, enqueueSync, enqueueSyncBulk } from '../../src/sync/queue.js';
import { waitFor } from '../helpers/wait.js';
import { startWorld, type World } from '../helpers/world.js';

let world: World;
let redis: RedisConnection;
let queue: Queue<SyncJobData>;
let role: WorkerRole;
const lines: { level: number; msg: string; sceneId?: string }[] = [];

beforeAll(async () => {
  world = await startWorld({ scenes: 6, prefixName: 'summary' });
  redis = connectRedis(world.config);
  queue = createSyncQueue(redis, world.prefix);
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l) as (typeof lines)[number]);
      done();
    },
  });
  role = await startWorkerRole(world.config, pino({ level: 'debug' }, sink), { summaryIntervalMs: 500 });
});
afterAll(async () => {
  await role.stop();
  await queue.close();
  redis.disconnect();
  await world.stop();
});

describe('the summary line', () => {
  it('bulk scenes at debug, counted in one info line; a hook scene at info', async () => {
    const ids = ['1', '2', '3', '4', '5'];
    await enqueueSyncBulk(
      queue,
      ids.map((sceneId) => ({ sceneId, reason: 'reconcile' as const, enqueuedAt: Date.now() })),
      world.config.errorStrategies,
    );
    await enqueueSync(queue, { sceneId: '6', reason: 'hook', enqueuedAt: Date.now() }, world.config.errorStrategies);
    await waitFor(async () => (await queue.getJobCounts('completed')).completed === 6, 30_000, 'six scenes synced');
    const summaries = () => lines.filter((l) => l.msg.startsWith('sync: '));
    const edited = () => summaries().reduce((n, l) => n + Number(/(\d+) edited/.exec(l.msg)?.[1] ?? 0), 0);
    // The six may span several intervals (a loaded machine spreads them): wait for the lines that count them all.
    await waitFor(() => edited() >= 6, 10_000, 'summary lines counting the six scenes');
    const synced = lines.filter((l) => l.msg === 'scene synced');
    expect(synced.filter((l) => l.level === 30).map((l) => l.sceneId)).toEqual(['6']);
    expect(
      synced
        .filter((l) => l.level === 20)
        .map((l) => l.sceneId)
        .sort(),
    ).toEqual(ids);
    // Every summary line is info; together they count the six scenes, all edited (first syncs).
    expect(summaries().every((l) => l.level === 30)).toBe(true);
    expect(edited()).toBe(6);
    expect(summaries()[0].msg).toMatch(/^sync: \d+ scenes? in the last \d+ s: \d+ edited, 0 unchanged, 0 skipped$/);
  });
});
