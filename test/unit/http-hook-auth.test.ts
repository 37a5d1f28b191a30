// The HTTP hook's pure parts: bearer token compare, browser cross-site refusal, decision → outcome.
import { describe, expect, it } from 'vitest';
import { bearerMatches, hookCrossSite, hookOutcome, parseBearer } from '../../src/dashboard/http-hook.js';
import { decideHook, type HookDecision } from '../../src/hook/decide.js';
import { parsePluginInput } from '../../src/hook/input.js';
import { decodeInboxEntry } from '../../src/model/job.js';
import { encodeInboxEntry } from '../../src/model/inbox-item.js';

const TOKEN = 'hook-token-0123456789abcdef';

describe('bearer token', () => {
  it('parses `Bearer <token>` (scheme in any case, spaces around)', () => {
    expect(parseBearer(`Bearer ${TOKEN}`)).toBe(TOKEN);
    expect(parseBearer(`bearer   ${TOKEN}  `)).toBe(TOKEN);
    expect(parseBearer(`BEARER\t${TOKEN}`)).toBe(TOKEN);
    for (const bad of [undefined, '', 'Bearer', 'Bearer ', `Basic ${TOKEN}`, `Bearer ${TOKEN} extra`, `Bearer${TOKEN}`, TOKEN]) {
      expect(parseBearer(bad), String(bad)).toBeNull();
    }
  });

  it('matches only the exact token', () => {
    expect(bearerMatches(`Bearer ${TOKEN}`, TOKEN)).toBe(true);
    expect(bearerMatches(`Bearer ${TOKEN}x`, TOKEN)).toBe(false);
    expect(bearerMatches(`Bearer ${TOKEN.slice(0, -1)}`, TOKEN)).toBe(false);
    expect(bearerMatches(`Bearer ${TOKEN.toUpperCase()}`, TOKEN)).toBe(false);
    expect(bearerMatches(undefined, TOKEN)).toBe(false);
    expect(bearerMatches('', TOKEN)).toBe(false);
    expect(bearerMatches(`Basic ${Buffer.from(`admin:${TOKEN}`).toString('base64')}`, TOKEN)).toBe(false);
    // An empty expected token never matches (the endpoint is off then anyway).
    expect(bearerMatches('Bearer ', '')).toBe(false);
  });

  it('compares in constant time: a near miss costs what a far miss costs', () => {
    // Both sides are hashed before timingSafeEqual, so the time does not depend on how many leading
    // characters are right. A coarse check (noise-tolerant): medians within a factor of 3.
    const long = 'k'.repeat(4096);
    const time = (header: string) => {
      const runs: number[] = [];
      for (let r = 0; r < 15; r++) {
        const t = process.hrtime.bigint();
        for (let i = 0; i < 300; i++) bearerMatches(header, long);
        runs.push(Number(process.hrtime.bigint() - t));
      }
      return runs.sort((a, b) => a - b)[7];
    };
    time(`Bearer ${long}`); // warm-up
    const near = time(`Bearer ${long.slice(0, -1)}x`);
    const far = time(`Bearer x${long.slice(1)}`);
    expect(Math.max(near, far) / Math.min(near, far)).toBeLessThan(3);
  });
});

describe('browser cross-site posts', () => {
  const host = '127.0.0.1:3000';
  it('lets wget/curl through (no Origin, no Sec-Fetch-Site) and same-origin browser requests', () => {
    expect(hookCrossSite({ host })).toBeNull();
    expect(hookCrossSite({ host, secFetchSite: 'same-origin', origin: 'http://127.0.0.1:3000' })).toBeNull();
    expect(hookCrossSite({ host, secFetchSite: 'none' })).toBeNull();
    expect(hookCrossSite({ host: 'Dash.Local:3000', origin: 'http://dash.local:3000' })).toBeNull();
  });
  it('refuses Sec-Fetch-Site cross-site or same-site, and a foreign, null or malformed Origin', () => {
    expect(hookCrossSite({ host, secFetchSite: 'cross-site' })).toMatch(/cross-site/);
    expect(hookCrossSite({ host, secFetchSite: 'same-site' })).toMatch(/same-site/); // another port of this host
    expect(hookCrossSite({ host, origin: 'http://evil.example' })).toMatch(/Origin/);
    expect(hookCrossSite({ host, origin: 'http://127.0.0.1:9999' })).toMatch(/Origin/); // Stash's own UI origin
    expect(hookCrossSite({ host, origin: 'null' })).toMatch(/Origin/);
    expect(hookCrossSite({ host, origin: 'not a url' })).toMatch(/Origin/);
    expect(hookCrossSite({ origin: 'http://127.0.0.1:3000' })).toMatch(/Origin/); // no Host to compare
  });
});

describe('hookOutcome', () => {
  const input = (hookContext: unknown) => {
    const r = parsePluginInput(
      JSON.stringify({ server_connection: { Scheme: 'http', Host: '0.0.0.0', Port: 9999 }, args: { hookContext } }),
    );
    if (!r.ok) throw new Error(r.error);
    return r.input;
  };

  it('record → the inbox entry of encodeInboxEntry, `queued scene N`', () => {
    const d = decideHook(
      input({ id: 45, type: 'Scene.Update.Post', input: { id: '45', title: 'x' }, inputFields: ['title', 'id'] }),
      1_700_000_000_000,
    );
    const o = hookOutcome(d);
    expect(o).toMatchObject({ status: 200, kind: 'scene', body: { output: 'queued scene 45' } });
    expect(o.entry).toEqual(encodeInboxEntry((d as Extract<HookDecision, { action: 'record' }>).job));
    expect(decodeInboxEntry(o.entry!)).toEqual({
      ok: true,
      job: { sceneId: '45', reason: 'hook', event: 'Scene.Update.Post', fields: ['title', 'id'], enqueuedAt: 1_700_000_000_000 },
    });
  });

  it('skip → 200 `skipped: …` and no entry; reject → 400 error and no entry', () => {
    const skip = hookOutcome(
      decideHook(input({ id: 45, type: 'Scene.Update.Post', input: { id: '45', organized: true }, inputFields: ['organized', 'id'] })),
    );
    expect(skip).toMatchObject({ status: 200, entry: null, kind: 'skip' });
    expect(skip.body).toEqual({ output: expect.stringMatching(/^skipped: scene 45: no field Plex shows changed/) as string });
    const reject = hookOutcome(decideHook(input({ id: 'abc', type: 'Scene.Update.Post', inputFields: ['title'] })));
    expect(reject).toEqual({
      status: 400,
      entry: null,
      kind: 'reject',
      body: { error: expect.stringMatching(/numeric scene id/) as string },
    });
  });

  it('fanout (a performer, studio or tag rename) → the fan-out entry the workers decode; an invalid or unknown one is refused', () => {
    const d = decideHook(
      input({ id: 7, type: 'Performer.Update.Post', input: { id: '7', name: 'New name' }, inputFields: ['name', 'id'] }),
      5,
    );
    expect(d.action).toBe('fanout');
    const o = hookOutcome(d);
    expect(o).toMatchObject({ status: 200, kind: 'fanout', body: { output: 'queued performer 7: every scene with it is re-synced' } });
    expect(decodeInboxEntry(o.entry!)).toEqual({
      ok: true,
      fanout: { relation: 'performer', id: '7', event: 'Performer.Update.Post', enqueuedAt: 5 },
    });
    const badFanout = { action: 'fanout', event: { relation: 'gallery', id: '7', event: 'x', enqueuedAt: 5 } } as unknown as HookDecision;
    expect(hookOutcome(badFanout)).toMatchObject({ status: 400, entry: null });
    expect(hookOutcome({ action: 'explode' } as unknown as HookDecision)).toMatchObject({
      status: 400,
      entry: null,
      body: { error: expect.stringMatching(/unsupported/) as string },
    });
  });
});
