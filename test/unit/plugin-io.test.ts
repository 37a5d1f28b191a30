import { describe, expect, it } from 'vitest';
import { DEFAULT_REDIS_PREFIX, DEFAULT_REDIS_URL, envDecidesSettings, resolveRedisSettings } from '../../src/hook/settings.js';
import { logLine, progressLine } from '../../src/hook/log-lines.js';
import { sessionCookieOf, stashUrl } from '../../src/hook/stash-connection.js';
import { pluginManifest } from '../../src/stash-plugin/manifest.js';
import { numberArg } from '../../src/stash-plugin/task-args.js';
import { PLUGIN_TASKS, isTaskMode } from '../../src/stash-plugin/task-list.js';
import { HOOK_TRIGGERS, MAX_INPUT_BYTES, errorOutput, output, parsePluginInput, type PluginInput } from '../../src/hook/input.js';

const conn = {
  Scheme: 'http',
  Host: '0.0.0.0',
  Port: 9999,
  SessionCookie: { Name: 'session', Value: 'cookie-secret-123', Path: '', Domain: '' },
  Dir: '/root/.stash',
  PluginDir: '/root/.stash/plugins/stash2plex',
};
const hookContext = { id: 45, type: 'Scene.Update.Post', input: { id: '45', title: 'x', organized: null }, inputFields: ['title', 'id'] };

function parse(v: unknown): ReturnType<typeof parsePluginInput> {
  return parsePluginInput(typeof v === 'string' ? v : JSON.stringify(v));
}
function parseOk(v: unknown): PluginInput {
  const r = parse(v);
  if (!r.ok) throw new Error(r.error);
  return r.input;
}
function parseErr(v: unknown): string {
  const r = parse(v);
  if (r.ok) throw new Error('expected an error');
  return r.error;
}

describe('parsePluginInput', () => {
  it('accepts what Stash sends for a hook, keeping unknown keys', () => {
    const input = parseOk({ server_connection: { ...conn, Extra: 1 }, args: { hookContext } });
    expect(input.server_connection.PluginDir).toBe(conn.PluginDir);
    expect(input.args.hookContext).toMatchObject(hookContext);
    expect((input.server_connection as Record<string, unknown>).Extra).toBe(1);
  });

  it('accepts a task input (defaultArgs arrive as strings)', () => {
    const input = parseOk({ server_connection: conn, args: { mode: 'sync_recent', hours: '6' } });
    expect(input.args.mode).toBe('sync_recent');
    expect(numberArg(input.args, 'hours')).toBe(6);
    expect(numberArg(input.args, 'absent')).toBeUndefined();
    expect(numberArg({ hours: 'many' }, 'hours')).toBeNaN();
    expect(numberArg({ hours: 12 }, 'hours')).toBe(12);
  });

  it('accepts a hook without input: input null (as Stash sends Scene.Create.Post), inputFields null or absent', () => {
    for (const ctx of [
      { id: 1, type: 'Scene.Create.Post', input: null },
      { id: 1, type: 'Scene.Update.Post', input: null, inputFields: null },
      { id: 1, type: 'Scene.Update.Post' },
    ]) {
      expect(parseOk({ server_connection: conn, args: { hookContext: ctx } }).args.hookContext).toMatchObject({ id: 1 });
    }
  });

  it('null SessionCookie, missing Scheme/Host/Port and null args are fine (args becomes {})', () => {
    const input = parseOk({ server_connection: { PluginDir: '/p', SessionCookie: null }, args: null });
    expect(input.args).toEqual({});
    expect(sessionCookieOf(input.server_connection)).toBeUndefined();
  });

  it('rejects malformed JSON without quoting the input (it may hold the session cookie)', () => {
    const err = parseErr('{"server_connection": {"SessionCookie": {"Value": "cookie-secret-123"}, ');
    expect(err).toMatch(/^invalid plugin input: not JSON/);
    expect(err).not.toContain('cookie-secret-123');
    expect(parseErr('nope')).toMatch(/not JSON/);
  });

  it('rejects empty and oversized input', () => {
    expect(parseErr('')).toMatch(/stdin is empty/);
    expect(parseErr('  \n')).toMatch(/stdin is empty/);
    const huge = JSON.stringify({ server_connection: conn, args: { pad: 'x'.repeat(MAX_INPUT_BYTES) } });
    expect(parseErr(huge)).toMatch(/larger than 1048576 bytes/);
    // Multi-byte characters count as bytes.
    const wide = JSON.stringify({ server_connection: conn, args: { pad: 'é'.repeat(MAX_INPUT_BYTES / 2) } });
    expect(parseErr(wide)).toMatch(/larger than/);
  });

  it.each([
    [[], 'must be a JSON object'],
    [42, 'must be a JSON object'],
    [{}, 'server_connection is missing'],
    [{ server_connection: 'x' }, 'server_connection must be an object'],
    [{ server_connection: conn, args: [] }, 'args must be an object'],
    [{ server_connection: conn, args: { hookContext: 'x' } }, 'args.hookContext must be an object'],
    [{ server_connection: conn, args: { hookContext: { type: 'Scene.Update.Post' } } }, 'args.hookContext.id is missing'],
    [{ server_connection: conn, args: { hookContext: { id: {}, type: 'Scene.Update.Post' } } }, 'args.hookContext.id must be a scene id'],
    [{ server_connection: conn, args: { hookContext: { id: 1 } } }, 'args.hookContext.type is missing'],
    [
      { server_connection: conn, args: { hookContext: { id: 1, type: 'Scene.Update.Post', inputFields: 'title' } } },
      'args.hookContext.inputFields must be an array of strings',
    ],
    [
      { server_connection: conn, args: { hookContext: { id: 1, type: 'Scene.Update.Post', inputFields: [1] } } },
      'args.hookContext.inputFields.0 must be a string',
    ],
    [{ server_connection: { ...conn, SessionCookie: 'x' }, args: {} }, 'server_connection.SessionCookie must be an object'],
    [{ server_connection: { ...conn, PluginDir: 3 }, args: {} }, 'server_connection.PluginDir must be a string'],
    [{ server_connection: conn, args: { mode: 1 } }, 'args.mode must be a string'],
  ])('rejects %j with a message naming the piece', (value, message) => {
    expect(parseErr(value)).toBe(`invalid plugin input: ${message}`);
  });
});

describe('stashUrl', () => {
  it('talks to localhost when Stash reports 0.0.0.0 or ::', () => {
    expect(stashUrl(conn)).toEqual({ ok: true, url: 'http://localhost:9999' });
    expect(stashUrl({ ...conn, Host: '::' })).toEqual({ ok: true, url: 'http://localhost:9999' });
    expect(stashUrl({ ...conn, Host: '' })).toMatchObject({ ok: false });
  });
  it('keeps a real host, brackets IPv6, accepts https and a numeric-string port', () => {
    expect(stashUrl({ ...conn, Host: 'stash.lan', Scheme: 'HTTPS', Port: '443' })).toEqual({ ok: true, url: 'https://stash.lan:443' });
    expect(stashUrl({ ...conn, Host: 'fd00::1' })).toEqual({ ok: true, url: 'http://[fd00::1]:9999' });
  });
  it('says what is missing or wrong', () => {
    expect(stashUrl({ PluginDir: '/p' })).toEqual({ ok: false, error: 'server_connection lacks Scheme, Host, Port: cannot reach Stash' });
    expect(stashUrl({ ...conn, Scheme: 'ftp' })).toMatchObject({ ok: false, error: expect.stringMatching(/Scheme/) as unknown });
    expect(stashUrl({ ...conn, Port: 0 })).toMatchObject({ ok: false, error: expect.stringMatching(/Port/) as unknown });
    expect(stashUrl({ ...conn, Port: 'x' })).toMatchObject({ ok: false, error: expect.stringMatching(/Port/) as unknown });
  });
  it('sessionCookieOf maps Name/Value', () => {
    expect(sessionCookieOf(conn)).toEqual({ name: 'session', value: 'cookie-secret-123' });
  });
});

describe('resolveRedisSettings', () => {
  it('environment over plugin settings over defaults', () => {
    expect(resolveRedisSettings({}, {})).toEqual({ ok: true, settings: { url: DEFAULT_REDIS_URL, prefix: DEFAULT_REDIS_PREFIX } });
    expect(resolveRedisSettings({}, { redisUrl: 'redis://r:1', redisPrefix: 'p' })).toEqual({
      ok: true,
      settings: { url: 'redis://r:1', prefix: 'p' },
    });
    expect(resolveRedisSettings({ REDIS_URL: 'rediss://e:2' }, { redisUrl: 'redis://r:1', redisPrefix: 'p' })).toEqual({
      ok: true,
      settings: { url: 'rediss://e:2', prefix: 'p' },
    });
    expect(resolveRedisSettings({ REDIS_PREFIX: '{s2p}', REDIS_URL: ' ' }, { redisUrl: 'redis://r:1' })).toEqual({
      ok: true,
      settings: { url: 'redis://r:1', prefix: '{s2p}' },
    });
  });
  it('blank plugin settings and non-strings fall back to defaults', () => {
    expect(resolveRedisSettings({}, { redisUrl: '  ', redisPrefix: 7 })).toEqual({
      ok: true,
      settings: { url: DEFAULT_REDIS_URL, prefix: DEFAULT_REDIS_PREFIX },
    });
  });
  it('names the bad setting, never echoing the URL (it may hold a password)', () => {
    const r = resolveRedisSettings({}, { redisUrl: 'http://user:hunter22@x' });
    expect(r).toEqual({ ok: false, error: 'plugin setting redisUrl must be a redis:// or rediss:// URL' });
    expect(resolveRedisSettings({ REDIS_URL: 'nonsense' })).toEqual({ ok: false, error: 'REDIS_URL must be a redis:// or rediss:// URL' });
    expect(resolveRedisSettings({ REDIS_URL: 'redis://h:99999' })).toEqual({
      ok: false,
      error: 'REDIS_URL must be a redis:// or rediss:// URL',
    });
    expect(resolveRedisSettings({ REDIS_URL: 'redis://:pw@h/x' })).toEqual({
      ok: false,
      error: 'REDIS_URL must end in a database number, if anything',
    });
    expect(resolveRedisSettings({ REDIS_PREFIX: 'a:b' })).toEqual({
      ok: false,
      error: 'REDIS_PREFIX must be non-empty, without spaces or colons',
    });
  });
  it('envDecidesSettings only when both are set', () => {
    expect(envDecidesSettings({ REDIS_URL: 'redis://x', REDIS_PREFIX: 'p' })).toBe(true);
    expect(envDecidesSettings({ REDIS_URL: 'redis://x' })).toBe(false);
    expect(envDecidesSettings({ REDIS_URL: 'redis://x', REDIS_PREFIX: ' ' })).toBe(false);
  });
});

describe('stdout and stderr lines', () => {
  it('output / errorOutput: exactly one JSON line', () => {
    for (const [line, key, value] of [
      [output('queued scene 1'), 'output', 'queued scene 1'],
      [output({ a: [1, 2] }), 'output', { a: [1, 2] }],
      [output(undefined), 'output', null],
      [errorOutput('bad\nthing'), 'error', 'bad\nthing'],
    ] as const) {
      expect(line.endsWith('\n')).toBe(true);
      expect(line.split('\n')).toHaveLength(2);
      expect(JSON.parse(line)).toEqual({ [key]: value });
    }
  });
  it('logLine prefixes every line with \\x01 level \\x02', () => {
    expect(logLine('info', 'hello')).toBe('\x01i\x02hello\n');
    expect(logLine('trace', 't')).toBe('\x01t\x02t\n');
    expect(logLine('debug', 'd')).toBe('\x01d\x02d\n');
    expect(logLine('warning', 'w')).toBe('\x01w\x02w\n');
    expect(logLine('error', 'a\nb\r\nc')).toBe('\x01e\x02a\n\x01e\x02b\n\x01e\x02c\n');
    expect(logLine('info', 'x\x01p\x020.5')).toBe('\x01i\x02xp0.5\n');
  });
  it('progressLine clamps to 0..1', () => {
    expect(progressLine(0.25)).toBe('\x01p\x020.25\n');
    expect(progressLine(1 / 3)).toBe('\x01p\x020.3333\n');
    expect(progressLine(2)).toBe('\x01p\x021\n');
    expect(progressLine(-1)).toBe('\x01p\x020\n');
    expect(progressLine(NaN)).toBe('\x01p\x020\n');
  });
});

describe('manifest and tasks', () => {
  it('pluginManifest follows the Stash plugin format', () => {
    const m = pluginManifest('1.2.3');
    expect(m).toMatchObject({ name: 'stash2plex', version: '1.2.3', interface: 'raw', exec: ['sh', '{pluginDir}/stash2plex.sh'] });
    expect(m.hooks).toHaveLength(2);
    expect(m.hooks[0].triggeredBy).toEqual(['Scene.Update.Post', 'Scene.Create.Post']);
    expect(m.hooks[1].triggeredBy).toEqual([
      'Performer.Update.Post',
      'Studio.Update.Post',
      'Tag.Update.Post',
      'Tag.Merge.Post',
      'Group.Update.Post',
      'Movie.Update.Post',
    ]);
    expect(m.hooks.flatMap((h) => h.triggeredBy)).toEqual([...HOOK_TRIGGERS]);
    expect(m.tasks.map((t) => t.name)).toEqual(PLUGIN_TASKS.map((t) => t.name));
    expect(m.tasks).toContainEqual(expect.objectContaining({ name: 'Sync All Scenes', defaultArgs: { mode: 'sync_all' } }));
    expect(m.tasks).toContainEqual(
      expect.objectContaining({ name: 'Sync Recent Scenes', defaultArgs: { mode: 'sync_recent', hours: '24' } }),
    );
    expect(m.settings.redisUrl.type).toBe('STRING');
    expect(m.settings.redisPrefix.type).toBe('STRING');
  });
  it('isTaskMode knows exactly the listed modes', () => {
    expect(PLUGIN_TASKS.every((t) => isTaskMode(t.mode))).toBe(true);
    expect(isTaskMode('drop_everything')).toBe(false);
  });
});
