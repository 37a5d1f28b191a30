import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { collectWhenIdle, shouldCollect } from '../../src/sync/idle-gc.js';
import { waitFor } from '../helpers/wait.js';

describe('idle GC: one full collection once the worker goes quiet after a run of jobs', () => {
  it('shouldCollect: only after enough jobs', () => {
    expect(shouldCollect(99, 100)).toBe(false);
    expect(shouldCollect(100, 100)).toBe(true);
  });

  it('collects once after a quiet spell, not during the run, and not for a handful of jobs', async () => {
    const worker = new EventEmitter();
    let collected = 0;
    expect(collectWhenIdle(worker, { gc: () => collected++, idleMs: 50, minJobs: 10 })).toBe(true);
    for (let i = 0; i < 30; i++) worker.emit(i % 2 ? 'completed' : 'failed');
    expect(collected).toBe(0); // still busy: the quiet spell has not begun
    await waitFor(() => collected === 1, 5_000, 'a collection after the quiet spell');
    for (let i = 0; i < 3; i++) worker.emit('completed'); // too few to be worth one
    await new Promise((r) => setTimeout(r, 200)); // four quiet spells: nothing may happen in them
    expect(collected).toBe(1);
  });

  it('without --expose-gc (no gc function) it does nothing', () => {
    const worker = new EventEmitter();
    const saved = (globalThis as { gc?: unknown }).gc;
    delete (globalThis as { gc?: unknown }).gc;
    try {
      expect(collectWhenIdle(worker)).toBe(false);
      expect(worker.listenerCount('completed') + worker.listenerCount('failed')).toBe(0);
    } finally {
      if (saved) (globalThis as { gc?: unknown }).gc = saved;
    }
  });
});
