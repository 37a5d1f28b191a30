// The middleware in front of every `access: 'dashboard'` route (./routes.ts), Bull Board and the 404,
// in this order: the Host check (DNS rebinding), basic auth (or loopback only), the cross-site check.
import type { NextFunction, Request, Response } from 'express';
import type { Config } from '../core/config.js';
import type { Logger } from '../core/log.js';
import type { SendJson } from './respond.js';
import { checkCredentials, hostAllowed, isLoopbackAddress, sameOriginAllowed } from './security.js';

type Middleware = (req: Request, res: Response, next: NextFunction) => void;

/** Headers of every answer: no sniffing, no referrer, no framing. */
export const securityHeaders: Middleware = (_req, res, next) => {
  res.set({ 'X-Content-Type-Options': 'nosniff', 'Referrer-Policy': 'no-referrer', 'X-Frame-Options': 'DENY' });
  next();
};

/**
 * DNS rebinding: without a password, or when DASHBOARD_ALLOWED_HOSTS is set, the Host must name this
 * dashboard (loopback or a listed name), else 421. With a password and no list any Host passes: a
 * rebinding page has no credentials for its own origin. Mounted after /healthz and the hook: container
 * health checks and Stash in another container call them by service name, and neither serves anything
 * a rebinding page could use (the hook needs its token).
 */
function rebindingGuard(config: Config, log: Logger, sendJson: SendJson): Middleware {
  const { password, allowedHosts } = config.dashboard;
  const check = password === null || allowedHosts.length > 0;
  return (req, res, next) => {
    if (!check || hostAllowed(req.headers.host, allowedHosts)) return next();
    log.warn(
      { method: req.method, path: req.path, host: String(req.headers.host ?? '').slice(0, 100) },
      'dashboard: request for a foreign Host refused',
    );
    return sendJson(res, 421, { error: 'this dashboard does not serve that Host; add it to DASHBOARD_ALLOWED_HOSTS' });
  };
}

/**
 * Basic auth. Without DASHBOARD_PASSWORD only connections that arrived on a loopback address are
 * served (the server also refuses to listen elsewhere without one: server.ts).
 */
function basicAuthGuard(config: Config, sendJson: SendJson): Middleware {
  const auth = config.dashboard.password === null ? null : { user: config.dashboard.user, password: config.dashboard.password };
  return (req, res, next) => {
    if (auth) {
      if (checkCredentials(req.headers.authorization, auth)) return next();
      res.set('WWW-Authenticate', 'Basic realm="stash2plex", charset="UTF-8"');
      return sendJson(res, 401, { error: 'authentication required' });
    }
    if (isLoopbackAddress(req.socket.localAddress)) return next();
    return sendJson(res, 403, { error: 'DASHBOARD_PASSWORD is not set: the dashboard only answers on loopback' });
  };
}

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Cross-site protection of every state-changing request (ours and Bull Board's). */
function crossSiteGuard(log: Logger, sendJson: SendJson): Middleware {
  return (req, res, next) => {
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
  };
}

/** The three, in order. */
export function dashboardGuards(config: Config, log: Logger, sendJson: SendJson): Middleware[] {
  return [rebindingGuard(config, log, sendJson), basicAuthGuard(config, sendJson), crossSiteGuard(log, sendJson)];
}
