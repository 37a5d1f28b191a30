// `npm start`: worker, supervisor and dashboard in one process for a single-machine install, with the
// embedded-Redis fallback.
import { exitOnConfigError, handleHelp, onShutdown, startHeartbeat } from '../src/core/cli.js';
import { environmentWithDotenv, loadConfigOrExit, secretsOf } from '../src/core/config.js';
import { DependencyReport } from '../src/core/dependency-report.js';
import { createMetricsRegistry, workerMetrics } from '../src/dashboard/metrics.js';
import { assertCanListen, assertDashboardExposure, startDashboard } from '../src/dashboard/server.js';
import { ensureRedis } from '../src/roles/embedded-redis.js';
import { createLogger } from '../src/core/log.js';
import { startSupervisorRole } from '../src/roles/supervisor.js';
import { startWorkerRole } from '../src/roles/worker.js';

handleHelp(
  process.argv,
  `
Usage: npm start
Runs the worker, the supervisor and the dashboard (DASHBOARD_HOST:DASHBOARD_PORT) in one process.
With REDIS_URL unset (in the environment and in .env) and no Redis on 127.0.0.1:6379, starts redis-server
from PATH with its data in ./data/redis.`,
  'start',
);
const config0 = loadConfigOrExit();
// Before anything starts: a dashboard that cannot listen stops the whole process (exit 2).
await exitOnConfigError(async () => {
  assertDashboardExposure(config0);
  await assertCanListen(config0);
});
let embedded;
try {
  embedded = await ensureRedis(environmentWithDotenv(process.env));
} catch (err) {
  process.stderr.write(`stash2plex: ${(err as Error).message}\n`);
  process.exit(1);
}
const config = embedded ? { ...config0, redis: { ...config0.redis, url: embedded.url } } : config0;
const log = createLogger({ level: config.logLevel, format: config.logFormat, secrets: secretsOf(config), name: 'stash2plex' });
if (embedded) log.info({ url: embedded.url }, 'started an embedded redis-server (data in ./data/redis)');
const registry = createMetricsRegistry();
const report = new DependencyReport(log); // one per process: a fault is said once, not by each role
const worker = await startWorkerRole(config, log, { onAttempt: workerMetrics(registry).onAttempt }, { report, checkLibraries: false });
const supervisor = await startSupervisorRole(config, log, { report });
const dashboard = await exitOnConfigError(() => startDashboard(config, log, { supervisor: supervisor.supervisor, registry, report }));
log.info({ url: dashboard.url }, 'dashboard listening');
startHeartbeat('stash2plex', () => worker.ping());
onShutdown(async () => {
  await dashboard.stop();
  await supervisor.stop();
  await worker.stop();
  await embedded?.stop();
}, log);
