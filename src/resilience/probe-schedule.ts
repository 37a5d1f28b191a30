// When to run the next /identity health probe: a pure function of the breaker state, the probe streak
// and a random number (passed in to stay pure).
import type { BreakerStateName } from './breaker.js';

export type ProbeSettings = { intervalMs: number; maxIntervalMs: number; closedIntervalMs: number };

/** Jitter of a backoff delay: ±20 %. */
export const PROBE_JITTER = 0.2;

/**
 * The delay in ms before the next probe, or null when probing is off.
 * - OPEN / HALF_OPEN: `intervalMs · 2^failuresInARow`, capped at `maxIntervalMs`, then jittered by
 *   ±20 % (`random` 0 → −20 %, 0.5 → exact, →1 → +20 %) and capped again, so the result lies in
 *   [0.8·base, min(1.2·base, maxIntervalMs)] and never above the cap. After a success the caller
 *   resets `failuresInARow` to 0 (see probeStreak), so the delay is back to `intervalMs` (± jitter).
 * - CLOSED: exactly `closedIntervalMs` (no jitter: one leader probes); 0 means off → null.
 * The result is a whole number of ms, at least 1.
 */
export function nextProbeDelay(args: {
  state: BreakerStateName;
  failuresInARow: number;
  settings: ProbeSettings;
  random: number;
}): number | null {
  const { state, settings } = args;
  if (state === 'CLOSED') return settings.closedIntervalMs > 0 ? settings.closedIntervalMs : null;
  const n = Number.isFinite(args.failuresInARow) && args.failuresInARow > 0 ? Math.min(Math.floor(args.failuresInARow), 40) : 0;
  const cap = Math.max(settings.maxIntervalMs, 1);
  const base = Math.min(cap, Math.max(1, settings.intervalMs) * 2 ** n);
  const r = Number.isFinite(args.random) ? Math.min(1, Math.max(0, args.random)) : 0.5;
  const jittered = base * (1 + PROBE_JITTER * (2 * r - 1));
  return Math.max(1, Math.round(Math.min(cap, jittered)));
}

/** The probe streak after a probe: failures in a row, reset by a success. */
export function probeStreak(failuresInARow: number, ok: boolean): number {
  return ok ? 0 : failuresInARow + 1;
}
