// Outcome signals read back with their writer's schema (emitSignal's fields), and folded into breaker
// events, the ramp's outcomes and the outage's jobs. An entry that does not fit counts for nothing.
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/core/config.js';
import { foldSignals, parseSignal, type Signal } from '../../src/resilience/signals.js';

const strategies = parseConfig({}, { plex: false, stash: false }).errorStrategies;
const AT = 1_700_000_000_000;
const entry = (fields: Record<string, string>) => Object.entries(fields).flat();

describe('parseSignal', () => {
  it('reads what emitSignal writes', () => {
    expect(parseSignal('1-0', entry({ at: String(AT), outcome: 'ok', jobId: '7' }))).toEqual({
      id: '1-0',
      at: AT,
      outcome: 'ok',
      jobId: '7',
    });
    expect(parseSignal('2-0', entry({ at: String(AT), outcome: 'PlexServerDown', jobId: '' }))).toEqual({
      id: '2-0',
      at: AT,
      outcome: 'PlexServerDown',
      jobId: null,
    });
  });

  it('reads a missing or unknown outcome as unreadable, never as a success', () => {
    const unreadable = (id: string) => ({ id, at: null, outcome: null, jobId: null });
    expect(parseSignal('1-0', entry({ at: String(AT), jobId: '7' }))).toEqual(unreadable('1-0'));
    expect(parseSignal('2-0', entry({ at: String(AT), outcome: 'fine', jobId: '7' }))).toEqual(unreadable('2-0'));
    expect(parseSignal('3-0', entry({ at: String(AT), outcome: '', jobId: '7' }))).toEqual(unreadable('3-0'));
  });

  it('reads an entry without a readable time as unreadable', () => {
    for (const at of ['', 'now', '-5', '1.5']) expect(parseSignal('1-0', entry({ at, outcome: 'ok' })).outcome).toBeNull();
    expect(parseSignal('1-0', entry({ outcome: 'ok' })).outcome).toBeNull();
  });
});

describe('foldSignals', () => {
  const sig = (id: number, outcome: Signal['outcome'], jobId: string | null = null): Signal =>
    outcome === null ? { id: `${id}-0`, at: null, outcome: null, jobId: null } : { id: `${id}-0`, at: AT + id, outcome, jobId };

  it('a success is a job success for the breaker and an ok outcome for the ramp', () => {
    expect(foldSignals([sig(1, 'ok', 'a')], strategies)).toEqual({
      events: [{ type: 'success', source: 'job', at: AT + 1 }],
      outcomes: [{ at: AT + 1, ok: true }],
      affectedJobs: [],
      authSuspect: false,
      stashSuspect: false,
    });
  });

  it('an outage-class failure counts toward the breaker and the ramp, and its job joins the outage', () => {
    expect(foldSignals([sig(2, 'PlexServerDown', 'j')], strategies)).toEqual({
      events: [{ type: 'failure', source: 'job', error: 'PlexServerDown', at: AT + 2 }],
      outcomes: [{ at: AT + 2, ok: false }],
      affectedJobs: ['j'],
      authSuspect: false,
      stashSuspect: false,
    });
  });

  it('other errors are no breaker events; a 401/403 makes the token suspect', () => {
    expect(foldSignals([sig(3, 'PlexNotFound', 'x'), sig(4, 'PlexAuthError', 'y')], strategies)).toEqual({
      events: [],
      outcomes: [],
      affectedJobs: [],
      authSuspect: true,
      stashSuspect: false,
    });
  });

  it('an unreadable signal counts for nothing: it cannot end a failure streak', () => {
    const fold = foldSignals([sig(5, 'PlexServerDown', 'a'), sig(6, null), sig(7, 'PlexServerDown', 'b')], strategies);
    expect(fold.events.map((e) => e.type)).toEqual(['failure', 'failure']);
    expect(fold.outcomes).toHaveLength(2);
  });
});
