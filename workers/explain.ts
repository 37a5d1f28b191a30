// `npm run explain -- <sceneId> [--json]`: what the next sync of one scene would do, and why, changing
// nothing (src/explain/). Exit status: 0 explained, 1 Redis, Stash or Plex failed, 2 bad scene id, unknown
// scene or bad setting (one line on stderr).
import { commandFailed, handleHelp } from '../src/core/cli.js';
import { loadConfigOrExit } from '../src/core/config.js';
import { EXPLAIN_USAGE, parseExplainArgs, runExplainCommand } from '../src/explain/cli.js';

handleHelp(process.argv, EXPLAIN_USAGE, 'explain');
const args = parseExplainArgs(process.argv.slice(2));
if (!args.ok) process.exit(commandFailed('explain', 2, args.error));
const config = loadConfigOrExit({ plex: true, stash: true });
process.exit(await runExplainCommand(config, args.command));
