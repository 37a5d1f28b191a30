// The workers' gate reads the breaker, the lease and the health record through their one reader each
// (src/resilience/store.ts, lease.ts, health-record.ts): what the supervisor writes reads back as it
// meant, and a damaged record reads as the supervisor itself would read it, never a third way.
import { afterAll, describe, expect, it } from 'vitest';
import { keys } from '../../src/core/keys.js';
import { initialBreaker, type BreakerState } from '../../src/resilience/breaker.js';
import { breakerGate } from '../../src/resilience/gate.js';
import { EMPTY_HEALTH, healthWrite } from '../../src/resilience/health-record.js';
import { LeaderLease } from '../../src/resilience/lease.js';
import { breakerWrites, readBreaker } from '../../src/resilience/store.js';
import { testRedis, uniquePrefix } from '../helpers/redis.js';

const redis = testRedis();
afterAll(() => redis.disconnect());
const NOW = Date.now();

/** A fresh prefix, its keys, a lease that may write them, and a gate without a cache. */
async function setup() {
  const k = keys(uniquePrefix('gate'));
  const writer = new LeaderLease(redis, `${k.leader}:writer`, 'w', 60_000); // not the lease the gate reads
  await writer.tryAcquire();
  return { k, write: writer.write.bind(writer), gate: breakerGate(redis, k, 0) };
}

const open = (now: number): BreakerState => ({
  ...initialBreaker(now - 60_000),
  state: 'OPEN',
  since: now - 30_000,
  openedAt: now - 30_000,
  consecutiveFailures: 5,
});

/** The gate's Stash part while no supervisor checks Stash. */
const NO_STASH = { stashWatched: false, stashKeyRejected: false, stashDown: false, stashCheckedAt: null };

describe('breakerGate', () => {
  it('reads what the supervisor writes: an OPEN breaker holds, a token verdict is passed on', async () => {
    const { k, write, gate } = await setup();
    await write([
      ...breakerWrites(k, open(NOW), '5-0'),
      healthWrite(k, { ...EMPTY_HEALTH, tokenRejected: true, tokenCheckedAt: NOW - 1_000 }),
    ]);
    expect(await gate.breakerClosed()).toBe(false);
    expect(await gate.state()).toEqual({ holding: true, tokenRejected: true, tokenCheckedAt: NOW - 1_000, ...NO_STASH });
  });

  it('nothing stored: CLOSED, not holding, the token not judged', async () => {
    const { gate } = await setup();
    expect(await gate.breakerClosed()).toBe(true);
    expect(await gate.state()).toEqual({ holding: false, tokenRejected: false, tokenCheckedAt: null, ...NO_STASH });
  });

  it('a damaged breaker reads as the supervisor reads it (reset to CLOSED), not as its bare state field', async () => {
    const { k, gate } = await setup();
    await redis.hset(k.breaker, { state: 'OPEN', since: 'yesterday' });
    const warnings: string[] = [];
    expect((await readBreaker(redis, k, NOW, warnings)).state.state).toBe('CLOSED');
    expect(warnings).toEqual([expect.stringMatching(/reset to CLOSED/)]);
    expect(await gate.breakerClosed()).toBe(true);
    expect((await gate.state()).holding).toBe(false);
  });

  it('a leader holds while its lease is live; a lease without expiry or an unreadable one is no leader', async () => {
    const { k, gate } = await setup();
    await new LeaderLease(redis, k.leader, 'sup-1', 60_000).tryAcquire();
    expect((await gate.state()).holding).toBe(true);
    await redis.set(k.leader, 'sup-1'); // no expiry: stale, as the status page shows it
    expect((await gate.state()).holding).toBe(false);
    await redis.del(k.leader);
    await redis.hset(k.leader, { id: 'x' });
    expect((await gate.state()).holding).toBe(false);
  });

  it('holds a job at its start only while the breaker is OPEN and a supervisor is alive to release it', async () => {
    const { k, write } = await setup();
    const fresh = () => breakerGate(redis, k, 0);
    await write(breakerWrites(k, open(NOW), '5-0'));
    // OPEN, no supervisor: nothing would ever release it, so it runs (and its failures are held).
    expect(await fresh().holdsNewWork()).toBe(false);
    await new LeaderLease(redis, k.leader, 'sup-1', 60_000).tryAcquire();
    expect(await fresh().holdsNewWork()).toBe(true);
    // HALF_OPEN: the trial's jobs run; CLOSED: everything runs.
    await write(breakerWrites(k, { ...open(NOW), state: 'HALF_OPEN' }, '6-0'));
    expect((await readBreaker(redis, k, NOW, [])).state.state).toBe('HALF_OPEN');
    expect(await fresh().holdsNewWork()).toBe(false);
    await write(breakerWrites(k, initialBreaker(NOW), '7-0'));
    expect(await fresh().holdsNewWork()).toBe(false);
  });

  it('a health record of the wrong Redis type reads as the token not judged', async () => {
    const { k, gate } = await setup();
    await redis.hset(k.health, { tokenRejected: 'true' });
    expect(await gate.state()).toMatchObject({ tokenRejected: false, tokenCheckedAt: null });
  });
});
