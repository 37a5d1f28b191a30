// Starting and stopping the dashboard's HTTP server: its own Redis connection and queue handles unless
// given, the loopback rule without a password, a clean stop.
import { createServer, type Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import type { Queue } from 'bullmq';
import type { Registry } from 'prom-client';
import { ConfigError, type Config } from '../core/config.js';
import type { Logger } from '../core/log.js';
import { closeQuietly, connectRedis, keys, watchRedis, type RedisConnection } from '../core/redis.js';
import { DependencyReport } from '../core/dependency-report.js';
import type { ProbeResult } from '../plex/probe.js';
import type { RateLimit } from './rate-limit.js';
import { createSyncQueue } from '../sync/queue.js';
import { createDashboardApp } from './app.js';
import { HookSpool } from './hook-spool.js';
import { isLoopbackHost } from './security.js';
import { settlesWithin } from './timeout.js';

export interface DashboardOptions {
  /** An in-process supervisor: the manual probe goes through it (and is recorded). */
  supervisor?: { probe(): Promise<ProbeResult> };
  /** The registry served at /metrics, e.g. shared with an in-process worker's workerMetrics(). */
  registry?: Registry;
  /** Reuse a connection / queues (they are then not closed by stop()). */
  redis?: RedisConnection;
  queues?: Queue[];
  timeZone?: string;
  /** Rate limit of POST /api/stash/hook per remote address (default 100/s, burst 200). */
  hookRateLimit?: RateLimit;
  /** How often the HTTP hook's spool is replayed while not empty (default 5 s). */
  hookSpoolReplayMs?: number;
  /** The clock (rate limits, ages); tests pass their own. */
  now?: () => number;
  /** The process's dependency report (npm start shares one): Redis trouble in one line per 30 s. */
  report?: DependencyReport;
}

export interface DashboardHandle {
  /** http://host:port of the listening server (the real port when DASHBOARD_PORT=0). */
  url: string;
  server: Server;
  stop(): Promise<void>;
}

/**
 * Throws ConfigError('DASHBOARD_PASSWORD') when the dashboard would listen on a non-loopback address
 * without a password: entry points print it and exit 2.
 */
export function assertDashboardExposure(config: Pick<Config, 'dashboard'>): void {
  const { host, password } = config.dashboard;
  if (password === null && !isLoopbackHost(host)) {
    throw new ConfigError('DASHBOARD_PASSWORD', `is required when DASHBOARD_HOST (${host}) is not a loopback address`);
  }
}

/** getaddrinfo's codes for a name that does not resolve. */
const UNRESOLVED = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NONAME', 'EAI_NODATA']);

/**
 * A listen error as a configuration error naming the setting (exit 2): a DASHBOARD_HOST that does not
 * resolve or is not this machine's, a DASHBOARD_PORT in use or reserved.
 */
export function listenError(err: unknown, host: string, port: number): unknown {
  const code = (err as NodeJS.ErrnoException).code;
  if (code && UNRESOLVED.has(code)) return new ConfigError('DASHBOARD_HOST', `"${host}" does not resolve to an address (${code})`);
  if (code === 'EADDRINUSE') {
    return new ConfigError(
      'DASHBOARD_PORT',
      `${host}:${port} is already in use (EADDRINUSE): stop what listens there or choose another port`,
    );
  }
  if (code === 'EACCES') return new ConfigError('DASHBOARD_PORT', `${host}:${port} needs privileges (EACCES): choose a port above 1023`);
  if (code === 'EADDRNOTAVAIL') return new ConfigError('DASHBOARD_HOST', `"${host}" is not an address of this machine (EADDRNOTAVAIL)`);
  return err;
}

/**
 * Throws listenError's ConfigError when DASHBOARD_HOST:DASHBOARD_PORT cannot be listened on, by listening
 * a moment: `npm start` asks before it starts the worker and the supervisor.
 */
export async function assertCanListen(config: Pick<Config, 'dashboard'>): Promise<void> {
  const { host, port } = config.dashboard;
  const probe = createNetServer();
  try {
    await new Promise<void>((resolve, reject) => {
      probe.once('error', reject);
      probe.listen(port, host, () => resolve());
    });
  } catch (err) {
    throw listenError(err, host, port);
  } finally {
    await new Promise<void>((resolve) => (probe.listening ? probe.close(() => resolve()) : resolve()));
  }
}

export async function startDashboard(config: Config, log: Logger, opts: DashboardOptions = {}): Promise<DashboardHandle> {
  assertDashboardExposure(config);
  const ownRedis = !opts.redis;
  const redis = opts.redis ?? connectRedis(config);
  const report = opts.report ?? new DependencyReport(log);
  if (ownRedis) watchRedis(redis, report, config, (err) => log.debug({ err: err.message }, 'dashboard: Redis error'));
  const ownQueues = !opts.queues;
  const queues = opts.queues ?? [createSyncQueue(redis, config.redis.prefix) as Queue];
  if (ownQueues)
    for (const q of queues) watchRedis(q, report, config, (err) => log.debug({ err: err.message }, 'dashboard: queue Redis error'));
  const hookSpool =
    config.hookToken === null
      ? undefined
      : new HookSpool({
          baseDir: config.hookSpoolDir,
          prefix: config.redis.prefix,
          redis,
          inboxKey: keys(config.redis.prefix).inbox,
          log,
          replayEveryMs: opts.hookSpoolReplayMs,
        });
  hookSpool?.start();
  const app = createDashboardApp({
    config,
    redis,
    queues,
    log,
    probe: opts.supervisor ? () => opts.supervisor!.probe() : undefined,
    registry: opts.registry,
    timeZone: opts.timeZone,
    hookRateLimit: opts.hookRateLimit,
    hookSpool,
    now: opts.now,
  });
  const server = createServer(app);
  server.keepAliveTimeout = 5_000;
  // Closing waits for Redis; with Redis gone it would wait forever: give up after a moment and drop the
  // connection instead.
  const cleanup = async () => {
    hookSpool?.stop();
    if (ownQueues) await settlesWithin(Promise.all(queues.map((q) => q.close().catch(() => undefined))), 2_000);
    if (ownRedis && !(await settlesWithin(closeQuietly(redis), 1_000))) redis.disconnect();
  };
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.dashboard.port, config.dashboard.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    await cleanup();
    throw listenError(err, config.dashboard.host, config.dashboard.port);
  }
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' || addr.address.includes(':') ? `[${addr.address}]` : addr.address;
  const url = `http://${host}:${addr.port}`;
  log.info({ url, auth: config.dashboard.password !== null }, `dashboard listening on ${url}`);
  if (config.dashboard.password === null)
    log.warn('DASHBOARD_PASSWORD is not set: the dashboard answers without authentication, on loopback only');
  let stopping: Promise<void> | undefined;
  return {
    url,
    server,
    stop() {
      stopping ??= (async () => {
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
        await cleanup();
      })();
      return stopping;
    },
  };
}
