// `npm run dashboard`: the status page, the status API, Bull Board and the Prometheus metrics.
import { exitOnConfigError, handleHelp, onShutdown } from '../src/core/cli.js';
import { loadConfigOrExit, secretsOf } from '../src/core/config.js';
import { startDashboard } from '../src/dashboard/server.js';
import { createLogger } from '../src/core/log.js';

handleHelp(
  process.argv,
  `
Usage: npm run dashboard
Serves on DASHBOARD_HOST:DASHBOARD_PORT (default 127.0.0.1:3000):
  /             status page (breaker, probes, recovery ramp, queue, outage chart and history)
  /api/status   the status as JSON            /queues    Bull Board for the sync queue
  /metrics      Prometheus metrics            /healthz   liveness (no auth)
  POST /api/health-check   probe Plex now     POST /api/requeue   recover outage jobs (dry run unless dryRun: false)
  POST /api/stash/hook     the HTTP Stash hook (its own bearer token HOOK_TOKEN; off without it)
Everything but /healthz and /api/stash/hook asks for HTTP basic auth (DASHBOARD_USER / DASHBOARD_PASSWORD). Without
DASHBOARD_PASSWORD the dashboard only listens on a loopback address and only answers a loopback Host
(DASHBOARD_ALLOWED_HOSTS adds names, e.g. a reverse proxy's); POST requests must come from the page
itself or carry the header "X-Requested-With: stash2plex".`,
  'dashboard',
);
const config = loadConfigOrExit({ plex: true, stash: false });
const log = createLogger({ level: config.logLevel, format: config.logFormat, secrets: secretsOf(config), name: 'dashboard' });
// A busy DASHBOARD_PORT (or a DASHBOARD_HOST not of this machine) is one line naming it, exit 2.
const dashboard = await exitOnConfigError(() => startDashboard(config, log));
onShutdown(() => dashboard.stop(), log);
