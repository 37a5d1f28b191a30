// The packaging files are valid: the compose file passes `docker-compose config` (where the client is
// installed: .ci/run installs Debian's docker-compose) and names every role with a health check.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const hasCompose = spawnSync('docker-compose', ['version'], { encoding: 'utf8' }).status === 0;
if (!hasCompose) console.warn('[packaging] docker-compose is not installed: `docker-compose config` check SKIPPED');

describe('docker-compose.yml', () => {
  it('has redis (append-only, noeviction, health check), two workers, two supervisors and the dashboard', () => {
    const doc = parse(readFileSync('docker-compose.yml', 'utf8'), { merge: true }) as { services: Record<string, Record<string, unknown>> };
    const s = doc.services;
    expect(String(s.redis.command)).toMatch(/appendonly,yes.*noeviction/);
    for (const name of ['redis', 'worker', 'supervisor', 'dashboard']) expect(s[name].healthcheck, name).toBeDefined();
    expect((s.worker.deploy as { replicas: number }).replicas).toBe(2);
    expect((s.supervisor.deploy as { replicas: number }).replicas).toBe(2);
    for (const name of ['worker', 'supervisor', 'dashboard']) expect(s[name].restart, name).toBe('unless-stopped');
  });

  it.skipIf(!hasCompose)('passes docker-compose config with the example settings', () => {
    const dir = mkdtempSync(join(tmpdir(), 's2p-compose-'));
    copyFileSync('docker-compose.yml', join(dir, 'docker-compose.yml'));
    copyFileSync('.env.example', join(dir, '.env'));
    const r = spawnSync('docker-compose', ['config', '-q'], { cwd: dir, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});

describe('Dockerfile', () => {
  it('is multi-stage and runs as an unprivileged user with a health check', () => {
    const text = readFileSync('Dockerfile', 'utf8');
    expect(text.match(/^FROM /gm)!.length).toBeGreaterThanOrEqual(2);
    expect(text).toMatch(/^USER node$/m);
    expect(text).toMatch(/^HEALTHCHECK /m);
  });
});
