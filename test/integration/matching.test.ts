// Finding every scene in Plex (docs/MATCHING.md), against both simulators over real HTTP and a real Redis:
// the base-name fallback and its PATH_MAP hint, the folder scan of files Plex has not scanned,
// PLEX_NOT_FOUND=skip, and the check of PLEX_LIBRARIES.
import { type Queue } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig, type Config } from '../../src/core/config.js';
import { createLogger } from '../../src/core/log.js';
import { connectRedis, keys } from '../../src/core/redis.js';
import { renderStatusMain } from '../../src/dashboard/page.js';
import type { SyncJobData } from '../../src/model/inbox-item.js';
import { startSupervisorRole, type SupervisorRole } from '../../src/roles/supervisor.js';
import { startWorkerRole, type WorkerRole } from '../../src/roles/worker.js';
import { PlexSimulator, ROUTES } from '../../src/sim/plex.js';
import { StashSimulator } from '../../src/sim/stash.js';
import { SIM_PLEX_TOKEN, SIM_STASH_KEY } from '../../src/sim/world.js';
import { healthReport } from '../../src/stash-plugin/task-reports.js';
import { buildStatus } from '../../src/supervisor/status.js';
import { createSyncQueue, enqueueSync } from '../../src/sync/queue.js';
import { testRedisUrl, uniquePrefix } from '../helpers/redis.js';
import { waitFor } from '../helpers/wait.js';

const quiet = createLogger({ level: 'silent' });
const fast = (attempts: number) => ({
  attempts,
  backoffBaseMs: 300,
  backoffCapMs: 300,
  countsTowardBreaker: false,
  requeueByDefault: false,
});

interface Rig {
  plex: PlexSimulator;
  stash: StashSimulator;
  section: string;
  config: Config;
  redis: ReturnType<typeof connectRedis>;
  queue: Queue<SyncJobData>;
  workers: WorkerRole[];
  supervisors: SupervisorRole[];
}
const rigs: Rig[] = [];

/** Both simulators, one Plex library at /media/stash, and a config without PATH_MAP unless `env` sets one. */
async function rig(env: Record<string, string> = {}): Promise<Rig> {
  const plex = await PlexSimulator.start({ token: SIM_PLEX_TOKEN });
  const stash = await StashSimulator.start({ apiKey: SIM_STASH_KEY });
  const section = plex.addSection({ title: 'Videos', locations: ['/media/stash'] });
  const config = parseConfig({
    REDIS_URL: testRedisUrl(),
    REDIS_PREFIX: uniquePrefix('match'),
    PLEX_URL: plex.url,
    PLEX_TOKEN: SIM_PLEX_TOKEN,
    STASH_URL: stash.url,
    STASH_API_KEY: SIM_STASH_KEY,
    ERROR_STRATEGIES: JSON.stringify({ PlexNotFound: fast(3) }),
    LOG_LEVEL: 'silent',
    ...env,
  });
  const redis = connectRedis(config);
  const r: Rig = { plex, stash, section, config, redis, queue: createSyncQueue(redis, config.redis.prefix), workers: [], supervisors: [] };
  rigs.push(r);
  return r;
}

afterEach(async () => {
  for (const r of rigs.splice(0)) {
    await Promise.all([...r.workers, ...r.supervisors].map((x) => x.stop()));
    await r.queue.close();
    r.redis.disconnect();
    await r.plex.stop();
    await r.stash.stop();
  }
});

async function enqueue(r: Rig, sceneIds: string[]) {
  for (const sceneId of sceneIds) await enqueueSync(r.queue, { sceneId, reason: 'hook', enqueuedAt: Date.now() }, r.config.errorStrategies);
}

async function finished(r: Rig, n: number) {
  await waitFor(
    async () => {
      const c = await r.queue.getJobCounts('completed', 'failed');
      return c.completed + c.failed >= n;
    },
    30_000,
    `${n} finished jobs`,
  );
}

const status = (r: Rig) =>
  buildStatus({ redis: r.redis, keys: keys(r.config.redis.prefix), queues: [r.queue], config: r.config, now: Date.now() });
const refreshes = (r: Rig) =>
  r.plex.requests.filter((q) => q.route === ROUTES.refresh).map((q) => new URL(q.path, 'http://x').searchParams.get('path'));

describe('base-name fallback', () => {
  it('Stash under /data/stash, Plex under /media/stash, no PATH_MAP: 20 scenes synced, PATH_MAP suggested, decoys untouched', async () => {
    const r = await rig();
    const scenes = new Map<string, string>();
    const decoys: string[] = [];
    for (let i = 1; i <= 20; i++) {
      const folder = `f${i % 3}`;
      const id = r.stash.addScene({ title: `Scene ${i}`, files: [`/data/stash/${folder}/Clip-${i}.mp4`] });
      // Plex's copy of the name may differ in case: the comparison ignores it.
      scenes.set(
        id,
        r.plex.addItem({ sectionKey: r.section, title: `clip-${i}`, file: `/media/stash/${folder}/${i % 2 ? 'clip' : 'Clip'}-${i}.mp4` }),
      );
      // Same base name, another size: another file, never touched.
      if (i % 4 === 0)
        decoys.push(r.plex.addItem({ sectionKey: r.section, title: `decoy-${i}`, file: `/media/stash/old/Clip-${i}.mp4`, size: 1234 }));
    }
    const decoysBefore = decoys.map((k) => r.plex.item(k)!);
    r.workers.push(await startWorkerRole(r.config, quiet));
    await enqueue(r, [...scenes.keys()]);
    await finished(r, 20);

    expect(await r.queue.getJobCounts('completed', 'failed')).toMatchObject({ completed: 20, failed: 0 });
    for (const [id, rk] of scenes) expect(r.plex.item(rk)!.title).toBe(r.stash.scene(id)!.title);
    expect(decoys.map((k) => r.plex.item(k)!)).toEqual(decoysBefore);
    const hint = 'Plex sees these files under another path; set PATH_MAP=/data/stash=/media/stash';
    const s = await status(r);
    expect(s.matching?.pathHint).toBe(hint);
    expect(s.matching?.pathHints).toHaveLength(1);
    expect(
      renderStatusMain(s, {
        now: Date.now(),
        nonce: 'n',
        settings: { ramp: r.config.ramp, plexMaxRate: null, trial: { calls: 10, errorRate: 0.2 } },
      }),
    ).toContain(hint);
    expect(healthReport({ status: s, probe: null }, { now: Date.now() }).lines.map((l) => l.text)).toContain(hint);

    // The match is cached: a second sync of every scene lists nothing.
    r.plex.resetCounters();
    await r.queue.obliterate({ force: true });
    await enqueue(r, [...scenes.keys()]);
    await finished(r, 20);
    expect(r.plex.count({ route: ROUTES.sectionAll, method: 'GET' })).toBe(0);
  });

  it('two files with the same name and size are AmbiguousMatch; MATCH_FALLBACK=none keeps exact paths only', async () => {
    const r = await rig();
    const id = r.stash.addScene({ title: 'Twin', files: ['/data/stash/a/twin.mp4'] });
    const one = r.plex.addItem({ sectionKey: r.section, title: 'twin', file: '/media/stash/a/twin.mp4' });
    const two = r.plex.addItem({ sectionKey: r.section, title: 'twin', file: '/media/stash/b/twin.mp4' });
    r.workers.push(await startWorkerRole(r.config, quiet));
    await enqueue(r, [id]);
    await finished(r, 1);
    const [failed] = await r.queue.getFailed();
    expect(failed.failedReason).toMatch(/^AmbiguousMatch: .*twin\.mp4/);
    expect([r.plex.item(one)!.title, r.plex.item(two)!.title]).toEqual(['twin', 'twin']);

    const exactOnly = await rig({ MATCH_FALLBACK: 'none', ERROR_STRATEGIES: JSON.stringify({ PlexNotFound: fast(1) }) });
    const lone = exactOnly.stash.addScene({ title: 'Lone', files: ['/data/stash/a/lone.mp4'] });
    const rk = exactOnly.plex.addItem({ sectionKey: exactOnly.section, title: 'lone', file: '/media/stash/a/lone.mp4' });
    exactOnly.workers.push(await startWorkerRole(exactOnly.config, quiet));
    await enqueue(exactOnly, [lone]);
    await finished(exactOnly, 1);
    expect((await exactOnly.queue.getFailed())[0].failedReason).toMatch(/^PlexNotFound: no location/);
    expect(exactOnly.plex.item(rk)!.title).toBe('lone');
  });
});

describe('files Plex has not scanned', () => {
  it('asks Plex to scan the folder once, and the scene is synced on the first retry', async () => {
    const r = await rig({ PATH_MAP: '/data/stash=/media/stash' });
    const ids: string[] = [];
    for (let i = 1; i <= 4; i++) {
      const folder = i <= 2 ? 'new1' : 'new2';
      ids.push(r.stash.addScene({ title: `New ${i}`, files: [`/data/stash/${folder}/new-${i}.mp4`] }));
      r.plex.addFileOnDisk({ file: `/media/stash/${folder}/new-${i}.mp4` });
    }
    r.workers.push(await startWorkerRole(r.config, quiet));
    await enqueue(r, ids);
    await finished(r, 4);

    const done = await r.queue.getCompleted();
    expect(done).toHaveLength(4);
    // One failed attempt (the file was not there), then the retry after the scan found it.
    for (const job of done) expect(job.attemptsStarted).toBeLessThanOrEqual(2);
    expect(
      r.plex
        .items()
        .map((i) => i.title)
        .sort(),
    ).toEqual(['New 1', 'New 2', 'New 3', 'New 4']);
    expect(refreshes(r).sort()).toEqual(['/media/stash/new1', '/media/stash/new2']);
  });

  it('asks for no scan while the breaker is not CLOSED, and for one once it is', async () => {
    const r = await rig({ PATH_MAP: '/data/stash=/media/stash', ERROR_STRATEGIES: JSON.stringify({ PlexNotFound: fast(1) }) });
    const id = r.stash.addScene({ title: 'Held', files: ['/data/stash/x/held.mp4'] });
    r.plex.addFileOnDisk({ file: '/media/stash/x/held.mp4' });
    const breaker = keys(r.config.redis.prefix).breaker;
    await r.redis.hset(breaker, 'state', 'HALF_OPEN', 'since', String(Date.now()), 'openedAt', String(Date.now())); // a record as the supervisor writes it
    r.workers.push(await startWorkerRole(r.config, quiet));
    await enqueue(r, [id]);
    await finished(r, 1);
    expect(refreshes(r)).toEqual([]);
    expect(r.plex.unscannedFiles()).toEqual(['/media/stash/x/held.mp4']);

    await r.redis.hset(breaker, 'state', 'CLOSED');
    await r.queue.obliterate({ force: true });
    await waitFor(
      async () => {
        await enqueue(r, [id]); // the gate caches the breaker state for a second: deduplicated while it waits
        return refreshes(r).length > 0;
      },
      10_000,
      'a scan request',
    );
    expect(refreshes(r)).toEqual(['/media/stash/x']);
  });

  it('PLEX_NOT_FOUND=skip completes the job as skipped after the scan request', async () => {
    const r = await rig({ PATH_MAP: '/data/stash=/media/stash', PLEX_NOT_FOUND: 'skip' });
    const id = r.stash.addScene({ title: 'Elsewhere', files: ['/data/stash/private/elsewhere.mp4'] });
    r.workers.push(await startWorkerRole(r.config, quiet));
    await enqueue(r, [id]);
    await finished(r, 1);
    const [job] = await r.queue.getCompleted();
    expect(job.returnvalue).toEqual({ skipped: 'not in Plex' });
    expect(job.attemptsStarted).toBe(1);
    expect(refreshes(r)).toEqual(['/media/stash/private']);
  });
});

describe('PLEX_LIBRARIES', () => {
  it('a title Plex does not have, or a library of another type, is reported on the status page and in Health Check', async () => {
    const r = await rig({ PLEX_LIBRARIES: 'Videos,Movies,Shows' });
    r.plex.addSection({ title: 'Shows', type: 'show', locations: ['/media/shows'] });
    r.supervisors.push(await startSupervisorRole(r.config, quiet, { tickMs: 100 }));
    await waitFor(async () => ((await status(r)).matching?.librariesCheckedAt ?? null) !== null, 10_000, 'the library check');
    const s = await status(r);
    expect(s.matching!.libraryProblems).toHaveLength(2);
    expect(s.matching!.libraryProblems[0]).toMatch(/PLEX_LIBRARIES: Plex has no library "Movies"/);
    expect(s.matching!.libraryProblems[1]).toMatch(/"Shows" is a show library/);
    const page = renderStatusMain(s, {
      now: Date.now(),
      nonce: 'n',
      settings: { ramp: r.config.ramp, plexMaxRate: null, trial: { calls: 10, errorRate: 0.2 } },
    });
    expect(page).toContain('data-testid="library-problem"');
    expect(
      healthReport({ status: s, probe: null }, { now: Date.now() })
        .lines.map((l) => l.text)
        .join('\n'),
    ).toContain('no library "Movies"');
  });
});
