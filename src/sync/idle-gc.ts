// Giving the heap back once the queue is empty. Nothing is kept across jobs, but V8 keeps the pages a long
// drain's garbage took (the old space it grew to) until its memory reducer runs, which after a 100 000-job
// drain had not happened 15 s later (BENCHMARKS.md, Scale: 74 → 104 MB). So when the queue empties, a
// worker started with --expose-gc (npm run worker, the compose file) runs one full collection, at most
// once a minute: about 20 ms for a ~20 MB live heap, and V8 then returns the free pages.

export const IDLE_GC_MIN_INTERVAL_MS = 60_000;

/** Whether to collect now: never collected, or not within the last `minIntervalMs`. */
export function shouldCollect(now: number, lastAt: number | undefined, minIntervalMs: number): boolean {
  return lastAt === undefined || now - lastAt >= minIntervalMs;
}

export interface IdleGcOptions {
  /** globalThis.gc (defined under --expose-gc) unless given; without one this does nothing. */
  gc?: () => void;
  minIntervalMs?: number;
  now?: () => number;
}

/** Runs `gc` on the worker's 'drained' event (the queue is empty), at most once per `minIntervalMs`. */
export function collectWhenDrained(worker: { on(event: 'drained', listener: () => void): unknown }, opts: IdleGcOptions = {}): boolean {
  const gc = opts.gc ?? (globalThis as { gc?: () => void }).gc;
  if (typeof gc !== 'function') return false;
  const minIntervalMs = opts.minIntervalMs ?? IDLE_GC_MIN_INTERVAL_MS;
  const now = opts.now ?? Date.now;
  let lastAt: number | undefined;
  worker.on('drained', () => {
    const t = now();
    if (!shouldCollect(t, lastAt, minIntervalMs)) return;
    lastAt = t;
    gc();
  });
  return true;
}
