// Lua lives in named .lua files with a header of its keys, arguments and result (src/core/lua.ts), not in
// template strings of TypeScript; each file is loaded by a luaScript(…) call and documents what it uses.
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { luaScript } from '../../src/core/lua.js';

const SRC = resolve(import.meta.dirname, '../../src');
const all = readdirSync(SRC, { recursive: true, encoding: 'utf8' }).map((f) => f.split('\\').join('/'));
const luaFiles = all.filter((f) => f.endsWith('.lua')).sort();
const tsFiles = all.filter((f) => f.endsWith('.ts'));
const HEADER = /^--\[\[\n([\s\S]*?)\n\]\]\n/;
const used = (body: string, what: 'KEYS' | 'ARGV') =>
  [...new Set([...body.matchAll(new RegExp(`${what}\\[(\\d+)\\]`, 'g'))].map((m) => Number(m[1])))].sort();

describe('Lua scripts', () => {
  it('are .lua files, not Lua in TypeScript strings', () => {
    expect(luaFiles).toEqual([
      'dlq/lua/restoreDedup-2.lua',
      'resilience/lua/fencedWrite.lua',
      'resilience/lua/leaseAcquire-1.lua',
      'resilience/lua/leaseRelease-1.lua',
      'supervisor/lua/holdQueue-9.lua',
    ]);
    const holdingLua = tsFiles.filter((f) => /KEYS\[\d|ARGV\[\d/.test(readFileSync(join(SRC, f), 'utf8')));
    expect(holdingLua).toEqual([]);
  });

  it.each(luaFiles)('%s opens with a header naming every KEYS and ARGV it uses, and its output', (file) => {
    const text = readFileSync(join(SRC, file), 'utf8');
    const header = HEADER.exec(text);
    expect(header, 'a --[[ … ]] header').not.toBeNull();
    const [doc, body] = [header![1], text.slice(header![0].length)];
    expect(doc).toMatch(/\n {2}Input:\n/);
    expect(doc).toMatch(/\n {2}Output:\n/);
    for (const n of used(body, 'KEYS')) expect(doc, `KEYS[${n}] documented`).toMatch(new RegExp(`KEYS\\[${n}(\\]|\\.\\.)`));
    for (const n of used(body, 'ARGV')) expect(doc, `ARGV[${n}] documented`).toContain(`ARGV[${n}]`);
    const script = luaScript(file);
    if (script.numberOfKeys !== undefined)
      expect(used(body, 'KEYS').at(-1), 'the -N suffix is the number of keys').toBe(script.numberOfKeys);
  });

  it('each is loaded by exactly one luaScript(…) call in src/', () => {
    const calls = tsFiles.flatMap((f) => [...readFileSync(join(SRC, f), 'utf8').matchAll(/= luaScript\('([^']+)'\)/g)].map((m) => m[1]));
    expect(calls.sort()).toEqual(luaFiles);
  });
});
