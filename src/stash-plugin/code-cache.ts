// The Stash plugin's code cache. Stash waits for the hook on every scene save, and a hook run is short
// enough that compiling its own code is a large part of it: V8 parses the bundle, then compiles each
// function on its first call. So `stash2plex.cjs` (workers/stash-plugin-loader.ts) runs the hook bundle
// through vm.Script with V8's code cache, written beside it by the first hook that records an event
// (after a run, so it holds every function that run compiled). BENCHMARKS.md measures what it saves.
//
// V8 trusts the bytes of a cache: it checks its own version, flags and the source's length, then
// deserializes, and damaged bytes of the right length crash the process (a V8 fatal error, SIGTRAP or
// SIGSEGV: Stash gets no answer, the event is lost). So the file carries a header of our own, checked
// before V8 sees a byte: a magic, the payload's length and a 128-bit checksum of the payload seeded with
// the bundle's hash and the Node version and architecture (./code-cache-format.ts). A cache that is
// damaged, truncated, of another build or Node, or unreadable is removed and the run compiles; the next
// run that records an event writes a fresh one. A cache V8 still rejects is treated the same. The file
// name carries the bundle's hash too (computed by scripts/build-plugin.mjs), so a rebuilt bundle never
// even reads an old cache; one that cannot be written (a read-only plugin folder) leaves every run
// compiling, as without it.
import { readdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Script } from 'node:vm';
import { CODE_CACHE_SAVE } from './code-cache-request.js';
import { codeCacheIdentity, openCodeCache, sealCodeCache } from './code-cache-format.js';

const CODE_CACHE_SUFFIX = '.v8cache';

/** `stash2plex-hook.cjs` with hash `ab12…` → `stash2plex-hook.cjs.ab12….v8cache`. */
const codeCacheName = (bundle: string, hash: string) => `${bundle}.${hash}${CODE_CACHE_SUFFIX}`;

/** Removes a cache that cannot be used, so that no later run reads it again (the next recorded event writes one). */
function dropCache(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    /* gone already, or a read-only folder */
  }
}

/** The cache's payload for V8 when the file is intact and ours; else undefined (and a bad file is removed). */
function readCache(file: string, identity: string): Uint8Array | undefined {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') dropCache(file); // unreadable
    return undefined;
  }
  const payload = openCodeCache(bytes, identity);
  if (payload === undefined) dropCache(file);
  return payload;
}

/** Writes the cache (atomically: hooks run side by side) and removes the caches of other builds. */
function saveCodeCache(script: Script, dir: string, bundle: string, cacheName: string, identity: string): void {
  const file = join(dir, cacheName);
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, sealCodeCache(script.createCachedData(), identity));
    renameSync(tmp, file);
    for (const name of readdirSync(dir)) {
      if (name !== cacheName && name.startsWith(`${bundle}.`) && name.endsWith(CODE_CACHE_SUFFIX)) unlinkSync(join(dir, name));
    }
  } catch {
    try {
      unlinkSync(tmp);
    } catch {
      /* never written */
    }
  }
}

/**
 * Runs the CommonJS bundle `dir/bundle` as Node would (`require` resolves beside it), from its code cache
 * when there is a usable one. Without one, the bundle may ask for it to be written at exit
 * (requestCodeCacheSave).
 */
export function runWithCodeCache(dir: string, bundle: string, hash: string, requireBeside: NodeJS.Require): void {
  const file = join(dir, bundle);
  const cacheName = codeCacheName(bundle, hash);
  const identity = codeCacheIdentity(hash);
  const cachedData = readCache(join(dir, cacheName), identity);
  const script = new Script(`(function (exports, require, module, __filename, __dirname) {${readFileSync(file, 'utf8')}\n})`, {
    filename: file,
    cachedData,
  });
  if (cachedData === undefined || script.cachedDataRejected) {
    if (cachedData !== undefined) dropCache(join(dir, cacheName)); // another V8 wrote it, or its flags differ
    let asked = false;
    (globalThis as Record<symbol, unknown>)[CODE_CACHE_SAVE] = () => {
      if (!asked) process.once('exit', () => saveCodeCache(script, dir, bundle, cacheName, identity));
      asked = true;
    };
  }
  // As Node's own module object: `module.require` is how the bundle loads built-ins lazily (src/core/lazy-builtin.ts).
  const module = { exports: {}, filename: file, id: file, loaded: false, require: requireBeside };
  (script.runInThisContext() as (...args: unknown[]) => void).call(module.exports, module.exports, requireBeside, module, file, dir);
}
