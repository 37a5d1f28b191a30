// `npm run requeue -- [options]`: failed sync jobs of outage windows back to the queue (src/dlq/).
// Exit status: 0 done (also when nothing matched), 1 refused (breaker not CLOSED) or Redis unreachable,
// 2 bad option or setting (one line on stderr; nothing moved).
import { parseArgs } from 'node:util';
import { handleHelp } from '../src/core/cli.js';
import { loadConfigOrExit, secretsOf } from '../src/core/config.js';
import { formatRequeueSummary } from '../src/dlq/report.js';
import { DEFAULT_RATE, RedisUnreachableError, runRequeue, type RequeueOptions, type RequeueProgress } from '../src/dlq/requeue.js';
import { GRACE_MS, MAX_REQUEUES, RequeueInputError } from '../src/dlq/select.js';
import { ERROR_TYPES } from '../src/core/errors.js';
import { createLogger } from '../src/core/log.js';

const USAGE = `
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

handleHelp(process.argv, USAGE);

function badInput(message: string): never {
  process.stderr.write(`stash2plex requeue: ${message} (see --help)\n`);
  process.exit(2);
}

let values: Record<string, string | boolean | string[] | undefined>;
try {
  ({ values } = parseArgs({
    args: process.argv.slice(2),
    strict: true,
    allowPositionals: false,
    options: {
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
    },
  }));
} catch (err) {
  badInput((err as Error).message.replace(/\. To specify a positional argument.*$/s, ''));
}

function wholeNumber(name: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^\s*\d+\s*$/.test(raw) || Number(raw) < 1) badInput(`--${name} must be a whole number of at least 1, not "${raw}"`);
  return Number(raw);
}
function rateOf(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n) || n <= 0) badInput(`--rate must be a number of jobs per second above 0, not "${raw}"`);
  return n;
}

const json = values.json === true;
const options: RequeueOptions = {
  dryRun: values['dry-run'] === true,
  outage: values.outage as string | undefined,
  since: values.since as string | undefined,
  until: values.until as string | undefined,
  errors: (values.errors as string[] | undefined)?.flatMap((e) => e.split(',')),
  includeOptional: values['include-optional'] === true,
  limit: wholeNumber('limit', values.limit as string | undefined),
  rate: rateOf(values.rate as string | undefined),
  force: values.force === true,
};

const config = loadConfigOrExit({ plex: false, stash: false });
// Logs on stderr only: stdout carries the result. The table mode keeps them to warnings unless debugging.
const level = json || ['debug', 'trace'].includes(config.logLevel) ? config.logLevel : config.logLevel === 'silent' ? 'silent' : 'warn';
const log = createLogger({ level, secrets: secretsOf(config), name: 'requeue', to: 'stderr' });

// Progress on stderr for big runs (table mode only): a line at most every 2 s once the run is big.
const started = performance.now();
let lastLine = 0;
let progressShown = false;
const onProgress = json
  ? undefined
  : (p: RequeueProgress) => {
      const t = performance.now();
      if (p.inWindow < 1_000 && t - started < 2_000) return;
      if (t - lastLine < 2_000) return;
      lastLine = t;
      progressShown = true;
      const text = `requeue: examined ${p.examined}/${p.inWindow} failed jobs in the window, ${options.dryRun ? 'would requeue' : 'requeued'} ${p.requeued}`;
      process.stderr.write(process.stderr.isTTY ? `\r${text}\x1b[K` : `${text}\n`);
    };

try {
  const summary = await runRequeue(config, options, { log, onProgress });
  if (progressShown && process.stderr.isTTY) process.stderr.write('\n');
  process.stdout.write(json ? `${JSON.stringify(summary)}\n` : formatRequeueSummary(summary));
  const refused = summary.refused !== null && !summary.dryRun;
  if (refused && json) process.stderr.write(`stash2plex requeue: refused: ${summary.refused}\n`);
  process.exitCode = refused ? 1 : 0;
} catch (err) {
  if (err instanceof RequeueInputError) badInput(err.message);
  if (err instanceof RedisUnreachableError) {
    process.stderr.write(`stash2plex requeue: ${err.message}\n`);
    process.exit(1);
  }
  log.error({ err: (err as Error).message }, 'requeue failed');
  process.stderr.write(`stash2plex requeue: failed: ${(err as Error).message}\n`);
  process.exit(1);
}
process.exit(process.exitCode ?? 0);
