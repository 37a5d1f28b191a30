// The pure checks of Reconcile Library's index in Redis (src/sync/library-index.ts): whether a lookup read
// the complete index of its run, and what a run does once it finds it lost.
import { describe, expect, it } from 'vitest';
import { isIndexComplete, MAX_INDEX_REBUILDS, onIndexLost } from '../../src/sync/library-index.js';

describe('the index header', () => {
  const expected = { runId: 'run-1', files: 20_000 };

  it('is complete with its run id and the count its listing wrote', () => {
    expect(isIndexComplete(['run-1', '20000'], expected)).toBe(true);
  });

  it('is lost when the hash is gone, was made again by later writes, is still being written, or is another run', () => {
    expect(isIndexComplete([null, null], expected)).toBe(false); // deleted, evicted, flushed
    expect(isIndexComplete([null, '20000'], expected)).toBe(false); // made again by the count's own write
    expect(isIndexComplete(['run-1', null], expected)).toBe(false); // the listing never finished
    expect(isIndexComplete(['run-1', '12000'], expected)).toBe(false);
    expect(isIndexComplete(['run-2', '20000'], expected)).toBe(false);
    expect(isIndexComplete([undefined, undefined], { runId: 'run-1', files: 0 })).toBe(false);
  });

  it('an empty library is complete too (no files, the count 0)', () => {
    expect(isIndexComplete(['run-1', '0'], { runId: 'run-1', files: 0 })).toBe(true);
  });
});

describe('a lost index', () => {
  it('is rebuilt once per run; lost again, the run fails', () => {
    expect(MAX_INDEX_REBUILDS).toBe(1);
    expect(onIndexLost(0)).toBe('rebuild');
    expect(onIndexLost(1)).toBe('fail');
    expect(onIndexLost(5)).toBe('fail');
  });
});
