// The plugin's manifests, which scripts/build-plugin.mjs writes: stash2plex.yml (the default, safe in a
// Stash with or without Node.js: its exec is ./stash2plex.sh) and stash2plex-node.yml (node directly, for
// Windows, which has no sh), and the hook entries every manifest shares (./http-manifest.ts writes the
// HTTP variants'). Each variant has its own id (the file name): Stash refuses two plugins of one id.
import { DEFAULTS, STASH_SETTINGS } from '../core/config.js';
import { RENAME_HOOK_TRIGGERS, SCENE_HOOK_TRIGGERS } from '../hook/input.js';
import { DEFAULT_REDIS_PREFIX, DEFAULT_REDIS_URL, PLUGIN_ID, type PluginVariantId } from '../hook/settings.js';
import { STASH_PLUGIN_MIN_VERSION } from '../stash-api/stash-version.js';
import { EXPLAIN_SCENE_SETTING, PLUGIN_TASKS } from './task-list.js';

/** The manifests' hook entries: the same in every variant (Node, wget, curl). */
export function pluginHooks() {
  return [
    {
      name: 'Queue scene for Plex',
      description: 'Records the new or edited scene in the stash2plex queue (nothing for fields Plex does not show).',
      triggeredBy: [...SCENE_HOOK_TRIGGERS],
    },
    {
      name: 'Re-sync scenes after a rename',
      description:
        'Renaming a performer, studio or tag (or merging tags) records one event: the stash2plex workers re-sync every scene carrying it. Other edits (a birthdate, a favourite) are skipped.',
      triggeredBy: [...RENAME_HOOK_TRIGGERS],
    },
  ];
}

/** The script every sh-based variant runs (src/stash-plugin/stash2plex.sh, copied by the build). */
export const PLUGIN_SCRIPT = 'stash2plex.sh';

/** The settings a user changes in Stash (STASH_SETTINGS of src/core/config.ts), as manifest entries. */
export function stashSideSettings() {
  return Object.fromEntries(
    STASH_SETTINGS.map(([key, variable, type, label, help]) => {
      const fallback = DEFAULTS[variable] === undefined ? 'unset' : DEFAULTS[variable];
      return [
        key,
        {
          displayName: label,
          description: `${help}. Empty: ${variable} of the stash2plex workers' environment, else ${fallback}. Applied within STASH_SETTINGS_INTERVAL_MS (30 s), no restart.`,
          type,
        },
      ];
    }),
  );
}

const redisSettings = () => ({
  redisUrl: {
    displayName: 'Redis URL',
    description: `redis:// or rediss:// URL of stash2plex's Redis (password in the URL), for the Node hook and the tasks. Default ${DEFAULT_REDIS_URL}. REDIS_URL in the plugin folder's .env or Stash's environment overrides it.`,
    type: 'STRING',
  },
  redisPrefix: {
    displayName: 'Redis key prefix',
    description: `Prefix of stash2plex's Redis keys, as REDIS_PREFIX of the workers. Default ${DEFAULT_REDIS_PREFIX}. REDIS_PREFIX in the plugin folder's .env or Stash's environment overrides it.`,
    type: 'STRING',
  },
});

const NODE_NOTE = 'Needs Node.js 20 or newer on the Stash host, or the HTTP variant';

/** A Node-capable manifest (hooks, tasks, settings) with its own exec and description. */
function nodeCapableManifest(version: string, name: string, exec: string[], how: string) {
  return {
    name,
    description:
      'Keeps Plex metadata in step with Stash: every scene save, and every rename of a performer, studio or tag, is queued for a sync to Plex; the settings below apply without a restart. ' +
      `${how} Needs Stash ${STASH_PLUGIN_MIN_VERSION} or newer (older ones cannot load it).`,
    version,
    exec,
    interface: 'raw',
    hooks: pluginHooks(),
    tasks: PLUGIN_TASKS.map((t) => ({
      name: t.name,
      description: t.description,
      defaultArgs: { mode: t.mode, ...('args' in t ? t.args : {}) },
    })),
    settings: {
      ...redisSettings(),
      ...stashSideSettings(),
      [EXPLAIN_SCENE_SETTING]: {
        displayName: 'Scene to explain',
        description:
          'The id of the scene the task Explain Scene explains: the number in the scene page’s address (…/scenes/12). Save, then run the task.',
        type: 'STRING',
      },
    },
  };
}

/** stash2plex.yml (id stash2plex): sh runs the Node hook when node is on PATH, else the HTTP hook. */
export function pluginManifest(version: string) {
  return nodeCapableManifest(
    version,
    'stash2plex',
    ['sh', `{pluginDir}/${PLUGIN_SCRIPT}`],
    `${NODE_NOTE}: without node on PATH the hook posts to the stash2plex dashboard (STASH2PLEX_URL and HOOK_TOKEN in this plugin's folder, file .env) and the tasks are unavailable. Windows: the stash2plex-node plugin.`,
  );
}

/** stash2plex-node.yml (id stash2plex-node): node directly, for a Stash without sh (Windows). */
export function nodePluginManifest(version: string) {
  return nodeCapableManifest(
    version,
    'stash2plex (Node)',
    ['node', '{pluginDir}/stash2plex.cjs'],
    `${NODE_NOTE} (Stash's Docker image has no Node: use the stash2plex plugin there). For Windows, where sh is missing.`,
  );
}

/** The manifest file of a variant: its id. */
export const manifestFile = (id: PluginVariantId) => `${id}.yml`;
export { PLUGIN_ID };
