// Small shared pieces of every entry point: --help, graceful shutdown.
import { DEFAULTS, VARIABLE_NAMES } from './config.js';

/** Prints `usage` (plus the settings table) and exits 0 when --help or -h is given. */
export function handleHelp(argv: readonly string[], usage: string): void {
  if (!argv.includes('--help') && !argv.includes('-h')) return;
  const settings = VARIABLE_NAMES.map((k) => `  ${k.padEnd(28)} ${DEFAULTS[k] ?? '(unset)'}`).join('\n');
  process.stdout.write(`${usage.trim()}\n\nSettings (environment or .env; default):\n${settings}\n`);
  process.exit(0);
}

/** Runs `stop` once on SIGTERM/SIGINT, then exits; a second signal exits at once. */
export function onShutdown(stop: () => Promise<void>, log?: { info(msg: string): void }): void {
  let stopping = false;
  const handler = (sig: NodeJS.Signals) => {
    if (stopping) process.exit(130);
    stopping = true;
    log?.info(`${sig} received, shutting down`);
    stop()
      .catch(() => undefined)
      .finally(() => process.exit(0));
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
}
