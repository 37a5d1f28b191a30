// readPluginSettings (src/hook/stash-plugin-config.ts), the hook's one Stash call, against StashSimulator
// over real HTTP (the simulator executes the query against Stash's schema), and against a bare server
// for the answers Stash should never give.
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { StashSimulator } from '../../src/sim/stash.js';
import { PLUGIN_SETTINGS_MAX_BYTES, pluginSettingsOf, readPluginSettings } from '../../src/hook/stash-plugin-config.js';

const KEY = 'stash-settings-key-41c0';
let sim: StashSimulator;

beforeAll(async () => {
  sim = await StashSimulator.start({ apiKey: KEY });
});
afterAll(async () => {
  await sim.stop();
});
afterEach(async () => {
  await sim.setMode('up');
  sim.setLatencyMs(0);
});

async function rejection(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('expected a rejection');
}

describe('readPluginSettings against the Stash simulator', () => {
  it('is empty while nothing is saved, then the saved values (API key)', async () => {
    expect(await readPluginSettings({ url: sim.url, apiKey: KEY, pluginId: 'stash2plex' })).toEqual({});
    sim.setPluginSettings('stash2plex', { redisUrl: 'redis://x:6379', syncPoster: true });
    sim.setPluginSettings('other', { a: 1 });
    expect(await readPluginSettings({ url: `${sim.url}/`, apiKey: KEY, pluginId: 'stash2plex' })).toEqual({
      redisUrl: 'redis://x:6379',
      syncPoster: true,
    });
    expect(sim.count({ operationName: 'PluginConfiguration' })).toBe(2);
  });

  it('Stash v0.24, where `include` is [String!] (not [ID!]): the same settings, and an id that needs escaping', async () => {
    const old = await StashSimulator.start({ apiKey: KEY, version: 'v0.24.0' });
    try {
      old.setPluginSettings('stash2plex', { redisPrefix: 'v24' });
      expect(await readPluginSettings({ url: old.url, apiKey: KEY, pluginId: 'stash2plex' })).toEqual({ redisPrefix: 'v24' });
      old.setPluginSettings('odd "id" \\ é', { a: 1 });
      expect(await readPluginSettings({ url: old.url, apiKey: KEY, pluginId: 'odd "id" \\ é' })).toEqual({ a: 1 });
      expect(old.count({ status: 422 })).toBe(0);
    } finally {
      await old.stop();
    }
  });

  it('authenticates with the session cookie; a stale one is HTTP 401, never echoed', async () => {
    sim.setPluginSettings('s2p-cookie', { redisPrefix: 'p' });
    expect(await readPluginSettings({ url: sim.url, sessionCookie: sim.createSession(), pluginId: 's2p-cookie' })).toEqual({
      redisPrefix: 'p',
    });
    const msg = await rejection(
      readPluginSettings({ url: sim.url, sessionCookie: { name: 'session', value: 'stale-cookie-77' }, pluginId: 's2p-cookie' }),
    );
    expect(msg).toMatch(/^POST \/graphql PluginConfiguration: HTTP 401/);
    expect(msg).not.toContain('stale-cookie-77');
  });

  it('says why when Stash is down, answers 503, or is slower than the timeout', async () => {
    await sim.setMode('503');
    expect(await rejection(readPluginSettings({ url: sim.url, apiKey: KEY, pluginId: 'x' }))).toMatch(/: HTTP 503/);
    await sim.setMode('down');
    expect(await rejection(readPluginSettings({ url: sim.url, apiKey: KEY, pluginId: 'x' }))).toMatch(/ECONNREFUSED/);
    await sim.setMode('up');
    sim.setLatencyMs(2_000);
    const started = performance.now();
    expect(await rejection(readPluginSettings({ url: sim.url, apiKey: KEY, pluginId: 'x', timeoutMs: 200 }))).toMatch(
      /no answer within 200 ms/,
    );
    expect(performance.now() - started).toBeLessThan(1_500);
  });
});

describe('readPluginSettings against answers Stash should not give', () => {
  let server: Server;
  let answer: (res: ServerResponse) => void;
  let url: string;
  beforeAll(async () => {
    server = createServer((req, res) => {
      req.resume();
      req.on('end', () => answer(res));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));
  const json = (status: number, body: unknown) => (res: ServerResponse) =>
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));

  it.each([
    ['a GraphQL error', json(200, { errors: [{ message: 'resolver failed' }] }), /: GraphQL error: resolver failed$/],
    ['a 422 with its reason', json(422, { errors: [{ message: 'Cannot query field' }] }), /: HTTP 422: Cannot query field$/],
    ['HTML', (res: ServerResponse) => res.writeHead(200).end('<html>'), /not a GraphQL JSON body/],
    ['another shape', json(200, { data: { configuration: {} } }), /unexpected response shape at configuration\.plugins$/],
    [
      'a declared oversized body',
      (res: ServerResponse) => res.writeHead(200, { 'content-length': String(PLUGIN_SETTINGS_MAX_BYTES + 1) }).end(),
      /answer too large: Content-Length/,
    ],
    [
      'a chunked oversized body',
      (res: ServerResponse) => res.writeHead(200).end('x'.repeat(PLUGIN_SETTINGS_MAX_BYTES + 10)),
      /answer too large: over the/,
    ],
  ])('rejects %s', async (_name, respond, message) => {
    answer = respond;
    expect(await rejection(readPluginSettings({ url, pluginId: 'stash2plex', apiKey: 'k' }))).toMatch(message);
  });
});

describe('pluginSettingsOf', () => {
  it('reads the plugin entry; null or absent is {}', () => {
    expect(pluginSettingsOf({ data: { configuration: { plugins: { p: { a: 1 } } } } }, 'p')).toEqual({ a: 1 });
    expect(pluginSettingsOf({ data: { configuration: { plugins: { p: null } } } }, 'p')).toEqual({});
    expect(pluginSettingsOf({ data: { configuration: { plugins: {} } } }, 'p')).toEqual({});
    expect(() => pluginSettingsOf({ data: { configuration: { plugins: { p: 'x' } } } }, 'p')).toThrow(/configuration\.plugins\.p$/);
    expect(() => pluginSettingsOf({ errors: [{}] }, 'p')).toThrow(/GraphQL error: without a message/);
  });
});
