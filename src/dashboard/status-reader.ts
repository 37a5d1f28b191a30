// The status port of the handlers: one read of the system's state from Redis, within a deadline.
import type { Queue } from 'bullmq';
import type { Config } from '../core/config.js';
import type { Keys, RedisConnection } from '../core/redis.js';
import { readStatusSources, shapeStatus, type StatusJson, type StatusSources } from '../supervisor/status.js';
import { redactDeep } from './respond.js';
import { withTimeout } from './timeout.js';
import { headline, type Headline } from './headline.js';

/** One status read: the sources (for /metrics too), the redacted document, its headline, the time it was read at. */
export interface StatusRead {
  status: StatusJson;
  sources: StatusSources;
  /** The worst current problem and what recovers it (./headline.ts). */
  headline: Headline;
  at: number;
}

/** How many of the newest failed jobs are read to name their main reason: bounded, whatever the failed set holds. */
export const FAILED_SAMPLE = 20;

/** The failedReason of the newest failed jobs of the first queue (none read when none failed). */
async function failedSample(queues: readonly Queue[], failed: number): Promise<string[]> {
  if (failed === 0 || queues.length === 0) return [];
  const jobs = await queues[0].getFailed(0, FAILED_SAMPLE - 1);
  return jobs.map((j) => j?.failedReason).filter((r): r is string => typeof r === 'string');
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
    const status = redactDeep(shapeStatus(sources, deps.config, at), deps.secrets);
    const first = deps.queues[0] ? sources.queues[deps.queues[0].name] : undefined;
    const reasons = redactDeep(
      await withTimeout(failedSample(deps.queues, first?.failed ?? 0), deps.timeoutMs, 'Redis did not answer'),
      deps.secrets,
    );
    return {
      status,
      sources,
      headline: headline({ status, failedReasons: reasons, failedKeepDays: deps.config.keepFailed.days, now: at }),
      at,
    };
  };
}
