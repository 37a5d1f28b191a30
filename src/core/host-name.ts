// Host names as the dashboard compares them: DASHBOARD_ALLOWED_HOSTS (config) and the Host header
// (the rebinding guard) are read by this one function.

/**
 * The name of a `Host` header, lowercased and without its port (`[::1]:3000` → `::1`); null when the
 * header is missing or is not a plain host[:port].
 */
export function hostHeaderName(header: string | undefined): string | null {
  if (!header) return null;
  const h = header.trim().toLowerCase();
  const m = /^\[([0-9a-f:.]+)\](?::\d{1,5})?$/.exec(h) ?? /^([a-z0-9_.-]+)(?::\d{1,5})?$/.exec(h);
  return m ? m[1].replace(/\.$/, '') : null;
}
