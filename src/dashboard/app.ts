// The dashboard's express app: /healthz (open), POST /api/stash/hook (its own bearer token, off without
// HOOK_TOKEN: ./stash-hook.ts), then the Host check (DNS rebinding), basic auth and the cross-site check
// on everything else: the status page `/`, GET /api/status, POST /api/health-check, POST /api/requeue, Bull Board at /queues, /metrics.
// Errors answer JSON without a stack; secrets never appear in a response (every dynamic value is
// redacted before it is rendered).
import { randomBytes } from 'node:crypto';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Queue } from 'bullmq';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Registry } from 'prom-client';
import { z } from 'zod';
import { secretsOf, type Config } from '../core/config.js';
import { requeue, type RequeueOptions } from '../dlq/requeue.js';
import { RequeueInputError } from '../dlq/select.js';
import { SyncError } from '../core/errors.js';
import { redact, type Logger } from '../core/log.js';
import { PlexClient } from '../plex/client.js';
import { probeClientId } from '../plex/client-id.js';
import { keys as keyNames, SYNC_QUEUE, type RedisConnection } from '../core/redis.js';
import type { SyncJobData } from '../model/job.js';
import { readStatusSources, shapeStatus, type StatusJson, type StatusSources } from '../supervisor/status.js';
import type { ProbeResult } from '../supervisor/supervisor.js';
import type { HookSpool } from './hook-spool.js';
import { createMetricsRegistry, StatusMetrics } from './metrics.js';
import { renderStatusMain, renderStatusPage, type PageContext } from './page.js';
import type { RateLimit } from './rate-limit.js';
import { checkCredentials, hostAllowed, isLoopbackAddress, sameOriginAllowed } from './security.js';
import { stashHookRouter } from './stash-hook.js';

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

/** An error carrying the HTTP status to answer with; its message is shown (keep it free of secrets). */
class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new HttpError(503, `${what} did not answer within ${ms} ms`)), ms);
    }),
  ]);
}

/** Every string value of a JSON-like value, redacted (keys and numbers untouched). */
export function redactDeep<T>(value: T, secrets: readonly string[]): T {
  if (typeof value === 'string') return redact(value, secrets) as T;
  if (Array.isArray(value)) return value.map((v) => redactDeep(v, secrets)) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactDeep(v, secrets)])) as T;
  }
  return value;
}

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Body of POST /api/requeue: the requeue CLI's options. A dry run unless `dryRun: false` is given.
 * Unknown keys are refused (a misspelt `dry_run: false` must not be taken for a dry run silently, nor
 * the reverse). `errors` is a list or a comma-separated string.
 */
const requeueBodySchema = z.strictObject({
  dryRun: z.boolean().optional(),
  outage: z.string().min(1).max(200).optional(),
  since: z.union([z.string().max(100), z.number()]).optional(),
  until: z.union([z.string().max(100), z.number()]).optional(),
  errors: z.union([z.array(z.string().max(100)).max(50), z.string().max(2_000)]).optional(),
  includeOptional: z.boolean().optional(),
  limit: z.number().nullable().optional(),
  force: z.boolean().optional(),
});

/** The requeue's messages name CLI flags (`--limit`, `--include-optional`): the API's keys instead. */
export function apiWording(message: string): string {
  return message.replace(/--([a-z]+(?:-[a-z]+)*)/g, (_, flag: string) => flag.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase()));
}

/** The request body → requeue options, or RequeueInputError with the reason. */
export function requeueOptionsFrom(body: unknown): RequeueOptions {
  const parsed = requeueBodySchema.safeParse(body ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const path = issue.path.map(String).join('.');
    throw new RequeueInputError(`${path ? `${path}: ` : ''}${issue.message}`);
  }
  const b = parsed.data;
  const errors = typeof b.errors === 'string' ? b.errors.split(',').map((e) => e.trim()).filter(Boolean) : b.errors;
  const o: RequeueOptions = { dryRun: b.dryRun !== false };
  if (b.outage !== undefined) o.outage = b.outage;
  if (b.since !== undefined) o.since = b.since;
  if (b.until !== undefined) o.until = b.until;
  if (errors !== undefined) o.errors = errors;
  if (b.includeOptional !== undefined) o.includeOptional = b.includeOptional;
  if (b.limit !== undefined) o.limit = b.limit;
  if (b.force !== undefined) o.force = b.force;
  return o;
}

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

/**
 * DNS rebinding: without a password, or when DASHBOARD_ALLOWED_HOSTS is set, the Host must name this
 * dashboard (loopback or a listed name), else 421. With a password and no list any Host passes: a
 * rebinding page has no credentials for its own origin. Mounted after /healthz and the hook: container
 * health checks and Stash in another container call them by service name, and neither serves anything
 * a rebinding page could use (the hook needs its token).
 */
function rebindingGuard(config: Config, log: Logger, sendJson: (res: Response, status: number, body: unknown) => void) {
  const { password, allowedHosts } = config.dashboard;
  const check = password === null || allowedHosts.length > 0;
  return (req: Request, res: Response, next: NextFunction) => {
    if (!check || hostAllowed(req.headers.host, allowedHosts)) return next();
    log.warn({ method: req.method, path: req.path, host: String(req.headers.host ?? '').slice(0, 100) }, 'dashboard: request for a foreign Host refused');
    return sendJson(res, 421, { error: 'this dashboard does not serve that Host; add it to DASHBOARD_ALLOWED_HOSTS' });
  };
}

export function createDashboardApp(opts: DashboardAppOptions): express.Express {
  const { config, redis, queues, log } = opts;
  const now = opts.now ?? Date.now;
  const k = keyNames(config.redis.prefix);
  const secrets = secretsOf(config);
  const registry = opts.registry ?? createMetricsRegistry();
  const statusMetrics = new StatusMetrics(registry);
  const statusTimeoutMs = opts.statusTimeoutMs ?? 3_000;
  const auth = config.dashboard.password === null ? null : { user: config.dashboard.user, password: config.dashboard.password };

  const sendJson = (res: Response, status: number, body: unknown) => {
    res.status(status).type('application/json').set('Cache-Control', 'no-store').send(JSON.stringify(redactDeep(body, secrets)));
  };

  const warnOnce = onceEach((w) => log.warn(`dashboard: ${w}`));

  /** One status read: sources (for /metrics too) and the redacted document. */
  const readStatus = async (): Promise<{ status: StatusJson; sources: StatusSources; at: number }> => {
    const at = now();
    const sources = await withTimeout(readStatusSources({ redis, keys: k, queues, now: at }), statusTimeoutMs, 'Redis');
    warnOnce(sources.snapshot.warnings);
    return { status: redactDeep(shapeStatus(sources, config, at), secrets), sources, at };
  };

  // The manual probe: through the supervisor when it runs here, else a direct /identity. Concurrent
  // requests share one probe in flight.
  let plex: PlexClient | undefined;
  let probing: Promise<ProbeResult> | undefined;
  // The installation's one device; without Redis (and PLEX_CLIENT_ID) a probe sends no identifier,
  // and the client is not kept, so the next probe asks Redis again.
  const probeClient = async (): Promise<PlexClient> => {
    const clientIdentifier = await probeClientId(redis, k.plexClientId, config.plex.clientId, statusTimeoutMs);
    const client = new PlexClient({ url: config.plex.url, token: config.plex.token, timeoutMs: config.health.timeoutMs, clientIdentifier });
    if (clientIdentifier !== null) plex = client;
    return client;
  };
  const directProbe = async (): Promise<ProbeResult> => {
    const at = now();
    if (!config.plex.url) return { ok: false, latencyMs: null, error: 'PLEX_URL is not set', at };
    const client = plex ?? (await probeClient());
    try {
      const { latencyMs } = await client.identity(config.health.timeoutMs);
      return { ok: true, latencyMs, error: null, at };
    } catch (err) {
      // `Type: message`, like a failedReason (a SyncError's message carries no secret).
      return { ok: false, latencyMs: null, error: err instanceof SyncError ? err.reason : (err as Error).message, at };
    }
  };
  const runProbe = () => {
    probing ??= (opts.probe ?? directProbe)().finally(() => {
      probing = undefined;
    });
    return probing;
  };

  const pageContext = (at: number, nonce: string): PageContext => ({
    now: at,
    nonce,
    timeZone: opts.timeZone,
    settings: {
      ramp: { initialRate: config.ramp.initialRate, targetRate: config.ramp.targetRate, durationMs: config.ramp.durationMs },
      plexMaxRate: config.plex.maxRate,
      successThreshold: config.breaker.successThreshold,
    },
  });

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  app.use((_req, res, next) => {
    res.set({ 'X-Content-Type-Options': 'nosniff', 'Referrer-Policy': 'no-referrer', 'X-Frame-Options': 'DENY' });
    next();
  });

  // Open: for container health checks and load balancers. Says only whether Redis answers.
  app.get('/healthz', async (_req, res) => {
    try {
      await withTimeout(redis.ping(), opts.healthzTimeoutMs ?? 1_000, 'Redis');
      sendJson(res, 200, { ok: true });
    } catch {
      sendJson(res, 503, { ok: false, error: 'Redis is not answering' });
    }
  });

  // The HTTP Stash hook: its own bearer token, no basic auth, no same-origin requirement (the caller is
  // wget or curl), browser cross-site posts refused. 404 without HOOK_TOKEN.
  app.use(
    stashHookRouter({
      token: config.hookToken,
      redis,
      inboxKey: k.inbox,
      log,
      secrets,
      now,
      rateLimit: opts.hookRateLimit,
      spool: opts.hookSpool,
    }),
  );

  app.use(rebindingGuard(config, log, sendJson));

  // Basic auth. Without DASHBOARD_PASSWORD only connections that arrived on a loopback address are
  // served (the server also refuses to listen elsewhere without one: server.ts).
  app.use((req, res, next) => {
    if (auth) {
      if (checkCredentials(req.headers.authorization, auth)) return next();
      res.set('WWW-Authenticate', 'Basic realm="stash2plex", charset="UTF-8"');
      return sendJson(res, 401, { error: 'authentication required' });
    }
    if (isLoopbackAddress(req.socket.localAddress)) return next();
    return sendJson(res, 403, { error: 'DASHBOARD_PASSWORD is not set: the dashboard only answers on loopback' });
  });

  // Cross-site protection of every state-changing request (ours and Bull Board's).
  app.use((req, res, next) => {
    if (!MUTATING.has(req.method)) return next();
    const verdict = sameOriginAllowed({
      origin: req.get('origin'),
      secFetchSite: req.get('sec-fetch-site'),
      xRequestedWith: req.get('x-requested-with'),
      host: req.get('host'),
    });
    if (verdict.ok) return next();
    log.warn({ method: req.method, path: req.path, why: verdict.why }, 'dashboard: cross-site request refused');
    return sendJson(res, 403, { error: `cross-site request refused (${verdict.why}); send X-Requested-With: stash2plex` });
  });

  app.get('/api/status', async (_req, res) => {
    const { status } = await readStatus();
    sendJson(res, 200, status);
  });

  app.post('/api/health-check', async (_req, res) => {
    const r = await runProbe();
    sendJson(res, 200, { ok: r.ok, latencyMs: r.latencyMs, error: r.error, at: r.at });
  });

  // Dead-letter recovery (the requeue CLI's options as JSON). A dry run unless `dryRun: false`.
  const readJsonBody = express.raw({ type: () => true, limit: '16kb' });
  app.post('/api/requeue', readJsonBody, async (req, res) => {
    let options: RequeueOptions;
    try {
      const text = Buffer.isBuffer(req.body) ? req.body.toString('utf8').trim() : '';
      let body: unknown = {};
      if (text !== '') {
        try {
          body = JSON.parse(text);
        } catch {
          throw new RequeueInputError('the body must be a JSON object of requeue options');
        }
      }
      options = requeueOptionsFrom(body);
    } catch (err) {
      if (err instanceof RequeueInputError) return sendJson(res, 400, { error: apiWording(err.message) });
      throw err;
    }
    const queue = queues.find((q) => q.name === SYNC_QUEUE) as Queue<SyncJobData> | undefined;
    if (!queue) throw new HttpError(500, `no "${SYNC_QUEUE}" queue here`);
    await withTimeout(redis.ping(), statusTimeoutMs, 'Redis');
    log.info({ remote: req.socket.remoteAddress, options }, `dashboard: requeue requested${options.dryRun ? ' (dry run)' : ''}`);
    try {
      const summary = await requeue({ redis, queue, keys: k, strategies: config.errorStrategies, options, log });
      sendJson(res, 200, summary);
    } catch (err) {
      if (err instanceof RequeueInputError) return sendJson(res, 400, { error: apiWording(err.message) });
      throw err;
    }
  });

  app.get('/metrics', async (_req, res) => {
    const { status, sources } = await readStatus();
    statusMetrics.update(status, sources);
    const body = await registry.metrics();
    res.status(200).type(registry.contentType).set('Cache-Control', 'no-store').send(body);
  });

  app.get('/', async (req, res) => {
    const { status, at } = await readStatus();
    const nonce = randomBytes(16).toString('base64');
    const ctx = pageContext(at, nonce);
    res.set({
      'Cache-Control': 'no-store',
      'Content-Security-Policy':
        `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; img-src 'self' data:; ` +
        `connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'`,
    });
    if (req.query.partial === 'main') return void res.status(200).type('html').send(renderStatusMain(status, ctx));
    res.status(200).type('html').send(renderStatusPage(status, ctx));
  });

  // Bull Board for the queues, under the same auth and cross-site check.
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath('/queues');
  createBullBoard({
    queues: queues.map((q) => new BullMQAdapter(q)),
    serverAdapter,
    options: { uiConfig: { boardTitle: 'stash2plex' } },
  });
  // Its default handler adds the stack when NODE_ENV=development: never here.
  serverAdapter.setErrorHandler((error: Error & { statusCode?: number }) => ({
    status: (error.statusCode || 500) as 500,
    body: { error: { key: 'ERRORS.INTERNAL_SERVER_ERROR' }, message: redact(error.message, secrets) },
  }));
  app.use('/queues', serverAdapter.getRouter());

  app.use((_req, res) => sendJson(res, 404, { error: 'not found' }));

  // Express 5 passes rejected async handlers here. JSON, never a stack.
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const e = err as { status?: number; statusCode?: number; expose?: boolean; message?: string };
    const status = err instanceof HttpError ? err.status : (e.status ?? e.statusCode ?? 500);
    const code = status >= 400 && status < 600 ? status : 500;
    const message = err instanceof HttpError || (e.expose && code < 500) ? (e.message ?? 'error') : code < 500 ? 'bad request' : 'internal error';
    log[code >= 500 ? 'error' : 'warn']({ method: req.method, path: req.path, status: code, err: redact(String(e.message ?? err), secrets) }, 'dashboard request failed');
    if (res.headersSent) return void res.end();
    sendJson(res, code, { error: message });
  });

  return app;
}
