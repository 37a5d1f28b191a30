// A plugin task that reads Plex, without PLEX_URL / PLEX_TOKEN in the plugin's environment, asks the
// stash2plex dashboard to do the Plex part: POST STASH2PLEX_URL/api/stash/task/<name> with the bearer
// HOOK_TOKEN (both from the plugin folder's .env, as the HTTP hook's), so nobody copies Plex credentials
// into the plugin folder. The answer is a stream of JSON lines (src/dashboard/task-stream.ts): heartbeats,
// progress, then the result or an error. Every failure is one line naming STASH2PLEX_URL or HOOK_TOKEN,
// within a timeout; the token goes in the Authorization header only, never in a URL or a message.
import { resolveHttpHookTarget } from './http-hook-target.js';

/** The dashboard as the plugin reaches it. */
export interface DashboardTarget {
  /** STASH2PLEX_URL, normalised (no trailing slash). */
  url: string;
  token: string;
}

/** Where a task's Plex part runs: here, on the dashboard, or nowhere (with why the dashboard is no way). */
export type PlexRoute = { where: 'here' } | { where: 'dashboard'; target: DashboardTarget } | { where: 'nowhere'; dashboard: string };

/**
 * Here when the plugin's environment has what the task needs of Plex (`needs`: PLEX_URL, and PLEX_TOKEN
 * unless only the unauthenticated probe runs); else the dashboard when STASH2PLEX_URL and HOOK_TOKEN are
 * set and usable; else nowhere.
 */
export function plexRouteOf(env: Record<string, string | undefined>, needs: 'url' | 'url and token'): PlexRoute {
  const hasUrl = Boolean(env.PLEX_URL?.trim());
  if (hasUrl && (needs === 'url' || env.PLEX_TOKEN?.trim())) return { where: 'here' };
  const resolved = resolveHttpHookTarget(env);
  if (!resolved.ok) return { where: 'nowhere', dashboard: `${resolved.variable} ${resolved.error}` };
  const { url, token } = resolved.target;
  if (url && token) return { where: 'dashboard', target: { url, token } };
  return { where: 'nowhere', dashboard: `${resolved.missing.join(' and ')} ${resolved.missing.length > 1 ? 'are' : 'is'} not set` };
}

/** How long the dashboard may take to start answering, and to say anything at all once it has. */
export interface DashboardTimeouts {
  firstAnswerMs: number;
  idleMs: number;
}

/** The dashboard writes a heartbeat every 5 s: 30 s of silence is a hung dashboard or network. */
export const DASHBOARD_TIMEOUTS: DashboardTimeouts = { firstAnswerMs: 10_000, idleMs: 30_000 };
/** Largest answer read (a restore lists at most a few hundred scenes; an explanation its candidates). */
const MAX_ANSWER_BYTES = 32 * 1024 * 1024;
/** Longest text of the dashboard's quoted in a message. */
const MAX_DETAIL = 300;

/** A failure of asking the dashboard: `message` is one line fit for Stash; `status` the dashboard's, if it answered. */
export class DashboardTaskError extends Error {
  constructor(
    message: string,
    /** The dashboard's own words, when it gave any (already free of the token). */
    readonly detail: string | null,
    readonly status: number | null,
  ) {
    super(message);
  }
}

export interface AskOptions {
  /** Each progress update of the run, as the dashboard sent it. */
  onProgress?: (update: unknown) => void;
  timeouts?: DashboardTimeouts;
}

/** `text` without the token and clipped: whatever a server says is never trusted to leave it out. */
function clean(text: string, token: string): string {
  const t = text.split(token).join('<HOOK_TOKEN>').replace(/\s+/g, ' ').trim();
  return t.length > MAX_DETAIL ? `${t.slice(0, MAX_DETAIL)}…` : t;
}

/** The message of a refusal before the run (an HTTP status other than 200). */
function refusalMessage(where: string, status: number, detail: string): string {
  if (status === 401) return `HOOK_TOKEN rejected by the dashboard at ${where}: the plugin folder's HOOK_TOKEN must be the dashboard's`;
  if (status === 404)
    return `the dashboard at ${where} answered 404 (${detail}): STASH2PLEX_URL must be the stash2plex dashboard, with HOOK_TOKEN set there`;
  return `the dashboard at ${where} answered ${status}: ${detail}`;
}

/** Why a request failed without an answer: the network error's code (ECONNREFUSED…) or its message. */
function networkWhy(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } })?.cause;
  return cause?.code ?? cause?.message ?? (err as Error)?.message ?? String(err);
}

/**
 * POSTs `body` to the task route `name` and reads the stream: resolves with the run's result, calls
 * onProgress for each progress line, throws a DashboardTaskError for every failure.
 */
export async function askDashboard(target: DashboardTarget, name: string, body: object, opts: AskOptions = {}): Promise<unknown> {
  const timeouts = opts.timeouts ?? DASHBOARD_TIMEOUTS;
  const where = `${target.url} (STASH2PLEX_URL)`;
  const abort = new AbortController();
  let silent = `did not answer within ${timeouts.firstAnswerMs / 1000} s`;
  let timer = setTimeout(() => abort.abort(), timeouts.firstAnswerMs);
  const fail = (message: string, detail: string | null = null, status: number | null = null) =>
    new DashboardTaskError(clean(message, target.token), detail === null ? null : clean(detail, target.token), status);
  try {
    let res: Response;
    try {
      res = await fetch(`${target.url}/api/stash/task/${name}`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${target.token}`, 'Content-Type': 'application/json', Accept: 'application/x-ndjson' },
        body: JSON.stringify(body),
        signal: abort.signal,
        redirect: 'error',
      });
    } catch (err) {
      throw fail(
        abort.signal.aborted
          ? `the stash2plex dashboard at ${where} ${silent}`
          : `the stash2plex dashboard at ${where} is unreachable: ${networkWhy(err)}`,
      );
    }
    if (res.status !== 200) {
      const text = await res.text().catch(() => '');
      let detail = text.slice(0, MAX_DETAIL) || res.statusText;
      try {
        const said = (JSON.parse(text) as { error?: unknown }).error;
        if (typeof said === 'string') detail = said;
      } catch {
        /* not JSON: its first bytes */
      }
      throw fail(refusalMessage(where, res.status, clean(detail, target.token)), detail, res.status);
    }
    if (!(res.headers.get('content-type') ?? '').startsWith('application/x-ndjson') || !res.body)
      throw fail(
        `the server at ${where} is not a stash2plex dashboard that runs Stash tasks (it answered ${res.headers.get('content-type') ?? 'no content type'})`,
      );
    silent = `stopped answering (nothing for ${timeouts.idleMs / 1000} s)`;
    const rearm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => abort.abort(), timeouts.idleMs);
    };
    rearm();
    return await readStream(res.body, { rearm, onProgress: opts.onProgress, fail, where, silent: () => abort.signal.aborted && silent });
  } finally {
    clearTimeout(timer);
  }
}

interface StreamReading {
  rearm(): void;
  onProgress?: (update: unknown) => void;
  fail(message: string, detail?: string | null, status?: number | null): DashboardTaskError;
  where: string;
  /** Why the stream ended early when it timed out, else false. */
  silent(): string | false;
}

/** The lines of the stream: heartbeats re-arm the timeout, progress is handed on, the last line decides. */
async function readStream(body: ReadableStream<Uint8Array>, r: StreamReading): Promise<unknown> {
  const decoder = new TextDecoder();
  let buffered = '';
  let total = 0;
  try {
    const reader = body.getReader();
    for (;;) {
      const { done, value: chunk } = await reader.read();
      if (done) break;
      r.rearm();
      total += chunk.length;
      if (total > MAX_ANSWER_BYTES) throw r.fail(`the dashboard at ${r.where} answered more than ${MAX_ANSWER_BYTES} bytes`);
      buffered += decoder.decode(chunk, { stream: true });
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl).trim();
        buffered = buffered.slice(nl + 1);
        if (!line) continue;
        const msg = JSON.parse(line) as { progress?: unknown; result?: unknown; error?: string; status?: number };
        if (msg.progress !== undefined) r.onProgress?.(msg.progress);
        if (msg.result !== undefined) return msg.result;
        if (msg.error !== undefined)
          throw r.fail(`the dashboard at ${r.where}: ${String(msg.error)}`, String(msg.error), msg.status ?? 500);
      }
    }
  } catch (err) {
    if (err instanceof DashboardTaskError) throw err;
    const silent = r.silent();
    if (silent) throw r.fail(`the stash2plex dashboard at ${r.where} ${silent}`);
    if (err instanceof SyntaxError) throw r.fail(`the dashboard at ${r.where} sent a line that is not JSON`);
    throw r.fail(`the connection to the dashboard at ${r.where} broke: ${networkWhy(err)}`);
  }
  throw r.fail(`the dashboard at ${r.where} ended its answer before the result (did it restart?)`);
}
