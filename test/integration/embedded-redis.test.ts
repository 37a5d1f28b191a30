// npm start's fallback: with REDIS_URL unset and nothing answering, a redis-server of its own, persisted.
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { ensureRedis } from '../../src/roles/embedded-redis.js';
import { freePort, hasRedisServer } from '../../src/sim/redis-server.js';

describe.skipIf(!hasRedisServer())('embedded redis-server', () => {
  it('starts one with append-only persistence in the data folder when nothing answers, and stops it', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 's2p-embedded-')), 'data', 'redis');
    const port = await freePort();
    const embedded = await ensureRedis({}, dir, port);
    expect(embedded).not.toBeNull();
    const client = new Redis(embedded!.url);
    expect(await client.set('k', 'v')).toBe('OK');
    expect(await client.config('GET', 'appendonly')).toEqual(['appendonly', 'yes']);
    client.disconnect();
    // A second start finds it answering and leaves it alone.
    expect(await ensureRedis({}, dir, port)).toBeNull();
    await embedded!.stop();
    expect(existsSync(dir)).toBe(true);
  });

  it('does nothing when REDIS_URL is set', async () => {
    expect(await ensureRedis({ REDIS_URL: 'redis://example:6379' }, '/nonexistent', await freePort())).toBeNull();
  });
});
