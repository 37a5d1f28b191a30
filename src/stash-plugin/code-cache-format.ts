// The code cache file's format, pure (./code-cache.ts does the file work): V8's bytes behind a 24-byte
// header of our own, checked before V8 sees them, since V8 deserializes a cache of the right length
// without checking its bytes (damaged ones crash the process).
//
//   offset 0   uint32 "S2PC"          magic (format 1)
//          4   uint32                 length of V8's bytes (the rest of the file)
//          8   4 × uint32             checksum of V8's bytes, seeded with the cache's identity
//         24   V8's bytes             (8-byte aligned, so V8 need not copy them)
// (uint32s in the machine's byte order.)
//
// The checksum runs on every hook (in the loader, before the bundle): it must cost a small fraction of
// what the cache saves. Measured in fresh processes, interleaved, on a busy 2-core machine (where a hook
// run took 100 ms): reading and checking the ~70 KB cache this way 0.6 ms more than reading it;
// zlib.crc32 3.2 ms (loading node:zlib is most of it), a sha256 of node:crypto 6 ms. So this is plain
// JS over 32-bit words in four interleaved lanes. Each lane's step, state ← xorshift(imul(state ^ word,
// odd)), is a bijection of the state for a given word and of the word for a given state, so damage that
// touches at most one word of each lane (any run of up to 13 bytes, for one) always changes the
// checksum; wider damage goes unseen only if every lane it touches twice or more happens to collide, a
// chance of about 2^-32 each. Seeding with the identity (the bundle's hash, Node's version and
// architecture) makes a cache of another build or Node fail the check as well.

/** What binds a cache to the bundle of this hash on this Node: a cache of any other fails the checksum. */
export const codeCacheIdentity = (bundleHash: string): string => `${bundleHash}\0${process.version}\0${process.arch}`;

/** "S2PC" read as a little-endian uint32 (the file shows "S2PC" on little-endian machines). */
const MAGIC = 0x43503253;
export const CODE_CACHE_HEADER_BYTES = 24;
/** An odd constant with well-spread bits (2^32 / φ). */
const PRIME = 0x9e3779b1 | 0;

const mix = (state: number, word: number): number => {
  const h = Math.imul(state ^ word, PRIME);
  return h ^ (h >>> 15);
};

/** Four distinct lane seeds from the identity (FNV-1a over its UTF-16 units). */
function seeds(identity: string): [number, number, number, number] {
  let h = 0x811c9dc5 | 0;
  for (let i = 0; i < identity.length; i++) h = Math.imul(h ^ identity.charCodeAt(i), 0x01000193);
  return [mix(h, 1), mix(h, 2), mix(h, 3), mix(h, 4)];
}

/** The 128-bit checksum of `bytes` for `identity`, as four uint32. */
export function codeCacheChecksum(bytes: Uint8Array, identity: string): [number, number, number, number] {
  const aligned = bytes.byteOffset % 4 === 0 ? bytes : new Uint8Array(bytes); // a copy (a Buffer's slice is a view)
  const words = new Int32Array(aligned.buffer, aligned.byteOffset, aligned.length >>> 2);
  let [a, b, c, d] = seeds(identity);
  const whole = words.length & ~3;
  // The hot loop, written out, and Math.imul looked up once: the hook runs it in V8's interpreter, where
  // a call of our own per word, or a property lookup, costs more than the word's own work.
  const imul = Math.imul;
  for (let i = 0; i < whole; i += 4) {
    a = imul(a ^ words[i], PRIME);
    a ^= a >>> 15;
    b = imul(b ^ words[i + 1], PRIME);
    b ^= b >>> 15;
    c = imul(c ^ words[i + 2], PRIME);
    c ^= c >>> 15;
    d = imul(d ^ words[i + 3], PRIME);
    d ^= d >>> 15;
  }
  // The last (up to 3) words, then the last (up to 3) bytes packed into one word, each in the lane its
  // position gives, so that the guarantee above holds to the end. (The length is in the header.)
  const lanes = [a, b, c, d];
  for (let i = whole; i < words.length; i++) lanes[i & 3] = mix(lanes[i & 3], words[i]);
  if (aligned.length % 4 !== 0) {
    let tail = 0;
    for (let i = words.length * 4; i < aligned.length; i++) tail = (tail << 8) | aligned[i];
    lanes[words.length & 3] = mix(lanes[words.length & 3], tail);
  }
  return [lanes[0] >>> 0, lanes[1] >>> 0, lanes[2] >>> 0, lanes[3] >>> 0];
}

/**
 * The file's 32-bit words, in the platform's byte order: the header is read and written through them,
 * with no Buffer method to load on the hook's path. (A file from a machine of the other byte order fails
 * the check, as its V8 bytes would.)
 */
const wordsOf = (bytes: Uint8Array) => new Int32Array(bytes.buffer, bytes.byteOffset, bytes.length >>> 2);

/** V8's cache bytes → the file's bytes. */
export function sealCodeCache(v8Bytes: Uint8Array, identity: string): Buffer {
  const file = Buffer.alloc(CODE_CACHE_HEADER_BYTES + v8Bytes.length);
  file.set(v8Bytes, CODE_CACHE_HEADER_BYTES);
  wordsOf(file).set([MAGIC, v8Bytes.length, ...codeCacheChecksum(v8Bytes, identity)]);
  return file;
}

/** The file's bytes → V8's bytes when the file is whole, undamaged and of this identity; else undefined. */
export function openCodeCache(file: Uint8Array, identity: string): Uint8Array | undefined {
  if (file.length < CODE_CACHE_HEADER_BYTES) return undefined;
  const bytes = file.byteOffset % 4 === 0 ? file : new Uint8Array(file); // a copy, aligned
  const header = wordsOf(bytes);
  if (header[0] !== MAGIC || header[1] !== bytes.length - CODE_CACHE_HEADER_BYTES) return undefined;
  // A plain view, not Buffer#subarray (which builds a Buffer through its species: more first calls).
  const v8Bytes = new Uint8Array(bytes.buffer, bytes.byteOffset + CODE_CACHE_HEADER_BYTES, bytes.length - CODE_CACHE_HEADER_BYTES);
  const sums = codeCacheChecksum(v8Bytes, identity);
  for (let i = 0; i < 4; i++) if (header[2 + i] >>> 0 !== sums[i]) return undefined;
  return v8Bytes;
}
