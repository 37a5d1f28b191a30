// The Node plugin's manifest (stash2plex.yml), which scripts/build-plugin.mjs writes, and the hook
// entries every manifest shares (./http-manifest.ts writes the HTTP variants').
import { RENAME_HOOK_TRIGGERS, SCENE_HOOK_TRIGGERS } from '../hook/input.js';
import { DEFAULT_REDIS_PREFIX, DEFAULT_REDIS_URL } from '../hook/settings.js';
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

/** The stash2plex.yml object (YAML-serialised by scripts/build-plugin.mjs). */
export function pluginManifest(version: string) {
  return {
    name: 'stash2plex',
    description:
      'Keeps Plex metadata in step with Stash: every scene save, and every rename of a performer, studio or tag, is queued (in Redis) for a sync to Plex. ' +
      `Needs Stash ${STASH_PLUGIN_MIN_VERSION} or newer (older ones cannot load it) and Node.js 20 or newer on the Stash host.`,
    version,
    exec: ['node', '{pluginDir}/stash2plex.cjs'],
    interface: 'raw',
    hooks: pluginHooks(),
    tasks: PLUGIN_TASKS.map((t) => ({
      name: t.name,
      description: t.description,
      defaultArgs: { mode: t.mode, ...('args' in t ? t.args : {}) },
    })),
    settings: {
      redisUrl: {
        displayName: 'Redis URL',
        description: `redis:// or rediss:// URL of stash2plex's Redis (password in the URL). Default ${DEFAULT_REDIS_URL}. The REDIS_URL environment variable overrides it.`,
        type: 'STRING',
      },
      redisPrefix: {
        displayName: 'Redis key prefix',
        description: `Prefix of stash2plex's Redis keys, as REDIS_PREFIX of the workers. Default ${DEFAULT_REDIS_PREFIX}. The REDIS_PREFIX environment variable overrides it.`,
        type: 'STRING',
      },
      [EXPLAIN_SCENE_SETTING]: {
        displayName: 'Scene to explain',
        description:
          'The id of the scene the task Explain Scene explains: the number in the scene page’s address (…/scenes/12). Save, then run the task.',
        type: 'STRING',
      },
    },
  };
}
