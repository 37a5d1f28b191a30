// `npm run requeue -- [options]` (workers/requeue.ts): its usage, its options and the run with what it
// prints. Exit status: 0 done (also when nothing matched), 1 refused (breaker not CLOSED) or Redis
// unreachable, 2 bad option or setting (one line on stderr; nothing moved).
import { commandFailed, parseOptions } from '../core/cli.js';
import { secretsOf, type Config } from '../core/config.js';
import { ERROR_TYPES } from '../core/errors.js';
import { createLogger } from '../core/log.js';
import { formatRequeueSummary } from './report.js';
import { DEFAULT_RATE, RedisUnreachableError, runRequeue, type RequeueOptions, type RequeueProgress } from './requeue.js';
import { GRACE_MS, MAX_REQUEUES, RequeueInputError } from './select.js';

export const REQUEUE_USAGE = `
Usage: npm run requeue -- [options]

Moves failed sync jobs (the dead-letter queue) whose failure lies in an outage window, and whose error
type is chosen, back to the queue with their attempts reset. Scenes that already have a job waiting are
skipped; a job requeued ${MAX_REQUEUES} times already stays and is listed. Safe to run twice or concurrently:
no job is requeued twice. Refuses (exit 1) while the breaker is not CLOSED, unless --force.

Options:
  --dry-run              report what a real run would do; move nothing
  --outage ID            latest (default), all, or an outage id from the outage history
  --since T / --until T  the window instead of an outage: ISO time (2024-05-01T12:00:00Z), epoch ms,
                         or a duration back from now (90s, 15m, 2h, 3d); --since alone runs to now
                         (a failure counts when within ${GRACE_MS / 1000} s of the window)
  --errors T1,T2         error types to take (default: PlexServerDown); any of
                         ${ERROR_TYPES.join(', ')}
  --include-optional     also PlexTemporaryError and PlexNotFound
  --limit N              requeue at most N jobs
  --rate N               move at most N jobs per second (default ${DEFAULT_RATE})
  --force                move jobs even while the breaker is not CLOSED
  --json                 print only the JSON summary on stdout (logs go to stderr):
                         { scanned, matched, requeued, skipped: { alreadyQueued, errorType,
                           outsideWindow, breakerNotClosed, tooManyRequeues }, jobIds, ... }
                         extra keys: skipped.tooManyRequeues and tooManyRequeues (jobs left after
                         ${MAX_REQUEUES} requeues), dryRun, breaker, refused, windows, errorTypes,
                         limitReached, durationMs

Exit status: 0 done, 1 refused (breaker not CLOSED) or Redis unreachable, 2 bad option or setting.
Needs only the Redis settings.`;

export interface RequeueCommand {
  options: RequeueOptions;
  /** Only the JSON summary on stdout. */
  json: boolean;
}

const OPTIONS = {
  'dry-run': { type: 'boolean' },
  outage: { type: 'string' },
  since: { type: 'string' },
  until: { type: 'string' },
  errors: { type: 'string', multiple: true },
  'include-optional': { type: 'boolean' },
  limit: { type: 'string' },
  rate: { type: 'string' },
  force: { type: 'boolean' },
  json: { type: 'boolean' },
} as const;

/** The command's options from its arguments, or what is wrong with them. */
export function parseRequeueArgs(args: readonly string[]): { ok: true; command: RequeueCommand } | { ok: false; error: string } {
  const parsed = parseOptions(args, OPTIONS);
  if (!parsed.ok) return parsed;
  const { values } = parsed;
  if (values.limit !== undefined && (!/^\s*\d+\s*$/.test(values.limit) || Number(values.limit) < 1)) {
    return { ok: false, error: `--limit must be a whole number of at least 1, not "${values.limit}"` };
  }
  const rate = values.rate === undefined ? undefined : Number(values.rate);
  if (values.rate !== undefined && (values.rate.trim() === '' || !Number.isFinite(rate) || rate! <= 0)) {
    return { ok: false, error: `--rate must be a number of jobs per second above 0, not "${values.rate}"` };
  }
  const options: RequeueOptions = {
    dryRun: values['dry-run'] === true,
    outage: values.outage,
    since: values.since,
    until: values.until,
    errors: values.errors?.flatMap((e) => e.split(',')),
    includeOptional: values['include-optional'] === true,
    limit: values.limit === undefined ? undefined : Number(values.limit),
    rate,
    force: values.force === true,
  };
  return { ok: true, command: { options, json: values.json === true } };
}

/** Progress on stderr for big runs (table mode only): a line at most every 2 s once the run is big. */
function progressReporter(dryRun: boolean) {
  const started = performance.now();
  let lastLine = 0;
  const reporter = {
    shown: false,
    onProgress: (p: RequeueProgress) => {
      const t = performance.now();
      if (p.inWindow < 1_000 && t - started < 2_000) return;
      if (t - lastLine < 2_000) return;
      lastLine = t;
      reporter.shown = true;
      const text = `requeue: examined ${p.examined}/${p.inWindow} failed jobs in the window, ${dryRun ? 'would requeue' : 'requeued'} ${p.requeued}`;
      process.stderr.write(process.stderr.isTTY ? `\r${text}\x1b[K` : `${text}\n`);
    },
  };
  return reporter;
}

/** Runs the requeue and prints its summary; answers the exit status. */
export async function runRequeueCommand(config: Config, { options, json }: RequeueCommand): Promise<number> {
  // Logs on stderr only: stdout carries the result. The table mode keeps them to warnings unless debugging.
  const level = json || ['debug', 'trace'].includes(config.logLevel) ? config.logLevel : config.logLevel === 'silent' ? 'silent' : 'warn';
  const log = createLogger({ level, format: config.logFormat, secrets: secretsOf(config), name: 'requeue', to: 'stderr' });
  const progress = json ? undefined : progressReporter(options.dryRun === true);
  try {
    const summary = await runRequeue(config, options, { log, onProgress: progress?.onProgress });
    if (progress?.shown && process.stderr.isTTY) process.stderr.write('\n');
    process.stdout.write(json ? `${JSON.stringify(summary)}\n` : formatRequeueSummary(summary));
    const refused = summary.refused !== null && !summary.dryRun;
    if (refused && json) process.stderr.write(`stash2plex requeue: refused: ${summary.refused}\n`);
    return refused ? 1 : 0;
  } catch (err) {
    if (err instanceof RequeueInputError) return commandFailed('requeue', 2, err.message);
    if (err instanceof RedisUnreachableError) return commandFailed('requeue', 1, err.message);
    log.error({ err: (err as Error).message }, 'requeue failed');
    return commandFailed('requeue', 1, `failed: ${(err as Error).message}`);
  }
}
