// How the Stash plugin reaches the Stash that ran it, pure: the URL of its server_connection and the
// credentials it sends (an API key, else the session cookie Stash hands the plugin). Used by the hook's
// settings refresh (./stash-plugin-config.ts), the tasks and the Stash client (src/stash-api/client.ts).
import type { ServerConnection } from './input.js';

/**
 * `Scheme://Host:Port` of the Stash server that ran the plugin. Stash listens on `0.0.0.0` (or `::`)
 * and reports that as its host: the plugin then talks to `localhost`. Null with the reason when the
 * input lacks a piece.
 */
export function stashUrl(conn: ServerConnection): { ok: true; url: string } | { ok: false; error: string } {
  const missing = (['Scheme', 'Host', 'Port'] as const).filter((k) => conn[k] === undefined || conn[k] === '');
  if (missing.length) return { ok: false, error: `server_connection lacks ${missing.join(', ')}: cannot reach Stash` };
  const scheme = conn.Scheme!.toLowerCase();
  if (scheme !== 'http' && scheme !== 'https') return { ok: false, error: `server_connection.Scheme must be http or https` };
  const port = Number(conn.Port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) return { ok: false, error: 'server_connection.Port must be a port number' };
  let host = conn.Host!.trim();
  if (['0.0.0.0', '::', '[::]', ''].includes(host)) host = 'localhost';
  else if (host.includes(':') && !host.startsWith('[')) host = `[${host}]`;
  return { ok: true, url: `${scheme}://${host}:${port}` };
}

/** The session cookie in StashClient's shape, or undefined. */
export function sessionCookieOf(conn: ServerConnection): { name: string; value: string } | undefined {
  const c = conn.SessionCookie;
  return c && c.Name && c.Value ? { name: c.Name, value: c.Value } : undefined;
}

export interface StashCredentials {
  /** Sent as the `ApiKey` header. */
  apiKey?: string | null;
  /** Sent as `Cookie: name=value` when there is no key (the plugin's server_connection.SessionCookie). */
  sessionCookie?: { name: string; value: string } | null;
}

/** Stash's credentials as request headers: the API key when there is one, else the session cookie. */
export function stashAuthHeaders(stashCredentials: StashCredentials): Record<string, string> {
  if (stashCredentials.apiKey) return { ApiKey: stashCredentials.apiKey };
  return stashCredentials.sessionCookie ? { Cookie: `${stashCredentials.sessionCookie.name}=${stashCredentials.sessionCookie.value}` } : {};
}
