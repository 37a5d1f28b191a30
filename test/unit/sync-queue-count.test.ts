// countAdded (src/sync/queue.ts): how many jobs an add really added, from the ids BullMQ answered and the
// jobs that waited for the same scenes just before.
import { describe, expect, it } from 'vitest';
import { countAdded } from '../../src/sync/queue.js';

describe('countAdded', () => {
  it('counts a new id, not the id of the job that already waited for the scene', () => {
    expect(countAdded([null, null], ['11', '12'])).toBe(2);
    expect(countAdded(['4', '5'], ['4', '5'])).toBe(0);
    expect(countAdded(['4', null], ['4', '12'])).toBe(1);
  });

  it('counts a job started (no longer waiting) after the read: the add made a new one', () => {
    expect(countAdded(['4'], ['13'])).toBe(1);
  });

  it('counts a scene twice in one add once', () => {
    expect(countAdded([null, null, '4', '4'], ['11', '11', '4', '4'])).toBe(1);
  });

  it('counts nothing for an empty add, or an answer without an id', () => {
    expect(countAdded([], [])).toBe(0);
    expect(countAdded([null], [undefined])).toBe(0);
  });
});
