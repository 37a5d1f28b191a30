// `npm run reconcile -- [--dry-run] [--json]`: Reconcile Library (src/sync/library-reconcile.ts).
// Exit status: 0 done, 1 Redis, Stash or Plex failed, 2 bad option or setting (one line on stderr).
import { parseArgs } from 'node:util';
import { handleHelp } from '../src/core/cli.js';
import { loadConfigOrExit, secretsOf } from '../src/core/config.js';
import { createLogger } from '../src/core/log.js';
import { closeQuietly, connectRedis } from '../src/core/redis.js';
import { reportLines } from '../src/sync/library-gaps.js';
import type { LibraryProgress } from '../src/sync/library-reconcile.js';
import { LibraryReconcileUnavailable, runLibraryReconcile } from '../src/sync/library-reconcile-run.js';

const USAGE = `
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

handleHelp(process.argv, USAGE);

function fail(code: 1 | 2, message: string): never {
  process.stderr.write(`stash2plex reconcile: ${message}${code === 2 ? ' (see --help)' : ''}\n`);
  process.exit(code);
}

let values: Record<string, boolean | undefined> = {};
try {
  ({ values } = parseArgs({ args: process.argv.slice(2), strict: true, allowPositionals: false, options: { 'dry-run': { type: 'boolean' }, json: { type: 'boolean' } } }));
} catch (err) {
  fail(2, (err as Error).message.replace(/\. To specify a positional argument.*$/s, ''));
}
const json = values.json === true;
const dryRun = values['dry-run'] === true;

const config = loadConfigOrExit({ plex: true, stash: true });
// Logs on stderr only: stdout carries the result. The text mode keeps them to warnings unless debugging.
const level = json || ['debug', 'trace', 'silent'].includes(config.logLevel) ? config.logLevel : 'warn';
const log = createLogger({ level, secrets: secretsOf(config), name: 'reconcile', to: 'stderr' });

// Commands fail instead of waiting through reconnects: a command-line run reports, it does not wait.
const redis = connectRedis(config, { maxRetriesPerRequest: 1, connectTimeout: 5_000 });
redis.on('error', () => undefined); // reported by the failing command
const answered = await Promise.race([redis.ping().then(() => true, () => false), new Promise<false>((r) => setTimeout(() => r(false), 5_000).unref())]);
if (!answered) {
  redis.disconnect();
  fail(1, `Redis unreachable at ${new URL(config.redis.url).host}`);
}

// Progress on stderr: a line at most every 2 s once the run takes that long.
const started = performance.now();
let lastLine = started;
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
  if (err instanceof LibraryReconcileUnavailable) fail(2, err.message);
  log.error({ err: (err as Error).message }, 'reconcile failed');
  fail(1, `failed: ${(err as Error).message}`);
} finally {
  await closeQuietly(redis);
}
process.exit(0);
