// `npm run demo`: simulated Stash and Plex, real Redis, the whole system, and a scripted outage to watch
// on the dashboard (src/demo/). Ctrl-C stops everything it started.
import { handleHelp } from '../src/core/cli.js';
import { DEMO_USAGE, parseDemoArgs } from '../src/demo/options.js';
import { runDemo } from '../src/demo/run.js';

handleHelp(process.argv, DEMO_USAGE, 'demo');
const args = parseDemoArgs(process.argv.slice(2));
if (!args.ok) {
  process.stderr.write(`demo: ${args.error}\n`);
  process.exit(2);
}
// Runs until Ctrl-C, whose handler exits; resolves with a status only when the demo cannot start.
const code = await runDemo(args.options);
if (code !== null) process.exit(code);
