// A supervisor snapshot of a fresh system (nothing stored yet but the breaker at `now`), for the pure
// status tests; each test overrides what it is about.
import { initialBreaker } from '../../src/resilience/breaker.js';
import { EMPTY_HEALTH } from '../../src/resilience/health-record.js';
import type { SupervisorSnapshot } from '../../src/resilience/store.js';

export function freshSnapshot(now: number, over: Partial<SupervisorSnapshot> = {}): SupervisorSnapshot {
  return {
    breaker: initialBreaker(now),
    ramp: null,
    outages: [],
    observedSince: null,
    health: { ...EMPTY_HEALTH },
    signalCursor: '',
    warnings: [],
    ...over,
  };
}
