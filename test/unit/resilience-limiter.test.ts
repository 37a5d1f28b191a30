import { describe, expect, it } from 'vitest';
import { SyncError } from '../../src/core/errors.js';
import { LIMIT_DEFAULTS } from '../../src/resilience/concurrency-limit.js';
import { ConcurrencyLimiter } from '../../src/resilience/limiter.js';

/** A request the test answers by hand. */
function manual() {
  const open: { resolve: () => void; reject: (e: unknown) => void; order: number }[] = [];
  let started = 0;
  const request = () =>
    new Promise<void>((resolve, reject) => {
      open.push({ resolve, reject, order: started++ });
    });
  return { open, request, started: () => started };
}
const tick = () => new Promise((r) => setImmediate(r));

describe('ConcurrencyLimiter (the adapter)', () => {
  it('holds at most `limit` requests out and lets the waiting go first in, first out', async () => {
    let now = 0;
    const limiter = new ConcurrencyLimiter('plex', { ...LIMIT_DEFAULTS, initial: 3, ceiling: 8, adaptive: true }, () => now);
    const m = manual();
    const done: number[] = [];
    const runs = Array.from({ length: 7 }, (_, i) => limiter.run(m.request).then(() => done.push(i)));
    await tick();
    expect(m.started()).toBe(3);
    expect(limiter.snapshot()).toMatchObject({ target: 'plex', limit: 3, inFlight: 3, waiting: 4 });
    now += 20;
    m.open.shift()!.resolve();
    await tick();
    expect(m.started()).toBe(4);
    // A newcomer waits behind those already waiting.
    const late = limiter.run(m.request);
    await tick();
    expect(limiter.snapshot().waiting).toBe(4);
    while (m.open.length) {
      m.open.shift()!.resolve();
      await tick();
      expect(limiter.snapshot().inFlight).toBeLessThanOrEqual(limiter.limit);
    }
    await Promise.all(runs);
    await late;
    expect(done).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });

  it('a timeout halves the limit; another failure passes through without touching it', async () => {
    const limiter = new ConcurrencyLimiter('stash', { ...LIMIT_DEFAULTS, initial: 8, ceiling: 8, adaptive: true });
    await expect(limiter.run(() => Promise.reject(new SyncError('StashUnavailable', 'POST /graphql → HTTP 503', 503)))).rejects.toThrow(
      /503/,
    );
    expect(limiter.limit).toBe(8);
    const timeout = Object.assign(new Error('The operation was aborted due to timeout'), { name: 'TimeoutError' });
    await expect(limiter.run(() => Promise.reject(timeout))).rejects.toBe(timeout);
    expect(limiter.limit).toBe(4);
    const classified = new SyncError('PlexTemporaryError', 'GET /library/sections → timeout (ETIMEDOUT)');
    await expect(limiter.run(() => Promise.reject(classified))).rejects.toBe(classified);
    expect(limiter.limit).toBe(2);
    expect(limiter.snapshot().inFlight).toBe(0);
  });

  it('ADAPTIVE_CONCURRENCY=false: WORKER_CONCURRENCY at once, from the start', async () => {
    const limiter = ConcurrencyLimiter.forWorker('plex', { ceiling: 5, adaptive: false });
    const m = manual();
    const runs = Array.from({ length: 9 }, () => limiter.run(m.request));
    await tick();
    expect(m.started()).toBe(5);
    for (let i = 0; i < 9; i++) {
      m.open.shift()?.resolve();
      await tick();
    }
    await Promise.all(runs);
    expect(limiter.snapshot()).toMatchObject({ adaptive: false, limit: 5, ceiling: 5, inFlight: 0, waiting: 0 });
  });
});
