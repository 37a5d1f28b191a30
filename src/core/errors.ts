// The error taxonomy of the contract and classify(): the only place that maps failures to types.
import { z } from 'zod';

export const ERROR_TYPES = [
  'PlexServerDown',
  'PlexTemporaryError',
  'PlexNotFound',
  'PlexAuthError',
  'PlexBadRequest',
  'PlexBadResponse',
  'AmbiguousMatch',
  'StashUnavailable',
  'StashAuthError',
  'StashSceneMissing',
  'InvalidJob',
] as const;
export type ErrorType = (typeof ERROR_TYPES)[number];
export type ErrorClass = 'outage' | 'transient' | 'permanent';

export const ERROR_CLASS: Record<ErrorType, ErrorClass> = {
  PlexServerDown: 'outage',
  PlexTemporaryError: 'outage',
  PlexNotFound: 'transient',
  PlexAuthError: 'permanent',
  PlexBadRequest: 'permanent',
  // One item of a Plex answer with a wrong field: the server answered (not an outage) and will answer the
  // same again (no retry). Fails that item's job alone; the rest of the answer is read.
  PlexBadResponse: 'permanent',
  AmbiguousMatch: 'permanent',
  StashUnavailable: 'transient',
  StashAuthError: 'permanent',
  StashSceneMissing: 'permanent',
  InvalidJob: 'permanent',
};

export function isErrorType(name: string): name is ErrorType {
  return (ERROR_TYPES as readonly string[]).includes(name);
}
export const isOutage = (errorType: ErrorType) => ERROR_CLASS[errorType] === 'outage';

/** A classified failure. Its message never carries a secret (clients build it from redacted parts). */
export class SyncError extends Error {
  constructor(
    readonly type: ErrorType,
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = type;
  }
  /** The contract's `failedReason`: `Type: message`. */
  get reason(): string {
    return formatFailedReason(this.type, this.message);
  }
}

export function formatFailedReason(type: ErrorType, message: string): string {
  return `${type}: ${message}`;
}

/** The error type a `failedReason` starts with, or null for anything else (e.g. a crash message). */
export function parseFailedReason(reason: string | undefined | null): ErrorType | null {
  if (!reason) return null;
  const m = /^([A-Za-z]+):/.exec(reason);
  return m && isErrorType(m[1]) ? m[1] : null;
}

/** Recovery strategy per error type (issue: dead-letter recovery). Overridable with ERROR_STRATEGIES. */
export const errorStrategySchema = z.strictObject({
  attempts: z.number().int().min(1).max(100),
  backoffBaseMs: z.number().int().min(0),
  backoffCapMs: z.number().int().min(0),
  countsTowardBreaker: z.boolean(),
  requeueByDefault: z.boolean(),
});
export type ErrorStrategy = z.infer<typeof errorStrategySchema>;
export type ErrorStrategies = Record<ErrorType, ErrorStrategy>;
export const errorStrategiesSchema = z.partialRecord(z.enum(ERROR_TYPES), errorStrategySchema);

const permanent: ErrorStrategy = {
  attempts: 1,
  backoffBaseMs: 0,
  backoffCapMs: 0,
  countsTowardBreaker: false,
  requeueByDefault: false,
};
export const DEFAULT_ERROR_STRATEGIES: ErrorStrategies = {
  PlexServerDown: { attempts: 5, backoffBaseMs: 2_000, backoffCapMs: 60_000, countsTowardBreaker: true, requeueByDefault: true },
  PlexTemporaryError: { attempts: 5, backoffBaseMs: 2_000, backoffCapMs: 60_000, countsTowardBreaker: true, requeueByDefault: false },
  // About 12 attempts over about two hours: Plex may not have scanned the file yet.
  PlexNotFound: { attempts: 12, backoffBaseMs: 30_000, backoffCapMs: 1_200_000, countsTowardBreaker: false, requeueByDefault: false },
  StashUnavailable: { attempts: 5, backoffBaseMs: 5_000, backoffCapMs: 60_000, countsTowardBreaker: false, requeueByDefault: false },
  PlexAuthError: permanent,
  PlexBadRequest: permanent,
  PlexBadResponse: permanent,
  AmbiguousMatch: permanent,
  StashAuthError: permanent,
  StashSceneMissing: permanent,
  InvalidJob: permanent,
};
/** Attempts a job is created with: the largest any strategy allows; the worker stops earlier per type. */
export const maxAttempts = (errorStrategies: ErrorStrategies) => Math.max(...Object.values(errorStrategies).map((x) => x.attempts));

/** Exponential backoff with full jitter in [delay/2, delay]; `random` in [0,1) is passed in to stay pure. */
export function backoffDelay(strategy: ErrorStrategy, attemptsMade: number, random: number): number {
  const exp = Math.min(strategy.backoffCapMs, strategy.backoffBaseMs * 2 ** Math.max(0, attemptsMade - 1));
  return Math.round(exp / 2 + (exp / 2) * random);
}

const DOWN_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EHOSTDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'ECONNABORTED',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
]);
const TIMEOUT_CODES = new Set(['ETIMEDOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

/** The errno-like code of a failure, looking through fetch's `cause` chain. */
export function errorCode(err: unknown): string | undefined {
  for (let e = err as { code?: unknown; cause?: unknown; name?: unknown } | undefined, depth = 0; e && depth < 5; depth++) {
    if (typeof e.code === 'string') return e.code;
    if (e.name === 'TimeoutError' || e.name === 'AbortError') return 'ETIMEDOUT';
    e = e.cause as typeof e;
  }
  return undefined;
}

/**
 * A request that got no answer in time (a raw network error or a SyncError made of one by classify): to
 * the adaptive limiter, a sign of overload rather than a latency (src/resilience/limiter.ts).
 */
export function isTimeoutError(err: unknown): boolean {
  const code = errorCode(err);
  if (code && TIMEOUT_CODES.has(code)) return true;
  return err instanceof SyncError && [...TIMEOUT_CODES].some((c) => err.message.includes(`→ ${c}`) || err.message.includes(`(${c})`));
}

export type Service = 'plex' | 'stash';

/**
 * Maps an HTTP status or a thrown network error to its error type. `what` describes the request
 * (method and redacted path) for the message.
 */
export function classify(service: Service, failure: { status: number } | { error: unknown }, what: string): SyncError {
  if ('status' in failure) {
    const s = failure.status;
    if (service === 'plex') {
      if (s === 401 || s === 403) return new SyncError('PlexAuthError', `${what} → HTTP ${s} (token rejected)`, s);
      if (s === 404) return new SyncError('PlexNotFound', `${what} → HTTP 404`, s);
      if (s === 429 || s >= 500) return new SyncError('PlexTemporaryError', `${what} → HTTP ${s}`, s);
      // A proxy's limit on the request line (nginx 414) or the headers (Node 431): a setting to change, not a retry.
      if (s === 414 || s === 431)
        return new SyncError(
          'PlexBadRequest',
          `${what} → HTTP ${s} (URL too long for a proxy in front of Plex: lower PLEX_MAX_URL_BYTES)`,
          s,
        );
      return new SyncError('PlexBadRequest', `${what} → HTTP ${s}`, s);
    }
    if (s === 401 || s === 403) return new SyncError('StashAuthError', `${what} → HTTP ${s} (API key rejected)`, s);
    return new SyncError('StashUnavailable', `${what} → HTTP ${s}`, s);
  }
  const err = failure.error;
  if (err instanceof SyncError) return err;
  const code = errorCode(err);
  const detail = code ?? (err instanceof Error ? err.message : String(err));
  if (service === 'stash') return new SyncError('StashUnavailable', `${what} → ${detail}`);
  if (code && TIMEOUT_CODES.has(code)) return new SyncError('PlexTemporaryError', `${what} → timeout (${code})`);
  if (code && DOWN_CODES.has(code)) return new SyncError('PlexServerDown', `${what} → ${code}`);
  // fetch's "fetch failed" without a known code is a network failure: the server is not answering.
  return new SyncError('PlexServerDown', `${what} → ${detail}`);
}

/**
 * A Reconcile Library run stopped: the index of Plex's files it keeps in Redis was lost (evicted,
 * flushed) again after its one rebuild. The message is the one line the CLI, dashboard and task show.
 */
export class ReconcileIndexLost extends Error {
  override name = 'ReconcileIndexLost';
}

/** A long run (Reconcile Library, a restore) stopped between steps because its signal fired. */
export class RunStopped extends Error {
  override name = 'RunStopped';
}

/** Throws RunStopped, saying how far the run got and why, once `signal` has fired; else nothing. */
export function stopIfAborted(signal: AbortSignal | undefined, howFar: string): void {
  if (!signal?.aborted) return;
  const reason: unknown = signal.reason;
  throw new RunStopped(`stopped ${howFar}: ${reason instanceof Error ? reason.message : String(reason)}`);
}
