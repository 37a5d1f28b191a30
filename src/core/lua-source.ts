// The one place that reads a .lua file (see src/core/lua.ts for the scheme). `file` is relative to src/,
// e.g. `dlq/lua/restoreDedup-2.lua`: resolved from this module, it is src/… under vitest and dist/src/…
// after `npm run build` (scripts/copy-assets.mjs copies the .lua files there). The Stash plugin bundle
// replaces this module with a table of the files' text (scripts/build-plugin.mjs, plugin `inline-lua`).
import { readFileSync } from 'node:fs';

export function readLuaSource(file: string): string {
  return readFileSync(new URL(`../${file}`, import.meta.url), 'utf8');
}
