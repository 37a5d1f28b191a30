// The Stash plugin process (interface raw), for hooks and tasks: stdin holds one JSON object from Stash;
// stdout gets exactly one JSON line ({"output": …} or {"error": …}); stderr log lines with Stash's
// level prefixes (./plugin-output.ts). A hook runs src/hook/run.ts; a task (args.mode) runs ./tasks.ts,
// which the build puts in stash2plex-tasks.cjs beside the hook bundle and this module loads for a task
// only (scripts/build-plugin.mjs maps the dynamic import below to a require of that file).
//
// Stash waits for the hook on every scene save, so the hook path loads only the hook's input (checked by
// hand), decision and spool, the inbox item (no dependencies) and a minimal Redis client (node:net on
// first use): the decision comes first and a skip does no network work at all, nor reads a .env.
import { MAX_INPUT_BYTES, output, parsePluginInput, type PluginInput } from '../hook/input.js';
import { runHook } from '../hook/run.js';
import { pluginDir, pluginEnvironment, redisSettings, stdinTimeoutMs, type Env } from '../hook/settings.js';
import { readStdin } from '../hook/stdin.js';
import { requestCodeCacheSave } from './code-cache-request.js';
import { consoleToStderr, fail, finish, log, progress } from './plugin-output.js';
import { isTaskMode, PLUGIN_TASKS } from './task-list.js';

const loadTasks = () => import('./tasks.js');

const USAGE = `Usage: node stash2plex.cjs < input.json
The stash2plex Stash plugin (interface raw). Stash runs it with one JSON object on stdin: on
Scene.Update.Post / Scene.Create.Post hooks it records the scene in Redis (<prefix>:inbox) for the
stash2plex workers; on Performer/Studio/Tag.Update.Post (a rename) and Tag.Merge.Post it records one
event the workers fan out to every scene carrying it. While Redis is unreachable events go to a spool
file in the plugin folder, replayed by the next run. With args.mode it runs a task
(${PLUGIN_TASKS.map((t) => t.mode).join(', ')}).
Prints one JSON line on stdout ({"output": …} or {"error": …}) and logs on stderr.

Settings: REDIS_URL and REDIS_PREFIX (environment, or the .env of the plugin folder: the input's
PluginDir, else this script's folder; Stash runs plugins in its own working directory) override the
plugin settings redisUrl and redisPrefix in Stash (defaults redis://127.0.0.1:6379 and s2p).
STASH_API_KEY, if set, authenticates the tasks' Stash calls instead of the session cookie.
`;

async function runHookMode(input: PluginInput): Promise<void> {
  const outcome = await runHook(input, pluginEnvironment, log);
  // A run that reached Redis asks the loader for a code cache when it ran without one.
  if (outcome.delivered) requestCodeCacheSave();
  finish(outcome.line, outcome.code);
}

async function runTaskMode(input: PluginInput, env: Env, mode: string): Promise<void> {
  if (!isTaskMode(mode)) return fail(`unknown task mode "${mode}" (known: ${PLUGIN_TASKS.map((t) => t.mode).join(', ')})`);
  const dir = pluginDir(input, log);
  const settings = await redisSettings(input, env, dir, log);
  if (!settings.ok) return fail(settings.error);
  const tasks = await loadTasks();
  try {
    const summary = await tasks.runTask(mode, { input, env, dir, redis: settings.settings, log, progress });
    log('info', summary);
    finish(output(summary), 0);
  } catch (err) {
    fail((err as Error).message);
  }
}

async function main(argv: readonly string[]): Promise<void> {
  if (argv.includes('--help') || argv.includes('-h')) return finish(USAGE, 0);
  const timeoutMs = stdinTimeoutMs();
  const raw = await readStdin(MAX_INPUT_BYTES, timeoutMs);
  if (raw === null) return fail(`invalid plugin input: larger than ${MAX_INPUT_BYTES} bytes`);
  if (raw === 'timeout')
    return fail(`invalid plugin input: stdin did not end within ${timeoutMs} ms (Stash sends one JSON object and closes it)`);
  const parsed = parsePluginInput(raw.toString('utf8'));
  if (!parsed.ok) return fail(parsed.error);
  const { input } = parsed;
  if (input.args.hookContext) return runHookMode(input);
  if (input.args.mode !== undefined) return runTaskMode(input, pluginEnvironment(pluginDir(input, log)), input.args.mode);
  return fail('invalid plugin input: args has neither hookContext (a hook) nor mode (a task)');
}

/** Runs the plugin process: one run, then the exit (finish). */
export function runPluginProcess(argv: readonly string[]): void {
  consoleToStderr();
  main(argv).catch((err: unknown) => {
    log('error', `stash2plex: internal error: ${(err as Error)?.stack ?? String(err)}`);
    fail(`internal error: ${(err as Error)?.message ?? String(err)}`);
  });
}
