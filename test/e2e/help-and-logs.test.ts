// Each built command's --help: its own usage and options, and only the settings it reads, with their
// effective values and where they come from (environment, .env, default), secrets masked. Logs: JSON when
// piped (no ANSI codes), pretty and coloured when LOG_FORMAT=pretty forces it.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { VARIABLES } from '../../src/core/config.js';
import { startProcess } from '../helpers/proc.js';
import { waitFor } from '../helpers/wait.js';
import { startWorld } from '../helpers/world.js';

const ROOT = resolve(import.meta.dirname, '../..');
// ESC [ … m: a colour code.
const ANSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`);
const cwd = mkdtempSync(join(tmpdir(), 's2p-help-'));
writeFileSync(join(cwd, '.env'), 'SYNC_REQUIRE=organized\nPLEX_URL=http://plex.lan:32400\n');
afterAll(() => rmSync(cwd, { recursive: true, force: true }));

const ENV = {
  PLEX_TOKEN: 'tok-help-secret-1234',
  STASH_API_KEY: 'key-help-secret-5678',
  REDIS_URL: 'redis://user:pw-help-secret@redis.lan:6379',
  SYNC_MODE: 'merge',
};

/** Runs `dist/workers/<script>.js --help` from a folder with a .env; stdout and the exit code. */
function help(script: string): Promise<{ code: number | null; out: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [join(ROOT, 'dist/workers', `${script}.js`), '--help'], {
      cwd,
      env: { PATH: process.env.PATH ?? '', ...ENV },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    const timer = setTimeout(() => (child.kill('SIGKILL'), fail(new Error(`${script} --help did not exit`))), 15_000);
    child.once('exit', (code) => (clearTimeout(timer), done({ code, out })));
  });
}

const setting = (out: string, name: string) =>
  out
    .split('\n')
    .find((l) => l.trimStart().startsWith(`${name} `))
    ?.trim();

describe('--help of each command', () => {
  const cases: [script: string, usage: string, options: string[], reads: string[], notReads: string[]][] = [
    [
      'worker',
      'Usage: npm run worker',
      [],
      ['WORKER_CONCURRENCY', 'SYNC_MODE', 'PATH_MAP'],
      ['DASHBOARD_PORT', 'BREAKER_FAILURE_THRESHOLD'],
    ],
    [
      'supervisor',
      'Usage: npm run supervisor',
      [],
      ['BREAKER_FAILURE_THRESHOLD', 'RAMP_TARGET_RATE'],
      ['WORKER_CONCURRENCY', 'DASHBOARD_PORT'],
    ],
    ['dashboard', 'Usage: npm run dashboard', [], ['DASHBOARD_PORT', 'HOOK_TOKEN'], ['WORKER_CONCURRENCY', 'RAMP_TARGET_RATE']],
    ['all-in-one', 'Usage: npm start', [], ['WORKER_CONCURRENCY', 'DASHBOARD_PORT', 'RAMP_TARGET_RATE'], []],
    ['requeue', 'Usage: npm run requeue', ['--dry-run', '--outage', '--errors'], ['REDIS_URL'], ['PLEX_URL', 'SYNC_MODE']],
    ['restore', 'Usage: npm run restore', ['--scene', '--resume', '--json'], ['PLEX_URL', 'PLEX_TOKEN'], ['STASH_URL', 'SYNC_MODE']],
    ['reconcile', 'Usage: npm run reconcile', ['--dry-run', '--json'], ['STASH_URL', 'SYNC_REQUIRE'], ['DASHBOARD_PORT']],
    [
      'explain',
      'Usage: npm run explain',
      ['--json'],
      ['PATH_MAP', 'SYNC_REQUIRE', 'STASH_API_KEY'],
      ['DASHBOARD_PORT', 'WORKER_CONCURRENCY'],
    ],
    ['demo', 'Usage: npm run demo', ['--no-outage', '--scenes'], ['REDIS_URL'], ['PLEX_URL']],
    ['sim', 'Usage: npm run sim', ['--scenes', '--plex-port', '--stash-port'], [], ['REDIS_URL', 'PLEX_URL']],
  ];
  it.each(cases)('%s: its usage, options and settings only', async (script, usage, options, reads, notReads) => {
    const { code, out } = await help(script);
    expect(code).toBe(0);
    expect(out.startsWith(usage)).toBe(true);
    for (const o of options) expect(out).toContain(o);
    for (const name of reads) expect(setting(out, name), name).toBeDefined();
    for (const name of notReads) expect(setting(out, name), name).toBeUndefined();
    for (const secret of ['tok-help-secret-1234', 'key-help-secret-5678', 'pw-help-secret']) expect(out).not.toContain(secret);
    // Well short of every setting (npm start runs every role: it reads nearly all of them).
    if (script !== 'all-in-one')
      expect(out.split('\n').filter((l) => /^ {2}[A-Z][A-Z_]+ /.test(l)).length).toBeLessThan(0.7 * Object.keys(VARIABLES).length);
  });

  it('shows each effective value and where it comes from; secrets only as set', async () => {
    const { out } = await help('explain');
    expect(setting(out, 'SYNC_MODE')).toMatch(/^SYNC_MODE +merge {2}\[environment\]$/);
    expect(setting(out, 'SYNC_REQUIRE')).toMatch(/^SYNC_REQUIRE +organized {2}\[\.env\]$/);
    expect(setting(out, 'PLEX_URL')).toMatch(/^PLEX_URL +http:\/\/plex\.lan:32400 {2}\[\.env\]$/);
    expect(setting(out, 'MAX_TAGS')).toMatch(/^MAX_TAGS +200 {2}\[default\]$/);
    expect(setting(out, 'PLEX_TOKEN')).toMatch(/^PLEX_TOKEN +\(set, hidden\) {2}\[environment\]$/);
    expect(setting(out, 'REDIS_URL')).toMatch(/^REDIS_URL +redis:\/\/user:\*\*\*@redis\.lan:6379 {2}\[environment\]$/);
    expect(setting(out, 'PLEX_CLIENT_ID')).toMatch(/^PLEX_CLIENT_ID +\(unset\)$/);
  });
});

describe('log format', () => {
  it('piped: JSON lines, no ANSI codes; LOG_FORMAT=pretty: human lines in colour', async () => {
    const world = await startWorld({ prefixName: 'logfmt', env: { LOG_LEVEL: 'info' } });
    try {
      const json = startProcess('dist/workers/worker.js', world.env);
      await waitFor(() => json.output().includes('worker started'), 30_000, 'the JSON worker started');
      await json.stop();
      const first = json
        .output()
        .split('\n')
        .find((l) => l.includes('worker started'))!;
      expect(JSON.parse(first) as unknown).toMatchObject({ level: 30, name: 'worker', msg: 'worker started' });
      expect(json.output()).not.toMatch(ANSI);

      const pretty = startProcess('dist/workers/worker.js', { ...world.env, LOG_FORMAT: 'pretty' });
      await waitFor(() => pretty.output().includes('worker started'), 30_000, 'the pretty worker started');
      await pretty.stop();
      const line = pretty
        .output()
        .split('\n')
        .find((l) => l.includes('worker started'))!;
      expect(line).toMatch(ANSI);
      expect(line.replace(new RegExp(ANSI.source, 'g'), '')).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO \(worker\): worker started/);
      expect(() => JSON.parse(line) as unknown).toThrow();
    } finally {
      await world.stop();
    }
  });
});
