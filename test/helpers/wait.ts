import { availableParallelism, loadavg } from 'node:os';

/**
 * How much slower than an idle machine this one runs now: the last minute's load per core, from 1 (idle or
 * busy within its cores) to 3. A wait's timeout is a guard against a hang, sized for an idle machine; on a
 * machine kept busy by other processes the same state takes longer to come.
 */
export function machineSlowdown(): number {
  return Math.min(3, Math.max(1, loadavg()[0] / availableParallelism()));
}

/**
 * Polls `check` until it holds or `timeoutMs` passes (then throws with `what`); on a loaded machine the
 * timeout stretches by machineSlowdown(), read when it would expire.
 */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
  what = 'condition',
  everyMs = 50,
): Promise<void> {
  const started = Date.now();
  for (;;) {
    if (await check()) return;
    const elapsed = Date.now() - started;
    if (elapsed > timeoutMs && elapsed > timeoutMs * machineSlowdown()) {
      throw new Error(`timed out after ${elapsed} ms (${timeoutMs} ms on an idle machine) waiting for ${what}`);
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
