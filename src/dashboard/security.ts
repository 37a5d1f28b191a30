// Pure pieces of the dashboard's protection: basic auth (constant-time), loopback detection, and the
// cross-site check of state-changing requests.
import { createHash, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import { hostHeaderName } from '../core/host-name.js';

/** Constant-time string equality (both sides hashed first, so lengths leak nothing either). */
export function safeEqual(given: string, expected: string): boolean {
  const ha = createHash('sha256').update(given, 'utf8').digest();
  const hb = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(ha, hb);
}

/** `Authorization: Basic …` → user and password; null when absent or malformed. */
export function parseBasicAuth(header: string | undefined): { user: string; password: string } | null {
  if (!header) return null;
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (!m) return null;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return null;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** True when the credentials match. Both compares always run (no early exit on a wrong user). */
export function checkCredentials(header: string | undefined, expected: { user: string; password: string }): boolean {
  const given = parseBasicAuth(header);
  const userOk = safeEqual(given?.user ?? '', expected.user);
  const passwordOk = safeEqual(given?.password ?? '', expected.password);
  return given !== null && userOk && passwordOk;
}

/** An address (as a socket reports it) on loopback: 127.0.0.0/8, ::1, or IPv4-mapped 127.x. */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (!address) return false;
  const a = address.replace(/^\[|\]$/g, '').toLowerCase();
  if (a === '::1' || a === '0:0:0:0:0:0:0:1') return true;
  const v4 = a.startsWith('::ffff:') ? a.slice(7) : a;
  return isIP(v4) === 4 && v4.startsWith('127.');
}

/** DASHBOARD_HOST on loopback: `localhost`, 127.0.0.0/8 or ::1. `0.0.0.0`, `::` and any other name are not. */
export function isLoopbackHost(host: string): boolean {
  const h = host.trim().toLowerCase();
  return h === 'localhost' || h.endsWith('.localhost') || isLoopbackAddress(h);
}

export interface OriginHeaders {
  origin?: string;
  secFetchSite?: string;
  xRequestedWith?: string;
  /** The request's Host header. */
  host?: string;
}

/** The value of X-Requested-With that the status page sends and the cross-site check accepts. */
export const CSRF_HEADER_VALUE = 'stash2plex';

/**
 * Whether a state-changing request may proceed: the custom header `X-Requested-With: stash2plex`
 * (which no cross-site page can send without a CORS preflight we never grant), or a browser's
 * `Sec-Fetch-Site: same-origin`, or (older browsers) an `Origin` whose host is the request's Host.
 * A request with none of these (a foreign form post, or a script without the header) is refused.
 */
export function sameOriginAllowed(originHeaders: OriginHeaders): { ok: boolean; why: string } {
  if (originHeaders.xRequestedWith === CSRF_HEADER_VALUE) return { ok: true, why: 'custom header' };
  if (originHeaders.secFetchSite !== undefined) {
    return originHeaders.secFetchSite === 'same-origin'
      ? { ok: true, why: 'Sec-Fetch-Site' }
      : { ok: false, why: `Sec-Fetch-Site is ${originHeaders.secFetchSite}` };
  }
  if (originHeaders.origin !== undefined && originHeaders.origin !== 'null') {
    try {
      const o = new URL(originHeaders.origin);
      if (originHeaders.host && o.host.toLowerCase() === originHeaders.host.toLowerCase()) return { ok: true, why: 'Origin' };
    } catch {
      /* malformed: refused below */
    }
    return { ok: false, why: 'cross-origin Origin' };
  }
  return { ok: false, why: 'no Origin, Sec-Fetch-Site or X-Requested-With header' };
}

/**
 * DNS rebinding defence: whether a request's `Host` names this dashboard. A page on `a.example` that
 * rebinds its name to 127.0.0.1 still sends `Host: a.example`, so only loopback names (`localhost`,
 * 127.0.0.0/8, `[::1]`, with any port) and the names of DASHBOARD_ALLOWED_HOSTS pass. `allowed` holds
 * names as hostHeaderName gives them (lowercase, no port).
 */
export function hostAllowed(header: string | undefined, allowed: readonly string[]): boolean {
  const name = hostHeaderName(header);
  if (name === null) return false;
  return isLoopbackHost(name) || allowed.includes(name);
}
