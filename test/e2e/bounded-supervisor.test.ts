// A real supervisor process against a Plex (or a proxy) that answers every request with 256 MiB,
// chunked: each probe and token check is aborted past its limit, logged with its size, and the process
// stays up with its peak RSS under 1.5× what it was before the hostile answers began.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keys } from '../../src/core/redis.js';
import { startHostileServer, type HostileServer } from '../helpers/hostile-server.js';
import { startProcess, type Proc } from '../helpers/proc.js';
import { testRedis, testRedisUrl, uniquePrefix } from '../helpers/redis.js';
import { waitFor } from '../helpers/wait.js';

const SUPERVISOR = 'dist/workers/supervisor.js';

let server: HostileServer;
let supervisor: Proc | undefined;
const redis = testRedis();

/** A /proc/<pid>/status field in bytes (VmRSS now, VmHWM the peak so far). */
function memory(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m![1]) * 1024;
}

beforeAll(async () => {
  server = await startHostileServer({ mode: 'chunked', bytes: 256 * 1024 * 1024, contentType: 'application/json', hostile: false });
});
afterAll(async () => {
  await supervisor?.stop();
  await server.stop();
  redis.disconnect();
});

describe('supervisor against a Plex answering 256 MiB', () => {
  it('aborts each answer past its limit, logs the size, stays up, RSS < 1.5×', async () => {
    const prefix = uniquePrefix('bounded');
    supervisor = startProcess(SUPERVISOR, {
      REDIS_URL: testRedisUrl(),
      REDIS_PREFIX: prefix,
      PLEX_URL: server.url,
      PLEX_TOKEN: 'hostile-test-token',
      PLEX_MAX_RESPONSE_BYTES: String(1024 * 1024),
      HEALTH_INTERVAL_MS: '100',
      HEALTH_MAX_INTERVAL_MS: '200',
      HEALTH_CLOSED_INTERVAL_MS: '100',
      LOG_LEVEL: 'warn',
    });
    const pid = supervisor.child.pid!;
    // Settled first: started, leader, probing a Plex that answers 503.
    const health = async () => JSON.parse((await redis.get(keys(prefix).health)) ?? '{}') as { error?: string | null };
    await waitFor(async () => /HTTP 503/.test((await health()).error ?? ''), 20_000, 'a 503 probe recorded');
    const before = memory(pid, 'VmRSS');

    server.setHostile(true);
    await waitFor(() => server.hostileAnswers() >= 10, 30_000, '10 hostile answers');
    await waitFor(async () => /too large/.test((await health()).error ?? ''), 10_000, 'an oversized probe recorded');

    expect(supervisor.child.exitCode).toBeNull();
    expect(memory(pid, 'VmHWM')).toBeLessThan(before * 1.5);
    expect((await health()).error).toMatch(
      /^PlexTemporaryError: GET \/identity → unreadable response \(answer too large: over the 65536-byte limit/,
    );
    const logged = supervisor
      .output()
      .split('\n')
      .filter((l) => l.includes('too large: aborted'))
      .map((l) => JSON.parse(l) as { bytes: number; limit: number });
    expect(logged.length).toBeGreaterThan(0);
    expect(logged.every((l) => l.bytes > l.limit)).toBe(true);
  }, 90_000);
});
