// `npm run supervisor`: breaker, probes, pause/resume and the recovery ramp. Run several: one leads.
import { handleHelp, onShutdown, startHeartbeat } from '../src/core/cli.js';
import { loadConfigOrExit, secretsOf } from '../src/core/config.js';
import { createLogger } from '../src/core/log.js';
import { startSupervisorRole } from '../src/roles/supervisor.js';

handleHelp(
  process.argv,
  `
Usage: npm run supervisor
Watches Plex (probes and the workers' outcomes), pauses the sync queue while Plex is down, and lets the
backlog drain at a graduated rate once it is back. Start one per host if you like: a lease in Redis makes
exactly one of them act; the others take over within the lease TTL (15 s) if it dies.`,
  'supervisor',
);
const config = loadConfigOrExit({ plex: true, stash: false }); // without STASH_URL: no reconciliation
const log = createLogger({ level: config.logLevel, format: config.logFormat, secrets: secretsOf(config), name: 'supervisor' });
const role = await startSupervisorRole(config, log);
startHeartbeat('supervisor', () => role.ping());
onShutdown(() => role.stop(), log);
