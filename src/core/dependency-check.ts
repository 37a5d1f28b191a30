// What is wrong with a dependency (Redis, Plex, Stash), as one line that names the setting to look at and
// the address tried: the pure classification of a failure. The shell that logs these lines, at most one
// per problem every 30 s, is ./dependency-report.ts; the throttle itself is ./repeat-throttle.ts.
import { errorCode } from './errors.js';

export type Dependency = 'redis' | 'plex' | 'stash';

/** What kind of trouble: unreachable (keep trying), rejected credentials, or a setting that is wrong. */
export type ProblemKind = 'unreachable' | 'rejected' | 'misconfigured';

export interface DependencyProblem {
  dependency: Dependency;
  kind: ProblemKind;
  /** The setting to look at (e.g. `REDIS_URL`, `PLEX_TOKEN`). */
  setting: string;
  /** The address tried (scheme, host and port; the cluster's nodes). */
  address: string;
  /** One line, without a secret: what is wrong, the address tried and the setting. */
  message: string;
}

/** A URL as shown in a line: scheme, host and port only (no user, password, path or query). */
export function shownAddress(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}`;
  } catch {
    return '(not a URL)';
  }
}

/** A problem of `dependency` at `address`, the setting to look at, and its line. */
function problem(dependency: Dependency, kind: ProblemKind, setting: string, address: string, message: string): DependencyProblem {
  return { dependency, kind, setting, address, message };
}

/** Plain words for the network error codes a user meets. */
const CODE_WORDS: Record<string, string> = {
  ECONNREFUSED: 'connection refused (nothing listens there)',
  ECONNRESET: 'connection reset',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  EHOSTDOWN: 'host down',
  ENOTFOUND: 'host name not found',
  EAI_AGAIN: 'host name lookup failed (DNS)',
  ETIMEDOUT: 'no answer in time',
  EPIPE: 'connection closed',
  ECONNABORTED: 'connection aborted',
  UND_ERR_CONNECT_TIMEOUT: 'no answer in time',
  UND_ERR_HEADERS_TIMEOUT: 'no answer in time',
  UND_ERR_BODY_TIMEOUT: 'no answer in time',
  UND_ERR_SOCKET: 'connection closed',
  UND_ERR_CLOSED: 'connection closed',
};
const CODE_IN_TEXT = /\b(E[A-Z_]{4,}|UND_ERR_[A-Z_]+)\b/;

/** The network code of a failure: its own `code`, its cause's, or one named in its message (`… → ECONNREFUSED`). */
function codeOf(err: unknown): string | undefined {
  const code = errorCode(err);
  if (code) return code;
  const text = err instanceof Error ? err.message : typeof err === 'string' ? err : '';
  return CODE_IN_TEXT.exec(text)?.[1];
}

/** The HTTP status a classified failure carries (`status`, or `HTTP 404` in its message). */
function statusOf(err: unknown): number | undefined {
  const s = (err as { status?: unknown } | null)?.status;
  if (typeof s === 'number') return s;
  const m = /\bHTTP (\d{3})\b/.exec(err instanceof Error ? err.message : '');
  return m ? Number(m[1]) : undefined;
}

/** Why a request failed, in words: the code's, or the HTTP status, or the first line of the message (clipped). */
export function failureWords(err: unknown): string {
  const code = codeOf(err);
  if (code) return CODE_WORDS[code] ?? code;
  const status = statusOf(err);
  if (status !== undefined) return `HTTP ${status}`;
  const text = (err instanceof Error ? err.message : String(err)).split('\n')[0].replace(/^.*→\s*/, '');
  return text.length > 120 ? `${text.slice(0, 119)}…` : text;
}

/** Whether the failure says the server did not answer at all (a network error or a timeout). */
export function isNetworkFailure(err: unknown): boolean {
  return codeOf(err) !== undefined;
}

const REDIS_AUTH = /\b(NOAUTH|WRONGPASS|invalid password|invalid username-password)\b/i;

/**
 * A Redis connection's error as a line naming REDIS_URL (or REDIS_CLUSTER_NODES on a cluster); null for
 * an error that is not about reaching Redis (a script's, a command's), which its caller reports.
 */
export function redisProblem(err: unknown, redis: { url: string; clusterNodes: readonly string[] | null }): DependencyProblem | null {
  const setting = redis.clusterNodes ? 'REDIS_CLUSTER_NODES' : 'REDIS_URL';
  const where = redis.clusterNodes ? redis.clusterNodes.join(',') : shownAddress(redis.url);
  const text = err instanceof Error ? err.message : String(err);
  if (REDIS_AUTH.test(text)) {
    return problem('redis', 'rejected', 'REDIS_URL', where, `Redis at ${where} refused the password (REDIS_URL)`);
  }
  const network =
    isNetworkFailure(err) || /Failed to refresh slots cache|None of startup nodes is available|Connection is closed/i.test(text);
  if (!network) return null;
  const words = isNetworkFailure(err) ? failureWords(err) : 'no node answers';
  return problem('redis', 'unreachable', setting, where, `Redis unreachable at ${where} (${setting}): ${words}`);
}

/** What went wrong when Plex was asked: the probe (/identity), the token check, or a sync request. */
export function plexProblem(err: unknown, plexUrl: string): DependencyProblem {
  const where = shownAddress(plexUrl);
  const type = (err as { type?: unknown } | null)?.type;
  if (type === 'PlexAuthError') {
    return problem('plex', 'rejected', 'PLEX_TOKEN', where, `Plex at ${where} rejected the token (PLEX_TOKEN)`);
  }
  if (isNetworkFailure(err) || type === 'PlexServerDown') {
    return problem('plex', 'unreachable', 'PLEX_URL', where, `Plex unreachable at ${where} (PLEX_URL): ${failureWords(err)}`);
  }
  const status = statusOf(err);
  if (status !== undefined && (status === 429 || status >= 500)) {
    return problem('plex', 'unreachable', 'PLEX_URL', where, `Plex at ${where} (PLEX_URL) answers HTTP ${status}`);
  }
  // Something answered, but not as Plex does (a 404 for /identity, HTML, another server): a wrong address.
  return problem(
    'plex',
    'misconfigured',
    'PLEX_URL',
    where,
    `${where} (PLEX_URL) does not answer as a Plex server (/identity: ${failureWords(err)})`,
  );
}

/** What went wrong when Stash was asked (the version, a scene): a 401/403 names STASH_API_KEY. */
export function stashProblem(err: unknown, stash: { url: string; apiKeySet: boolean }): DependencyProblem {
  const where = shownAddress(stash.url);
  const type = (err as { type?: unknown } | null)?.type;
  const status = statusOf(err);
  if (type === 'StashAuthError' || status === 401 || status === 403) {
    const message = stash.apiKeySet
      ? `Stash at ${where} rejected the API key (STASH_API_KEY)`
      : `Stash at ${where} asks for an API key: set STASH_API_KEY (Stash: Settings → Security → API Key)`;
    return problem('stash', 'rejected', 'STASH_API_KEY', where, message);
  }
  if (
    isNetworkFailure(err) ||
    (type === 'StashUnavailable' && status === undefined && !/GraphQL|response/.test(String((err as Error).message)))
  ) {
    return problem('stash', 'unreachable', 'STASH_URL', where, `Stash unreachable at ${where} (STASH_URL): ${failureWords(err)}`);
  }
  if (status !== undefined && (status === 429 || status >= 500)) {
    return problem('stash', 'unreachable', 'STASH_URL', where, `Stash at ${where} (STASH_URL) answers HTTP ${status}`);
  }
  return problem(
    'stash',
    'misconfigured',
    'STASH_URL',
    where,
    `${where} (STASH_URL) does not answer as Stash's GraphQL API (${failureWords(err)})`,
  );
}

/** The one line saying a dependency answers again. */
export function recoveredLine(dependency: Dependency, address: string, downForMs: number): string {
  const name = { redis: 'Redis', plex: 'Plex', stash: 'Stash' }[dependency];
  return `${name} at ${address} answers again (after ${Math.max(1, Math.round(downForMs / 1000))} s)`;
}
