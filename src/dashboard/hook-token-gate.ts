// The gate of every `hook-token` route (./routes.ts): the HTTP hook (./stash-hook.ts) and the Stash
// tasks' routes (./task-stream.ts). Checks, cheapest first, nothing read before the token is right:
// off without HOOK_TOKEN (404) → POST only (405) → rate per remote address (429, one limiter shared by
// every hook-token route) → browser cross-site post (403) → bearer HOOK_TOKEN (401). Each route answers
// a refusal in its own form (`answer`): the hook in the plugin's output form, the tasks as JSON.
// A route may take the token as its body's first line instead (`tokenInBody`: the HTTP hook's wget form):
// the gate runs every check but the last, and the route reads that line (and only that line) first and
// refuses it with `refuseToken`.
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from '../core/log.js';
import { bearerMatches, hookCrossSite } from './http-hook.js';
import type { RateLimiter } from './rate-limit.js';

export interface HookTokenGateOptions {
  /** HOOK_TOKEN; null turns the route off (404). */
  token: string | null;
  limiter: RateLimiter;
  log: Pick<Logger, 'warn' | 'debug'>;
  /** What the route is, for its log lines, e.g. "stash hook". */
  what: string;
  /** The 404's error while HOOK_TOKEN is not set. */
  offError: string;
  /** What a caller POSTs, for the 405, e.g. "the plugin input". */
  post: string;
  answer: (res: Response, status: number, error: string, headers?: Record<string, string>) => void;
  /**
   * Whether a request carries HOOK_TOKEN as its body's first line, not in Authorization; the route then
   * checks it (./hook-token-body.ts). Unset: every request needs the header.
   */
  tokenInBody?: (req: Request) => boolean;
}

const remote = (req: Request) => req.socket.remoteAddress ?? 'unknown';

/** Express middleware: next() once the request may be read, else one refusal. */
export function hookTokenGate(opts: HookTokenGateOptions) {
  const { token, log, what, answer, limiter } = opts;
  let warnedOff = false;
  return (req: Request, res: Response, next: NextFunction) => {
    if (token === null) {
      if (!warnedOff) {
        warnedOff = true;
        log.warn(
          { remote: remote(req) },
          `${what}: ${req.method} ${req.originalUrl.split('?')[0]} while HOOK_TOKEN is not set (${opts.offError})`,
        );
      }
      return answer(res, 404, `not found: ${opts.offError} (HOOK_TOKEN is not set)`);
    }
    if (req.method !== 'POST') return answer(res, 405, `method ${req.method} not allowed: POST ${opts.post}`, { Allow: 'POST' });

    const limited = limiter.take(remote(req));
    if (!limited.allowed) {
      log.debug({ remote: remote(req) }, `${what}: rate limit exceeded`);
      const retryAfter = String(Math.max(1, Math.ceil(limited.retryAfterMs / 1000)));
      return answer(res, 429, `rate limit exceeded: retry in ${limited.retryAfterMs} ms`, { 'Retry-After': retryAfter });
    }

    const crossSite = hookCrossSite({ origin: req.get('origin'), secFetchSite: req.get('sec-fetch-site'), host: req.get('host') });
    if (crossSite) {
      log.warn({ remote: remote(req), why: crossSite }, `${what}: browser cross-site post refused`);
      return answer(res, 403, `cross-site request refused (${crossSite})`);
    }

    if (opts.tokenInBody?.(req)) return next();
    if (!bearerMatches(req.get('authorization'), token))
      return refuseToken(opts, req, res, { given: req.get('authorization') ? 'wrong' : 'none', via: 'Authorization' });
    next();
  };
}

/** The 401 of a missing or wrong token, in the route's form: the same words however the token came. */
export function refuseToken(
  opts: Pick<HookTokenGateOptions, 'log' | 'what' | 'answer'>,
  req: Request,
  res: Response,
  how: { given: 'none' | 'wrong'; via: 'Authorization' | 'body' },
  headers: Record<string, string> = {},
): void {
  opts.log.warn({ remote: remote(req), ...how }, `${opts.what}: missing or wrong bearer token`);
  opts.answer(res, 401, 'missing or wrong token: send Authorization: Bearer <HOOK_TOKEN>', {
    'WWW-Authenticate': 'Bearer realm="stash2plex"',
    ...headers,
  });
}
