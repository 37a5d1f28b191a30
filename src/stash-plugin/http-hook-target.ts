// Where the HTTP hook variants post: STASH2PLEX_URL and HOOK_TOKEN from the build's environment, checked
// (./http-manifest.ts writes them into the variants' exec).
import { HTTP_HOOK_PATH } from '../hook/input.js';

/** Where the HTTP hook posts; a missing piece is written as its placeholder. */
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
