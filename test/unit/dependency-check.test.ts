// The one-line messages about Redis, Plex and Stash (src/core/dependency-check.ts) and the throttle of a
// line repeated while a fault lasts (src/core/repeat-throttle.ts): pure, the clock passed in.
import { describe, expect, it } from 'vitest';
import { failureWords, plexProblem, redisProblem, shownAddress, stashProblem } from '../../src/core/dependency-check.js';
import { DependencyReport } from '../../src/core/dependency-report.js';
import { SyncError } from '../../src/core/errors.js';
import { QUIET, throttleStep, type ThrottleState } from '../../src/core/repeat-throttle.js';

const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6391'), { code: 'ECONNREFUSED' });

describe('dependency problems', () => {
  it('shows an address without credentials, path or query', () => {
    expect(shownAddress('redis://user:s3cret@redis.lan:6380/2')).toBe('redis://redis.lan:6380');
    expect(shownAddress('http://plex:32400/some/path?X-Plex-Token=abc')).toBe('http://plex:32400');
    expect(shownAddress('not a url')).toBe('(not a URL)');
  });

  it('Redis: unreachable names REDIS_URL (or the cluster nodes), a refused password names REDIS_URL, other errors are not its', () => {
    const single = { url: 'redis://:pw@127.0.0.1:6391', clusterNodes: null };
    const p = redisProblem(refused, single)!;
    expect(p).toMatchObject({ dependency: 'redis', kind: 'unreachable', setting: 'REDIS_URL', address: 'redis://127.0.0.1:6391' });
    expect(p.message).toBe('Redis unreachable at redis://127.0.0.1:6391 (REDIS_URL): connection refused (nothing listens there)');
    expect(p.message).not.toContain('pw');
    const cluster = redisProblem(new Error('Failed to refresh slots cache.'), { url: 'redis://x', clusterNodes: ['a:7000', 'b:7001'] })!;
    expect(cluster.message).toBe('Redis unreachable at a:7000,b:7001 (REDIS_CLUSTER_NODES): no node answers');
    expect(redisProblem(new Error('WRONGPASS invalid username-password pair'), single)).toMatchObject({
      kind: 'rejected',
      setting: 'REDIS_URL',
    });
    expect(redisProblem(new Error('ERR unknown command'), single)).toBeNull();
  });

  it('Plex: unreachable, answering 5xx, rejecting the token, or not Plex at all', () => {
    const url = 'http://plex.lan:32400';
    expect(plexProblem(new SyncError('PlexServerDown', 'GET /identity → ECONNREFUSED'), url).message).toBe(
      'Plex unreachable at http://plex.lan:32400 (PLEX_URL): connection refused (nothing listens there)',
    );
    expect(plexProblem(new SyncError('PlexTemporaryError', 'GET /identity → timeout (ETIMEDOUT)'), url)).toMatchObject({
      kind: 'unreachable',
      setting: 'PLEX_URL',
    });
    expect(plexProblem(new SyncError('PlexTemporaryError', 'GET /identity → HTTP 503', 503), url).message).toBe(
      'Plex at http://plex.lan:32400 (PLEX_URL) answers HTTP 503',
    );
    expect(plexProblem(new SyncError('PlexAuthError', 'GET /library/sections → HTTP 401 (token rejected)', 401), url).message).toBe(
      'Plex at http://plex.lan:32400 rejected the token (PLEX_TOKEN)',
    );
    const notPlex = plexProblem(new SyncError('PlexNotFound', 'GET /identity → HTTP 404', 404), url);
    expect(notPlex).toMatchObject({ kind: 'misconfigured', setting: 'PLEX_URL' });
    expect(notPlex.message).toBe('http://plex.lan:32400 (PLEX_URL) does not answer as a Plex server (/identity: HTTP 404)');
  });

  it('Stash: unreachable names STASH_URL in plain words, a 401 names STASH_API_KEY (or asks for one)', () => {
    const s = { url: 'http://stash:9999/', apiKeySet: true };
    const down = stashProblem(new SyncError('StashUnavailable', 'POST /graphql StashClock → ECONNREFUSED'), s);
    expect(down.message).toBe('Stash unreachable at http://stash:9999 (STASH_URL): connection refused (nothing listens there)');
    expect(down.message).not.toMatch(/StashClock|graphql/);
    expect(stashProblem(new SyncError('StashAuthError', 'POST /graphql → HTTP 401 (API key rejected)', 401), s).message).toBe(
      'Stash at http://stash:9999 rejected the API key (STASH_API_KEY)',
    );
    expect(stashProblem(new SyncError('StashAuthError', 'x', 401), { ...s, apiKeySet: false }).message).toMatch(
      /asks for an API key: set STASH_API_KEY/,
    );
    expect(stashProblem(new SyncError('StashUnavailable', 'POST /graphql → HTTP 502', 502), s)).toMatchObject({ kind: 'unreachable' });
    expect(stashProblem(new SyncError('StashUnavailable', 'POST /graphql FindScene → GraphQL error: boom'), s).kind).toBe('misconfigured');
  });

  it('says why in words: a code, a status, or the message', () => {
    expect(failureWords(refused)).toBe('connection refused (nothing listens there)');
    expect(failureWords(new SyncError('PlexTemporaryError', 'GET /x → HTTP 500', 500))).toBe('HTTP 500');
    expect(failureWords(new Error('GET /identity → something odd'))).toBe('something odd');
  });
});

describe('throttle of a repeated line', () => {
  const run = (steps: [string | null, number][]) => {
    let state: ThrottleState = QUIET;
    const said: string[] = [];
    for (const [line, at] of steps) {
      const r = throttleStep(state, line, at, 30_000);
      state = r.state;
      if (r.say) said.push(`${at}:${r.say.kind}${'times' in r.say ? `x${r.say.times}` : ''}`);
    }
    return said;
  };

  it('says a fault when it starts, once per 30 s while it lasts (with how often), and when it ends', () => {
    const steps: [string | null, number][] = [];
    for (let t = 0; t <= 65_000; t += 2_000) steps.push(['down', t]);
    steps.push([null, 66_000]);
    expect(run(steps)).toEqual(['0:failing', '30000:stillx15', '60000:stillx15', '66000:recovered']);
  });

  it('says nothing while all is well, and at once when the fault becomes another', () => {
    expect(
      run([
        [null, 0],
        [null, 1],
      ]),
    ).toEqual([]);
    expect(
      run([
        ['a', 0],
        ['a', 1_000],
        ['b', 2_000],
        ['b', 3_000],
      ]),
    ).toEqual(['0:failing', '2000:failing']);
  });

  it('a recovery says how long the fault lasted, from its first line', () => {
    const a = throttleStep(QUIET, 'down', 1_000);
    const b = throttleStep(a.state, 'down', 40_000);
    expect(throttleStep(b.state, null, 50_000).say).toEqual({ kind: 'recovered', line: 'down', forMs: 49_000 });
  });

  it('the report logs one line per 30 s per dependency, a warning while unreachable, and the recovery', () => {
    const lines: string[] = [];
    const log = {
      error: (_: object, m: string) => lines.push(`error ${m}`),
      warn: (_: object, m: string) => lines.push(`warn ${m}`),
      info: (_: object, m: string) => lines.push(`info ${m}`),
    };
    let now = 0;
    const report = new DependencyReport(log as never, () => now);
    const problem = redisProblem(refused, { url: 'redis://127.0.0.1:6391', clusterNodes: null })!;
    for (; now < 61_000; now += 500) report.fail(problem);
    report.ok('redis');
    report.ok('redis');
    expect(lines).toEqual([
      `warn ${problem.message}`,
      `warn ${problem.message} (for 30 s; retrying)`,
      `warn ${problem.message} (for 60 s; retrying)`,
      'info Redis at redis://127.0.0.1:6391 answers again (after 61 s)',
    ]);
    expect(report.current('redis')).toBeNull();
  });
});
