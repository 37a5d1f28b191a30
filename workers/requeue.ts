// `npm run requeue -- [options]`: failed sync jobs of outage windows back to the queue (src/dlq/cli.ts).
// Exit status: 0 done (also when nothing matched), 1 refused (breaker not CLOSED) or Redis unreachable,
// 2 bad option or setting (one line on stderr; nothing moved).
import { commandFailed, handleHelp } from '../src/core/cli.js';
import { loadConfigOrExit } from '../src/core/config.js';
import { parseRequeueArgs, REQUEUE_USAGE, runRequeueCommand } from '../src/dlq/cli.js';

handleHelp(process.argv, REQUEUE_USAGE, 'requeue');
const args = parseRequeueArgs(process.argv.slice(2));
if (!args.ok) process.exit(commandFailed('requeue', 2, args.error));
const config = loadConfigOrExit({ plex: false, stash: false });
process.exit(await runRequeueCommand(config, args.command));
