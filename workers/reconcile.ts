// `npm run reconcile -- [--dry-run] [--json]`: Reconcile Library (src/sync/library-reconcile-cli.ts).
// Exit status: 0 done, 1 Redis, Stash or Plex failed, 2 bad option or setting (one line on stderr).
import { commandFailed, handleHelp } from '../src/core/cli.js';
import { loadConfigOrExit } from '../src/core/config.js';
import { parseReconcileArgs, RECONCILE_USAGE, runReconcileCommand } from '../src/sync/library-reconcile-cli.js';

handleHelp(process.argv, RECONCILE_USAGE, 'reconcile');
const args = parseReconcileArgs(process.argv.slice(2));
if (!args.ok) process.exit(commandFailed('reconcile', 2, args.error));
const config = loadConfigOrExit({ plex: true, stash: true });
process.exit(await runReconcileCommand(config, args.command));
