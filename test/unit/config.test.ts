import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, environmentWithDotenv, parseConfig, secretsOf } from '../../src/core/config.js';
import { DEFAULT_ERROR_STRATEGIES } from '../../src/core/errors.js';

const base = { PLEX_URL: 'http://plex:32400/', PLEX_TOKEN: 'tok-123456', STASH_URL: 'http://stash:9999' };

function errorOf(env: Record<string, string>, needs?: { plex?: boolean; stash?: boolean }): ConfigError {
  try {
    parseConfig(env, needs);
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

describe('parseConfig', () => {
  it('applies the contract defaults', () => {
    const c = parseConfig(base);
    expect(c.redis).toEqual({ url: 'redis://127.0.0.1:6379', clusterNodes: null, prefix: 's2p' });
    expect(c.plex.url).toBe('http://plex:32400');
    expect(c.worker).toEqual({ concurrency: 32, lockMs: 30_000, readBatch: 100, adaptiveConcurrency: true });
    expect(c.sync).toEqual({
      mode: 'mirror',
      fields: [
        'title',
        'summary',
        'studio',
        'date',
        'genres',
        'actors',
        'rating',
        'poster',
        'collection',
        'background',
        'actorphotos',
        'contentrating',
        'originaltitle',
      ],
      require: ['metadata'],
      preservePlexEdits: false,
      maxTags: 200,
      posterStyle: 'screenshot',
      posterFrom: 'screenshot',
      imageBaseUrl: null,
      contentRating: 'XXX',
      labelTags: [],
      collections: { sources: ['groups'], tags: [], tagParent: null, performersMin: 0, prune: false },
    });
    expect(c.keepFailed).toEqual({ days: 30, max: 50_000 });
    expect(c.breaker).toEqual({ failureThreshold: 5, recoveryTimeoutMs: 60_000, trialCalls: 10, trialErrorRate: 0.2 });
    expect(c.health).toEqual({ timeoutMs: 5000, intervalMs: 5000, maxIntervalMs: 60_000, closedIntervalMs: 30_000, tokenRecheckMs: 5000 });
    expect(c.ramp).toEqual({
      initialRate: 5,
      targetRate: 20,
      durationMs: 300_000,
      errorThreshold: 0.3,
      errorWindowMs: 60_000,
      restoreAfterMs: 5000,
    });
    expect(c.plex.maxRate).toBeNull();
    expect(c.plex.maxUrlBytes).toBe(8192);
    expect(c.outageHistorySize).toBe(30);
    expect(c.reconcile).toEqual({ afterOutage: true, intervalMs: 900_000 });
    expect(c.dashboard).toEqual({
      host: '127.0.0.1',
      port: 3000,
      user: 'admin',
      password: null,
      allowedHosts: [],
      imageRatePerMinute: 600,
    });
    expect(c.errorStrategies).toEqual(DEFAULT_ERROR_STRATEGIES);
  });

  it('reads DASHBOARD_ALLOWED_HOSTS as lowercase names without port, refusing what is not a host', () => {
    expect(parseConfig({ ...base, DASHBOARD_ALLOWED_HOSTS: 'Dash.Example:443, s2p.lan' }).dashboard.allowedHosts).toEqual([
      'dash.example',
      's2p.lan',
    ]);
    expect(errorOf({ ...base, DASHBOARD_ALLOWED_HOSTS: 'ok.lan, http://x/' }).variable).toBe('DASHBOARD_ALLOWED_HOSTS');
  });

  it('parses lists, path maps and booleans', () => {
    const c = parseConfig({
      ...base,
      PLEX_LIBRARIES: 'A, B',
      PATH_MAP: '/data=/media; /x = /y',
      SYNC_POSTER: 'no',
      REDIS_CLUSTER_NODES: 'h1:7000,h2:7001',
    });
    expect(c.plex.libraries).toEqual(['A', 'B']);
    expect(c.plex.pathMap).toEqual([
      { from: '/data', to: '/media' },
      { from: '/x', to: '/y' },
    ]);
    expect(c.sync.fields).not.toContain('poster');
    expect(c.redis.clusterNodes).toEqual(['h1:7000', 'h2:7001']);
  });

  it.each([
    [{ PLEX_URL: '' }, 'PLEX_URL', /required/],
    [{ PLEX_TOKEN: undefined }, 'PLEX_TOKEN', /required/],
    [{ PLEX_URL: 'ftp://x' }, 'PLEX_URL', /http/],
    [{ WORKER_CONCURRENCY: 'four' }, 'WORKER_CONCURRENCY', /whole number/],
    [{ WORKER_CONCURRENCY: '0' }, 'WORKER_CONCURRENCY', /at least 1/],
    [{ SYNC_MODE: 'copy' }, 'SYNC_MODE', /mirror or merge/],
    [{ REDIS_URL: 'http://x' }, 'REDIS_URL', /redis/],
    [{ RAMP_ERROR_THRESHOLD: '2' }, 'RAMP_ERROR_THRESHOLD', /between 0 and 1/],
    [{ RAMP_TARGET_RATE: '1' }, 'RAMP_TARGET_RATE', /RAMP_INITIAL_RATE/],
    [{ PATH_MAP: '/a/b' }, 'PATH_MAP', /stashPrefix=plexPrefix/],
    [{ ERROR_STRATEGIES: '{"Nope":{}}' }, 'ERROR_STRATEGIES', /Nope|key/i],
    [{ ERROR_STRATEGIES: '{' }, 'ERROR_STRATEGIES', /JSON/],
    [{ REDIS_CLUSTER_NODES: 'h1' }, 'REDIS_CLUSTER_NODES', /host:port/],
    [{ SYNC_REQUIRE: 'metadata,tidy' }, 'SYNC_REQUIRE', /"tidy" is unknown: a comma list of metadata, organized, stashid or none/],
    [{ SYNC_REQUIRE: 'none,organized' }, 'SYNC_REQUIRE', /"none" is unknown/],
    [
      { SYNC_FIELDS: 'title,tags' },
      'SYNC_FIELDS',
      /"tags" is unknown: a comma list of title, summary, studio, date, genres, actors, rating, poster, collection, background, actorphotos, contentrating, originaltitle, sorttitle, tagline, labels$/,
    ],
    [{ SYNC_FIELDS: ' , ' }, 'SYNC_FIELDS', /must not be empty/],
    [{ MAX_TAGS: '0' }, 'MAX_TAGS', /whole number of at least 1/],
    [{ FAILED_KEEP_DAYS: '-1' }, 'FAILED_KEEP_DAYS', /whole number of at least 0/],
    [{ FAILED_KEEP_MAX: '0' }, 'FAILED_KEEP_MAX', /whole number of at least 1/],
    [{ PLEX_MAX_URL_BYTES: '512' }, 'PLEX_MAX_URL_BYTES', /whole number of at least 1024/],
    [{ BREAKER_TRIAL_CALLS: '0' }, 'BREAKER_TRIAL_CALLS', /whole number of at least 1/],
    [{ BREAKER_TRIAL_ERROR_RATE: '0' }, 'BREAKER_TRIAL_ERROR_RATE', /above 0 and at most 1/],
    [{ BREAKER_TRIAL_ERROR_RATE: '1.5' }, 'BREAKER_TRIAL_ERROR_RATE', /between 0 and 1/],
    [{ RAMP_RESTORE_AFTER_MS: '-1' }, 'RAMP_RESTORE_AFTER_MS', /whole number of at least 0/],
  ])('names the variable of a bad value (%o)', (over, variable, problem) => {
    const env = { ...base, ...over } as Record<string, string>;
    for (const [k, v] of Object.entries(over)) if (v === undefined) delete env[k];
    const err = errorOf(env);
    expect(err.variable).toBe(variable);
    expect(err.message).toMatch(problem);
  });

  it('reads the sync fields, the gate and the failed-job retention; the older switches fold into SYNC_FIELDS', () => {
    const c = parseConfig({
      ...base,
      SYNC_FIELDS: 'title, genres,title',
      SYNC_REQUIRE: 'organized,stashid',
      PRESERVE_PLEX_EDITS: 'true',
      MAX_TAGS: '5',
    });
    expect(c.sync).toMatchObject({ fields: ['title', 'genres'], require: ['organized', 'stashid'], preservePlexEdits: true, maxTags: 5 });
    expect(parseConfig({ ...base, SYNC_REQUIRE: 'none' }).sync.require).toEqual([]);
    expect(parseConfig({ ...base, SYNC_STUDIO_COLLECTION: 'true' }).sync.fields).toContain('collection');
    expect(parseConfig({ ...base, FAILED_KEEP_DAYS: '0', FAILED_KEEP_MAX: '100' }).keepFailed).toEqual({ days: 0, max: 100 });
  });

  it('requires Plex and Stash only for the roles that need them', () => {
    expect(() => parseConfig({}, { plex: false, stash: false })).not.toThrow();
    expect(errorOf({ PLEX_URL: 'http://p', PLEX_TOKEN: 'abcd' }, { plex: true, stash: true }).variable).toBe('STASH_URL');
  });

  it('merges one error strategy over the defaults', () => {
    const custom = { attempts: 3, backoffBaseMs: 1, backoffCapMs: 2, countsTowardBreaker: false, requeueByDefault: true };
    const c = parseConfig({ ...base, ERROR_STRATEGIES: JSON.stringify({ PlexNotFound: custom }) });
    expect(c.errorStrategies.PlexNotFound).toEqual(custom);
    expect(c.errorStrategies.PlexServerDown).toEqual(DEFAULT_ERROR_STRATEGIES.PlexServerDown);
  });

  it('lists the secrets, including a Redis password', () => {
    const c = parseConfig({
      ...base,
      STASH_API_KEY: 'stash-key-1',
      REDIS_URL: 'redis://:p%40ss-word@h:6379',
      DASHBOARD_PASSWORD: 'dash-pw',
    });
    expect(secretsOf(c).sort()).toEqual(['dash-pw', 'p@ss-word', 'stash-key-1', 'tok-123456'].sort());
  });
});

describe('.env', () => {
  it('is read from the working directory, the environment wins', () => {
    const dir = mkdtempSync(join(tmpdir(), 's2p-env-'));
    writeFileSync(join(dir, '.env'), 'PLEX_TOKEN=fromfile\nSYNC_MODE=merge\n');
    const env = environmentWithDotenv({ SYNC_MODE: 'mirror' }, dir);
    expect(env.PLEX_TOKEN).toBe('fromfile');
    expect(env.SYNC_MODE).toBe('mirror');
  });
});

describe('loadConfigOrExit', () => {
  it('exits 2 with one line naming the variable', () => {
    // Runs the built module (npm test builds first), as every entry point does.
    const script = `import('${join(process.cwd(), 'dist/src/core/config.js')}').then(m => m.loadConfigOrExit())`;
    const r = spawnSync(process.execPath, ['-e', script], {
      env: { PATH: process.env.PATH, PLEX_URL: 'http://p', PLEX_TOKEN: 'abcd', STASH_URL: 'http://s', WORKER_CONCURRENCY: '-3' },
      cwd: tmpdir(),
      encoding: 'utf8',
    });
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/WORKER_CONCURRENCY/);
  });
});

describe('.env.example', () => {
  it('lists every variable with the contract default', async () => {
    const { readFileSync } = await import('node:fs');
    const { DEFAULTS, VARIABLE_NAMES } = await import('../../src/core/config.js');
    const text = readFileSync('.env.example', 'utf8');
    for (const name of VARIABLE_NAMES) {
      const line = text.split('\n').find((l) => new RegExp(`^#? ?${name}=`).test(l));
      expect(line, name).toBeDefined();
      if (DEFAULTS[name] !== undefined) expect(line, name).toBe(`${name}=${DEFAULTS[name]}`);
    }
  });
});
