// Shared pieces of the benchmarks: a private redis-server, statistics, tables, a stdin pipe.
import { spawnSync } from 'node:child_process';
import { closeSync, constants, existsSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { allowedRate, startRamp, type RampSettings } from '../src/resilience/ramp.js';
import { hasRedisServer, startPrivateRedis } from '../src/sim/redis-server.js';

export type Row = Record<string, string | number>;

export { freePort } from '../src/sim/redis-server.js';

/** A redis-server of the benchmark's own (on PATH), else REDIS_URL / the local default. */
export async function privateRedis(): Promise<{ url: string; stop(): void }> {
  if (hasRedisServer()) return startPrivateRedis();
  return { url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', stop: () => undefined };
}

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}
export const median = (values: readonly number[]) => percentile(values, 50);
export const round = (n: number, digits = 1) => (Number.isFinite(n) ? Number(n.toFixed(digits)) : NaN);
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Capacity of a Linux pipe: an input written before the reader starts must fit in it. */
const PIPE_CAPACITY = 64 * 1024;

/**
 * A pipe holding `input`, for a child's stdin, as Stash gives its plugins one: Go's os/exec StdinPipe is
 * a pipe (stashapp/stash pkg/plugin/raw.go), not the socket pair Node's `stdio: 'pipe'` makes. A named
 * pipe in `dir` (made with mkfifo), opened read-write first so that neither open blocks (Linux);
 * `fd` is its read end: pass it as the child's stdin, then `close()` (which also closes the write end).
 * With `keepOpen` the write end stays open until `close()`: the reader sees no end of input until then.
 * Null where there is no mkfifo.
 */
export function stdinPipe(dir: string, input: string, opts: { keepOpen?: boolean } = {}): { fd: number; close(): void } | null {
  const path = join(dir, 'stdin.fifo');
  if (!existsSync(path) && spawnSync('mkfifo', ['-m', '600', path]).status !== 0) return null;
  const data = Buffer.from(input, 'utf8');
  if (data.length >= PIPE_CAPACITY) throw new RangeError(`stdinPipe: input of ${data.length} bytes does not fit in a pipe`);
  const writer = openSync(path, constants.O_RDWR);
  const fd = openSync(path, constants.O_RDONLY);
  let writerOpen = true;
  const closeWriter = () => {
    if (writerOpen) closeSync(writer);
    writerOpen = false;
  };
  for (let off = 0; off < data.length;) off += writeSync(writer, data, off);
  if (!opts.keepOpen) closeWriter();
  return {
    fd,
    close() {
      closeWriter();
      closeSync(fd);
    },
  };
}

/** A Markdown table (readable in a terminal too). */
export function table(title: string, rows: readonly Row[]): string {
  if (rows.length === 0) return `### ${title}\n\n(no rows)\n`;
  const cols = Object.keys(rows[0]);
  const cell = (v: string | number | undefined) => String(v ?? '');
  const widths = cols.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (vals: string[]) => `| ${vals.map((v, i) => v.padEnd(widths[i])).join(' | ')} |`;
  return (
    [`### ${title}`, '', line(cols), line(widths.map((w) => '-'.repeat(w))), ...rows.map((r) => line(cols.map((c) => cell(r[c]))))].join(
      '\n',
    ) + '\n'
  );
}

/** True when this module is the process's main script. */
export function isMain(importMetaUrl: string): boolean {
  return process.argv[1] !== undefined && importMetaUrl === new URL(`file://${process.argv[1]}`).href;
}

/**
 * How Plex edits made during a ramp compare with its schedule, second by second from `rampStart`, over
 * the whole seconds of the ramp that end before `lastEdit` (the backlog was still there):
 * - `excess`: the largest count above the rate allowed at the end of its second (≤ 1 job is a burst of one);
 * - `utilisation`: the mean share of the rate allowed mid-second that was used (1 = the schedule, exactly).
 */
export function rampUsage(editTimes: readonly number[], rampStart: number, ramp: RampSettings, lastEdit = Math.max(...editTimes)) {
  const perSecond = new Map<number, number>();
  for (const at of editTimes) {
    if (at < rampStart) continue;
    const s = Math.floor((at - rampStart) / 1000);
    perSecond.set(s, (perSecond.get(s) ?? 0) + 1);
  }
  const schedule = startRamp(0);
  let excess = 0;
  const shares: number[] = [];
  for (let s = 0; (s + 1) * 1000 <= ramp.durationMs && rampStart + (s + 1) * 1000 <= lastEdit; s++) {
    const n = perSecond.get(s) ?? 0;
    excess = Math.max(excess, n - allowedRate(schedule, ramp, (s + 1) * 1000));
    shares.push(n / allowedRate(schedule, ramp, (s + 0.5) * 1000));
  }
  const utilisation = shares.length ? shares.reduce((a, b) => a + b, 0) / shares.length : NaN;
  return { perSecond, excess, utilisation, seconds: shares.length };
}
