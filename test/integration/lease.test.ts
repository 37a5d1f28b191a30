import { afterAll, describe, expect, it } from 'vitest';
import { LeaderLease } from '../../src/resilience/lease.js';
import { testRedis, uniquePrefix } from '../helpers/redis.js';
import { waitFor } from '../helpers/wait.js';

const redis = testRedis();
afterAll(() => redis.disconnect());

describe('LeaderLease', () => {
  it('lets exactly one of several contenders lead, and renews', async () => {
    const key = `${uniquePrefix('lease')}:leader`;
    const leases = ['a', 'b', 'c'].map((id) => new LeaderLease(redis, key, id, 2_000));
    const results = await Promise.all(leases.map((l) => l.tryAcquire()));
    expect(results.filter((r) => r === 'acquired')).toHaveLength(1);
    const leader = leases[results.indexOf('acquired')];
    expect(await leader.tryAcquire()).toBe('acquired');
    expect(await redis.pttl(key)).toBeGreaterThan(1_000);
  });

  it('fences writes: only the holder writes, atomically', async () => {
    const p = uniquePrefix('lease');
    const a = new LeaderLease(redis, `${p}:leader`, 'a', 5_000);
    const b = new LeaderLease(redis, `${p}:leader`, 'b', 5_000);
    await a.tryAcquire();
    const ops = [
      { cmd: 'HSET' as const, key: `${p}:breaker`, args: ['state', 'OPEN', 'since', 5] },
      { cmd: 'LPUSH' as const, key: `${p}:transitions`, args: ['t1'] },
      { cmd: 'LTRIM' as const, key: `${p}:transitions`, args: [0, 9] },
    ];
    expect(await b.write(ops)).toBe(false);
    expect(await redis.exists(`${p}:breaker`)).toBe(0);
    expect(await a.write(ops)).toBe(true);
    expect(await redis.hgetall(`${p}:breaker`)).toEqual({ state: 'OPEN', since: '5' });
    expect(await redis.lrange(`${p}:transitions`, 0, -1)).toEqual(['t1']);
  });

  it('hands over when the holder stops renewing, and replaces a lease without TTL', async () => {
    const key = `${uniquePrefix('lease')}:leader`;
    const a = new LeaderLease(redis, key, 'a', 300);
    const b = new LeaderLease(redis, key, 'b', 300);
    expect(await a.tryAcquire()).toBe('acquired');
    expect(await b.tryAcquire()).toBe('held-by-other');
    await waitFor(async () => (await b.tryAcquire()) === 'acquired', 5_000, 'b takes the expired lease');
    expect(await a.write([{ cmd: 'SET', key: `${key}:x`, args: ['1'] }])).toBe(false);
    await redis.set(key, 'dead-process-id');
    expect(await a.tryAcquire()).toBe('replaced-corrupt');
    expect(await a.holder()).toBe('a');
    await a.release();
    expect(await a.holder()).toBeNull();
  });

  it('replaces a lease key of the wrong Redis type (corrupt)', async () => {
    const key = `${uniquePrefix('lease')}:leader`;
    await redis.hset(key, { id: 'x' });
    const a = new LeaderLease(redis, key, 'a', 5_000);
    expect(await a.tryAcquire()).toBe('replaced-corrupt');
    expect(await a.holder()).toBe('a');
    expect(await a.write([{ cmd: 'SET', key: `${key}:x`, args: ['1'] }])).toBe(true);
  });
});
