// `node stash2plex.cjs`, the exec of the plugin manifest: runs the plugin process (stash2plex-hook.cjs
// beside it, built from workers/stash-plugin.ts) from V8's code cache (src/stash-plugin/code-cache.ts).
// scripts/build-plugin.mjs bundles this with HOOK_BUNDLE set to the hook bundle's name and hash.
import { runWithCodeCache } from '../src/stash-plugin/code-cache.js';

declare const HOOK_BUNDLE: { name: string; hash: string };

runWithCodeCache(__dirname, HOOK_BUNDLE.name, HOOK_BUNDLE.hash, require);
