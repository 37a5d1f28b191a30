// Starts a private redis-server on a free port for the whole run (when one is on PATH), else uses
// REDIS_URL. Test files isolate themselves further by key prefix (test/helpers/redis.ts).
import type { TestProject } from 'vitest/node';
import { hasRedisServer, startPrivateRedis, type PrivateRedis } from '../../src/sim/redis-server.js';

let server: PrivateRedis | undefined;

export default async function setup(project: TestProject) {
  let url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  if (hasRedisServer()) {
    server = await startPrivateRedis();
    url = server.url;
    console.log(`[test] private redis-server on port ${server.port}`);
  } else {
    console.warn(`[test] no redis-server on PATH: using REDIS_URL=${url}`);
  }
  process.env.S2P_TEST_REDIS_URL = url;
  project.provide('redisUrl', url);
  return () => server?.stop();
}

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
  }
}
