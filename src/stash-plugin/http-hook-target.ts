// Where the HTTP hook posts (stash2plex.sh: the HTTP variants, and the stash2plex plugin where Node is
// missing): STASH2PLEX_URL and HOOK_TOKEN from the build's environment, checked, and written into the
// plugin folders' .env (never into a manifest: Stash logs a plugin's command line).
import { HTTP_HOOK_PATH } from '../hook/input.js';

/** Where the HTTP hook posts; a missing piece is left out of the plugin folder's .env. */
export interface HttpHookTarget {
  /** STASH2PLEX_URL, normalised: scheme, host, port and an optional base path, no trailing slash. */
  url?: string;
  /** HOOK_TOKEN. */
  token?: string;
}

export type HttpHookTargetResult = { ok: true; target: HttpHookTarget; missing: string[] } | { ok: false; variable: string; error: string };

/** RFC 6750 b64token: what may follow `Bearer ` in the header. `openssl rand -hex 32` gives one. */
const BEARER_TOKEN_RE = /^[A-Za-z0-9\-._~+/]+=*$/;

/**
 * STASH2PLEX_URL (the dashboard as Stash reaches it, e.g. http://stash2plex:3000) and HOOK_TOKEN from
 * the environment; unset or blank ones are listed in `missing` (the manifest gets placeholders). A set
 * but unusable value is an error naming the variable (never echoing the token).
 */
export function resolveHttpHookTarget(env: Record<string, string | undefined>): HttpHookTargetResult {
  const target: HttpHookTarget = {};
  const missing: string[] = [];
  const rawUrl = env.STASH2PLEX_URL?.trim();
  if (!rawUrl) missing.push('STASH2PLEX_URL');
  else {
    let u: URL;
    try {
      u = new URL(rawUrl);
    } catch {
      return { ok: false, variable: 'STASH2PLEX_URL', error: 'must be an http:// or https:// URL, e.g. http://stash2plex:3000' };
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') {
      return { ok: false, variable: 'STASH2PLEX_URL', error: 'must be an http:// or https:// URL, e.g. http://stash2plex:3000' };
    }
    if (u.username || u.password)
      return { ok: false, variable: 'STASH2PLEX_URL', error: 'must not carry credentials (the hook authenticates with HOOK_TOKEN)' };
    if (u.search || u.hash) return { ok: false, variable: 'STASH2PLEX_URL', error: 'must not have a query or a fragment' };
    if (u.pathname.endsWith(HTTP_HOOK_PATH)) {
      return { ok: false, variable: 'STASH2PLEX_URL', error: `is the dashboard's base URL, without ${HTTP_HOOK_PATH}` };
    }
    if (u.href.includes('{')) return { ok: false, variable: 'STASH2PLEX_URL', error: 'must not contain braces' };
    target.url = `${u.origin}${u.pathname.replace(/\/+$/, '')}`;
  }
  const token = env.HOOK_TOKEN?.trim();
  if (!token) missing.push('HOOK_TOKEN');
  else if (!BEARER_TOKEN_RE.test(token)) {
    return {
      ok: false,
      variable: 'HOOK_TOKEN',
      error: 'must be a bearer token: letters, digits and - . _ ~ + / (RFC 6750), e.g. the output of `openssl rand -hex 32`',
    };
  } else target.token = token;
  return { ok: true, target, missing };
}

/** The plugin folder's .env for `target` (null when the build was given neither): stash2plex.sh reads it. */
export function httpHookDotenv(target: HttpHookTarget): string | null {
  const lines = [target.url ? `STASH2PLEX_URL=${target.url}` : null, target.token ? `HOOK_TOKEN=${target.token}` : null].filter(
    (l): l is string => l !== null,
  );
  if (lines.length === 0) return null;
  return `# Written by scripts/build-plugin.mjs: where the HTTP hook posts (stash2plex.sh reads it). Holds HOOK_TOKEN: keep it private.\n${lines.join('\n')}\n`;
}
