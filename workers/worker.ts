// `npm run worker`: inbox ingest and the sync worker.
import { handleHelp, onShutdown, startHeartbeat } from '../src/core/cli.js';
import { loadConfigOrExit, secretsOf } from '../src/core/config.js';
import { createLogger } from '../src/core/log.js';
import { startWorkerRole } from '../src/roles/worker.js';

handleHelp(
  process.argv,
  `
Usage: npm run worker
Moves Stash hook events from Redis into the sync queue and syncs each scene to Plex
(WORKER_CONCURRENCY jobs at a time). SIGTERM/SIGINT finish active jobs first.`,
  'worker',
);
const config = loadConfigOrExit();
const log = createLogger({ level: config.logLevel, format: config.logFormat, secrets: secretsOf(config), name: 'worker' });
const role = await startWorkerRole(config, log);
startHeartbeat('worker', () => role.ping());
onShutdown(() => role.stop(), log);
