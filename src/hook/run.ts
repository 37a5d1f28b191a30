// One hook run, from the parsed input to the line the plugin prints: the decision first (a skip does no
// network work and reads no setting), then the Redis settings (./settings.ts), then the inbox (after
// replaying the spool: ./inbox-writer.ts), or the spool while Redis cannot take it. A fan-out event (a
// rename) is recorded, spooled and replayed as a scene job is: finding its scenes is the workers' job.
import { keys } from '../core/keys.js';
import { itemLabel } from '../model/inbox-item.js';
import { decideHook, itemOfDecision } from './decide.js';
import { recordJob } from './inbox-writer.js';
import { errorOutput, output, type PluginInput } from './input.js';
import type { PluginLog } from './log-lines.js';
import { RedisReplyError } from './mini-redis.js';
import { appendToSpool } from './spool.js';
import { pluginDir, redisSettings, type Env } from './settings.js';

/** The hook's Redis budget: Stash is waiting. The connection is left to the process's exit to close. */
const HOOK_REDIS = { connectTimeoutMs: 1_000, commandTimeoutMs: 2_000, leaveOpen: true };

export interface HookOutcome {
  /** The one stdout line (`{"output": …}` or `{"error": …}`). */
  line: string;
  code: 0 | 1;
  /** The event reached Redis (not the spool). */
  delivered: boolean;
}

const done = (line: string, delivered = false): HookOutcome => ({ line, code: 0, delivered });

/** `env` (of the plugin folder) is read only when the event is recorded: a skip needs no settings. */
export async function runHook(input: PluginInput, env: (dir: string) => Env, log: PluginLog): Promise<HookOutcome> {
  const failed = (message: string): HookOutcome => {
    log('error', message);
    return { line: errorOutput(message), code: 1, delivered: false };
  };
  const decision = decideHook(input);
  if (decision.action === 'reject') return failed(decision.error);
  if (decision.action === 'skip') {
    log('debug', `stash2plex: skipped: ${decision.why}`);
    return done(output(`skipped: ${decision.why}`));
  }
  const item = itemOfDecision(decision);
  if (item === null) return failed(`unsupported hook decision ${decision.action}`);
  const dir = pluginDir(input, log);
  const scene = itemLabel(item);
  const queued = decision.action === 'record' ? `queued ${scene}` : `queued ${scene}: every scene with it is re-synced`;
  try {
    const settings = await redisSettings(input, env(dir), dir, log);
    if (!settings.ok) {
      appendToSpool(dir, item);
      log('error', `stash2plex: ${settings.error}; ${scene} spooled until it is fixed`);
      return done(output(`spooled ${scene} (${settings.error})`));
    }
    const { url, prefix } = settings.settings;
    const r = await recordJob(dir, { url, key: keys(prefix).inbox }, item, HOOK_REDIS);
    if (r.replayed) log('info', `stash2plex: replayed ${r.replayed} spooled events`);
    if (r.delivered) return done(output(queued), true);
    const why = r.error?.message ?? 'unknown error';
    // Unreachable is an outage (a warning); a refusal (WRONGPASS, NOAUTH, OOM…) needs the operator.
    const refused = r.error instanceof RedisReplyError;
    const what = refused ? 'Redis refused the entry' : 'Redis unreachable';
    log(refused ? 'error' : 'warning', `stash2plex: ${what} (${why}): ${scene} spooled in ${dir}`);
    return done(output(`spooled ${scene} (${what}: ${why})`));
  } catch (err) {
    // Neither Redis nor the spool took it.
    return failed(`${scene} NOT recorded: ${(err as Error).message}`);
  }
}
