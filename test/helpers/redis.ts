// Per-test-file Redis access: the run's private server, and a key prefix no other file uses.
import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { Redis } from 'ioredis';

export function testRedisUrl(): string {
  return inject('redisUrl');
}

/** A prefix unique to this call, so files and tests never see each other's keys. */
export function uniquePrefix(name = 't'): string {
  return `s2pt-${name}-${randomBytes(4).toString('hex')}`;
}

export function testRedis(): Redis {
  return new Redis(testRedisUrl(), { maxRetriesPerRequest: null });
}
