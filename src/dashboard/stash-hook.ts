// `POST /api/stash/hook`: the Stash hook over HTTP, for Stash installs without Node.js (the official
// Docker image): the plugin's exec is BusyBox wget or curl posting the plugin's stdin here.
//
// Mounted before the dashboard's basic auth and cross-site check: the caller is a command-line client
// with its own credential, HOOK_TOKEN. Checks, cheapest first, nothing read before the token is right:
// off without HOOK_TOKEN (404) → POST only (405) → rate per remote address (429) → browser cross-site
// post (403) (./hook-token-gate.ts, shared with the Stash tasks' routes) → token (401): the bearer
// header, or in the token-in-body form (wget: ./hook-token-body.ts) the body's first line, the only part
// read before it is checked → body ≤ 1 MiB (413) → plugin input (400) → decideHook:
// skip 200 / reject 400 / record XADD then 200. An event Redis does not take (unreachable, or refusing
// writes: OOM) goes to the spool on the dashboard's disk (./hook-spool.ts), 200 "spooled …", replayed
// when Redis takes writes again; 503 only when there is no spool or it cannot be written.
// Every answer is exactly one JSON object, `{"output": …}` or `{"error": …}` and a newline: what the
// Node plugin prints, so `wget -O -` / `curl` hand it straight to Stash.
import express, { type NextFunction, type Request, type Response } from 'express';
import { redact, type Logger } from '../core/log.js';
import type { RedisConnection } from '../core/redis.js';
import { decideHook, itemOfDecision } from '../hook/decide.js';
import { DEFAULT_HOOK_RATE_LIMIT, hookOutcome, isTokenBodyType } from './http-hook.js';
import { hookTokenGate, refuseToken, type HookTokenGateOptions } from './hook-token-gate.js';
import { tokenBodyReader } from './hook-token-body.js';
import { errorOutput, MAX_INPUT_BYTES, output, parsePluginInput } from '../hook/input.js';
import { itemLabel, type InboxItem } from '../model/inbox-item.js';
import type { HookSpool } from './hook-spool.js';
import { RateLimiter, type RateLimit } from './rate-limit.js';
import { withTimeout } from './timeout.js';

export interface StashHookOptions {
  /** HOOK_TOKEN; null turns the endpoint off (404). */
  token: string | null;
  redis: RedisConnection;
  /** keys(prefix).inbox */
  inboxKey: string;
  log: Logger;
  /** Redacted from every answer. */
  secrets: readonly string[];
  now?: () => number;
  /** Per remote address. Default 100 requests/s, burst 200. */
  rateLimit?: RateLimit;
  /** The limiter shared with the other hook-token routes (else one of `rateLimit`). */
  limiter?: RateLimiter;
  /** An XADD slower than this answers 503. Default 2 s (Stash waits for the hook). */
  redisTimeoutMs?: number;
  /** How long a request waits for a (re)connecting Redis before 503. Default 1 s. */
  readyWaitMs?: number;
  /** Largest body. Default 1 MiB, the plugin's stdin cap. */
  maxBytes?: number;
  /** Where events Redis does not take are kept; without it they get 503. */
  spool?: HookSpool;
}

/** Body-parser's errors: a status, a `type`. */
interface BodyError {
  status?: number;
  type?: string;
}

type HookBody = { output: string } | { error: string };

/** What the hook's three stages share: options with their defaults, the answer in the plugin's form. */
interface HookContext {
  opts: StashHookOptions;
  now: () => number;
  maxBytes: number;
  redisTimeoutMs: number;
  readyWaitMs: number;
  answer: (res: Response, status: number, body: HookBody, headers?: Record<string, string>) => void;
}

const remote = (req: Request) => req.socket.remoteAddress ?? 'unknown';

function hookContext(opts: StashHookOptions): HookContext {
  return {
    opts,
    now: opts.now ?? Date.now,
    maxBytes: opts.maxBytes ?? MAX_INPUT_BYTES,
    redisTimeoutMs: opts.redisTimeoutMs ?? 2_000,
    readyWaitMs: opts.readyWaitMs ?? 1_000,
    answer: (res, status, body, headers = {}) => {
      const text = 'output' in body ? output(redact(body.output, opts.secrets)) : errorOutput(redact(body.error, opts.secrets));
      res
        .status(status)
        .set({ 'Cache-Control': 'no-store', ...headers })
        .type('application/json')
        .send(text);
    },
  };
}

/** Mounted at HTTP_HOOK_PATH (./routes.ts). */
export function stashHookRouter(opts: StashHookOptions): express.Router {
  const ctx = hookContext(opts);
  const gate = hookGateOptions(ctx);
  const router = express.Router();
  router.all('/', hookTokenGate(gate));
  router.post('/', hookBody(ctx, gate), hookPost(ctx));
  router.use('/', hookBodyError(ctx));
  return router;
}

/** Every method: off, method, rate, cross-site, token (./hook-token-gate.ts); nothing is read before the token is right. */
function hookGateOptions(ctx: HookContext): HookTokenGateOptions {
  const { token, log } = ctx.opts;
  const limiter = ctx.opts.limiter ?? new RateLimiter({ ...(ctx.opts.rateLimit ?? DEFAULT_HOOK_RATE_LIMIT), now: ctx.now });
  return {
    token,
    limiter,
    log,
    what: 'stash hook',
    offError: 'the HTTP hook is off',
    post: 'the plugin input',
    answer: (res, status, error, headers) => ctx.answer(res, status, { error }, headers),
    tokenInBody: (req) => isTokenBodyType(req.get('content-type')),
  };
}

/** The body into req.body: the token-in-body form checks its token line first, the bearer form was checked by the gate. */
function hookBody(ctx: HookContext, gate: HookTokenGateOptions) {
  const raw = express.raw({ type: () => true, limit: ctx.maxBytes });
  // Past the gate, the token is set (a null token answered 404 there).
  const tokenBody = tokenBodyReader({
    token: gate.token ?? '',
    maxInputBytes: ctx.maxBytes,
    refuse: (req, res, given, close) => refuseToken(gate, req, res, { given, via: 'body' }, close ? { Connection: 'close' } : {}),
  });
  return (req: Request, res: Response, next: NextFunction) => (gate.tokenInBody?.(req) ? tokenBody(req, res, next) : raw(req, res, next));
}

/** The body: plugin input → decideHook → skip / reject / XADD (or the spool when Redis does not take it). */
function hookPost(ctx: HookContext) {
  const { redis, inboxKey, log, secrets, spool } = ctx.opts;
  const { answer } = ctx;
  return async (req: Request, res: Response) => {
    const text = Buffer.isBuffer(req.body) ? req.body.toString('utf8') : '';
    const parsed = parsePluginInput(text);
    if (!parsed.ok) {
      log.warn({ remote: remote(req), error: parsed.error }, 'stash hook: invalid input');
      return answer(res, 400, { error: parsed.error });
    }
    const decision = decideHook(parsed.input, ctx.now());
    const outcome = hookOutcome(decision);
    if (outcome.status === 400) {
      log.warn({ remote: remote(req), error: outcome.body.error }, 'stash hook: input rejected');
      return answer(res, 400, outcome.body);
    }
    if (outcome.entry) {
      const notTaken = await inboxXadd(redis, inboxKey, outcome.entry, {
        readyWaitMs: ctx.readyWaitMs,
        redisTimeoutMs: ctx.redisTimeoutMs,
        secrets,
      });
      if (notTaken !== null) {
        const spooled = spoolEvent(spool, itemOfDecision(decision), notTaken, log);
        if (spooled !== null) return answer(res, 200, { output: spooled });
        return answer(res, 503, { error: `${notTaken}: event not recorded (reconciliation catches it up later)` });
      }
      void spool?.replay(); // Redis takes writes: deliver what waits
    }
    log.debug({ remote: remote(req), kind: outcome.kind, output: outcome.body.output }, 'stash hook');
    answer(res, 200, outcome.body);
  };
}

/** The status and message of an error of reading the body (too large, aborted, bad encoding). */
function bodyErrorAnswer(err: unknown, maxBytes: number): { status: number; message: string } {
  const e = (err ?? {}) as BodyError;
  if (e.type === 'entity.too.large') return { status: 413, message: `invalid plugin input: larger than ${maxBytes} bytes` };
  if (e.type === 'encoding.unsupported') return { status: 415, message: 'unsupported Content-Encoding' };
  if (typeof e.status === 'number' && e.status >= 400 && e.status < 500)
    return { status: e.status, message: 'could not read the request body' };
  return { status: 500, message: 'internal error' };
}

/** Errors of reading the body, in the plugin's output form. */
function hookBodyError(ctx: HookContext) {
  const { log, secrets } = ctx.opts;
  return (err: unknown, req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(err);
    const { status, message } = bodyErrorAnswer(err, ctx.maxBytes);
    log[status >= 500 ? 'error' : 'warn'](
      { remote: remote(req), status, err: redact(String((err as Error)?.message ?? err), secrets) },
      'stash hook: request failed',
    );
    // The unread rest of an oversized body is not drained: the connection closes after the answer.
    if (status === 413) res.set('Connection', 'close');
    ctx.answer(res, status, { error: message });
  };
}

/** XADDs the entry; null when stored, else why not (a message free of secrets). */
async function inboxXadd(
  redis: RedisConnection,
  inboxKey: string,
  entry: string[],
  limits: { readyWaitMs: number; redisTimeoutMs: number; secrets: readonly string[] },
): Promise<string | null> {
  // Stash waits for the hook: while Redis is away, answer within a moment. The command is only sent on
  // a ready connection, never left in the client's offline queue to land after a 503.
  if (!(await whenReady(redis, limits.readyWaitMs))) return 'Redis is not reachable';
  try {
    await withTimeout(redis.call('XADD', inboxKey, '*', ...entry), limits.redisTimeoutMs, 'no answer');
    return null;
  } catch (err) {
    // A timed-out XADD may still land later: a duplicate event costs one idempotent sync at most.
    return `Redis did not take the event (${redact((err as Error).message, limits.secrets).slice(0, 200)})`;
  }
}

/** The event Redis did not take (`why`), spooled like the Node hook does: the output to answer, or null. */
function spoolEvent(spool: HookSpool | undefined, item: InboxItem | null, why: string, log: Logger): string | null {
  if (!spool || !item) {
    log.warn({ why }, 'stash hook: event not recorded');
    return null;
  }
  try {
    spool.add(item);
  } catch (err) {
    log.error({ why, err: (err as Error).message }, 'stash hook: the spool is not writable either; event not recorded');
    return null;
  }
  log.warn({ why, dir: spool.dir }, `stash hook: ${why}; ${itemLabel(item)} spooled, replayed when Redis takes writes again`);
  return `spooled ${itemLabel(item)} (${why})`;
}

/** True once the connection is ready (at once when it is), false after `ms` or when it was closed for good. */
function whenReady(redis: RedisConnection, ms: number): Promise<boolean> {
  if (redis.status === 'ready') return Promise.resolve(true);
  if (redis.status === 'end') return Promise.resolve(false);
  return new Promise((resolve) => {
    const done = (ok: boolean) => {
      clearTimeout(timer);
      redis.off('ready', onReady);
      redis.off('end', onEnd);
      resolve(ok);
    };
    const onReady = () => done(true);
    const onEnd = () => done(false);
    const timer = setTimeout(() => done(false), ms);
    redis.once('ready', onReady);
    redis.once('end', onEnd);
  });
}
