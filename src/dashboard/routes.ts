// The dashboard's route table: every route with its method, path, access policy and handler (as
// bull-board's packages/api/src/routes.ts). ./app.ts mounts it; each handler lives in ./handlers/, a
// function of the ports it names.
import type { Router } from 'express';
import { explainHandler, type ExplainPorts } from './handlers/explain.js';
import { healthCheckHandler, type HealthCheckPorts } from './handlers/health-check.js';
import { healthzHandler, type HealthzPorts } from './handlers/healthz.js';
import { metricsHandler, type MetricsPorts } from './handlers/metrics.js';
import { pageHandler, type PagePorts } from './handlers/page.js';
import { performerImageHandler, type PerformerImagePorts } from './handlers/performer-image.js';
import { queueCleanHandler, type QueueCleanPorts } from './handlers/queue-clean.js';
import { reconcileHandler, type ReconcilePorts } from './handlers/reconcile.js';
import { requeueHandler, type RequeuePorts } from './handlers/requeue.js';
import { restoreHandler, resumeHandler, type RestorePorts } from './handlers/restore.js';
import { statusHandler, type StatusPorts } from './handlers/status.js';
import { HTTP_HOOK_PATH } from '../hook/input.js';
import { PERFORMER_IMAGE_PATH } from '../sync/image-links.js';
import type { Handler } from './reply.js';

/**
 * Who may call a route:
 * - `open`: anyone, no Host check (container health checks and load balancers call it by service name;
 *   Plex fetches actor photos, whose links carry their own signature);
 * - `hook-token`: its own bearer token, rate limit and cross-site check (./stash-hook.ts), no basic auth
 *   (the caller is wget or curl run by Stash);
 * - `dashboard`: the Host check (DNS rebinding), basic auth (or loopback only without a password) and,
 *   on POST/PUT/PATCH/DELETE, the cross-site check (./guards.ts). Bull Board and the 404 too.
 */
export type Access = 'open' | 'hook-token' | 'dashboard';

interface RouteBase {
  path: string;
  access: Access;
}

/** A route answered by one of our handlers. `body: 'raw'` reads the body (at most 16 kB) as bytes. */
export interface HandlerRoute extends RouteBase {
  method: 'get' | 'post';
  handler: Handler;
  body?: 'raw';
}

/** A router mounted at `path` with every method (the HTTP hook, Bull Board). */
export interface RouterRoute extends RouteBase {
  method: 'all';
  router: Router;
}

export type RouteDef = HandlerRoute | RouterRoute;

export type DashboardPorts = HealthzPorts &
  StatusPorts &
  HealthCheckPorts &
  RequeuePorts &
  QueueCleanPorts &
  ReconcilePorts &
  RestorePorts &
  ExplainPorts &
  MetricsPorts &
  PerformerImagePorts &
  PagePorts & {
    stashHook: Router;
    bullBoard: Router;
  };

export function dashboardRoutes(dashboardPorts: DashboardPorts): RouteDef[] {
  return [
    { method: 'get', path: '/healthz', access: 'open', handler: healthzHandler(dashboardPorts) },
    // Plex fetches actor photos here: the link's signature is the only access (./handlers/performer-image.ts).
    { method: 'get', path: `${PERFORMER_IMAGE_PATH}/:id`, access: 'open', handler: performerImageHandler(dashboardPorts) },
    { method: 'all', path: HTTP_HOOK_PATH, access: 'hook-token', router: dashboardPorts.stashHook },
    { method: 'get', path: '/api/status', access: 'dashboard', handler: statusHandler(dashboardPorts) },
    { method: 'post', path: '/api/health-check', access: 'dashboard', handler: healthCheckHandler(dashboardPorts) },
    { method: 'post', path: '/api/requeue', access: 'dashboard', handler: requeueHandler(dashboardPorts), body: 'raw' },
    { method: 'post', path: '/api/queue/clean', access: 'dashboard', handler: queueCleanHandler(dashboardPorts), body: 'raw' },
    { method: 'post', path: '/api/reconcile', access: 'dashboard', handler: reconcileHandler(dashboardPorts), body: 'raw' },
    { method: 'post', path: '/api/restore', access: 'dashboard', handler: restoreHandler(dashboardPorts), body: 'raw' },
    { method: 'post', path: '/api/restore/resume', access: 'dashboard', handler: resumeHandler(dashboardPorts), body: 'raw' },
    { method: 'get', path: '/api/explain', access: 'dashboard', handler: explainHandler(dashboardPorts) },
    { method: 'get', path: '/metrics', access: 'dashboard', handler: metricsHandler(dashboardPorts) },
    { method: 'get', path: '/', access: 'dashboard', handler: pageHandler(dashboardPorts) },
    { method: 'all', path: '/queues', access: 'dashboard', router: dashboardPorts.bullBoard },
  ];
}
