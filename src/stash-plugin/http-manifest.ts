// The HTTP variants: manifests whose exec posts the plugin input to the dashboard, always.
//
// For a Stash before v0.24.0 (no plugin settings) or one that must never run Node: their exec is
// stash2plex.sh with the tool named (BusyBox wget, in Stash's Alpine Docker image; or curl ≥ 7.76), which
// posts stdin (the plugin input) to `POST <STASH2PLEX_URL>/api/stash/hook` and prints the answer, already
// the plugin output (`{"output": …}` / `{"error": …}`). STASH2PLEX_URL and HOOK_TOKEN are read from the
// plugin folder's .env, never from the command line (Stash logs a plugin's command at Debug level).
// Hooks only (the tasks need Node.js), no settings (the stash2plex plugin carries them, and runs this
// same HTTP hook where Node is missing), no spool: while stash2plex is unreachable the event is not
// recorded and checkpoint reconciliation catches the scene up.
import { HTTP_HOOK_PATH } from '../hook/input.js';
import { STASH_MIN_VERSION } from '../stash-api/stash-version.js';
import { pluginHooks, PLUGIN_SCRIPT } from './manifest.js';

export const HTTP_HOOK_VARIANTS = ['wget', 'curl'] as const;
export type HttpHookVariant = (typeof HTTP_HOOK_VARIANTS)[number];
/** Each variant's plugin id (its manifest's file name). */
export const HTTP_VARIANT_IDS = { wget: 'stash2plex-http', curl: 'stash2plex-curl' } as const satisfies Record<HttpHookVariant, string>;
/** How long the HTTP hook waits for the dashboard by default (stash2plex.sh; S2P_HOOK_HTTP_TIMEOUT_S). */
export const HTTP_HOOK_TIMEOUT_S = 5;

/** The exec argv of an HTTP variant: no URL, no token (both in the plugin folder's .env). */
export function httpHookExec(variant: HttpHookVariant): string[] {
  return ['sh', `{pluginDir}/${PLUGIN_SCRIPT}`, variant];
}

/** The manifest of an HTTP variant: hooks only, no tasks, no settings. */
export function httpPluginManifest(version: string, variant: HttpHookVariant) {
  const tool = variant === 'wget' ? 'BusyBox wget' : 'curl';
  return {
    name: `stash2plex (HTTP hook, ${variant})`,
    description:
      `Posts scene saves and performer, studio and tag renames to stash2plex (POST ${HTTP_HOOK_PATH}) with ${tool}: no Node.js needed on the Stash host. ` +
      `Reads STASH2PLEX_URL and HOOK_TOKEN from this plugin's folder (file .env); gives up after ${HTTP_HOOK_TIMEOUT_S} s. ` +
      'Hooks only, no settings: the stash2plex plugin (which needs Node.js 20 or newer, or runs this same HTTP hook without it) has the tasks and the settings. ' +
      `Needs Stash ${STASH_MIN_VERSION} or newer.`,
    version,
    exec: httpHookExec(variant),
    interface: 'raw',
    hooks: pluginHooks(),
  };
}
