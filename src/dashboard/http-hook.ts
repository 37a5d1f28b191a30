// The HTTP hook (`POST /api/stash/hook` on the dashboard), pure parts: the token check (bearer header, or
// the body's first line), the refusal of browser cross-site posts, and what a hook decision becomes (the
// inbox entry to XADD, the HTTP status, and the one JSON object of the plugin output form the caller
// prints to Stash).
//
// The endpoint takes the JSON a raw Stash plugin reads on stdin, posted by stash2plex.sh (no Node.js on
// the Stash host) in one of two forms:
//   Authorization: Bearer <HOOK_TOKEN>, Content-Type: application/json, body: the plugin input (curl, the
//     Node hook, scripts of earlier releases);
//   Content-Type: application/x-stash2plex-hook, body: HOOK_TOKEN, a newline, the plugin input (wget, which
//     can only take a header from its argv, where every local user's `ps` would show the token).
// The response body is what the plugin would have printed. The filtering is the Node hook's own
// (decideHook), so both paths record the same events.
import { HTTP_HOOK_TOKEN_BODY_TYPE } from '../hook/input.js';
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
  return tokenMatches(parseBearer(header), expected);
}

/** `given` is the expected token (null: none given). Constant time, as bearerMatches. */
export function tokenMatches(given: string | null, expected: string): boolean {
  const equal = safeEqual(given ?? '', expected);
  return given !== null && given !== '' && expected !== '' && equal;
}

/** Whether a Content-Type (parameters ignored, any case) is the token-in-body form's. */
export function isTokenBodyType(contentType: string | undefined): boolean {
  return contentType?.split(';')[0].trim().toLowerCase() === HTTP_HOOK_TOKEN_BODY_TYPE;
}

/**
 * The longest first line read as the token before it is refused unread further. Fixed, so when reading
 * stops says nothing of the token's length (longer for a HOOK_TOKEN that would not fit, which the plugin
 * refuses to send anyway).
 */
export function tokenLineCap(expected: string): number {
  return Math.max(4096, Buffer.byteLength(expected, 'utf8'));
}

/** Where the token line of the body read so far ends. */
export type TokenLineScan =
  /** No newline yet, and not past the cap. */
  | { kind: 'more' }
  /** The token is bytes [0, end); the plugin input starts after the newline at `end`. */
  | { kind: 'line'; end: number }
  /** No newline within the cap: not the token, whatever follows. */
  | { kind: 'too-long' };

/** The token line of a body's first bytes (`head`): ends at the first newline, at most `cap` bytes before it. */
export function scanTokenLine(head: Buffer, cap: number): TokenLineScan {
  const newline = head.indexOf(0x0a);
  if (newline >= 0) return newline <= cap ? { kind: 'line', end: newline } : { kind: 'too-long' };
  return head.length > cap ? { kind: 'too-long' } : { kind: 'more' };
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
