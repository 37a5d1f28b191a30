// Scale-out: a local three-node Redis Cluster with REDIS_PREFIX={s2p}: hook events → worker → Plex, and an
// outage with pause and ramp, with real worker and supervisor processes (two of each).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeInboxEntry } from '../../src/model/inbox-item.js';
import { freePort, waitForRedis } from '../helpers/ports.js';
import { startProcess, type Proc } from '../helpers/proc.js';
import { waitFor } from '../helpers/wait.js';
import { startWorld, type World } from '../helpers/world.js';

const slow = process.env.S2P_SLOW_TESTS === '1';
const hasCli = spawnSync('redis-cli', ['--version']).status === 0 && spawnSync('redis-server', ['--version']).status === 0;
if (!slow || !hasCli) console.warn(`[cluster] SKIPPED: ${!hasCli ? 'redis-server/redis-cli not on PATH' : 'S2P_SLOW_TESTS is not 1'}`);

const PREFIX = '{s2p}';
let servers: ChildProcess[] = [];
let dir: string;
let ports: number[] = [];
let world: World;
let cluster: Cluster;
const procs: Proc[] = [];

describe.skipIf(!slow || !hasCli)('Redis Cluster', () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 's2p-cluster-'));
    ports = [await freePort(), await freePort(), await freePort()];
    servers = ports.map((p) =>
      spawn(
        'redis-server',
        [
          '--port',
          String(p),
          '--bind',
          '127.0.0.1',
          '--cluster-enabled',
          'yes',
          '--cluster-config-file',
          `nodes-${p}.conf`,
          '--dir',
          dir,
          '--save',
          '',
          '--appendonly',
          'no',
        ],
        { stdio: 'ignore' },
      ),
    );
    for (const p of ports) await waitForRedis(p);
    const create = spawnSync(
      'redis-cli',
      ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes'],
      { encoding: 'utf8' },
    );
    expect(create.status, create.stdout + create.stderr).toBe(0);
    await waitFor(
      () => spawnSync('redis-cli', ['-p', String(ports[0]), 'cluster', 'info'], { encoding: 'utf8' }).stdout.includes('cluster_state:ok'),
      20_000,
      'cluster ok',
    );
    const nodes = ports.map((p) => `127.0.0.1:${p}`).join(',');
    world = await startWorld({
      scenes: 30,
      prefixName: 'cluster',
      env: {
        REDIS_CLUSTER_NODES: nodes,
        REDIS_PREFIX: PREFIX,
        SYNC_POSTER: 'false',
        BREAKER_FAILURE_THRESHOLD: '3',
        BREAKER_RECOVERY_TIMEOUT_MS: '500',
        HEALTH_INTERVAL_MS: '250',
        HEALTH_MAX_INTERVAL_MS: '1000',
        HEALTH_CLOSED_INTERVAL_MS: '300',
        HEALTH_TIMEOUT_MS: '500',
        RAMP_INITIAL_RATE: '2',
        RAMP_TARGET_RATE: '10',
        RAMP_DURATION_MS: '3000',
        RECONCILE_INTERVAL_MS: '0',
      },
    });
    cluster = new Cluster(ports.map((port) => ({ host: '127.0.0.1', port })));
    for (const script of ['worker', 'worker', 'supervisor', 'supervisor']) procs.push(startProcess(`dist/workers/${script}.js`, world.env));
  }, 60_000);

  afterAll(async () => {
    await Promise.all(procs.map((p) => p.stop('SIGKILL')));
    cluster?.disconnect();
    await world?.stop();
    for (const s of servers) s.kill('SIGKILL');
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const hook = async (id: string, title: string) => {
    world.stash.updateScene(id, { title });
    await cluster.xadd(
      `${PREFIX}:inbox`,
      '*',
      ...encodeInboxEntry({ sceneId: id, reason: 'hook', event: 'Scene.Update.Post', fields: ['title'], enqueuedAt: Date.now() }),
    );
  };
  const titleOf = (id: string) => world.plex.item(world.ratingKeyOf.get(id)!)!.title;

  it('hook events reach Plex through workers on the cluster; one supervisor leads', async () => {
    for (const id of world.ratingKeyOf.keys()) await hook(id, `Cluster ${id}`);
    await waitFor(() => [...world.ratingKeyOf.keys()].every((id) => titleOf(id) === `Cluster ${id}`), 30_000, 'all synced', 200);
    const leader = await cluster.get(`${PREFIX}:leader`);
    expect(leader).toBeTruthy();
  }, 60_000);

  it('an outage pauses the queue and the recovery ramps, on the cluster', async () => {
    await world.plex.setMode('down');
    await waitFor(async () => (await cluster.hget(`${PREFIX}:breaker`, 'state')) === 'OPEN', 10_000, 'OPEN');
    for (const id of world.ratingKeyOf.keys()) await hook(id, `After outage ${id}`);
    await waitFor(async () => (await cluster.hexists(`${PREFIX}:sync:meta`, 'paused')) === 1, 10_000, 'the queue paused');
    await world.plex.setMode('up');
    await waitFor(async () => (await cluster.exists(`${PREFIX}:ramp`)) === 1, 15_000, 'ramp started');
    await waitFor(
      () => [...world.ratingKeyOf.keys()].every((id) => titleOf(id) === `After outage ${id}`),
      40_000,
      'all synced after the outage',
      200,
    );
    expect(procs.every((p) => p.child.exitCode === null)).toBe(true);
  }, 90_000);
});
