// The document of GET /api/status (StatusJson; docs/ARCHITECTURE.md, "Status API"): read cheaply from Redis, shaped by a pure
// function. Counts only, never job lists, so it answers in a few round trips at any queue size.
import type { Queue } from 'bullmq';
import type { Config } from '../core/config.js';
import type { Keys, RedisConnection } from '../core/redis.js';
import type { BreakerStateName } from '../resilience/breaker.js';
import { currentOutage, outageMetrics, type Outage, type OutageMetrics } from '../resilience/outages.js';
import { effectiveRate } from '../resilience/ramp.js';
import { pauseReasons, type PauseReason } from '../resilience/token.js';
import { pathHintLine, readPathHints, type PathHint } from '../plex/path-hints.js';
import { parseLibraryReport, type LibraryReport } from '../sync/library-gaps.js';
import {
  parseLibraryFailure,
  readLibraryFailureText,
  readLibraryReportText,
  type LibraryRunFailure,
} from '../sync/library-report-store.js';
import { readConflicts, type ConflictSummary } from '../sync/match-check.js';
import { listExclusions, type ExcludedScene } from '../sync/sync-exclusions.js';
import { readLease } from '../resilience/lease.js';
import { readSnapshot, type SupervisorSnapshot } from '../resilience/store.js';
import { readLimiters, type WorkerLimiters } from '../resilience/limiter-record.js';
import type { HealthRecord } from '../resilience/health-record.js';
import { parseLibraryCheck, readLibraryCheckText } from './library-check.js';
import { queueState, type QueueState } from './queue-control.js';
import { readSettingsRecord, type SettingsRecord } from '../settings/store.js';

export { parseLibraryCheck } from './library-check.js';

/** A queue's state plus why the supervisor holds it (extra to the contract). */
export interface QueueStatus extends QueueState {
  /** While paused: the supervisor's reasons to keep it so ('plex down', 'token rejected'), whoever paused it. */
  pauseReasons: PauseReason[];
}

export interface StatusJson {
  breaker: {
    state: BreakerStateName;
    since: number;
    consecutiveFailures: number;
    openedAt: number | null;
    /** Extra, while HALF_OPEN: the trial's outcomes so far and how many failed (BREAKER_TRIAL_CALLS decide). */
    trial?: { calls: number; failures: number };
  };
  recovery: { active: boolean; startedAt: number | null; rate: number | null; targetRate: number };
  queues: Record<string, QueueStatus>;
  health: {
    lastProbeAt: number | null;
    ok: boolean | null;
    latencyMs: number | null;
    nextProbeAt: number | null;
    /** Extra (the contract leaves room here): the last probe's error, redacted at the source. */
    error: string | null;
    /** Extra: Plex answered but rejected PLEX_TOKEN (shown loudly, never an outage). */
    tokenRejected: boolean;
    tokenCheckedAt: number | null;
    /** Extra: Stash as the supervisor's last check found it (the page's Stash card). */
    stash: StashHealth;
  };
  outages: { current: Outage | null; recent: Outage[]; metrics: OutageMetrics };
  supervisor: { leader: string | null; alive: boolean };
  /** Extra: scenes SYNC_REQUIRE held back (job completed as skipped), by unmet requirement, since the count began. */
  sync: { skipped: Record<string, number> };
  /** Extra: how scenes find their Plex items (docs/MATCHING.md); always set by shapeStatus. */
  matching?: MatchingStatus;
  /**
   * Extra: the last Reconcile Library report (a dry run's too), null before the first, and the last run
   * that failed (newer than the report when it came after it); always set by shapeStatus.
   */
  reconcile?: { last: LibraryReport | null; lastFailure: LibraryRunFailure | null };
  /** Extra: scenes kept out of sync (restored), how many and the newest few (bounded); always set by shapeStatus. */
  excluded?: ExcludedStatus;
  /**
   * Extra: each live worker process's adaptive concurrency limiters toward Plex and Stash (limit, in
   * flight, waiting, latency vs baseline), as they published them; always set by shapeStatus.
   */
  concurrency?: WorkerLimiters[];
  /** Extra: the settings a user changes in Stash, each with its value and source (stash, environment, default); null before a process read them. */
  settings?: SettingsRecord | null;
}

/** Stash as the supervisor's checks found it; `checked` false: no supervisor checks it (no STASH_URL) or not yet. */
export interface StashHealth {
  checked: boolean;
  /** When the last check began. */
  checkedAt: number | null;
  /** Null until checked. */
  reachable: boolean | null;
  /** Null while Stash does not answer (nothing known of the key) or before the first check. */
  keyAccepted: boolean | null;
  version: string | null;
  /** The last fault, one line naming the setting; null when the last check passed. */
  lastError: string | null;
}

/** The health record's Stash part, as the status shows it. */
export function stashHealth(healthRecord: HealthRecord): StashHealth {
  const checked = healthRecord.stashLastCheckAt !== null;
  return {
    checked,
    checkedAt: healthRecord.stashLastCheckAt,
    reachable: checked ? healthRecord.stashReachable : null,
    keyAccepted: checked && healthRecord.stashReachable === true ? !healthRecord.stashKeyRejected : null,
    version: healthRecord.stashVersion,
    lastError: healthRecord.stashError,
  };
}

export interface ExcludedStatus {
  count: number;
  /** At most EXCLUSIONS_LISTED scenes, newest first: `sceneId`, `at`, `why`, `ratingKey`. */
  scenes: ExcludedScene[];
}

export interface MatchingStatus {
  /** "Plex sees these files under another path; set PATH_MAP=…", or null. */
  pathHint: string | null;
  /** The PATH_MAP pairs the base-name fallback suggested, each with a file that showed it. */
  pathHints: PathHint[];
  /** PLEX_LIBRARIES problems found at the supervisor's last check of Plex's sections. */
  libraryProblems: string[];
  librariesCheckedAt: number | null;
  /** Scenes not synced because their item is another scene's or stacks several scenes' files (src/sync/claims.ts). */
  conflicts: ConflictSummary;
}

/** Everything the status is made of, as read from Redis (also what /metrics is made of). */
export interface StatusSources {
  snapshot: SupervisorSnapshot;
  /** False when the breaker hash does not exist (never written): `since` reads 0 then, as in the contract. */
  breakerStored: boolean;
  queues: Record<string, QueueState>;
  leader: string | null;
  /** PTTL of the lease key: > 0 for a live lease, -1 for one without expiry, -2 when missing. */
  leaderTtlMs: number;
  /** The base-name fallback's PATH_MAP suggestions and the stored PLEX_LIBRARIES check (absent: none). */
  pathHints?: PathHint[];
  libraryCheck?: string | null;
  /** The matching conflicts (absent: none). */
  conflicts?: ConflictSummary;
  /** The skipped-scene counts (hash `syncSkipped`); a damaged value is dropped. */
  skipped: Record<string, number>;
  /** The stored Reconcile Library report (JSON; absent or unreadable: none). */
  libraryReport?: string | null;
  /** The stored failed Reconcile Library run (JSON; absent or unreadable: none). */
  libraryFailure?: string | null;
  /** Scenes kept out of sync (absent: none). */
  excluded?: ExcludedStatus;
  /** The workers' published limiters (absent: none). */
  limiters?: WorkerLimiters[];
  /** The effective Stash-side settings as last read (absent: none recorded). */
  settings?: SettingsRecord | null;
}

/** Whole counts of a hash of counters; anything else (damaged) is left out. */
function counts(hash: Record<string, string>): Record<string, number> {
  return Object.fromEntries(
    Object.entries(hash)
      .filter(([, v]) => /^\d{1,15}$/.test(v))
      .map(([k, v]) => [k, Number(v)]),
  );
}

/** Reads the sources in one round of parallel commands. */
export async function readStatusSources(args: {
  redis: RedisConnection;
  keys: Keys;
  queues: readonly Queue[];
  now: number;
}): Promise<StatusSources> {
  const { redis, keys: k, queues, now } = args;
  const readWarnings: string[] = [];
  const [
    { breakerStored, ...snapshot },
    lease,
    states,
    pathHints,
    libraryCheck,
    skipped,
    libraryReport,
    conflicts,
    excluded,
    libraryFailure,
    limiters,
  ] = await Promise.all([
    readSnapshot(redis, k, now),
    readLease(redis, k, readWarnings),
    Promise.all(queues.map((q) => queueState(q, redis, k))),
    readPathHints(redis, k.plexPathHints),
    readLibraryCheckText(redis, k),
    redis.hgetall(k.syncSkipped),
    readLibraryReportText(redis, k),
    readConflicts(redis, k.plexConflicts),
    listExclusions(redis, k, readWarnings),
    readLibraryFailureText(redis, k),
    readLimiters(redis, k, now, readWarnings),
  ]);
  const settings = await readSettingsRecord(redis, k);
  if (settings.warning) readWarnings.push(settings.warning);
  snapshot.warnings.push(...readWarnings);
  return {
    snapshot,
    breakerStored,
    queues: Object.fromEntries(queues.map((q, i) => [q.name, states[i]])),
    leader: lease.holder,
    leaderTtlMs: lease.ttlMs,
    pathHints,
    libraryCheck,
    conflicts,
    skipped: counts(skipped),
    libraryReport,
    libraryFailure,
    excluded,
    limiters,
    settings: settings.record,
  };
}

/** Rounds a rate to thousandths of a job per second (the ramp's arithmetic gives long fractions). */
const roundRate = (n: number) => Math.round(n * 1000) / 1000;

/**
 * Pure: sources → the contract's document.
 * - breaker: the stored state (missing → CLOSED since 0, consecutiveFailures 0, openedAt null).
 * - queues: each with `pauseReasons` while paused (see pauseReasons in src/resilience/token.ts).
 * - recovery: active while a ramp is stored; `rate` is the effective rate now (schedule, halved while
 *   backing off), null when no ramp runs; `targetRate` is RAMP_TARGET_RATE.
 * - outages: `current` is the ongoing outage (or null); `recent` is the whole kept history, newest
 *   first (the ongoing one included); metrics over completed outages.
 * - supervisor: `leader` is the lease holder's id; `alive` is true while that lease is live (it expires
 *   within the lease TTL of a leader's death). A lease without expiry is stale: not alive.
 */
export function shapeStatus(src: StatusSources, config: Pick<Config, 'ramp'>, now: number): StatusJson {
  const { breaker, ramp, outages, health } = src.snapshot;
  const rate = ramp ? roundRate(effectiveRate(ramp, config.ramp, now)) : null;
  const reasons = pauseReasons({
    breaker: breaker.state,
    tokenRejected: health.tokenRejected === true,
    stashKeyRejected: health.stashKeyRejected === true,
    stashDown: health.stashDown === true,
  });
  return {
    breaker: {
      state: breaker.state,
      since: src.breakerStored ? breaker.since : 0,
      consecutiveFailures: breaker.consecutiveFailures,
      openedAt: breaker.openedAt,
      ...(breaker.state === 'HALF_OPEN' ? { trial: { calls: breaker.trialCalls, failures: breaker.trialFailures } } : {}),
    },
    recovery: {
      active: ramp !== null,
      startedAt: ramp?.startedAt ?? null,
      rate,
      targetRate: config.ramp.targetRate,
    },
    queues: Object.fromEntries(Object.entries(src.queues).map(([name, q]) => [name, { ...q, pauseReasons: q.paused ? reasons : [] }])),
    health: {
      lastProbeAt: health.lastProbeAt,
      ok: health.ok,
      latencyMs: health.latencyMs,
      nextProbeAt: health.nextProbeAt,
      error: health.error,
      tokenRejected: health.tokenRejected === true,
      tokenCheckedAt: health.tokenCheckedAt,
      stash: stashHealth(health),
    },
    outages: {
      current: currentOutage(outages),
      recent: outages,
      metrics: outageMetrics(outages, now, src.snapshot.observedSince),
    },
    supervisor: {
      leader: src.leader,
      alive: src.leader !== null && src.leaderTtlMs > 0,
    },
    matching: {
      pathHint: pathHintLine(src.pathHints ?? []),
      pathHints: src.pathHints ?? [],
      ...parseLibraryCheck(src.libraryCheck ?? null),
      conflicts: src.conflicts ?? { count: 0, recent: [] },
    },
    sync: { skipped: src.skipped },
    reconcile: { last: parseLibraryReport(src.libraryReport ?? null), lastFailure: parseLibraryFailure(src.libraryFailure ?? null) },
    excluded: src.excluded ?? { count: 0, scenes: [] },
    concurrency: src.limiters ?? [],
    settings: src.settings ?? null,
  };
}

/** GET /api/status: the contract's document, from a handful of O(1) Redis reads. */
export async function buildStatus(args: {
  redis: RedisConnection;
  keys: Keys;
  queues: readonly Queue[];
  config: Pick<Config, 'ramp'>;
  now: number;
}): Promise<StatusJson> {
  return shapeStatus(await readStatusSources(args), args.config, args.now);
}
