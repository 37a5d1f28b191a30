// `npm run sim`: the Plex and Stash simulators alone, to try a configuration against (src/sim/cli.ts).
// Ctrl-C stops them. Exit status: 1 a port was taken, 2 bad option.
import { commandFailed, handleHelp, onShutdown } from '../src/core/cli.js';
import { parseSimArgs, runSim, SIM_USAGE } from '../src/sim/cli.js';

handleHelp(process.argv, SIM_USAGE, 'sim');
const args = parseSimArgs(process.argv.slice(2));
if (!args.ok) process.exit(commandFailed('sim', 2, args.error));
try {
  const stop = await runSim(args.options);
  onShutdown(stop);
} catch (err) {
  const code = (err as NodeJS.ErrnoException).code;
  process.exit(
    commandFailed(
      'sim',
      1,
      code === 'EADDRINUSE' ? `a port is taken (${(err as Error).message}): use --plex-port / --stash-port` : (err as Error).message,
    ),
  );
}
