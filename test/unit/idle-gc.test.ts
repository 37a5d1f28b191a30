import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { collectWhenDrained, shouldCollect } from '../../src/sync/idle-gc.js';

describe('idle GC: a full collection when the queue empties, at most once per interval', () => {
  it('shouldCollect: first time, then only once the interval has passed', () => {
    expect(shouldCollect(1_000, undefined, 60_000)).toBe(true);
    expect(shouldCollect(60_999, 1_000, 60_000)).toBe(false);
    expect(shouldCollect(61_000, 1_000, 60_000)).toBe(true);
  });

  it('runs gc on drained events, spaced by the interval', () => {
    const worker = new EventEmitter();
    let clock = 0;
    let collected = 0;
    expect(collectWhenDrained(worker, { gc: () => collected++, minIntervalMs: 60_000, now: () => clock })).toBe(true);
    worker.emit('drained');
    expect(collected).toBe(1);
    clock = 30_000;
    worker.emit('drained');
    expect(collected).toBe(1);
    clock = 60_000;
    worker.emit('drained');
    expect(collected).toBe(2);
  });

  it('without --expose-gc (no gc function) it does nothing', () => {
    const worker = new EventEmitter();
    const saved = (globalThis as { gc?: unknown }).gc;
    delete (globalThis as { gc?: unknown }).gc;
    try {
      expect(collectWhenDrained(worker)).toBe(false);
      expect(worker.listenerCount('drained')).toBe(0);
    } finally {
      if (saved) (globalThis as { gc?: unknown }).gc = saved;
    }
  });
});
