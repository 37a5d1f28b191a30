// The hook's side of the code cache (./code-cache.ts): after a run that recorded an event, it asks the
// loader, when the loader ran it without a usable cache, to write one at exit. Kept apart from
// ./code-cache.ts, which the hook bundle need not hold (node:vm, the file handling).

/** Where the loader leaves its save function for the hook. */
export const CODE_CACHE_SAVE = Symbol.for('stash2plex.codeCache.save');

/** Asks for the code cache to be written at exit; nothing when the hook runs without the loader. */
export function requestCodeCacheSave(): void {
  const save = (globalThis as Record<symbol, unknown>)[CODE_CACHE_SAVE];
  if (typeof save === 'function') (save as () => void)();
}
