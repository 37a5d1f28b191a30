// Small shared pieces of every entry point: --help, options, failures, graceful shutdown.
import { writeFile } from 'node:fs/promises';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { COMMAND_SETTINGS, type CommandName } from './command-settings.js';
import { ConfigError, DEFAULTS, environmentWithDotenv, type Env, type VariableName } from './config.js';

/** Settings whose value --help never shows. */
const SECRET_SETTINGS: readonly VariableName[] = ['PLEX_TOKEN', 'STASH_API_KEY', 'DASHBOARD_PASSWORD', 'HOOK_TOKEN'];

/** A Redis URL (or a list of them) with any password replaced by ***. */
function maskPasswords(value: string): string {
  return value.replace(/(\w+:\/\/)([^@/\s]*)@/g, (_, scheme: string, auth: string) => {
    const user = auth.includes(':') ? auth.slice(0, auth.indexOf(':')) : '';
    return `${scheme}${user}:***@`;
  });
}

/**
 * Pure: the settings a command reads, one line each, with the effective value and where it comes from
 * (the environment, .env, the default); secrets are never shown, only whether they are set.
 */
export function settingsLines(names: readonly VariableName[], env: Env, dotenv: Env): string[] {
  const width = Math.max(0, ...names.map((n) => n.length)) + 2;
  return names.map((name) => {
    const given = (v: string | undefined) => v !== undefined && v.trim() !== '';
    const [value, from] = given(env[name])
      ? [env[name]!.trim(), 'environment']
      : given(dotenv[name])
        ? [dotenv[name]!.trim(), '.env']
        : [DEFAULTS[name], 'default'];
    if (value === undefined) return `  ${name.padEnd(width)}(unset)`;
    const shown = SECRET_SETTINGS.includes(name) ? '(set, hidden)' : maskPasswords(value);
    return `  ${name.padEnd(width)}${shown}  [${from}]`;
  });
}

/**
 * Prints `usage` and the settings the command reads with their effective values, then exits 0, when
 * --help or -h is given.
 */
export function handleHelp(argv: readonly string[], usage: string, command: CommandName): void {
  if (!argv.includes('--help') && !argv.includes('-h')) return;
  const names = COMMAND_SETTINGS[command];
  const settings = names.length
    ? `\n\nSettings it reads (environment, else .env in the current folder, else the default):\n${settingsLines(names, process.env, environmentWithDotenv({})).join('\n')}\nEvery setting: README.md, "Settings".`
    : '';
  process.stdout.write(`${usage.trim()}${settings}\n`);
  process.exit(0);
}

type OptionsConfig = NonNullable<ParseArgsConfig['options']>;
export type ParsedOptions<O extends OptionsConfig> = ReturnType<
  typeof parseArgs<{ options: O; strict: true; allowPositionals: false }>
>['values'];

/** A command's options (node:util parseArgs, strict, no positionals), or what is wrong with them, in one line. */
export function parseOptions<O extends OptionsConfig>(
  args: readonly string[],
  options: O,
): { ok: true; values: ParsedOptions<O> } | { ok: false; error: string } {
  try {
    return { ok: true, values: parseArgs({ args: [...args], options, strict: true, allowPositionals: false }).values };
  } catch (err) {
    return { ok: false, error: (err as Error).message.replace(/\. To specify a positional argument.*$/s, '') };
  }
}

/** Says why `stash2plex <command>` stops (a usage error, exit 2, points to --help); answers the exit code. */
export function commandFailed(command: string, code: 1 | 2, message: string): 1 | 2 {
  process.stderr.write(`stash2plex ${command}: ${message}${code === 2 ? ' (see --help)' : ''}\n`);
  return code;
}

/** Runs `work`; a ConfigError it throws is one line naming the setting and exit 2 (anything else is rethrown). */
export async function exitOnConfigError<T>(work: () => Promise<T> | T): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`stash2plex: configuration error: ${err.message}\n`);
    process.exit(2);
  }
}

/**
 * Longest a graceful stop may take (the worker's 25 s for its active jobs, then closing connections).
 * Past it the process exits anyway: a stop that waits on a Redis that is gone would otherwise never end.
 */
export const SHUTDOWN_DEADLINE_MS = 30_000;

/**
 * Runs `stop` once on SIGTERM/SIGINT, then exits; a second signal exits at once, and so does a stop that
 * outlasts `deadlineMs` (exit code 1).
 */
export function onShutdown(
  stop: () => Promise<void>,
  log?: { info(msg: string): void; error?(msg: string): void },
  // S2P_SHUTDOWN_DEADLINE_MS: tests only, to see the deadline act in a second rather than thirty.
  deadlineMs = Number(process.env.S2P_SHUTDOWN_DEADLINE_MS) > 0 ? Number(process.env.S2P_SHUTDOWN_DEADLINE_MS) : SHUTDOWN_DEADLINE_MS,
): void {
  let stopping = false;
  const handler = (sig: NodeJS.Signals) => {
    if (stopping) process.exit(130);
    stopping = true;
    log?.info(`${sig} received, shutting down`);
    setTimeout(() => {
      (log?.error ?? log?.info)?.call(log, `shutdown did not finish within ${deadlineMs} ms: exiting anyway`);
      process.exit(1);
    }, deadlineMs).unref();
    stop()
      .catch(() => undefined)
      .finally(() => process.exit(0));
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
}

/** Where a role's heartbeat file lives (container health checks read it: workers/healthcheck.ts). */
export function heartbeatFile(role: string): string {
  return `${process.env.S2P_HEARTBEAT_DIR ?? '/tmp'}/stash2plex-${role}.alive`;
}

/** Touches the role's heartbeat file every `everyMs` while `check` (e.g. a Redis PING) succeeds. */
export function startHeartbeat(role: string, check: () => Promise<unknown>, everyMs = 10_000): () => void {
  const beat = () =>
    check()
      .then(() => writeFile(heartbeatFile(role), String(Date.now())))
      .catch(() => undefined);
  void beat();
  const timer = setInterval(() => void beat(), everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
