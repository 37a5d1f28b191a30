// `npm run explain -- <sceneId> [--json]` (workers/explain.ts): its usage, its arguments and the run with
// what it prints. Exit status: 0 explained, 1 Redis, Stash or Plex failed, 2 bad argument (a scene id that
// is no number, or no scene of Stash) or setting.
import { parseArgs } from 'node:util';
import { commandFailed } from '../core/cli.js';
import { secretsOf, type Config } from '../core/config.js';
import { createLogger, redact } from '../core/log.js';
import { closeQuietly, connectForCommand } from '../core/redis.js';
import { ExplainInputError, SCENE_ID } from './explain.js';
import { explainFromConfig, ExplainUnavailable } from './from-config.js';
import { explanationLines } from './report.js';

export const EXPLAIN_USAGE = `
Usage: npm run explain -- <sceneId> [--json]

Explains what the next sync of one Stash scene would do, and why, without changing anything (nothing is
written to Redis, Plex or Stash): the scene as Stash has it; the requirements of SYNC_REQUIRE, met or
not; every path tried (PATH_MAP applied) with the library chosen, and every Plex item looked at with why it
was taken or refused; the matched item (ratingKey, its files, and how: path, cache or fallback); then per
field the Stash value, the Plex value, the lock, whose the value is, and what the next sync does with it
(set, clear, keep, skip) with the reason. The same answer as the status page's Explain form and the Stash
task Explain Scene.

Options:
  --json      print one JSON object on stdout:
              { scene, requirements, tried, candidates, match (or null), fields, excluded, next }

Exit status: 0 explained, 1 Redis, Stash or Plex failed, 2 bad scene id, unknown scene or bad setting.`;

export interface ExplainCommand {
  sceneId: string;
  json: boolean;
}

/** The command's arguments: one scene id and --json; or what is wrong with them. */
export function parseExplainArgs(args: readonly string[]): { ok: true; command: ExplainCommand } | { ok: false; error: string } {
  let parsed;
  try {
    parsed = parseArgs({ args: [...args], options: { json: { type: 'boolean' } }, strict: true, allowPositionals: true });
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
  const ids = parsed.positionals;
  if (ids.length !== 1)
    return { ok: false, error: ids.length === 0 ? 'say which scene: npm run explain -- <sceneId>' : 'one scene id at a time' };
  if (!SCENE_ID.test(ids[0])) return { ok: false, error: `a scene id is a number, not "${ids[0]}"` };
  return { ok: true, command: { sceneId: ids[0], json: parsed.values.json === true } };
}

/** Explains the scene and prints it; answers the exit status. */
export async function runExplainCommand(config: Config, { sceneId, json }: ExplainCommand): Promise<number> {
  const secrets = secretsOf(config);
  // Logs on stderr only: stdout carries the explanation.
  const level = ['debug', 'trace', 'silent'].includes(config.logLevel) ? config.logLevel : 'warn';
  const log = createLogger({ level, format: config.logFormat, secrets, name: 'explain', to: 'stderr' });
  const redis = await connectForCommand(config);
  if (!redis) return commandFailed('explain', 1, `Redis unreachable at ${new URL(config.redis.url).host}`);
  try {
    const e = await explainFromConfig(config, sceneId, { redis, log });
    const text = json ? JSON.stringify(e) : explanationLines(e).join('\n');
    process.stdout.write(`${redact(text, secrets)}\n`);
  } catch (err) {
    // Exits without waiting for Redis to close: it may be what failed.
    if (err instanceof ExplainInputError || err instanceof ExplainUnavailable) return commandFailed('explain', 2, err.message);
    return commandFailed('explain', 1, `failed: ${redact((err as Error).message, secrets)}`);
  }
  await closeQuietly(redis);
  return 0;
}
