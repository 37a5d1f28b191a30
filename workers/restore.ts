// `npm run restore -- [--scene ID …] [--all] [--resume] [--dry-run] [--json]`: puts back what Plex had
// before stash2plex first wrote each field (src/restore/), or brings restored scenes back into sync.
// Exit status: 0 done, 1 Redis or Plex failed (or a scene could not be restored), 2 bad option or setting.
import { commandFailed, handleHelp } from '../src/core/cli.js';
import { loadConfigOrExit } from '../src/core/config.js';
import { parseRestoreArgs, RESTORE_USAGE, runRestoreCommand } from '../src/restore/cli.js';

handleHelp(process.argv, RESTORE_USAGE, 'restore');
const args = parseRestoreArgs(process.argv.slice(2));
if (!args.ok) process.exit(commandFailed('restore', 2, args.error));
const config = loadConfigOrExit({ plex: !args.command.resume, stash: false });
process.exit(await runRestoreCommand(config, args.command));
