// Giving the heap back once the worker goes idle. Nothing is kept across jobs, but V8 keeps the pages a
// long drain's garbage took (the old space it grew to) until its memory reducer runs, which after a
// 100 000-job drain had not happened 15 s later (BENCHMARKS.md, Scale: 74 → 104 MB). So a worker started
// with --expose-gc (npm run worker, the compose file) runs one full collection when no job has finished
// for a few seconds after a run of jobs: about 20 ms for a ~20 MB live heap, and V8 then returns the free
// pages. Keyed on the jobs themselves, not on BullMQ's 'drained' event, which can fire mid-drain.

export const IDLE_GC_AFTER_MS = 3_000;
/** Fewer finished jobs than this since the last collection leave nothing worth collecting. */
export const IDLE_GC_MIN_JOBS = 100;

/** Whether a quiet spell after `finished` jobs deserves a full collection. */
export function shouldCollect(finished: number, minJobs: number): boolean {
  return finished >= minJobs;
}

export interface IdleGcOptions {
  /** globalThis.gc (defined under --expose-gc) unless given; without one this does nothing. */
  gc?: () => void;
  idleMs?: number;
  minJobs?: number;
}

type JobEvents = { on(event: 'completed' | 'failed', listener: () => void): unknown };

/** Runs `gc` once no job has completed or failed for `idleMs`, after at least `minJobs` did. */
export function collectWhenIdle(worker: JobEvents, opts: IdleGcOptions = {}): boolean {
  const gc = opts.gc ?? (globalThis as { gc?: () => void }).gc;
  if (typeof gc !== 'function') return false;
  const idleMs = opts.idleMs ?? IDLE_GC_AFTER_MS;
  const minJobs = opts.minJobs ?? IDLE_GC_MIN_JOBS;
  let finished = 0;
  let timer: NodeJS.Timeout | undefined;
  const quiet = () => {
    timer = undefined;
    if (!shouldCollect(finished, minJobs)) return;
    finished = 0;
    gc();
  };
  const onFinished = () => {
    finished++;
    if (timer) timer.refresh();
    else timer = setTimeout(quiet, idleMs).unref();
  };
  worker.on('completed', onFinished);
  worker.on('failed', onFinished);
  return true;
}
