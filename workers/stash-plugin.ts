// `node dist/stash-plugin/stash2plex.cjs`: the Stash plugin process (interface raw), for hooks and tasks
// (src/stash-plugin/plugin-process.ts), bundled as stash2plex-hook.cjs, which the loader stash2plex.cjs
// runs from V8's code cache (workers/stash-plugin-loader.ts). The tasks live in stash2plex-tasks.cjs
// beside it, loaded for a task only (scripts/build-plugin.mjs).
import { runPluginProcess } from '../src/stash-plugin/plugin-process.js';

runPluginProcess(process.argv);
