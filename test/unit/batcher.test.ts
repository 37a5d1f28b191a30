// The Batcher alone: keys asked together go in one run, bounded by count and cost; each caller gets its
// key's value or error; a failed run fails only the keys it carried.
import { describe, expect, it } from 'vitest';
import { Batcher } from '../../src/core/batcher.js';

function recorder(answer: (key: string) => string | Error = (k) => `v${k}`) {
  const runs: string[][] = [];
  const run = (keys: string[]) => {
    runs.push(keys);
    return Promise.resolve(new Map(keys.map((k) => [k, answer(k)] as const)));
  };
  return { runs, run };
}

describe('Batcher', () => {
  it('reads the keys asked in the same moment in one run, a repeated key once, each caller its own value', async () => {
    const r = recorder();
    const b = new Batcher(r.run, { maxKeys: 10 });
    expect(await Promise.all(['1', '2', '1', '3'].map((k) => b.load(k)))).toEqual(['v1', 'v2', 'v1', 'v3']);
    expect(r.runs).toEqual([['1', '2', '3']]);
  });

  it('a run holds at most maxKeys keys and at most maxCost', async () => {
    const r = recorder();
    const byCount = new Batcher(r.run, { maxKeys: 2 });
    await Promise.all(['1', '2', '3', '4', '5'].map((k) => byCount.load(k)));
    expect(r.runs).toEqual([['1', '2'], ['3', '4'], ['5']]);
    r.runs.length = 0;
    const byCost = new Batcher(r.run, { maxKeys: 100, maxCost: 10, cost: (k) => k.length });
    await Promise.all(['aaaa', 'bbbb', 'cccc', 'dd', 'eeeeeeeeee'].map((k) => byCost.load(k)));
    expect(r.runs).toEqual([['aaaa', 'bbbb'], ['cccc', 'dd'], ['eeeeeeeeee']]);
  });

  it("an Error for a key fails that key's callers only; a failed run fails the keys it carried only", async () => {
    const r = recorder((k) => (k === 'x' ? new Error('no x') : `v${k}`));
    const b = new Batcher(r.run, { maxKeys: 10 });
    const settled = await Promise.allSettled(['a', 'x', 'b'].map((k) => b.load(k)));
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);

    let calls = 0;
    const flaky = new Batcher(
      (keys: string[]) => {
        if (calls++ === 0) return Promise.reject(new Error('server down'));
        return Promise.resolve(new Map(keys.map((k) => [k, k] as const)));
      },
      { maxKeys: 2 },
    );
    const outcome = await Promise.allSettled(['1', '2', '3'].map((k) => flaky.load(k)));
    expect(outcome.map((s) => s.status)).toEqual(['rejected', 'rejected', 'fulfilled']);
  });

  it('waits up to the window for more keys, then at most half the last round trip', async () => {
    const r = recorder();
    const b = new Batcher(r.run, { maxKeys: 10, windowMs: 400 });
    const first = b.load('1');
    await new Promise((resolve) => setTimeout(resolve, 10));
    const second = b.load('2'); // within the first window: same run
    await Promise.all([first, second]);
    expect(r.runs).toEqual([['1', '2']]);
    // The run answered at once: the next batch leaves with the current I/O round, not 400 ms later.
    const started = performance.now();
    await b.load('3');
    expect(performance.now() - started).toBeLessThan(200);
  });
});
