// Fuzzing the hook's stdin: thousands of generated inputs (truncated, wrong types, deep nesting, huge
// strings, invalid UTF-8). The parse-and-decide core sees all of them in process; a sample also runs
// through the real plugin process: one JSON object on stdout, no stack trace, exit within a second,
// and nothing recorded for invalid input.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keys } from '../../src/core/keys.js';
import { decideHook } from '../../src/hook/decide.js';
import { parsePluginInput } from '../../src/hook/input.js';
import { runNode } from '../helpers/proc.js';
import { testRedis, testRedisUrl, uniquePrefix } from '../helpers/redis.js';
import { rng } from '../helpers/rng.js';

const PLUGIN = 'dist/stash-plugin/stash2plex.cjs';

const VALID = {
  server_connection: { Scheme: 'http', Host: 'localhost', Port: 9999, PluginDir: '/tmp' },
  args: { hookContext: { id: 12, type: 'Scene.Update.Post', input: { id: '12', title: 'x' }, inputFields: ['title', 'id'] } },
};

function randomValue(r: () => number, depth = 0): unknown {
  const pick = Math.floor(r() * (depth > 6 ? 6 : 9));
  switch (pick) {
    case 0:
      return null;
    case 1:
      return r() < 0.5;
    case 2:
      return Math.floor((r() - 0.5) * 1e6);
    case 3:
      return r() * 1e308 * (r() < 0.5 ? -1 : 1);
    case 4:
      return 'x'.repeat(Math.floor(r() * 50));
    case 5:
      return String.fromCharCode(...Array.from({ length: 8 }, () => Math.floor(r() * 0xffff)));
    case 6:
      return Array.from({ length: Math.floor(r() * 4) }, () => randomValue(r, depth + 1));
    case 7:
      return Object.fromEntries(Array.from({ length: Math.floor(r() * 4) }, (_, i) => [`k${i}`, randomValue(r, depth + 1)]));
    default:
      return { server_connection: randomValue(r, depth + 1), args: { hookContext: randomValue(r, depth + 1) } };
  }
}

/** One fuzzed stdin, as bytes. */
function fuzzInput(r: () => number): Buffer {
  const valid = JSON.stringify(VALID);
  switch (Math.floor(r() * 8)) {
    case 0:
      return Buffer.from(valid.slice(0, Math.floor(r() * valid.length))); // truncated
    case 1:
      return Buffer.from(JSON.stringify(randomValue(r))); // wrong types anywhere
    case 2: {
      // deep nesting
      const d = 1 + Math.floor(r() * 5000);
      return Buffer.from('['.repeat(d) + ']'.repeat(r() < 0.5 ? d : Math.floor(d / 2)));
    }
    case 3:
      return Buffer.from(JSON.stringify({ ...VALID, args: { hookContext: { ...VALID.args.hookContext, id: randomValue(r) } } }));
    case 4:
      return Buffer.from(JSON.stringify({ ...VALID, pad: 'y'.repeat(Math.floor(r() * 1_300_000)) })); // huge: up to past the 1 MiB cap
    case 5:
      return Buffer.from(Array.from({ length: Math.floor(r() * 200) }, () => Math.floor(r() * 256))); // invalid UTF-8
    case 6: {
      // valid JSON with invalid UTF-8 inside a string
      const b = Buffer.from(valid);
      const at = valid.indexOf('"x"') + 1;
      b[at] = 0xff;
      return b;
    }
    default:
      return Buffer.from(JSON.stringify({ ...VALID, args: { hookContext: { ...VALID.args.hookContext, inputFields: randomValue(r) } } }));
  }
}

describe('hook stdin fuzz, in process', () => {
  it('5 000 inputs: every one parses to an error or a decision, none throws, none records an invalid id', () => {
    const r = rng(20261129);
    for (let i = 0; i < 5_000; i++) {
      const bytes = fuzzInput(r);
      const parsed = parsePluginInput(bytes.toString('utf8'));
      if (!parsed.ok) {
        expect(typeof parsed.error, `seed case ${i}`).toBe('string');
        expect(parsed.error).not.toMatch(/\n\s+at /);
        continue;
      }
      const d = decideHook(parsed.input, 1);
      if (d.action === 'record') expect(d.job.sceneId, `case ${i}`).toMatch(/^[1-9]\d*$/);
      if (d.action === 'fanout') expect(d.event.id, `case ${i}`).toMatch(/^[1-9]\d*$/);
    }
    // CPU-bound (megabytes of JSON): a bound for a machine whose cores are busy with other work too.
  }, 120_000);
});

describe('hook stdin fuzz, real processes', () => {
  const redis = testRedis();
  const prefix = uniquePrefix('fuzz');
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 's2p-fuzz-'));
  });
  afterAll(() => redis.disconnect());

  it('150 fuzzed runs: one JSON object each, no stack trace, quick exit, nothing recorded for invalid input', async () => {
    const r = rng(7);
    let recorded = 0;
    let slowest = 0;
    for (let i = 0; i < 150; i++) {
      const bytes = fuzzInput(r);
      const expected = (() => {
        const p = parsePluginInput(bytes.toString('utf8'));
        if (!p.ok) return 'error';
        return decideHook(p.input).action;
      })();
      const res = await runNode(PLUGIN, bytes, { REDIS_URL: testRedisUrl(), REDIS_PREFIX: prefix, HOME: dir }, 5_000);
      slowest = Math.max(slowest, res.ms);
      const lines = res.stdout.trim().split('\n');
      expect(lines, `case ${i}: ${res.stdout.slice(0, 200)}`).toHaveLength(1);
      const out = JSON.parse(lines[0]) as { output?: unknown; error?: string | null };
      expect(res.stdout).not.toMatch(/\n\s+at |Error: .*\n/);
      if (expected === 'error' || expected === 'reject') {
        expect(out.error, `case ${i}`).toEqual(expect.any(String));
        expect(res.code).not.toBe(0);
      } else {
        expect(res.code, `case ${i}: ${res.stdout}`).toBe(0);
        if (expected === 'record' || expected === 'fanout') recorded++;
      }
      // Never waits on a timeout (5 s); generous for a busy machine, where starting node alone takes ~1 s.
      expect(res.ms, `case ${i} took ${Math.round(res.ms)} ms`).toBeLessThan(3_000);
    }
    // Exactly the valid, relevant inputs were recorded: nothing for the invalid ones.
    expect(await redis.xlen(keys(prefix).inbox)).toBe(recorded);
    console.log(`[fuzz] 150 runs, ${recorded} recorded, slowest ${Math.round(slowest)} ms`);
  }, 120_000);
});
