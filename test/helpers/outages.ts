// Hand-built outage records for tests: a 2-minute outage detected after 1 s unless told otherwise.
import type { Outage } from '../../src/resilience/outages.js';

export const S = 1_000;
export const M = 60 * S;

export const outage = (o: Partial<Outage> & { startedAt: number }): Outage => {
  const endedAt = o.endedAt === undefined ? o.startedAt + 2 * M : o.endedAt;
  return {
    id: `o-${o.startedAt}`,
    detectedAt: o.startedAt + S,
    endedAt,
    durationMs: endedAt === null ? null : endedAt - o.startedAt,
    trigger: 'failures',
    firstError: null,
    jobsAffected: 0,
    rampEndedAt: null,
    ...o,
  };
};
