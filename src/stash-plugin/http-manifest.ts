// The HTTP variants: manifests whose exec posts the plugin input to the dashboard.
//
// For Stash installs without Node.js (Stash's Docker image is Alpine: BusyBox wget is there, curl and
// Node are not). The exec is a command-line client that posts stdin (the plugin input) to
// `POST <STASH2PLEX_URL>/api/stash/hook` and prints the answer, which is already the plugin output
// (`{"output": …}` / `{"error": …}`). Hooks only: the tasks need Node.js; no spool: while stash2plex is
// unreachable the event is not recorded and checkpoint reconciliation catches the scene up.
import { HTTP_HOOK_PATH } from '../hook/input.js';
import { STASH_MIN_VERSION } from '../stash-api/stash-version.js';
import type { HttpHookTarget } from './http-hook-target.js';
import { pluginHooks } from './manifest.js';

export const HTTP_HOOK_VARIANTS = ['wget', 'curl'] as const;
export type HttpHookVariant = (typeof HTTP_HOOK_VARIANTS)[number];
/** Written in place of what the build was not given; `sed` or a rebuild with the variables replaces them. */
export const HTTP_HOOK_PLACEHOLDERS = { url: '<STASH2PLEX_URL>', token: '<HOOK_TOKEN>' } as const;
/** curl's whole-request limit: Stash waits for the hook (the endpoint answers within ~3 s, Redis down or not). */
export const CURL_MAX_TIME_S = 10;

/** The exec argv of an HTTP variant (placeholders for what `target` lacks). */
export function httpHookExec(variant: HttpHookVariant, target: HttpHookTarget = {}): string[] {
  const endpoint = `${target.url ?? HTTP_HOOK_PLACEHOLDERS.url}${HTTP_HOOK_PATH}`;
  const auth = `Authorization: Bearer ${target.token ?? HTTP_HOOK_PLACEHOLDERS.token}`;
  const json = 'Content-Type: application/json';
  if (variant === 'wget') {
    // BusyBox wget (`busybox wget --help`): -q quiet, -O - body to stdout, --post-file reads the body
    // (Stash's JSON on stdin) whole before the request. On an HTTP error it prints nothing on stdout
    // and exits 1: Stash logs wget's one stderr line as the error.
    return ['wget', '-q', '-O', '-', '--header', auth, '--header', json, '--post-file', '/dev/stdin', endpoint];
  }
  // --fail-with-body (curl ≥ 7.76): on an HTTP error print the body (the endpoint's {"error": …}) and exit 22.
  return [
    'curl',
    '-sS',
    '--fail-with-body',
    '--max-time',
    String(CURL_MAX_TIME_S),
    '-X',
    'POST',
    '-H',
    auth,
    '-H',
    json,
    '--data-binary',
    '@-',
    endpoint,
  ];
}

/** The stash2plex.yml of an HTTP variant: hooks only, no tasks, no settings. */
export function httpPluginManifest(version: string, variant: HttpHookVariant, target: HttpHookTarget = {}) {
  const missing = [target.url ? null : 'STASH2PLEX_URL', target.token ? null : 'HOOK_TOKEN'].filter((v): v is string => v !== null);
  const tool = variant === 'wget' ? 'BusyBox wget' : 'curl';
  // The placeholders appear in exec only: filling them in with sed must not copy the token into the
  // description, which Stash shows to every user of its UI.
  const notice = missing.length ? `NOT CONFIGURED: rebuild with ${missing.join(' and ')} set, or fill in the placeholders of exec. ` : '';
  return {
    name: `stash2plex (HTTP hook, ${variant})`,
    description:
      `${notice}Posts scene saves and performer, studio and tag renames to stash2plex (POST ${HTTP_HOOK_PATH}) with ${tool}: nothing to install on the Stash host. ` +
      'Hooks only (the tasks need Node.js: the stash2plex plugin of dist/stash-plugin), no spool: while stash2plex is down, its checkpoint reconciliation catches edited scenes up. ' +
      `Needs Stash ${STASH_MIN_VERSION} or newer.`,
    version,
    exec: httpHookExec(variant, target),
    interface: 'raw',
    hooks: pluginHooks(),
  };
}
