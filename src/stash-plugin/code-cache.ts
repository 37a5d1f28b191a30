// The Stash plugin's code cache. Stash waits for the hook on every scene save, and a hook run is short
// enough that compiling its own code is a large part of it: V8 parses the bundle, then compiles each
// function on its first call. So `stash2plex.cjs` (workers/stash-plugin-loader.ts) runs the hook bundle
// through vm.Script with V8's code cache, written beside it by the first hook that records an event
// (after a run, so it holds every function that run compiled). BENCHMARKS.md measures what it saves.
//
// V8 checks a cache against its own version and flags, but the source only by length: the cache's file
// name carries a hash of the bundle (computed by scripts/build-plugin.mjs), so a rebuilt bundle never
// meets an old cache. A cache V8 rejects (another Node) is written again; one that cannot be written (a
// read-only plugin folder) leaves every run compiling, as without it.
import { readdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Script } from 'node:vm';
import { CODE_CACHE_SAVE } from './code-cache-request.js';

const CODE_CACHE_SUFFIX = '.v8cache';

/** `stash2plex-hook.cjs` with hash `ab12…` → `stash2plex-hook.cjs.ab12….v8cache`. */
const codeCacheName = (bundle: string, hash: string) => `${bundle}.${hash}${CODE_CACHE_SUFFIX}`;

function readCache(file: string): Buffer | undefined {
  try {
    return readFileSync(file);
  } catch {
    return undefined;
  }
}

/** Writes the cache (atomically: hooks run side by side) and removes the caches of other builds. */
function saveCodeCache(script: Script, dir: string, bundle: string, cacheName: string): void {
  const file = join(dir, cacheName);
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, script.createCachedData());
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
  const cachedData = readCache(join(dir, cacheName));
  const script = new Script(`(function (exports, require, module, __filename, __dirname) {${readFileSync(file, 'utf8')}\n})`, {
    filename: file,
    cachedData,
  });
  if (cachedData === undefined || script.cachedDataRejected) {
    let asked = false;
    (globalThis as Record<symbol, unknown>)[CODE_CACHE_SAVE] = () => {
      if (!asked) process.once('exit', () => saveCodeCache(script, dir, bundle, cacheName));
      asked = true;
    };
  }
  const module = { exports: {}, filename: file, id: file, loaded: false };
  (script.runInThisContext() as (...args: unknown[]) => void).call(module.exports, module.exports, requireBeside, module, file, dir);
}
