// The HTTP hook (`POST /api/stash/hook` on the dashboard), pure parts: the bearer token check, the
// refusal of browser cross-site posts, and what a hook decision becomes (the inbox entry to XADD, the
// HTTP status, and the one JSON object of the plugin output form the caller prints to Stash).
//
// The endpoint takes exactly the JSON a raw Stash plugin reads on stdin, so a plugin manifest whose exec
// is BusyBox wget or curl (no Node.js on the Stash host) feeds it straight through:
//   exec: [wget, -q, -O, -, --header, "Authorization: Bearer …", --post-file, /dev/stdin, http://…/api/stash/hook]
// and the response body is what the plugin would have printed. The filtering is the Node hook's own
// (decideHook), so both paths record the same events.
import { safeEqual } from './security.js';
import { encodeFanoutEntry, encodeInboxEntry, type FanoutEvent, type SyncJobData } from '../model/inbox-item.js';
import { fanoutSchema } from '../model/job.js';
import type { HookDecision } from '../hook/decide.js';

/** Per remote address: a Stash bulk edit runs one hook per scene, back to back (see README). */
export const DEFAULT_HOOK_RATE_LIMIT = { ratePerSec: 100, burst: 200 } as const;

/** The token of `Authorization: Bearer <token>` (scheme case-insensitive); null when absent or another scheme. */
export function parseBearer(header: string | undefined): string | null {
  if (!header) return null;
  const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  return m ? m[1] : null;
}

/**
 * Whether the request carries the expected token. Constant time in the token (both sides are hashed
 * before a timing-safe compare, so neither the content nor the length leaks); the compare runs even
 * when the header is missing.
 */
export function bearerMatches(header: string | undefined, expected: string): boolean {
  const given = parseBearer(header);
  const equal = safeEqual(given ?? '', expected);
  return given !== null && expected !== '' && equal;
}

export interface HookOriginHeaders {
  origin?: string;
  secFetchSite?: string;
  /** The request's Host header. */
  host?: string;
}

/**
 * Why a request looks like a browser's cross-site post, or null. The legitimate caller (wget or curl
 * run by Stash) sends neither header; a browser sends `Sec-Fetch-Site` and, on a POST, `Origin`.
 * Refused: `Sec-Fetch-Site` other than same-origin/none (`cross-site`, and `same-site`, which includes
 * other ports of the same host), an `Origin` of another host (or `null`: sandboxed frames, file: pages).
 */
export function hookCrossSite(hookOriginHeaders: HookOriginHeaders): string | null {
  const site = hookOriginHeaders.secFetchSite?.trim().toLowerCase();
  if (site !== undefined && site !== '' && site !== 'same-origin' && site !== 'none') return `Sec-Fetch-Site is ${site.slice(0, 40)}`;
  if (hookOriginHeaders.origin !== undefined) {
    let originHost: string | null = null;
    try {
      originHost = hookOriginHeaders.origin === 'null' ? null : new URL(hookOriginHeaders.origin).host.toLowerCase();
    } catch {
      /* malformed: foreign */
    }
    if (originHost === null || !hookOriginHeaders.host || originHost !== hookOriginHeaders.host.trim().toLowerCase())
      return 'the Origin is another site';
  }
  return null;
}

/** What the endpoint does with a decision: the inbox entry to XADD (if any), the status, the body. */
export type HookOutcome =
  | { status: 200; entry: string[] | null; body: { output: string }; kind: 'skip' | 'scene' | 'fanout' }
  | { status: 400; entry: null; body: { error: string }; kind: 'reject' };

/** The plugin's messages: `skipped: …`, `queued scene N`, `queued performer N: every scene with it is re-synced`. */
export function hookOutcome(decision: HookDecision): HookOutcome {
  switch (decision.action) {
    case 'skip':
      return { status: 200, entry: null, body: { output: `skipped: ${decision.why}` }, kind: 'skip' };
    case 'record':
      return recordOutcome(decision.job);
    case 'fanout':
      return fanoutOutcome(decision.event);
    case 'reject':
      return { status: 400, entry: null, body: { error: decision.error }, kind: 'reject' };
    default: {
      // A decision this module does not know yet is refused, never silently answered as success.
      const other = decision as unknown as { action?: unknown };
      return {
        status: 400,
        entry: null,
        body: { error: `unsupported hook decision ${JSON.stringify(String(other.action)).slice(0, 60)}` },
        kind: 'reject',
      };
    }
  }
}

function recordOutcome(job: SyncJobData): HookOutcome {
  return { status: 200, entry: encodeInboxEntry(job), body: { output: `queued scene ${job.sceneId}` }, kind: 'scene' };
}

function fanoutOutcome(event: FanoutEvent): HookOutcome {
  // Validated again (cheap): an entry the workers could not decode must not be acknowledged as queued.
  const parsed = fanoutSchema.safeParse(event);
  if (!parsed.success)
    return {
      status: 400,
      entry: null,
      body: { error: `invalid fan-out event: ${parsed.error.issues[0]?.message ?? 'malformed'}` },
      kind: 'reject',
    };
  const e = parsed.data;
  return {
    status: 200,
    entry: encodeFanoutEntry(e),
    body: { output: `queued ${e.relation} ${e.id}: every scene with it is re-synced` },
    kind: 'fanout',
  };
}
