// `node dist/workers/healthcheck.js <role>`: exit 0 when the role's heartbeat is fresh (Docker HEALTHCHECK).
import { statSync } from 'node:fs';
import { heartbeatFile } from '../src/core/cli.js';

const role = process.argv[2] ?? '';
if (!/^(worker|supervisor|stash2plex)$/.test(role)) {
  process.stderr.write('usage: healthcheck.js worker|supervisor|stash2plex\n');
  process.exit(2);
}
try {
  const age = Date.now() - statSync(heartbeatFile(role)).mtimeMs;
  if (age > 35_000) throw new Error(`last heartbeat ${Math.round(age / 1000)} s ago`);
  process.exit(0);
} catch (err) {
  process.stderr.write(`${role} unhealthy: ${(err as Error).message}\n`);
  process.exit(1);
}
