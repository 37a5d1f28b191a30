// `npm run restore -- [--scene ID …] [--all] [--resume] [--dry-run] [--json]`: puts back what Plex had
// before stash2plex first wrote each field (src/restore/), or brings restored scenes back into sync.
// Exit status: 0 done, 1 Redis or Plex failed (or a scene could not be restored), 2 bad option or setting.
import { parseArgs } from 'node:util';
import { handleHelp } from '../src/core/cli.js';
import { loadConfigOrExit, secretsOf } from '../src/core/config.js';
import { createLogger } from '../src/core/log.js';
import { closeQuietly, connectRedis } from '../src/core/redis.js';
import { RestoreUnavailable, runRestore, runResume } from '../src/restore/from-config.js';
import { restoreLines, resumeSummaryText } from '../src/restore/report.js';
import type { RestoreScope } from '../src/restore/run.js';

const USAGE = `
Usage: npm run restore -- (--scene ID … | --all) [--dry-run] [--json]
       npm run restore -- --resume (--scene ID … | --all) [--dry-run] [--json]

Before stash2plex first writes a field of a Plex item (value or lock) it keeps what Plex had: the value,
the lock, the tag list, the poster Plex had selected. A restore puts those back, with the locks as they
were, and keeps the restored scenes out of sync (the status page lists them) so the next edit in Stash
does not overwrite them. A field changed in Plex since stash2plex wrote it is left as it is (plexChanged);
a field stash2plex never wrote has nothing to put back (neverWritten). The item's ownership record and
kept originals are then forgotten, so a resumed scene syncs as a first sync would.

Options:
  --scene ID    a Stash scene id (repeat, or a comma list: --scene 12,13)
  --all         every scene whose Plex item has kept originals
  --resume      bring the scenes back into sync instead: the exclusion goes and a sync is queued
  --dry-run     report what a real run would do; change nothing
  --json        print only the result, one JSON object on stdout (progress goes to stderr):
                restore: { restored, fields, excluded, skipped: { neverWritten, plexChanged }, dryRun,
                           examined, scenes, failed, durationMs }
                resume:  { resumed, queued, notExcluded, sceneIds, dryRun }

Exit status: 0 done, 1 Redis or Plex failed or a scene could not be restored, 2 bad option or setting.
A restore needs PLEX_URL, PLEX_TOKEN and the Redis settings; a resume only the Redis settings.`;

handleHelp(process.argv, USAGE);

function fail(code: 1 | 2, message: string): never {
  process.stderr.write(`stash2plex restore: ${message}${code === 2 ? ' (see --help)' : ''}\n`);
  process.exit(code);
}

let values: { scene?: string[]; all?: boolean; resume?: boolean; 'dry-run'?: boolean; json?: boolean } = {};
try {
  ({ values } = parseArgs({
    args: process.argv.slice(2),
    strict: true,
    allowPositionals: false,
    options: { scene: { type: 'string', multiple: true }, all: { type: 'boolean' }, resume: { type: 'boolean' }, 'dry-run': { type: 'boolean' }, json: { type: 'boolean' } },
  }));
} catch (err) {
  fail(2, (err as Error).message.replace(/\. To specify a positional argument.*$/s, ''));
}

const sceneIds = (values.scene ?? []).flatMap((s) => s.split(',')).map((s) => s.trim());
const badId = sceneIds.find((id) => !/^\d{1,18}$/.test(id));
if (badId !== undefined) fail(2, `--scene takes Stash scene ids (numbers), not "${badId}"`);
if (values.all && sceneIds.length > 0) fail(2, 'give --scene or --all, not both');
if (!values.all && sceneIds.length === 0) fail(2, 'say which scenes: --scene ID (repeatable) or --all');
const scope: RestoreScope = values.all ? { all: true } : { sceneIds };
const json = values.json === true;
const dryRun = values['dry-run'] === true;
const resume = values.resume === true;

const config = loadConfigOrExit({ plex: !resume, stash: false });
// Logs on stderr only: stdout carries the result. The text mode keeps them to warnings unless debugging.
const level = json || ['debug', 'trace', 'silent'].includes(config.logLevel) ? config.logLevel : 'warn';
const log = createLogger({ level, secrets: secretsOf(config), name: 'restore', to: 'stderr' });

// Commands fail instead of waiting through reconnects: a command-line run reports, it does not wait.
const redis = connectRedis(config, { maxRetriesPerRequest: 1, connectTimeout: 5_000 });
redis.on('error', () => undefined); // reported by the failing command
const answered = await Promise.race([redis.ping().then(() => true, () => false), new Promise<false>((r) => setTimeout(() => r(false), 5_000).unref())]);
if (!answered) {
  redis.disconnect();
  fail(1, `Redis unreachable at ${new URL(config.redis.url).host}`);
}

// Progress on stderr: a line at most every 2 s once the run takes that long.
let lastLine = performance.now();
const onProgress = (p: { examined: number; restored: number }) => {
  if (performance.now() - lastLine < 2_000) return;
  lastLine = performance.now();
  process.stderr.write(`restore: ${p.examined} scenes examined, ${p.restored} ${dryRun ? 'would be restored' : 'restored'}\n`);
};

let code = 0;
try {
  if (resume) {
    const summary = await runResume(config, { scope, dryRun, redis });
    process.stdout.write(json ? `${JSON.stringify(summary)}\n` : `${resumeSummaryText(summary)}\n`);
  } else {
    const summary = await runRestore(config, { scope, dryRun, log, redis, onProgress });
    process.stdout.write(json ? `${JSON.stringify(summary)}\n` : `${restoreLines(summary).join('\n')}\n`);
    if (summary.failed > 0) code = 1;
  }
} catch (err) {
  if (err instanceof RestoreUnavailable) fail(2, err.message);
  log.error({ err: (err as Error).message }, 'restore failed');
  fail(1, `failed: ${(err as Error).message}`);
} finally {
  await closeQuietly(redis);
}
process.exit(code);
