// Starts a private redis-server on a free port for the whole run (when one is on PATH), else uses
// REDIS_URL. Test files isolate themselves further by key prefix (test/helpers/redis.ts).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { freePort, waitForRedis } from './ports.js';

let server: ChildProcess | undefined;
let dir: string | undefined;

export default async function setup(project: TestProject) {
  let url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  if (spawnSync('redis-server', ['--version']).status === 0) {
    const port = await freePort();
    dir = mkdtempSync(join(tmpdir(), 's2p-test-redis-'));
    server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], {
      stdio: 'ignore',
    });
    url = `redis://127.0.0.1:${port}`;
    await waitForRedis(port);
    console.log(`[test] private redis-server on port ${port}`);
  } else {
    console.warn(`[test] no redis-server on PATH: using REDIS_URL=${url}`);
  }
  process.env.S2P_TEST_REDIS_URL = url;
  project.provide('redisUrl', url);
  return async () => {
    server?.kill('SIGKILL');
    if (dir) rmSync(dir, { recursive: true, force: true });
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
  }
}
