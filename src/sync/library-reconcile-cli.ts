// `npm run reconcile -- [--dry-run] [--json]` (workers/reconcile.ts): Reconcile Library's usage, options
// and the run with what it prints (./library-reconcile-run.ts). Exit status: 0 done, 1 Redis, Stash or
// Plex failed, 2 bad option or setting (one line on stderr).
import { commandFailed, parseOptions } from '../core/cli.js';
import { secretsOf, type Config } from '../core/config.js';
import { createLogger } from '../core/log.js';
import { closeQuietly, connectForCommand } from '../core/redis.js';
import { reportLines } from './library-gaps.js';
import type { LibraryProgress } from './library-reconcile.js';
import { LibraryReconcileUnavailable, runLibraryReconcile } from './library-reconcile-run.js';

export const RECONCILE_USAGE = `
Usage: npm run reconcile -- [--dry-run] [--json]

Reads every Stash scene (1000 a request) and the Plex item holding its file, and reports, by class, how
many scenes and the first 20 scene ids: not in Plex; in Plex with none of the synced fields set; drifted
(a field stash2plex set shows another value in Plex now); ready (SYNC_REQUIRE) but never synced; moved
(its file moved or renamed in Stash since its last sync). Then it
queues the scenes a sync would fix (bulk priority: fresh edits still go first; a scene already waiting is
not queued twice, nor counted in "queued"). A scene Plex does not hold is queued only when a sync would ask
Plex to scan its folder (PLEX_SCAN_MISSING). The report is kept in Redis and shown on the status page. If
Redis loses the run's index of Plex's files twice (evicted or flushed), the run stops (exit 1) and keeps no
report. See docs/MATCHING.md.

Options:
  --dry-run   report only; queue nothing
  --json      print only the report, one JSON object on stdout (logs and progress go to stderr):
              { scanned, notInPlex: { count, sceneIds }, empty, drifted, neverSynced, moved, queued,
                durationMs, dryRun, toQueue, startedAt, finishedAt, sentToInbox }

Exit status: 0 done, 1 Redis, Stash or Plex failed (or Redis lost the run's index), 2 bad option or setting.
Needs PLEX_URL, PLEX_TOKEN, STASH_URL (STASH_API_KEY if Stash asks for one) and the Redis settings.`;

export interface ReconcileCommand {
  dryRun: boolean;
  /** Only the report, as JSON, on stdout. */
  json: boolean;
}

/** The command's options from its arguments, or what is wrong with them. */
export function parseReconcileArgs(args: readonly string[]): { ok: true; command: ReconcileCommand } | { ok: false; error: string } {
  const parsed = parseOptions(args, { 'dry-run': { type: 'boolean' }, json: { type: 'boolean' } });
  if (!parsed.ok) return parsed;
  return { ok: true, command: { dryRun: parsed.values['dry-run'] === true, json: parsed.values.json === true } };
}

/** Runs Reconcile Library and prints its report; answers the exit status. */
export async function runReconcileCommand(config: Config, { dryRun, json }: ReconcileCommand): Promise<number> {
  // Logs on stderr only: stdout carries the result. The text mode keeps them to warnings unless debugging.
  const level = json || ['debug', 'trace', 'silent'].includes(config.logLevel) ? config.logLevel : 'warn';
  const log = createLogger({ level, format: config.logFormat, secrets: secretsOf(config), name: 'reconcile', to: 'stderr' });
  const redis = await connectForCommand(config);
  if (!redis) return commandFailed('reconcile', 1, `Redis unreachable at ${new URL(config.redis.url).host}`);

  // Progress on stderr: a line at most every 2 s once the run takes that long.
  let lastLine = performance.now();
  const onProgress = (p: LibraryProgress) => {
    const t = performance.now();
    if (t - lastLine < 2_000) return;
    lastLine = t;
    process.stderr.write(`reconcile: ${p.scanned}/${p.total} scenes read, ${dryRun ? 'dry run' : `${p.queued} queued`}\n`);
  };

  try {
    const report = await runLibraryReconcile(config, { dryRun, log, onProgress, redis });
    process.stdout.write(json ? `${JSON.stringify(report)}\n` : `${reportLines(report).join('\n')}\n`);
  } catch (err) {
    // Exits without waiting for Redis to close: it may be what failed.
    if (err instanceof LibraryReconcileUnavailable) return commandFailed('reconcile', 2, err.message);
    log.error({ err: (err as Error).message }, 'reconcile failed');
    return commandFailed('reconcile', 1, `failed: ${(err as Error).message}`);
  }
  await closeQuietly(redis);
  return 0;
}
