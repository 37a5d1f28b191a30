// Plex item reads when one item is bad or gone, against the Plex simulator over real HTTP and a real
// Redis: a malformed item (issue 20) fails only its own job, as a permanent PlexBadResponse, in single
// reads, batched reads and listings alike; a key gone from a multi-key read (issue 21) fails only its
// own job, whether Plex leaves it out or answers 404 for the whole read.
import type { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CLASS, SyncError } from '../../src/core/errors.js';
import { createLogger } from '../../src/core/log.js';
import { connectRedis, keys, ownershipKey } from '../../src/core/redis.js';
import { PlexClient } from '../../src/plex/client.js';
import { readSignals } from '../../src/resilience/signals.js';
import { startSupervisorRole, type SupervisorRole } from '../../src/roles/supervisor.js';
import { startWorkerRole, type WorkerRole } from '../../src/roles/worker.js';
import { simFileSize } from '../../src/sim/file-size.js';
import { ROUTES, type MultiKeyReadMode } from '../../src/sim/plex.js';
import { batchedPlex } from '../../src/sync/batched-reads.js';
import { createSyncQueue, enqueueSyncBulk } from '../../src/sync/queue.js';
import type { SyncJobData } from '../../src/model/inbox-item.js';
import { testRedis } from '../helpers/redis.js';
import { waitFor } from '../helpers/wait.js';
import { startWorld, type World } from '../helpers/world.js';
import { parseOutages } from '../../src/resilience/store.js';

const quiet = createLogger({ level: 'silent' });
const outcome = (r: PromiseSettledResult<unknown>) =>
  r.status === 'rejected' ? (r.reason instanceof SyncError ? r.reason.type : String(r.reason)) : 'fulfilled';
const reasonOf = (r: PromiseSettledResult<unknown>) => ((r as PromiseRejectedResult).reason as SyncError).reason;

describe('one malformed item, read by the client', () => {
  let world: World;
  let redis: Redis;
  const warnings: { ratingKey?: string | null; reason?: string; msg?: string }[] = [];
  const log = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(JSON.parse(line) as (typeof warnings)[number]) });
  const rk = (scene: number) => world.ratingKeyOf.get(String(scene))!;
  const metadataReads = () => world.plex.requests.filter((r) => r.method === 'GET' && r.route === ROUTES.metadata);
  const client = (cache = false) =>
    new PlexClient({
      url: world.plex.url,
      token: world.config.plex.token,
      clientIdentifier: 'stash2plex-test',
      pathMap: world.config.plex.pathMap,
      log,
      ...(cache ? { redis, prefix: world.prefix } : {}),
    });

  beforeAll(async () => {
    world = await startWorld({ scenes: 6, prefixName: 'badread' });
    redis = testRedis();
  });
  afterEach(() => {
    for (const key of world.ratingKeyOf.values()) world.plex.overrideItemJson(key, null);
    world.plex.resetCounters();
    warnings.length = 0;
  });
  afterAll(async () => {
    redis.disconnect();
    await world.stop();
  });

  it('a single read: PlexBadResponse naming the field, a permanent type (never an outage)', async () => {
    world.plex.overrideItemJson(rk(1), { userRating: '8.0' });
    const err = await client()
      .getItem(rk(1))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SyncError);
    expect((err as SyncError).reason).toMatch(
      new RegExp(`^PlexBadResponse: GET /library/metadata/${rk(1)} → malformed item \\(userRating: .*expected number`),
    );
    expect(ERROR_CLASS[(err as SyncError).type]).toBe('permanent');
  });

  it('a batched read: only the malformed key fails, in the one request', async () => {
    world.plex.overrideItemJson(rk(2), { userRating: '8.0' });
    const port = batchedPlex(client(), { maxKeys: 4 });
    const settled = await Promise.allSettled([1, 2, 3, 4].map((s) => port.getItem(rk(s))));
    expect(settled.map(outcome)).toEqual(['fulfilled', 'PlexBadResponse', 'fulfilled', 'fulfilled']);
    expect(reasonOf(settled[1])).toMatch(new RegExp(`/library/metadata/${rk(2)} \\(read with 3 more\\) → malformed item \\(userRating: `));
    expect(metadataReads().map((r) => r.status)).toEqual([200]);
  });

  it('a malformed item without a readable ratingKey is told from a gone key by reading the unanswered keys alone', async () => {
    world.plex.overrideItemJson(rk(2), { ratingKey: { broken: true } });
    const port = batchedPlex(client(), { maxKeys: 3 });
    const settled = await Promise.allSettled([rk(1), rk(2), '999999'].map((k) => port.getItem(k)));
    expect(settled.map(outcome)).toEqual(['fulfilled', 'PlexBadResponse', 'PlexNotFound']);
    expect(reasonOf(settled[1])).toMatch(/malformed item \(ratingKey: /);
    expect(metadataReads().map((r) => r.path.split('/').pop()!.split(',').length)).toEqual([3, 1, 1]);
  });

  it('takes librarySectionID from the container when the items lack it (the edit call needs it)', async () => {
    for (const s of [1, 2]) world.plex.overrideItemJson(rk(s), { librarySectionID: undefined, librarySectionKey: undefined });
    const section = world.plex.sections()[0].key;
    const port = batchedPlex(client(), { maxKeys: 2 });
    const items = await Promise.all([1, 2].map((s) => port.getItem(rk(s))));
    expect(items.map((i) => i.sectionKey)).toEqual([section, section]);
    expect((await client().getItem(rk(1))).sectionKey).toBe(section);
  });

  it('a listing: the malformed item is left out and logged once; the other files of its section resolve, by path and by base name', async () => {
    world.plex.overrideItemJson(rk(1), { Media: 'broken' });
    const plex = client();
    // The `file=` filter answers the whole folder, the malformed item included.
    expect(await plex.resolveItem('/stash/videos/folder0/scene-2.mp4', null)).toMatchObject({ ratingKey: rk(2) });
    // A path no library holds: the base-name fallback pages through every library.
    const size = simFileSize('/plex/videos/folder0/scene-3.mp4');
    expect(await plex.resolveItem('/elsewhere/scene-3.mp4', size)).toMatchObject({ ratingKey: rk(3) });
    expect(await plex.resolveItem('/stash/videos/folder0/scene-4.mp4', null)).toMatchObject({ ratingKey: rk(4) });
    const logged = warnings.filter((w) => w.ratingKey === rk(1));
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({
      msg: 'Plex answered a malformed item: left out',
      reason: expect.stringMatching(/^Media: /) as string,
    });
    expect(world.plex.count({ route: ROUTES.sectionAll })).toBeGreaterThanOrEqual(3);
  });

  it('a listing reads only what it needs: an item with a bad rating is found, and its full read fails its job alone', async () => {
    world.plex.overrideItemJson(rk(5), { userRating: '8.0' });
    const plex = client();
    expect(await plex.resolveItem('/stash/videos/folder0/scene-5.mp4', null)).toMatchObject({ ratingKey: rk(5) });
    expect(await plex.resolveItem('/stash/videos/folder0/scene-6.mp4', null)).toMatchObject({ ratingKey: rk(6) });
    expect(outcome((await Promise.allSettled([plex.getItem(rk(5))]))[0])).toBe('PlexBadResponse');
    expect(warnings).toEqual([]);
  });

  it('several items read for Reconcile Library: the malformed one is left out and logged once, the others read', async () => {
    world.plex.overrideItemJson(rk(2), { Genre: [{ nottag: 1 }] });
    const plex = client();
    expect([...(await plex.getItems([rk(1), rk(2), rk(3)])).keys()]).toEqual([rk(1), rk(3)]);
    expect([...(await plex.getItems([rk(2), rk(4)])).keys()]).toEqual([rk(4)]);
    expect(warnings.filter((w) => w.ratingKey === rk(2))).toHaveLength(1);
    expect(warnings[0].reason).toMatch(/Genre\.0\.tag: /);
  });
});

/** A world with a worker (and optionally a supervisor) that has synced every scene once. */
interface Rig {
  world: World;
  redis: ReturnType<typeof connectRedis>;
  queue: ReturnType<typeof createSyncQueue>;
  roles: (WorkerRole | SupervisorRole)[];
  ids: string[];
}
const rigs: Rig[] = [];
afterEach(async () => {
  for (const r of rigs.splice(0)) {
    for (const role of r.roles.reverse()) await role.stop();
    await r.queue.obliterate({ force: true });
    await r.queue.close();
    r.redis.disconnect();
    await r.world.stop();
  }
});

const COMMON = {
  SYNC_POSTER: 'false',
  RECONCILE_AFTER_OUTAGE: 'false',
  RECONCILE_INTERVAL_MS: '0',
  BREAKER_FAILURE_THRESHOLD: '3',
  HEALTH_CLOSED_INTERVAL_MS: '300',
  WORKER_CONCURRENCY: '8',
};

async function syncedRig(scenes: number, supervisor: boolean): Promise<Rig> {
  const world = await startWorld({ scenes, prefixName: 'faults', env: COMMON });
  const redis = connectRedis(world.config);
  const r: Rig = { world, redis, queue: createSyncQueue(redis, world.prefix), roles: [], ids: [...world.ratingKeyOf.keys()] };
  rigs.push(r);
  if (supervisor) r.roles.push(await startSupervisorRole(world.config, quiet, { tickMs: 100 }));
  r.roles.push(await startWorkerRole(world.config, quiet, { holdMs: 300 }));
  await enqueue(r, 'manual');
  await waitFor(async () => (await r.queue.getJobCounts('completed')).completed === scenes, 20_000, 'the first sync of every scene');
  return r;
}

async function enqueue(r: Rig, reason: SyncJobData['reason']) {
  const now = Date.now();
  await enqueueSyncBulk(
    r.queue,
    r.ids.map((sceneId) => ({ sceneId, reason, enqueuedAt: now })),
    r.world.config.errorStrategies,
  );
}

const multiKeyReads = (r: Rig) => r.world.plex.requests.filter((q) => q.route === ROUTES.metadata && q.path.includes(','));

describe('through the worker', () => {
  it('one malformed item among 20 scenes, a supervisor running: 19 synced, its job failed at once as PlexBadResponse, the breaker CLOSED throughout', async () => {
    const r = await syncedRig(20, true);
    const k = keys(r.world.prefix);
    const bad = r.ids[7];
    const signalsBefore = (await readSignals(r.redis, k.signals, '0-0', 10_000)).at(-1)!.id;
    r.world.plex.overrideItemJson(r.world.ratingKeyOf.get(bad)!, { userRating: '8.0' });
    for (const id of r.ids) r.world.stash.updateScene(id, { title: `Edited ${id}` });
    r.world.plex.resetCounters();
    await enqueue(r, 'hook');
    await waitFor(
      async () => {
        const c = await r.queue.getJobCounts('completed', 'failed');
        return c.completed === 39 && c.failed === 1;
      },
      20_000,
      '19 synced, 1 failed',
    );

    const [failed] = await r.queue.getFailed(0, 10);
    expect(failed.data.sceneId).toBe(bad);
    expect(failed.failedReason).toMatch(
      /^PlexBadResponse: GET \/library\/metadata\/\d+(?: \(read with \d+ more\))? → malformed item \(userRating: /,
    );
    expect(failed.attemptsStarted).toBe(1); // never held, never retried
    for (const id of r.ids) {
      expect(r.world.plex.item(r.world.ratingKeyOf.get(id)!)!.title).toBe(id === bad ? `Scene ${Number(id)}` : `Edited ${id}`);
    }
    expect(multiKeyReads(r).length).toBeGreaterThan(0);
    // Not an outage: no breaker transition, no outage, and the one failure signalled as its own type.
    expect(await r.redis.hget(k.breaker, 'state')).toBe('CLOSED');
    expect(await r.redis.llen(k.transitions)).toBe(0);
    expect(parseOutages(await r.redis.get(k.outages), [])).toEqual([]);
    const outcomes = (await readSignals(r.redis, k.signals, signalsBefore, 10_000)).map((s) => s.outcome);
    expect(outcomes.filter((o) => o !== 'ok')).toEqual(['PlexBadResponse']);
  }, 60_000);

  describe.each(['leave-out', 'whole-404'] as MultiKeyReadMode[])(
    'a bulk pass where one item is gone, Plex answering multi-key reads "%s"',
    (mode) => {
      it('every other scene synced from its cached item, its ownership kept; the gone one alone is PlexNotFound', async () => {
        const r = await syncedRig(10, false);
        const gone = r.ids[3];
        r.world.plex.setMultiKeyReads(mode);
        r.world.plex.removeItem(r.world.ratingKeyOf.get(gone)!);
        // Details deleted in Stash must clear Plex's summary: only an item whose ownership record survived does.
        for (const id of r.ids) r.world.stash.updateScene(id, { title: `Bulk ${id}`, details: null });
        r.world.plex.resetCounters();
        await enqueue(r, 'manual');
        await waitFor(async () => (await r.queue.getJobCounts('completed')).completed === 19, 20_000, 'the nine others synced');
        await waitFor(
          async () => (await r.queue.getDelayed()).some((j) => j.data.sceneId === gone && /^PlexNotFound: /.test(j.failedReason)),
          20_000,
          'the gone one retried as PlexNotFound',
        );

        expect((await r.queue.getJobCounts('failed')).failed).toBe(0);
        for (const id of r.ids.filter((i) => i !== gone)) {
          const rk = r.world.ratingKeyOf.get(id)!;
          expect(r.world.plex.item(rk)).toMatchObject({ title: `Bulk ${id}`, summary: '' });
          expect(await r.redis.exists(ownershipKey(keys(r.world.prefix), rk))).toBe(1);
        }
        // Found from the cache: no listing for the nine, whatever Plex does with a missing key. The gone one
        // alone lists: its searches (file=, title, the paged pass) and the one-item listing that proves it gone.
        expect(r.world.plex.count({ route: ROUTES.sectionAll, method: 'GET' })).toBeLessThanOrEqual(4);
        if (mode === 'whole-404') expect(multiKeyReads(r).some((q) => q.status === 404)).toBe(true);
      }, 60_000);
    },
  );
});
