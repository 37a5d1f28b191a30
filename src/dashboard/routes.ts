// The dashboard's route table: every route with its method, path, access policy and handler (as
// bull-board's packages/api/src/routes.ts). ./app.ts mounts it; each handler lives in ./handlers/, a
// function of the ports it names.
import type { Router } from 'express';
import { explainHandler, type ExplainPorts } from './handlers/explain.js';
import { healthCheckHandler, type HealthCheckPorts } from './handlers/health-check.js';
import { healthzHandler, type HealthzPorts } from './handlers/healthz.js';
import { metricsHandler, type MetricsPorts } from './handlers/metrics.js';
import { pageHandler, type PagePorts } from './handlers/page.js';
import { queueCleanHandler, type QueueCleanPorts } from './handlers/queue-clean.js';
import { reconcileHandler, type ReconcilePorts } from './handlers/reconcile.js';
import { requeueHandler, type RequeuePorts } from './handlers/requeue.js';
import { restoreHandler, resumeHandler, type RestorePorts } from './handlers/restore.js';
import { statusHandler, type StatusPorts } from './handlers/status.js';
import { HTTP_HOOK_PATH } from '../hook/input.js';
import type { Handler } from './reply.js';

/**
 * Who may call a route:
 * - `open`: anyone, no Host check (container health checks and load balancers call it by service name);
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
  PagePorts & {
    stashHook: Router;
    bullBoard: Router;
  };

export function dashboardRoutes(p: DashboardPorts): RouteDef[] {
  return [
    { method: 'get', path: '/healthz', access: 'open', handler: healthzHandler(p) },
    { method: 'all', path: HTTP_HOOK_PATH, access: 'hook-token', router: p.stashHook },
    { method: 'get', path: '/api/status', access: 'dashboard', handler: statusHandler(p) },
    { method: 'post', path: '/api/health-check', access: 'dashboard', handler: healthCheckHandler(p) },
    { method: 'post', path: '/api/requeue', access: 'dashboard', handler: requeueHandler(p), body: 'raw' },
    { method: 'post', path: '/api/queue/clean', access: 'dashboard', handler: queueCleanHandler(p), body: 'raw' },
    { method: 'post', path: '/api/reconcile', access: 'dashboard', handler: reconcileHandler(p), body: 'raw' },
    { method: 'post', path: '/api/restore', access: 'dashboard', handler: restoreHandler(p), body: 'raw' },
    { method: 'post', path: '/api/restore/resume', access: 'dashboard', handler: resumeHandler(p), body: 'raw' },
    { method: 'get', path: '/api/explain', access: 'dashboard', handler: explainHandler(p) },
    { method: 'get', path: '/metrics', access: 'dashboard', handler: metricsHandler(p) },
    { method: 'get', path: '/', access: 'dashboard', handler: pageHandler(p) },
    { method: 'all', path: '/queues', access: 'dashboard', router: p.bullBoard },
  ];
}
