// The dashboard's express app, assembled from the route table (./routes.ts): security headers, then
// the routes open to all (/healthz), the HTTP hook (its own token: ./stash-hook.ts) and the Stash tasks'
// routes (the same token: ./task-stream.ts), then the
// guards (./guards.ts: Host check, basic auth, cross-site check) in front of the status page `/`,
// GET /api/status, POST /api/health-check, POST /api/requeue, POST /api/queue/clean, POST /api/reconcile,
// POST /api/restore, POST /api/restore/resume, GET /api/explain, /metrics, Bull Board at /queues and the
// 404. Performer images for Plex (GET /images/performer/:id) are open, behind their links' signature.
// Errors answer JSON without a stack; secrets never appear in a response (every dynamic value is redacted
// before it is rendered).
import { randomBytes } from 'node:crypto';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import type { Queue } from 'bullmq';
import express from 'express';
import type { Registry } from 'prom-client';
import { secretsOf, type Config } from '../core/config.js';
import { redact, type Logger } from '../core/log.js';
import { keys as keyNames, SYNC_QUEUE, type Keys, type RedisConnection } from '../core/redis.js';
import { requeue, type RequeueOptions } from '../dlq/requeue.js';
import { cleanQueue, type CleanRequest } from '../sync/queue-clean.js';
import { runLibraryReconcile } from '../sync/library-reconcile-run.js';
import { runRestore, runResume } from '../restore/from-config.js';
import { explainFromConfig } from '../explain/from-config.js';
import type { SyncJobData } from '../model/inbox-item.js';
import type { ProbeResult } from '../plex/probe.js';
import { readSupervisorHold } from '../supervisor/queue-control.js';
import { LocalExpressAdapter } from './bull-board-local.js';
import { dashboardGuards, securityHeaders } from './guards.js';
import { queueHoldGuard } from './handlers/queue-hold-guard.js';
import type { HookSpool } from './hook-spool.js';
import { createMetricsRegistry, StatusMetrics } from './metrics.js';
import type { PageContext } from './page.js';
import { directProbe, sharedInFlight } from './probe.js';
import { RateLimiter, type RateLimit } from './rate-limit.js';
import type { PerformerImagePorts } from './handlers/performer-image.js';
import { cachedImageSecret } from '../sync/image-links.js';
import { StashClient } from '../stash-api/client.js';
import { errorHandler, jsonSender, toExpress, type SendJson } from './respond.js';
import { dashboardRoutes, type DashboardPorts, type RouteDef, type TaskRoute } from './routes.js';
import { hookTokenGate } from './hook-token-gate.js';
import { DEFAULT_HOOK_RATE_LIMIT } from './http-hook.js';
import { toTaskStream } from './task-stream.js';
import { oneAtATime } from './one-at-a-time.js';
import type { LibraryProgress } from '../sync/library-reconcile.js';
import type { RestoreProgress, RestoreScope } from '../restore/run.js';
import { stashHookRouter } from './stash-hook.js';
import { statusReader } from './status-reader.js';
import { withTimeout } from './timeout.js';

export interface DashboardAppOptions {
  config: Config;
  redis: RedisConnection;
  /** The queues shown (today: the sync queue). */
  queues: Queue[];
  log: Logger;
  /** Manual probe through an in-process supervisor (it records the result); else a direct /identity. */
  probe?: () => Promise<ProbeResult>;
  /** Registry served at /metrics (shared with an in-process worker's metrics); a new one by default. */
  registry?: Registry;
  now?: () => number;
  /** A status read slower than this answers 503 (Redis unreachable). Default 3 s. */
  statusTimeoutMs?: number;
  /** A /healthz ping slower than this answers 503. Default 1 s. */
  healthzTimeoutMs?: number;
  /** Zone of the times on the status page (default: the process's). */
  timeZone?: string;
  /** Rate limit of POST /api/stash/hook per remote address (default 100/s, burst 200). */
  hookRateLimit?: RateLimit;
  /** Where the HTTP hook keeps events Redis does not take (started by the caller); without it: 503. */
  hookSpool?: HookSpool;
}

/** Bull Board's queue-level pause and resume (one queue, or every queue), where queueHoldGuard may refuse them. */
const BULL_BOARD_PAUSE_ROUTES = [
  '/api/queues/:queueName/pause',
  '/api/queues/:queueName/resume',
  '/api/queues/pause',
  '/api/queues/resume',
];

/**
 * Bull Board for the queues (loading nothing from outside: ./bull-board-local.ts, with a link back to the
 * status page), behind the guard that keeps the supervisor's pause (handlers/queue-hold-guard.ts);
 * its errors answer without a stack (its default adds one under NODE_ENV=development).
 */
function bullBoardRouter(opts: DashboardAppOptions, secrets: readonly string[], sendJson: SendJson): express.Router {
  const { queues, redis, log } = opts;
  const k = keyNames(opts.config.redis.prefix);
  const guard = queueHoldGuard({ queueNames: queues.map((q) => q.name), supervisorHold: (q) => readSupervisorHold(redis, k, q), log });
  const router = express.Router();
  router.put(BULL_BOARD_PAUSE_ROUTES, async (req, res, next) => {
    const action = req.path.endsWith('/pause') ? 'pause' : 'resume';
    const queueName = typeof req.params.queueName === 'string' ? req.params.queueName : null;
    const refusal = await guard(queueName, action, req.socket.remoteAddress);
    if (refusal && 'json' in refusal) sendJson(res, refusal.status, refusal.json);
    else next();
  });
  const serverAdapter = new LocalExpressAdapter();
  serverAdapter.setBasePath('/queues');
  createBullBoard({
    queues: queues.map((q) => new BullMQAdapter(q)),
    serverAdapter,
    options: { uiConfig: { boardTitle: 'stash2plex', miscLinks: [{ text: '← stash2plex status', url: '../' }], hideDocsLink: true } },
  });
  serverAdapter.setErrorHandler((error: Error & { statusCode?: number }) => ({
    status: (error.statusCode || 500) as 500,
    body: { error: { key: 'ERRORS.INTERNAL_SERVER_ERROR' }, message: redact(error.message, secrets) },
  }));
  router.use(serverAdapter.getRouter() as express.Router);
  return router;
}

/** The page's settings: what the ramp and the breaker are configured to. */
function pageContextOf(config: Config, timeZone: string | undefined): (at: number, nonce: string) => PageContext {
  return (at, nonce) => ({
    now: at,
    nonce,
    timeZone,
    settings: {
      ramp: { initialRate: config.ramp.initialRate, targetRate: config.ramp.targetRate, durationMs: config.ramp.durationMs },
      plexMaxRate: config.plex.maxRate,
      trial: { calls: config.breaker.trialCalls, errorRate: config.breaker.trialErrorRate },
    },
  });
}

/** The requeue port: the requeue on the sync queue (null without one). */
function requeueRunner(opts: DashboardAppOptions, k: Keys): DashboardPorts['requeue'] {
  const queue = opts.queues.find((q) => q.name === SYNC_QUEUE) as Queue<SyncJobData> | undefined;
  if (!queue) return null;
  const { redis, config, log } = opts;
  return (options: RequeueOptions) => requeue({ redis, queue, keys: k, strategies: config.errorStrategies, options, log });
}

/** The queue-clean port: Clear Failed / Purge Failed / Clear Pending on the sync queue (null without one). */
function queueCleaner(opts: DashboardAppOptions): DashboardPorts['cleanQueue'] {
  const queue = opts.queues.find((q) => q.name === SYNC_QUEUE);
  if (!queue) return null;
  const now = opts.now ?? Date.now;
  return (req: CleanRequest) => cleanQueue(queue, opts.redis, req, now());
}

/** The Reconcile Library port: a run on the sync queue and this process's Redis (null without a sync queue). */
function libraryReconciler(opts: DashboardAppOptions): DashboardPorts['reconcileLibrary'] {
  const queue = opts.queues.find((q) => q.name === SYNC_QUEUE) as Queue<SyncJobData> | undefined;
  if (!queue) return null;
  // The status page's run and a Stash task's share the run's index in Redis: one at a time.
  return oneAtATime(
    (dryRun: boolean, onProgress?: (p: LibraryProgress) => void, signal?: AbortSignal) =>
      runLibraryReconcile(opts.config, { dryRun, log: opts.log, redis: opts.redis, queue, onProgress, signal }),
    'a Reconcile Library run is in progress here; try again when it has finished',
  );
}

/** The restore and resume ports: this process's Redis and Plex settings, resumed syncs on the sync queue. */
function restorers(opts: DashboardAppOptions): Pick<DashboardPorts, 'restore' | 'resume'> {
  const queue = opts.queues.find((q) => q.name === SYNC_QUEUE) as Queue<SyncJobData> | undefined;
  const { config, redis, log } = opts;
  return {
    restore: oneAtATime(
      (scope: RestoreScope, dryRun: boolean, onProgress?: (p: RestoreProgress) => void, signal?: AbortSignal) =>
        runRestore(config, { scope, dryRun, log, redis, onProgress, signal }),
      'a restore is in progress here; try again when it has finished',
    ),
    resume: queue ? (scope, dryRun) => runResume(config, { scope, dryRun, redis, queue }) : null,
  };
}

/** Every port of the route table, wired to this process's Redis, queues, config and clock. */
function portsOf(opts: DashboardAppOptions, secrets: readonly string[], hookLimiter: RateLimiter): DashboardPorts {
  const { config, redis, queues, log } = opts;
  const now = opts.now ?? Date.now;
  const k = keyNames(config.redis.prefix);
  const statusTimeoutMs = opts.statusTimeoutMs ?? 3_000;
  const registry = opts.registry ?? createMetricsRegistry();
  const stashHook = stashHookRouter({
    token: config.hookToken,
    redis,
    inboxKey: k.inbox,
    log,
    secrets,
    now,
    limiter: hookLimiter,
    spool: opts.hookSpool,
  });
  return {
    ping: () => redis.ping(),
    pingTimeoutMs: opts.healthzTimeoutMs ?? 1_000,
    readStatus: statusReader({
      redis,
      keys: k,
      queues,
      config,
      secrets,
      now,
      timeoutMs: statusTimeoutMs,
      warn: (w) => log.warn(`dashboard: ${w}`),
    }),
    probe: sharedInFlight(opts.probe ?? directProbe({ config, redis, keys: k, now, redisTimeoutMs: statusTimeoutMs })),
    requeue: requeueRunner(opts, k),
    cleanQueue: queueCleaner(opts),
    reconcileLibrary: libraryReconciler(opts),
    ...restorers(opts),
    explainScene: (sceneId) => explainFromConfig(config, sceneId, { redis, log }),
    redisAnswers: () => withTimeout(redis.ping(), statusTimeoutMs, 'Redis did not answer'),
    log,
    registry,
    statusMetrics: new StatusMetrics(registry),
    pageContext: pageContextOf(config, opts.timeZone),
    nonce: () => randomBytes(16).toString('base64'),
    stashHook,
    bullBoard: bullBoardRouter(opts, secrets, jsonSender(secrets)),
    ...performerImages(opts, k),
  };
}

/** The performer image route's ports: the signing secret, Stash with this process's credentials, one bucket per address. */
function performerImages(opts: DashboardAppOptions, k: Keys): PerformerImagePorts {
  const { config, redis, log } = opts;
  const stash = config.stash.url
    ? new StashClient({ url: config.stash.url, apiKey: config.stash.apiKey, posterMaxBytes: config.stash.posterMaxBytes, log })
    : null;
  const perMinute = config.dashboard.imageRatePerMinute;
  return {
    imageSecret: cachedImageSecret(redis, k),
    fetchPerformerImage: stash ? (id, version) => stash.fetchPerformerImage(id, version) : null,
    imageRateLimit: new RateLimiter({ ratePerSec: perMinute / 60, burst: perMinute, now: opts.now }),
  };
}

const readRawBody = express.raw({ type: () => true, limit: '16kb' });

/** What mounting a route needs besides the route. */
interface MountContext {
  sendJson: SendJson;
  secrets: readonly string[];
  config: Config;
  log: Logger;
  hookLimiter: RateLimiter;
}

/** A Stash task's route: the hook-token gate on every method, then the bounded body and the streamed run. */
function mountTask(app: express.Express, route: TaskRoute, m: MountContext): void {
  const gate = hookTokenGate({
    token: m.config.hookToken,
    limiter: m.hookLimiter,
    log: m.log,
    what: 'stash task',
    offError: "the Stash tasks' route is off",
    post: 'a JSON object',
    answer: (res, status, error, headers) => {
      if (headers) res.set(headers);
      m.sendJson(res, status, { error });
    },
  });
  app.all(route.path, gate);
  app.post(route.path, readRawBody, toTaskStream(route.task, m.sendJson, m.secrets, m.log));
}

function mount(app: express.Express, route: RouteDef, m: MountContext): void {
  const { sendJson } = m;
  if (route.method === 'task') mountTask(app, route, m);
  else if (route.method === 'all') app.use(route.path, route.router);
  else if (route.body === 'raw') app[route.method](route.path, readRawBody, toExpress(route.handler, sendJson));
  else app[route.method](route.path, toExpress(route.handler, sendJson));
}

export function createDashboardApp(opts: DashboardAppOptions): express.Express {
  const secrets = secretsOf(opts.config);
  const sendJson = jsonSender(secrets);
  // One budget per address for every hook-token route (the hook and the Stash tasks).
  const hookLimiter = new RateLimiter({ ...(opts.hookRateLimit ?? DEFAULT_HOOK_RATE_LIMIT), now: opts.now });
  const routes = dashboardRoutes(portsOf(opts, secrets, hookLimiter));
  const m: MountContext = { sendJson, secrets, config: opts.config, log: opts.log, hookLimiter };

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(securityHeaders);
  for (const route of routes.filter((r) => r.access !== 'dashboard')) mount(app, route, m);
  app.use(dashboardGuards(opts.config, opts.log, sendJson));
  for (const route of routes.filter((r) => r.access === 'dashboard')) mount(app, route, m);
  app.use((_req, res) => sendJson(res, 404, { error: 'not found' }));
  // Express 5 passes rejected async handlers here.
  app.use(errorHandler(opts.log, secrets, sendJson));
  return app;
}
