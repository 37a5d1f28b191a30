// The code cache's own header (src/stash-plugin/code-cache-format.ts), on a real V8 code cache: what it
// lets through to V8 is exactly what was sealed, for this identity, byte for byte. V8 itself would
// deserialize damaged bytes of the right length and crash (test/e2e/hook-plugin.test.ts runs that case
// through the plugin).
import { Script } from 'node:vm';
import { describe, expect, it } from 'vitest';
import {
  CODE_CACHE_HEADER_BYTES,
  codeCacheChecksum,
  codeCacheIdentity,
  openCodeCache,
  sealCodeCache,
} from '../../src/stash-plugin/code-cache-format.js';
import { rng } from '../helpers/rng.js';

const IDENTITY = codeCacheIdentity('0123456789abcdef');

/** A V8 code cache of a script whose functions have run (as the plugin writes it: after a run). */
function v8Cache(): Buffer {
  const fns = Array.from({ length: 40 }, (_, i) => `function f${i}(x) { return [x, ${i}, 'f${i}'].map((v) => String(v) + x).join('-'); }`);
  const script = new Script(`${fns.join('\n')}\n[${fns.map((_, i) => `f${i}(${i})`).join(', ')}].length`);
  script.runInThisContext();
  return script.createCachedData();
}

const V8 = v8Cache();
const SEALED = sealCodeCache(V8, IDENTITY);

describe('code cache header', () => {
  it("round-trips V8's bytes, 8-byte aligned after the header, and V8 accepts them", () => {
    expect(SEALED.length).toBe(V8.length + CODE_CACHE_HEADER_BYTES);
    expect(SEALED.subarray(0, 4).toString('latin1')).toBe('S2PC');
    const opened = openCodeCache(SEALED, IDENTITY)!;
    expect(opened).toBeDefined();
    expect(Buffer.compare(opened, V8)).toBe(0);
    expect(CODE_CACHE_HEADER_BYTES % 8).toBe(0);
    expect(V8.length).toBeGreaterThan(2048);
  });

  it("refuses every single damaged byte, anywhere in the file (header or V8's bytes)", () => {
    const file = Buffer.from(SEALED);
    for (let at = 0; at < file.length; at++) {
      for (const flip of [0x01, 0x80, 0xff]) {
        file[at] ^= flip;
        if (openCodeCache(file, IDENTITY) !== undefined) throw new Error(`byte ${at} ^ ${flip} went unseen`);
        file[at] ^= flip;
      }
    }
    expect(openCodeCache(file, IDENTITY)).toBeDefined();
  });

  it('refuses any damaged run of up to 13 bytes, and 2000 random scatterings of damage', () => {
    const r = rng(20);
    const file = Buffer.from(SEALED);
    for (let n = 0; n < 4000; n++) {
      const scattered = n >= 2000;
      const length = scattered ? 2 + Math.floor(r() * 30) : 1 + Math.floor(r() * 13);
      const start = Math.floor(r() * (file.length - length));
      const where = scattered ? Array.from({ length }, () => Math.floor(r() * file.length)) : Array.from({ length }, (_, i) => start + i);
      const damaged = Buffer.from(file);
      for (const at of where) damaged[at] = (damaged[at] + 1 + Math.floor(r() * 255)) & 0xff;
      expect(openCodeCache(damaged, IDENTITY), `damage at ${where.join(',')}`).toBeUndefined();
    }
  });

  it('refuses a truncated or extended file, an empty one, and a bare V8 cache (the format before the header)', () => {
    for (const length of [0, 1, 23, 24, 25, SEALED.length - 8, SEALED.length - 1]) {
      expect(openCodeCache(SEALED.subarray(0, length), IDENTITY), `first ${length} bytes`).toBeUndefined();
    }
    expect(openCodeCache(Buffer.concat([SEALED, Buffer.alloc(8)]), IDENTITY)).toBeUndefined();
    expect(openCodeCache(V8, IDENTITY)).toBeUndefined();
  });

  it('refuses the cache of another build or another Node (the identity seeds the checksum)', () => {
    expect(openCodeCache(SEALED, codeCacheIdentity('fedcba9876543210'))).toBeUndefined();
    expect(openCodeCache(SEALED, IDENTITY.replace(process.version, 'v99.0.0'))).toBeUndefined();
    expect(openCodeCache(sealCodeCache(V8, codeCacheIdentity('fedcba9876543210')), IDENTITY)).toBeUndefined();
  });

  it('checks bytes wherever they sit in memory, and a length that is not a multiple of 4 to its last byte', () => {
    const shifted = Buffer.alloc(SEALED.length + 3);
    SEALED.copy(shifted, 3);
    expect(openCodeCache(shifted.subarray(3), IDENTITY)).toBeDefined();
    const odd = Buffer.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
    const sum = codeCacheChecksum(odd, IDENTITY);
    for (let at = 0; at < odd.length; at++) {
      const changed = Buffer.from(odd);
      changed[at] ^= 0x40;
      expect(codeCacheChecksum(changed, IDENTITY), `byte ${at}`).not.toEqual(sum);
    }
  });
});
