// Dead-letter selection as pure functions: which failed `sync` jobs a requeue moves back, decided from
// the outage history, the error types asked for and a clock. No Redis here (src/dlq/requeue.ts does I/O).
import { ERROR_CLASS, ERROR_TYPES, parseFailedReason, type ErrorStrategies, type ErrorType } from '../core/errors.js';
import type { Outage } from '../resilience/outages.js';

/** Bad input of a requeue (CLI: one line on stderr, exit 2; nothing is moved). */
export class RequeueInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RequeueInputError';
  }
}

/** Grace margin around each window: a job that failed just after the breaker closed still counts. */
export const GRACE_MS = 2_000;
/** A job moved back this often already stays in the failed set (and is reported). */
export const MAX_REQUEUES = 3;
/** Added by `--include-optional`: outage-like or slow-to-settle types that are not requeued by default. */
export const OPTIONAL_REQUEUE_TYPES: readonly ErrorType[] = ['PlexTemporaryError', 'PlexNotFound'];

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const DURATION = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d|w))+$/;
const DURATION_PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/g;
const ISO = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?)?$/i;
/** Epoch ms with at least 12 digits (2001-09-09 onwards): a short bare number is a forgotten unit. */
const EPOCH_MS = /^\d{12,16}$/;
const TIME_FORMS = 'an ISO time (2024-05-01T12:00:00Z), epoch milliseconds (1714564800000) or a duration back from now (90s, 15m, 2h, 3d)';

/** A duration such as `90s`, `15m`, `2h`, `3d`, `1h30m` in ms, or null when `input` is not one. */
export function parseDuration(input: string): number | null {
  const s = input.trim().toLowerCase();
  if (!DURATION.test(s)) return null;
  let ms = 0;
  for (const m of s.matchAll(DURATION_PART)) ms += Number(m[1]) * UNIT_MS[m[2]];
  return Math.round(ms);
}

/**
 * A point in time (epoch ms) from an ISO time, epoch milliseconds, or a duration back from `now`.
 * Throws RequeueInputError with the accepted forms otherwise.
 */
export function parseTime(input: string | number, now: number): number {
  if (typeof input === 'number') {
    if (!Number.isFinite(input) || input < 0) throw new RequeueInputError(`time ${input} is not valid: use ${TIME_FORMS}`);
    return Math.floor(input);
  }
  const s = input.trim();
  if (s === '') throw new RequeueInputError(`empty time: use ${TIME_FORMS}`);
  const duration = parseDuration(s);
  if (duration !== null) return now - duration;
  if (/^\d+$/.test(s)) {
    if (EPOCH_MS.test(s)) return Number(s);
    throw new RequeueInputError(
      `"${s}" is not a time (a duration needs a unit, e.g. ${s}m; epoch milliseconds have 13 digits): use ${TIME_FORMS}`,
    );
  }
  if (ISO.test(s)) {
    const t = Date.parse(s.replace(' ', 'T'));
    if (Number.isFinite(t)) return t;
  }
  throw new RequeueInputError(`"${s}" is not a time: use ${TIME_FORMS}`);
}

/** A failure-time window, inclusive; `outageId` when it comes from the outage history. */
export interface Window {
  from: number;
  to: number;
  outageId?: string;
}

export interface WindowInput {
  outages: readonly Outage[];
  /** `latest` (default), `all`, or an outage id. Ignored when `since` or `until` is given. */
  outage?: string;
  since?: string | number;
  until?: string | number;
}

/**
 * The windows a requeue looks at. `since`/`until` replace the outage history (`since` alone runs to
 * now, `until` alone from the beginning); otherwise each chosen outage gives `[startedAt, endedAt]`, an
 * ongoing one ending at `now`. Throws RequeueInputError for an empty history (with `latest`/`all`), an
 * unknown outage id, and a reversed or empty explicit window.
 */
export function windowsFrom(input: WindowInput, now: number): Window[] {
  if (input.since !== undefined || input.until !== undefined) {
    const from = input.since === undefined ? 0 : parseTime(input.since, now);
    const to = input.until === undefined ? now : parseTime(input.until, now);
    const show = (t: number) => new Date(t).toISOString();
    if (from > to) throw new RequeueInputError(`reversed window: --since ${show(from)} is after --until ${show(to)}`);
    if (from === to) throw new RequeueInputError(`empty window: --since and --until are both ${show(from)}`);
    return [{ from, to }];
  }
  const which = (input.outage ?? 'latest').trim();
  if (which === '') throw new RequeueInputError('--outage needs latest, all or an outage id');
  const outages = [...input.outages].sort((a, b) => b.startedAt - a.startedAt);
  const window = (o: Outage): Window => ({ from: o.startedAt, to: Math.max(o.startedAt, o.endedAt ?? now), outageId: o.id });
  if (which === 'latest' || which === 'all') {
    if (outages.length === 0) {
      throw new RequeueInputError(
        'no outage recorded, so there is no outage window: give one with --since (e.g. --since 2h) and optionally --until',
      );
    }
    return which === 'latest' ? [window(outages[0])] : outages.map(window);
  }
  const found = outages.find((o) => o.id === which);
  if (!found) {
    const known = outages.slice(0, 5).map((o) => o.id);
    throw new RequeueInputError(
      `unknown outage id "${which}": ${known.length ? `recorded outages (newest first): ${known.join(', ')}${outages.length > 5 ? ', …' : ''}` : 'no outage recorded (use --since)'}`,
    );
  }
  return [window(found)];
}

/** Windows widened by the grace margin, sorted and merged where they overlap: the score ranges to read. */
export function scanRanges(windows: readonly Window[], graceMs = GRACE_MS): { min: number; max: number }[] {
  const ranges = windows.map((w) => ({ min: w.from - graceMs, max: w.to + graceMs })).sort((a, b) => a.min - b.min);
  const out: { min: number; max: number }[] = [];
  for (const r of ranges) {
    const last = out.at(-1);
    if (last && r.min <= last.max) last.max = Math.max(last.max, r.max);
    else out.push({ ...r });
  }
  return out;
}

export interface ErrorSetInput {
  /** `--errors`: type names (case-insensitive), any class. */
  errors?: readonly string[];
  includeOptional?: boolean;
  strategies: ErrorStrategies;
}

/**
 * The error types a requeue takes. Default: the types whose strategy has `requeueByDefault`
 * (PlexServerDown), never a permanent one; `--errors` names the set instead (a permanent type only this
 * way); `--include-optional` adds PlexTemporaryError and PlexNotFound. In ERROR_TYPES order.
 */
export function errorSetFrom(input: ErrorSetInput): ErrorType[] {
  const chosen = new Set<ErrorType>();
  if (input.errors !== undefined) {
    const names = input.errors.map((e) => e.trim()).filter(Boolean);
    if (names.length === 0) throw new RequeueInputError(`--errors names no error type: valid types are ${ERROR_TYPES.join(', ')}`);
    const unknown: string[] = [];
    for (const n of names) {
      const t = ERROR_TYPES.find((x) => x.toLowerCase() === n.toLowerCase());
      if (t) chosen.add(t);
      else unknown.push(n);
    }
    if (unknown.length) {
      throw new RequeueInputError(
        `unknown error type${unknown.length > 1 ? 's' : ''} ${unknown.map((u) => `"${u}"`).join(', ')}: valid types are ${ERROR_TYPES.join(', ')}`,
      );
    }
  } else {
    for (const t of ERROR_TYPES) if (input.strategies[t].requeueByDefault && ERROR_CLASS[t] !== 'permanent') chosen.add(t);
  }
  if (input.includeOptional) for (const t of OPTIONAL_REQUEUE_TYPES) chosen.add(t);
  return ERROR_TYPES.filter((t) => chosen.has(t));
}

/** What selection needs of one failed job. */
export interface FailedJobInfo {
  id: string;
  /** Failure time (the failed set's score / the job's finishedOn). */
  finishedOn: number;
  failedReason: string | null | undefined;
  /** null when the payload is unreadable. */
  sceneId: string | null;
  /** How often a requeue moved it back already. */
  requeueCount: number;
}

export type Decision = 'requeue' | 'outsideWindow' | 'errorType' | 'tooManyRequeues';

export interface JobDecision {
  id: string;
  sceneId: string | null;
  errorType: ErrorType | null;
  decision: Decision;
}

export interface SelectOptions {
  windows: readonly Window[];
  errorTypes: readonly ErrorType[];
  graceMs?: number;
  maxRequeues?: number;
}

/**
 * One decision per job, in order, checked in this order: failure time outside every window (widened
 * by the grace margin) → `outsideWindow`; error type not chosen (or no type: a crash message) →
 * `errorType`; requeued `maxRequeues` times already → `tooManyRequeues`; else `requeue`. Whether the
 * scene already has a job waiting is I/O and decided later (src/dlq/requeue.ts).
 */
export function selectJobs(jobs: readonly FailedJobInfo[], opts: SelectOptions): JobDecision[] {
  const grace = opts.graceMs ?? GRACE_MS;
  const max = opts.maxRequeues ?? MAX_REQUEUES;
  const types = new Set(opts.errorTypes);
  return jobs.map((j) => {
    const errorType = parseFailedReason(j.failedReason);
    const base = { id: j.id, sceneId: j.sceneId, errorType };
    const inWindow =
      Number.isFinite(j.finishedOn) && opts.windows.some((w) => j.finishedOn >= w.from - grace && j.finishedOn <= w.to + grace);
    if (!inWindow) return { ...base, decision: 'outsideWindow' };
    if (errorType === null || !types.has(errorType)) return { ...base, decision: 'errorType' };
    if (j.requeueCount >= max) return { ...base, decision: 'tooManyRequeues' };
    return { ...base, decision: 'requeue' };
  });
}
