// Node built-ins loaded on first use, for the Stash hook (dist/stash-plugin/stash2plex.cjs), which Stash
// waits for on every scene save: a run that does not need the network never pays for node:net and the
// node:stream it loads (~3 ms, a tenth of a `node -e 0`), nor for node:http(s).
//
// In the plugin's CommonJS bundle through `module.require` — a dynamic import() there would first start Node's
// ESM loader, measured at 20–40 ms, more than all the rest of the hook — and through import() under ESM
// (tsc output, tests, ESM bundles), where `require` does not exist or only throws.

export type LazyBuiltin = 'node:net' | 'node:tls' | 'node:http' | 'node:https';

export function lazyBuiltin<T>(name: LazyBuiltin): Promise<T> {
  // `module` too: an ESM bundle by esbuild has a `require` stub that throws.
  const cjs = typeof module === 'object' && module !== null && typeof module.require === 'function';
  return cjs ? Promise.resolve(module.require(name) as T) : (import(name) as Promise<T>);
}
