// The first-sync benchmark's row selection (S2P_BENCH_FIRST_SYNC_ROWS): a session can run the 100 000-scene
// rows one at a time, and a misspelt row is refused by the variable's name rather than skipped.
import { describe, expect, it } from 'vitest';
import { firstSyncRows } from '../../bench/first-sync.js';

describe('firstSyncRows', () => {
  it('runs all three rows in table order when the variable is unset or blank', () => {
    expect(firstSyncRows(undefined)).toEqual(['adaptive', 'single', 'fixed']);
    expect(firstSyncRows(' ')).toEqual(['adaptive', 'single', 'fixed']);
  });

  it('runs the rows named, in table order', () => {
    expect(firstSyncRows('fixed, adaptive')).toEqual(['adaptive', 'fixed']);
    expect(firstSyncRows('single')).toEqual(['single']);
  });

  it('refuses an unknown row, naming the variable and the rows there are', () => {
    expect(() => firstSyncRows('adaptive,fixd')).toThrow('S2P_BENCH_FIRST_SYNC_ROWS: unknown row "fixd" (rows: adaptive, single, fixed)');
    expect(() => firstSyncRows(',')).toThrow(/S2P_BENCH_FIRST_SYNC_ROWS: unknown row/);
  });
});
