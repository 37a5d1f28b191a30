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
import { stashTaskExplainHandler, type StashTaskExplainPorts } from './handlers/stash-task-explain.js';
import { stashTaskHealthCheckHandler, type StashTaskHealthCheckPorts } from './handlers/stash-task-health-check.js';
import { stashTaskReconcileHandler, type StashTaskReconcilePorts } from './handlers/stash-task-reconcile.js';
import { stashTaskRestoreHandler, type StashTaskRestorePorts } from './handlers/stash-task-restore.js';
import { STASH_TASK_PATH, type StashTaskHandler } from './task-stream.js';
import { HTTP_HOOK_PATH } from '../hook/input.js';
import { PERFORMER_IMAGE_PATH } from '../sync/image-links.js';
import type { Handler } from './reply.js';

/**
 * Who may call a route:
 * - `open`: anyone, no Host check (container health checks and load balancers call it by service name;
 *   Plex fetches actor photos, whose links carry their own signature);
 * - `hook-token`: the bearer HOOK_TOKEN, one rate limit and the cross-site check (./hook-token-gate.ts), no
 *   basic auth (the caller is wget or curl run by Stash, or a plugin task: ./task-stream.ts); the HTTP
 *   hook also takes the token as its body's first line (wget: ./hook-token-body.ts);
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

/** A Stash task's route (POST, `hook-token`, body at most 16 kB): its run streamed as JSON lines (./task-stream.ts). */
export interface TaskRoute extends RouteBase {
  method: 'task';
  access: 'hook-token';
  task: StashTaskHandler;
}

export type RouteDef = HandlerRoute | RouterRoute | TaskRoute;

export type DashboardPorts = HealthzPorts &
  StatusPorts &
  HealthCheckPorts &
  RequeuePorts &
  QueueCleanPorts &
  ReconcilePorts &
  RestorePorts &
  ExplainPorts &
  StashTaskReconcilePorts &
  StashTaskRestorePorts &
  StashTaskExplainPorts &
  StashTaskHealthCheckPorts &
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
    // The plugin's tasks that read Plex, for a plugin without Plex credentials (src/stash-plugin/dashboard-task.ts).
    { method: 'task', path: `${STASH_TASK_PATH}/reconcile-library`, access: 'hook-token', task: stashTaskReconcileHandler(dashboardPorts) },
    { method: 'task', path: `${STASH_TASK_PATH}/restore-dry-run`, access: 'hook-token', task: stashTaskRestoreHandler(dashboardPorts) },
    { method: 'task', path: `${STASH_TASK_PATH}/explain`, access: 'hook-token', task: stashTaskExplainHandler(dashboardPorts) },
    { method: 'task', path: `${STASH_TASK_PATH}/health-check`, access: 'hook-token', task: stashTaskHealthCheckHandler(dashboardPorts) },
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
