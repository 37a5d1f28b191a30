// Outage records and their metrics, as pure functions. Records are stored newest first, capped at
// OUTAGE_HISTORY_SIZE; the supervisor opens one when the breaker opens and closes it when it closes.
import { z } from 'zod';

const epochMs = z.number().nonnegative();

/**
 * One outage, exactly as the contract's outage history. The supervisor writes only records that fit
 * (outagesToStore) and every reader drops those that do not (readableOutages): one schema for both.
 */
export const outageSchema = z.object({
  id: z.string().min(1).max(200),
  /** First outage-class failure of the streak that opened the breaker. */
  startedAt: epochMs,
  /** When the breaker opened. */
  detectedAt: epochMs,
  /** When the breaker closed again; null while the outage lasts. */
  endedAt: epochMs.nullable(),
  /** endedAt − startedAt; null while the outage lasts. */
  durationMs: z.number().nonnegative().nullable(),
  trigger: z.enum(['probe', 'failures']),
  firstError: z.string().nullable(),
  /** Distinct jobs held back by the outage. */
  jobsAffected: z.number().int().nonnegative(),
  /** When the recovery ramp after it finished; null until then. */
  rampEndedAt: epochMs.nullable(),
});
export type Outage = z.infer<typeof outageSchema>;

/** The records of a stored history that fit the schema, and how many did not (dropped). */
export function readableOutages(list: readonly unknown[]): { outages: Outage[]; dropped: number } {
  const outages: Outage[] = [];
  for (const item of list) {
    const parsed = outageSchema.safeParse(item);
    if (parsed.success) outages.push(parsed.data);
  }
  return { outages, dropped: list.length - outages.length };
}

/**
 * The history as stored (JSON): only records that fit the schema, so every reader can read it back. With
 * `observedSince` (when a supervisor first led: the start of the time observed), an object
 * `{ observedSince, outages }`; without, the bare list that earlier versions stored (still read).
 */
export function outagesToStore(list: readonly Outage[], observedSince?: number | null): string {
  const outages = readableOutages(list).outages;
  return JSON.stringify(typeof observedSince === 'number' && Number.isFinite(observedSince) ? { observedSince, outages } : outages);
}

export type OutageMetrics = {
  count: number;
  mttrMs: number;
  mtbfMs: number;
  availabilityPct: number;
  totalDowntimeMs: number;
  meanDetectionMs: number;
};

export const EMPTY_METRICS: OutageMetrics = {
  count: 0,
  mttrMs: 0,
  mtbfMs: 0,
  availabilityPct: 100,
  totalDowntimeMs: 0,
  meanDetectionMs: 0,
};

/** A new, ongoing outage. `startedAt` is clamped to at most `detectedAt`. */
export function openOutage(args: {
  id: string;
  startedAt: number;
  detectedAt: number;
  trigger: 'probe' | 'failures';
  firstError: string | null;
}): Outage {
  return {
    id: args.id,
    startedAt: Math.min(args.startedAt, args.detectedAt),
    detectedAt: args.detectedAt,
    endedAt: null,
    durationMs: null,
    trigger: args.trigger,
    firstError: args.firstError,
    jobsAffected: 0,
    rampEndedAt: null,
  };
}

/**
 * The outage ended at `endedAt` (when the trial that closed the breaker began): `durationMs = endedAt − startedAt` (never
 * negative). Idempotent: an outage already closed is returned unchanged (the same object).
 */
export function closeOutage(outage: Outage, endedAt: number, jobsAffected: number): Outage {
  if (outage.endedAt !== null) return outage;
  const end = Math.max(endedAt, outage.startedAt);
  return { ...outage, endedAt: end, durationMs: end - outage.startedAt, jobsAffected: Math.max(0, Math.floor(jobsAffected)) };
}

/** The ramp after the outage finished at `at`. Idempotent like closeOutage. */
export function endOutageRamp(outage: Outage, at: number): Outage {
  return outage.rampEndedAt !== null ? outage : { ...outage, rampEndedAt: at };
}

/**
 * Metrics over COMPLETED outages (endedAt set) of the given history; an ongoing outage is not counted
 * (it only ends the up-time before it, below). All ms figures are rounded to whole ms;
 * `availabilityPct` is not rounded.
 *
 * - count: completed outages. totalDowntimeMs: sum of their durations. MTTR: totalDowntime / count.
 * - meanDetectionMs: mean of `detectedAt − startedAt`.
 * - MTBF, the mean up-time between outages: every completed outage is followed by one up-time, from its
 *   `endedAt` to the `startedAt` of the next outage by start time (completed or ongoing), or to `now`
 *   when none follows. MTBF is the mean of these `count` up-times (each clamped at 0). So with one
 *   outage MTBF = now − endedAt; with outages A, B, C: ((B.start − A.end) + (C.start − B.end) +
 *   (now − C.end)) / 3. Counting the current up-time too keeps MTBF continuous as outages complete, and
 *   makes availability exactly the share of up-time observed from the first recorded outage's start to
 *   now (or to the start of an ongoing outage).
 * - availabilityPct: MTBF / (MTBF + MTTR) · 100; 100 with no completed outage (or when both are 0).
 */
export function outageMetrics(outages: readonly Outage[], now: number, observedSince?: number | null): OutageMetrics {
  if (typeof observedSince === 'number') return observedMetrics(outages, now, observedSince);
  const all = [...outages].sort((a, b) => a.startedAt - b.startedAt);
  const done = all.filter((o) => o.endedAt !== null);
  const count = done.length;
  if (count === 0) return { ...EMPTY_METRICS };

  let downtime = 0;
  let detection = 0;
  let uptime = 0;
  all.forEach((o, i) => {
    if (o.endedAt === null) return;
    downtime += o.durationMs ?? Math.max(0, o.endedAt - o.startedAt);
    detection += Math.max(0, o.detectedAt - o.startedAt);
    const next = all[i + 1];
    uptime += Math.max(0, (next ? next.startedAt : now) - o.endedAt);
  });
  const mttr = downtime / count;
  const mtbf = uptime / count;
  return {
    count,
    mttrMs: Math.round(mttr),
    mtbfMs: Math.round(mtbf),
    availabilityPct: mtbf + mttr === 0 ? 100 : (mtbf / (mtbf + mttr)) * 100,
    totalDowntimeMs: Math.round(downtime),
    meanDetectionMs: Math.round(detection / count),
  };
}

/**
 * The metrics over the whole time observed, from `observedSince` (the first start) to `now`, so one
 * outage after a long up-time does not read as a poor availability:
 * - availabilityPct: the share of that time not in an outage (an ongoing outage counts up to now).
 * - MTBF: the up-time observed divided by the outages that began in it (completed or ongoing).
 * - count, MTTR, total downtime and mean detection: over the completed outages, as outageMetrics.
 * An outage before `observedSince` (kept from an earlier history) moves the start back to its own.
 */
export function observedMetrics(outages: readonly Outage[], now: number, observedSince: number): OutageMetrics {
  const base = outageMetrics(outages, now);
  const since = Math.min(observedSince, ...outages.map((o) => o.startedAt));
  const observed = Math.max(0, now - since);
  const down = outages.reduce((sum, o) => sum + Math.max(0, (o.endedAt ?? now) - o.startedAt), 0);
  const up = Math.max(0, observed - down);
  return {
    ...base,
    mtbfMs: outages.length === 0 ? 0 : Math.round(up / outages.length),
    availabilityPct: observed === 0 ? 100 : (up / observed) * 100,
  };
}

/** Newest first (by startedAt; ties keep their order), at most `size` kept. */
export function capHistory(list: readonly Outage[], size: number): Outage[] {
  const n = Number.isFinite(size) ? Math.max(0, Math.floor(size)) : 0;
  return [...list].sort((a, b) => b.startedAt - a.startedAt).slice(0, n);
}

/** Replaces the outage with the same id (or adds it), then caps: the history after a change. */
export function upsertOutage(list: readonly Outage[], outage: Outage, size: number): Outage[] {
  return capHistory([outage, ...list.filter((o) => o.id !== outage.id)], size);
}

/** The ongoing outage of a history (endedAt null), newest first; null when none. */
export function currentOutage(list: readonly Outage[]): Outage | null {
  return (
    capHistory(
      list.filter((o) => o.endedAt === null),
      1,
    )[0] ?? null
  );
}
