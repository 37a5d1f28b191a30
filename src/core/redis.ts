// Redis connections (single node or cluster). Key names live in src/core/keys.ts (re-exported here).
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { Config } from './config.js';
import { redisProblem } from './dependency-check.js';
import type { DependencyReport } from './dependency-report.js';

export type RedisConnection = Redis | Cluster;

export * from './keys.js';

/** BullMQ wants `maxRetriesPerRequest: null` on its connections, so commands wait through a reconnect. */
const common: RedisOptions = {
  maxRetriesPerRequest: null,
  enableReadyCheck: true,
  retryStrategy: (times) => Math.min(times * 200, 2_000),
};

export function connectRedis(config: Pick<Config, 'redis'>, extra: RedisOptions = {}): RedisConnection {
  const { url, clusterNodes } = config.redis;
  if (clusterNodes) {
    const auth = new URL(url);
    return new Cluster(
      clusterNodes.map((n) => {
        const [host, port] = n.split(':');
        return { host: host, port: Number(port) };
      }),
      {
        redisOptions: {
          ...common,
          ...extra,
          password: auth.password ? decodeURIComponent(auth.password) : undefined,
          username: auth.username ? decodeURIComponent(auth.username) : undefined,
          tls: auth.protocol === 'rediss:' ? {} : undefined,
        },
        clusterRetryStrategy: (times) => Math.min(times * 200, 2_000),
      },
    );
  }
  return new Redis(url, { ...common, ...extra });
}

/** Closes without throwing (connections may already be gone at shutdown). */
export async function closeQuietly(conn: { quit(): Promise<unknown>; disconnect(): void }): Promise<void> {
  try {
    await conn.quit();
  } catch {
    conn.disconnect();
  }
}

/**
 * A connection for a command-line run: commands fail instead of waiting through reconnects (a run
 * reports, it does not wait). Null, the connection given up, when Redis does not answer a PING within 5 s.
 */
export async function connectForCommand(config: Pick<Config, 'redis'>): Promise<RedisConnection | null> {
  const redis = connectRedis(config, { maxRetriesPerRequest: 1, connectTimeout: 5_000 });
  redis.on('error', () => undefined); // reported by the failing command
  const answered = await Promise.race([
    redis.ping().then(
      () => true,
      () => false,
    ),
    new Promise<false>((r) => setTimeout(() => r(false), 5_000).unref()),
  ]);
  if (answered) return redis;
  redis.disconnect();
  return null;
}

/** Something that emits ioredis's or BullMQ's `error` events (a connection, a Queue, a Worker). */
interface ErrorEmitter {
  on(event: 'error', listener: (err: Error) => void): unknown;
}

/**
 * Reports a connection's (or a BullMQ Queue's or Worker's) Redis errors through `report`: one line naming
 * REDIS_URL when Redis stops answering, one every 30 s while it lasts, one when it answers again (the
 * connection's `ready`). Without a listener ioredis prints every reconnect's error with its stack
 * ("Unhandled error event"). An error that is not about reaching Redis goes to `other`.
 */
export function watchRedis(
  emitter: ErrorEmitter,
  report: DependencyReport,
  config: Pick<Config, 'redis'>,
  other: (err: Error) => void = () => undefined,
): void {
  emitter.on('error', (err: Error) => {
    const problem = redisProblem(err, config.redis);
    if (problem) report.fail(problem);
    else other(err);
  });
  const ready = emitter as unknown as { on?: (event: 'ready', listener: () => void) => unknown; status?: unknown };
  if (typeof ready.status === 'string') ready.on?.('ready', () => report.ok('redis'));
}
