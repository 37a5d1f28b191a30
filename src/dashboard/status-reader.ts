// The status port of the handlers: one read of the system's state from Redis, within a deadline.
import type { Queue } from 'bullmq';
import type { Config } from '../core/config.js';
import type { Keys, RedisConnection } from '../core/redis.js';
import { readStatusSources, shapeStatus, type StatusJson, type StatusSources } from '../supervisor/status.js';
import { redactDeep } from './respond.js';
import { withTimeout } from './timeout.js';

/** One status read: the sources (for /metrics too), the redacted document, the time it was read at. */
export interface StatusRead {
  status: StatusJson;
  sources: StatusSources;
  at: number;
}

export type ReadStatus = () => Promise<StatusRead>;

/**
 * Damaged state read from Redis is repaired or dropped by the reader; each distinct warning is logged
 * once per process (the page polls: once per read would flood the log), at most 100 of them.
 */
function onceEach(say: (warning: string) => void): (warnings: readonly string[]) => void {
  const seen = new Set<string>();
  return (warnings) => {
    for (const w of warnings) {
      if (seen.has(w) || seen.size >= 100) continue;
      seen.add(w);
      say(w);
    }
  };
}

export interface StatusReaderDeps {
  redis: RedisConnection;
  keys: Keys;
  queues: readonly Queue[];
  config: Config;
  secrets: readonly string[];
  now: () => number;
  /** A read slower than this fails with a 503 TimeoutError (Redis unreachable). */
  timeoutMs: number;
  warn: (warning: string) => void;
}

export function statusReader(deps: StatusReaderDeps): ReadStatus {
  const warnOnce = onceEach(deps.warn);
  return async () => {
    const at = deps.now();
    const sources = await withTimeout(
      readStatusSources({ redis: deps.redis, keys: deps.keys, queues: deps.queues, now: at }),
      deps.timeoutMs,
      'Redis did not answer',
    );
    warnOnce(sources.snapshot.warnings);
    return { status: redactDeep(shapeStatus(sources, deps.config, at), deps.secrets), sources, at };
  };
}
