// Real failed sync jobs (through BullMQ's own API) failing at a chosen time, for the requeue tests.
import type { Queue } from 'bullmq';
import { vi } from 'vitest';
import { makeFailedJobs, type FailedJobSpec } from '../../bench/requeue.js';
import type { Config } from '../../src/core/config.js';
import type { RedisConnection } from '../../src/core/redis.js';
import type { SyncJobData } from '../../src/model/inbox-item.js';

export const DOWN = (n: string | number) => `PlexServerDown: GET /library/metadata/${n} → ECONNREFUSED`;

/** Jobs for scenes from, from+1, … failing with `reason`. */
export const specs = (from: number, count: number, reason: (i: number) => string = DOWN): FailedJobSpec[] =>
  Array.from({ length: count }, (_, i) => ({ sceneId: String(from + i), failedReason: reason(from + i) }));

/** Makes `jobs` fail at `at` (only Date is faked meanwhile). */
export async function failAt(
  at: number,
  jobs: FailedJobSpec[],
  env: { connection: RedisConnection; config: Config; queue: Queue<SyncJobData> },
): Promise<string[]> {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(at);
  try {
    return await makeFailedJobs({
      connection: env.connection,
      prefix: env.config.redis.prefix,
      queue: env.queue,
      strategies: env.config.errorStrategies,
      jobs,
    });
  } finally {
    vi.useRealTimers();
  }
}
