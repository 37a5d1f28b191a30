// `npm run restore -- [--scene ID …] [--all] [--resume] [--dry-run] [--json]` (workers/restore.ts): its
// usage, its options and the run with what it prints. Exit status: 0 done, 1 Redis or Plex failed (or a
// scene or collection could not be restored), 2 bad option or setting.
import { commandFailed, parseOptions } from '../core/cli.js';
import { secretsOf, type Config } from '../core/config.js';
import { createLogger } from '../core/log.js';
import { closeQuietly, connectForCommand } from '../core/redis.js';
import { RestoreUnavailable, runRestore, runResume } from './from-config.js';
import { restoreLines, resumeSummaryText } from './report.js';
import type { RestoreScope } from './run.js';

export const RESTORE_USAGE = `
Usage: npm run restore -- (--scene ID … | --all) [--dry-run] [--json]
       npm run restore -- --resume (--scene ID … | --all) [--dry-run] [--json]

Before stash2plex first writes a field of a Plex item (value or lock) it keeps what Plex had: the value,
the lock, the tag list, the poster Plex had selected. A restore puts those back, with the locks as they
were, and keeps the restored scenes out of sync (the status page lists them) so the next edit in Stash
does not overwrite them. A field changed in Plex since stash2plex wrote it is left as it is (plexChanged);
a field stash2plex never wrote has nothing to put back (neverWritten). The item's ownership record and
kept originals are then forgotten, so a resumed scene syncs as a first sync would. With --all, the
collections stash2plex wrote a summary or poster to get theirs back too, by the same rules; a restore of
chosen scenes leaves collections as they are (many scenes share one).

Options:
  --scene ID    a Stash scene id (repeat, or a comma list: --scene 12,13)
  --all         every scene whose Plex item has kept originals, and every collection with kept originals
  --resume      bring the scenes back into sync instead: the exclusion goes and a sync is queued
  --dry-run     report what a real run would do; change nothing
  --json        print only the result, one JSON object on stdout (progress goes to stderr):
                restore: { restored, fields, excluded, skipped: { neverWritten, plexChanged }, dryRun,
                           examined, scenes, failed, durationMs,
                           collections (--all): { examined, restored, plexChanged, failed, listed } }
                resume:  { resumed, queued, notExcluded, sceneIds, dryRun }

Exit status: 0 done, 1 Redis or Plex failed or a scene (a collection) could not be restored, 2 bad option
or setting.
A restore needs PLEX_URL, PLEX_TOKEN and the Redis settings; a resume only the Redis settings.`;

export interface RestoreCommand {
  scope: RestoreScope;
  /** Bring the scenes back into sync instead of restoring them. */
  resume: boolean;
  dryRun: boolean;
  /** Only the result, as JSON, on stdout. */
  json: boolean;
}

const OPTIONS = {
  scene: { type: 'string', multiple: true },
  all: { type: 'boolean' },
  resume: { type: 'boolean' },
  'dry-run': { type: 'boolean' },
  json: { type: 'boolean' },
} as const;

/** The command's options from its arguments, or what is wrong with them. */
export function parseRestoreArgs(args: readonly string[]): { ok: true; command: RestoreCommand } | { ok: false; error: string } {
  const parsed = parseOptions(args, OPTIONS);
  if (!parsed.ok) return parsed;
  const { values } = parsed;
  const sceneIds = (values.scene ?? []).flatMap((s) => s.split(',')).map((s) => s.trim());
  const badId = sceneIds.find((id) => !/^\d{1,18}$/.test(id));
  if (badId !== undefined) return { ok: false, error: `--scene takes Stash scene ids (numbers), not "${badId}"` };
  if (values.all && sceneIds.length > 0) return { ok: false, error: 'give --scene or --all, not both' };
  if (!values.all && sceneIds.length === 0) return { ok: false, error: 'say which scenes: --scene ID (repeatable) or --all' };
  const scope: RestoreScope = values.all ? { all: true } : { sceneIds };
  return { ok: true, command: { scope, resume: values.resume === true, dryRun: values['dry-run'] === true, json: values.json === true } };
}

/** Runs the restore (or the resume) and prints its result; answers the exit status. */
export async function runRestoreCommand(config: Config, { scope, resume, dryRun, json }: RestoreCommand): Promise<number> {
  // Logs on stderr only: stdout carries the result. The text mode keeps them to warnings unless debugging.
  const level = json || ['debug', 'trace', 'silent'].includes(config.logLevel) ? config.logLevel : 'warn';
  const log = createLogger({ level, format: config.logFormat, secrets: secretsOf(config), name: 'restore', to: 'stderr' });
  const redis = await connectForCommand(config);
  if (!redis) return commandFailed('restore', 1, `Redis unreachable at ${new URL(config.redis.url).host}`);

  // Progress on stderr: a line at most every 2 s once the run takes that long.
  let lastLine = performance.now();
  const onProgress = (p: { examined: number; restored: number }) => {
    if (performance.now() - lastLine < 2_000) return;
    lastLine = performance.now();
    process.stderr.write(`restore: ${p.examined} scenes examined, ${p.restored} ${dryRun ? 'would be restored' : 'restored'}\n`);
  };

  let code: number;
  try {
    if (resume) {
      const summary = await runResume(config, { scope, dryRun, redis });
      process.stdout.write(json ? `${JSON.stringify(summary)}\n` : `${resumeSummaryText(summary)}\n`);
      code = 0;
    } else {
      const summary = await runRestore(config, { scope, dryRun, log, redis, onProgress });
      process.stdout.write(json ? `${JSON.stringify(summary)}\n` : `${restoreLines(summary).join('\n')}\n`);
      code = summary.failed > 0 || (summary.collections?.failed ?? 0) > 0 ? 1 : 0;
    }
  } catch (err) {
    // Exits without waiting for Redis to close: it may be what failed.
    if (err instanceof RestoreUnavailable) return commandFailed('restore', 2, err.message);
    log.error({ err: (err as Error).message }, 'restore failed');
    return commandFailed('restore', 1, `failed: ${(err as Error).message}`);
  }
  await closeQuietly(redis);
  return code;
}
