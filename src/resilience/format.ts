// Human formatting of durations, ages and rates for the status page, logs and the Stash plugin tasks.

const UNITS: readonly [string, number][] = [
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1_000],
];

/**
 * A duration in at most two units, largest first, truncated (floored) to the smaller one:
 * 0 → "0s", 850 → "850ms", 45_000 → "45s", 65_000 → "1m 5s", 60_000 → "1m", 3_605_000 → "1h" (the
 * second unit is the next smaller one, left out when zero), 7_380_000 → "2h 3m", 100_800_000 → "1d 4h".
 * Under a second it shows whole milliseconds (probe latencies and detection delays are often that
 * short); 0, negative or non-finite values read "0s". Days are the largest unit.
 */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 1) return '0s';
  if (ms < 1000) return `${Math.floor(ms)}ms`;
  for (let i = 0; i < UNITS.length; i++) {
    const [name, size] = UNITS[i];
    if (ms < size) continue;
    const whole = Math.floor(ms / size);
    const next = UNITS[i + 1];
    if (!next) return `${whole}${name}`;
    const rest = Math.floor((ms - whole * size) / next[1]);
    return rest > 0 ? `${whole}${name} ${rest}${next[0]}` : `${whole}${name}`;
  }
  return '0s'; // unreachable: ms ≥ 1000 matches 's'
}

/** "5m ago"; "just now" under a second (and for times in the future, e.g. clock skew). */
export function formatAgo(then: number, now: number): string {
  const diff = now - then;
  if (!Number.isFinite(diff) || diff < 1000) return 'just now';
  return `${formatDuration(diff)} ago`;
}

/**
 * A rate in jobs per second: "20 jobs/s", "12.5 jobs/s", "1.25 jobs/s", "0.001 jobs/s"; null (no limit)
 * → "unlimited". Precision: one decimal from 10, two from 1, three significant digits below 1;
 * trailing zeros dropped.
 */
export function formatRate(rate: number | null): string {
  if (rate === null) return 'unlimited';
  if (!Number.isFinite(rate)) return rate === Infinity ? 'unlimited' : 'n/a';
  const abs = Math.abs(rate);
  const text = abs >= 10 ? rate.toFixed(1) : abs >= 1 ? rate.toFixed(2) : rate === 0 ? '0' : rate.toPrecision(3);
  return `${String(Number(text))} jobs/s`;
}

/** "2024-05-01 12:03:04" in `timeZone` (the process's own zone when unset). */
export function formatDateTime(at: number, timeZone?: string): string {
  return new Intl.DateTimeFormat('sv-SE', { dateStyle: 'short', timeStyle: 'medium', timeZone }).format(at);
}
