// The contract's fallback for single-machine installs: with REDIS_URL unset and nothing answering on
// 127.0.0.1:6379, start redis-server from PATH with persistence in ./data/redis, and stop it on exit.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { connect } from 'node:net';
import { resolve } from 'node:path';

function answers(port: number, host = '127.0.0.1', timeoutMs = 500): Promise<boolean> {
  return new Promise((done) => {
    const sock = connect(port, host);
    const finish = (ok: boolean) => {
      sock.destroy();
      done(ok);
    };
    sock.setTimeout(timeoutMs, () => finish(false));
    sock.once('connect', () => sock.write('PING\r\n'));
    sock.once('data', (d) => finish(d.toString().startsWith('+PONG') || d.toString().startsWith('-NOAUTH')));
    sock.once('error', () => finish(false));
  });
}

export interface EmbeddedRedis {
  url: string;
  stop(): Promise<void>;
}

/** Returns null when REDIS_URL is set or a Redis already answers; throws with advice when none can be had. */
export async function ensureRedis(env: NodeJS.ProcessEnv, dataDir = resolve('data/redis'), port = 6379): Promise<EmbeddedRedis | null> {
  if (env.REDIS_URL || env.REDIS_CLUSTER_NODES) return null;
  if (await answers(port)) return null;
  if (spawnSync('redis-server', ['--version']).status !== 0) {
    throw new Error(
      'no Redis answers on 127.0.0.1:6379 and redis-server is not on PATH. Install it (Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis) or set REDIS_URL.',
    );
  }
  mkdirSync(dataDir, { recursive: true });
  const child: ChildProcess = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--dir', dataDir, '--appendonly', 'yes', '--maxmemory-policy', 'noeviction'],
    { stdio: 'ignore' },
  );
  const until = Date.now() + 10_000;
  while (!(await answers(port))) {
    if (child.exitCode !== null || Date.now() > until) throw new Error(`embedded redis-server did not start on port ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const kill = () => child.kill('SIGTERM');
  process.once('exit', kill);
  return {
    url: `redis://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((done) => {
        process.off('exit', kill);
        if (child.exitCode !== null) return done();
        child.once('exit', () => done());
        child.kill('SIGTERM');
      }),
  };
}
