// Adaptive concurrency as a pure policy: how many requests a worker process may have outstanding at one
// server (Plex or Stash), following the latency that server shows. `observe(state, sample, now)` folds one
// answered request into the state; `limitOf(state)` is the limit to enforce. The adapter that holds the
// permits is ./limiter.ts.
//
// The rule, per window of samples (at least LIMIT_DEFAULTS.minSamples answers and minWindowMs long):
// - baseline: the lowest latency the server has shown (the window's 10th percentile, so one odd answer
//   cannot set it), i.e. its service time without a queue. It falls at once; it rises only when the
//   limit has sat at its floor for `floorWindowsToRebase` windows and still sees more than the tolerance
//   (then nothing of ours queues there: the window's median IS the server's latency now, as Envoy
//   re-measures its minRTT at its minimum concurrency; we never pin the limit down to measure it).
// - ratio = the window's median / baseline (at least minBaselineMs: a few ms are noise). Up to `1 + (tolerance - 1) / 2` (no queue to speak of) and
//   the window used the whole limit: grow by 1, as Netflix Vegas does below a limit of 100 (not Envoy's √limit:
//   several worker processes growing by √limit at once overshoot the server's short queue). Up to `tolerance`:
//   hold (Vegas' band between alpha and beta). Above: shrink to limit × tolerance / ratio, at most
//   halving per window (Gradient2's and Envoy's clamp), a timeout halving it at once.
// - a window that did not use its limit (app-limited: the ramp, an idle queue) never grows it, so the
//   limit never climbs past what was actually tried (Gradient2's `inflight < limit / 2` rule, stricter).
// - within [floor, ceiling]: 1 and WORKER_CONCURRENCY. It starts at `initial` (the floor by default: the
//   first window measures the server unloaded, then it grows by 1 per window).
// docs/ARCHITECTURE.md ("Adaptive concurrency") says what was taken from Netflix's concurrency-limits
// and Envoy's adaptive concurrency filter and why this differs.

export interface LimitSettings {
  /** false: the limit stays at the ceiling (ADAPTIVE_CONCURRENCY=false); latency is still measured. */
  adaptive: boolean;
  /** Most requests at once (WORKER_CONCURRENCY). */
  ceiling: number;
  /** Fewest (1). */
  floor: number;
  /** Limit at start (clamped to [floor, ceiling]). */
  initial: number;
  /** Latency up to this × baseline is a queue worth keeping (it keeps the server busy). */
  tolerance: number;
  /** A window closes after this long and minSamples answers… */
  minWindowMs: number;
  minSamples: number;
  /** …or after this long with whatever it has (2 answers at least to decide anything). */
  maxWindowMs: number;
  /** Windows in a row at the floor, still over the tolerance, before the baseline is measured again. */
  floorWindowsToRebase: number;
  /**
   * Latencies are judged against at least this (ms): below it, what varies is our own event loop and the
   * network, not a queue at the server, and a few ms of queue are nothing a viewer feels.
   */
  minBaselineMs: number;
}

export const LIMIT_DEFAULTS: Omit<LimitSettings, 'ceiling' | 'adaptive'> = {
  floor: 1,
  initial: 1,
  tolerance: 1.5,
  minWindowMs: 100,
  minSamples: 8,
  maxWindowMs: 2_000,
  floorWindowsToRebase: 5,
  minBaselineMs: 5,
};

/** One answered request: its latency (send to body read), how many of ours were out when it left (itself included). */
export interface LatencySample {
  latencyMs: number;
  inFlight: number;
  /** A timeout: the server did not answer in time (an overload sign, not a latency). */
  timedOut?: boolean;
}

export interface LimitWindow {
  startedAt: number;
  latencies: number[];
  /** Most of ours out at once during the window: did the limit bind? */
  peakInFlight: number;
  timedOut: boolean;
}

export interface LimitState {
  /** Real-valued; limitOf() floors it. */
  limit: number;
  /** Lowest latency seen (ms), null before the first window. */
  baselineMs: number | null;
  /** The last closed window's median (ms), null before the first. */
  latencyMs: number | null;
  window: LimitWindow;
  /** Windows in a row that ended at the floor while over the tolerance. */
  windowsAtFloor: number;
}

const clamp = (n: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, n));

const emptyWindow = (now: number): LimitWindow => ({ startedAt: now, latencies: [], peakInFlight: 0, timedOut: false });

export function initialLimitState(settings: LimitSettings, now: number): LimitState {
  const start = settings.adaptive ? clamp(settings.initial, settings.floor, settings.ceiling) : settings.ceiling;
  return { limit: start, baselineMs: null, latencyMs: null, window: emptyWindow(now), windowsAtFloor: 0 };
}

/** The limit to enforce: a whole number within [floor, ceiling]. */
export function limitOf(state: LimitState, settings: LimitSettings): number {
  if (!settings.adaptive) return settings.ceiling;
  return clamp(Math.floor(state.limit), settings.floor, settings.ceiling);
}

/** The p-th percentile (0–100) of values, nearest rank. */
export function percentileOf(values: readonly number[], percentile: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[clamp(Math.ceil((percentile / 100) * sorted.length) - 1, 0, sorted.length - 1)];
}

/** Folds one answered request in; closes the window (and decides) when it is full. */
export function observe(state: LimitState, sample: LatencySample, now: number, settings: LimitSettings): LimitState {
  const latency = Number.isFinite(sample.latencyMs) ? Math.max(0, sample.latencyMs) : 0;
  const w = state.window;
  const window: LimitWindow = {
    startedAt: w.startedAt,
    latencies: sample.timedOut ? w.latencies : [...w.latencies, latency],
    peakInFlight: Math.max(w.peakInFlight, sample.inFlight),
    timedOut: w.timedOut || sample.timedOut === true,
  };
  const age = now - window.startedAt;
  const full = window.latencies.length >= settings.minSamples && age >= settings.minWindowMs;
  if (!full && !window.timedOut && age < settings.maxWindowMs) return { ...state, window };
  return closeWindow({ ...state, window }, now, settings);
}

/** The decision at a window's end; the next window starts now. */
export function closeWindow(state: LimitState, now: number, settings: LimitSettings): LimitState {
  const { latencies, peakInFlight, timedOut } = state.window;
  const next: LimitState = { ...state, window: emptyWindow(now) };
  if (timedOut && settings.adaptive) return { ...next, limit: Math.max(settings.floor, state.limit / 2), windowsAtFloor: 0 };
  if (latencies.length < 2) return next;
  const median = percentileOf(latencies, 50);
  const low = percentileOf(latencies, 10);
  const baseline = Math.max(0.001, Math.min(state.baselineMs ?? Infinity, low));
  const ratio = median / Math.max(baseline, settings.minBaselineMs);
  const measured = { ...next, latencyMs: median, baselineMs: baseline };
  if (!settings.adaptive) return measured;
  const { tolerance, floor, ceiling } = settings;
  if (ratio > tolerance) {
    const atFloor = state.limit <= floor;
    const windowsAtFloor = atFloor ? state.windowsAtFloor + 1 : 0;
    // At the floor nothing of ours queues: a median still over the tolerance is the server's own latency now.
    if (windowsAtFloor >= settings.floorWindowsToRebase) return { ...measured, baselineMs: median, windowsAtFloor: 0 };
    const shrunk = state.limit * Math.max(0.5, tolerance / ratio);
    return { ...measured, limit: clamp(shrunk, floor, ceiling), windowsAtFloor };
  }
  const usedWholeLimit = peakInFlight >= limitOf(state, settings);
  if (ratio <= 1 + (tolerance - 1) / 2 && usedWholeLimit) {
    return { ...measured, limit: clamp(state.limit + 1, floor, ceiling), windowsAtFloor: 0 };
  }
  return { ...measured, windowsAtFloor: 0 };
}

/**
 * How the recovery ramp and the limiter compose: each bounds the jobs per second on its own (the ramp by
 * BullMQ's rate limit, the limiter by requests at once ÷ latency ÷ requests per job), and the lower of
 * the two is what runs. `rampRate` null: no ramp. Returns the jobs/s allowed and which bound it.
 */
export function bindingLimit(args: { rampRate: number | null; limit: number; latencyMs: number | null; requestsPerJob: number }): {
  jobsPerSecond: number;
  boundBy: 'ramp' | 'limiter';
} {
  const { rampRate, limit, latencyMs, requestsPerJob } = args;
  const limiterRate = latencyMs && latencyMs > 0 ? (limit * 1000) / latencyMs / Math.max(1, requestsPerJob) : Infinity;
  if (rampRate !== null && rampRate <= limiterRate) return { jobsPerSecond: rampRate, boundBy: 'ramp' };
  return { jobsPerSecond: limiterRate, boundBy: 'limiter' };
}
