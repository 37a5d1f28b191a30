// The Plex HTTP transport (fetch, no SDK): one request with stash2plex's headers, the token in a header
// only, a timeout, a GET sent once more when a kept-alive connection closed under it, bodies read within
// PLEX_MAX_RESPONSE_BYTES. Every failure leaves as a SyncError made by classify() and scrubbed of the
// token, so errors may be logged and stored in failedReason as they are.
import { classify, errorCode, SyncError } from '../core/errors.js';
import { discardBody, readBoundedText, ResponseTooLarge } from '../core/bounded-body.js';
import { redact, type Logger } from '../core/log.js';
import type { RequestLimiter } from '../resilience/limiter.js';
import { PlexResponseError } from './schemas.js';

export const PLEX_PRODUCT = 'stash2plex';
export const PLEX_CLIENT_VERSION = '0.1.0';
export const DEFAULT_TIMEOUT_MS = 15_000;
/** Default of PLEX_MAX_RESPONSE_BYTES: far above any page of a listing. */
export const PLEX_DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

export interface TransportOptions {
  url: string;
  token: string;
  /** X-Plex-Client-Identifier (sharedPlexClientId); null sends none (an unauthenticated /identity probe). */
  clientIdentifier: string | null;
  /** Per-request timeout (default 15 s). */
  timeoutMs?: number;
  /** Largest answer read (PLEX_MAX_RESPONSE_BYTES, default 64 MiB); a larger one is aborted. */
  maxResponseBytes?: number;
  /** Where an aborted oversized answer is reported. */
  log?: Pick<Logger, 'warn'>;
  /** The worker process's adaptive limit toward Plex (src/resilience/limiter.ts): every request and its body read go through it. */
  limiter?: RequestLimiter;
}

export interface RequestOptions {
  query?: URLSearchParams;
  headers?: Record<string, string>;
  body?: Uint8Array<ArrayBuffer>;
  timeoutMs?: number;
  /** false for /identity, which needs no token (it proves the server is up, not the token). */
  auth?: boolean;
  /** Largest body read (default: the transport's maxResponseBytes). */
  maxBytes?: number;
}

/** How a connection closed under a request shows (undici's codes included): on a reused connection, not an outage yet. */
const STALE_CONNECTION_CODES = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET']);

/** "GET /library/sections/1/all" — the description of a request used in every error message. */
export const label = (method: string, path: string) => `${method} ${path}`;

export class PlexTransport {
  /** The server's URL without a trailing slash: what a URL length budget counts from. */
  readonly base: string;
  private readonly token: string;
  private readonly clientIdentifier: string | null;
  private readonly timeoutMs: number;
  private readonly maxResponseBytes: number;
  private readonly log: Pick<Logger, 'warn'> | undefined;
  private readonly limiter: RequestLimiter | undefined;

  constructor(opts: TransportOptions) {
    this.base = opts.url.replace(/\/+$/, '');
    this.token = opts.token;
    this.clientIdentifier = opts.clientIdentifier;
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.maxResponseBytes = opts.maxResponseBytes ?? PLEX_DEFAULT_MAX_RESPONSE_BYTES;
    this.log = opts.log;
    this.limiter = opts.limiter;
  }

  /** The request and its body read under the limiter's permit (Plex works until the body is read). */
  private limited<T>(operation: () => Promise<T>): Promise<T> {
    return this.limiter ? this.limiter.run(operation) : operation();
  }

  /** A text with the token taken out (for what is logged outside a SyncError). */
  scrubText(text: string): string {
    return redact(text, [this.token]);
  }

  /** A SyncError whose message is guaranteed free of the token (defence in depth over classify). */
  scrub(err: SyncError): SyncError {
    const message = this.scrubText(err.message);
    return message === err.message ? err : new SyncError(err.type, message, err.status);
  }

  private fail(failure: { status: number } | { error: unknown }, what: string): SyncError {
    return this.scrub(classify('plex', failure, what));
  }

  /** One HTTP request; any non-2xx status or network failure (incl. timeout) throws a SyncError. Callers use json() or send(). */
  private async request(method: string, path: string, opts: RequestOptions = {}): Promise<Response> {
    const what = label(method, path);
    const qs = opts.query?.toString();
    const headers: Record<string, string> = {
      Accept: 'application/json',
      'X-Plex-Product': PLEX_PRODUCT,
      'X-Plex-Version': PLEX_CLIENT_VERSION,
      ...opts.headers,
    };
    if (this.clientIdentifier !== null) headers['X-Plex-Client-Identifier'] = this.clientIdentifier;
    if (opts.auth !== false) headers['X-Plex-Token'] = this.token;
    const send = () =>
      fetch(`${this.base}${path}${qs ? `?${qs}` : ''}`, {
        method,
        headers,
        body: opts.body,
        signal: AbortSignal.timeout(opts.timeoutMs ?? this.timeoutMs),
      });
    let res: Response;
    try {
      res = await send().catch((error: unknown) => {
        // A kept-alive connection the server closed just as it was reused: a GET is safe to send once more.
        if (method === 'GET' && STALE_CONNECTION_CODES.has(errorCode(error) ?? '')) return send();
        throw error;
      });
    } catch (error) {
      throw this.fail({ error }, what);
    }
    if (!res.ok) {
      await discardBody(res);
      throw this.fail({ status: res.status }, what);
    }
    return res;
  }

  /**
   * The body as text, bounded: the read shares the request's timeout (the signal covers it), and an
   * answer over the limit is aborted and is an unreadable answer (PlexTemporaryError), never a crash.
   */
  private async body(method: string, path: string, res: Response, maxBytes = this.maxResponseBytes): Promise<string> {
    try {
      return await readBoundedText(res, maxBytes);
    } catch (error) {
      if (!(error instanceof ResponseTooLarge)) throw this.fail({ error }, label(method, path));
      this.log?.warn({ request: label(method, path), bytes: error.bytes, limit: error.limit }, 'Plex answer too large: aborted');
      throw this.unreadable(method, path, error.message);
    }
  }

  /** Request + JSON body. */
  async json(method: string, path: string, opts: RequestOptions = {}): Promise<{ json: unknown; res: Response }> {
    const { res, text } = await this.limited(async () => {
      const answer = await this.request(method, path, opts);
      return { res: answer, text: await this.body(method, path, answer, opts.maxBytes) };
    });
    try {
      return { json: JSON.parse(text), res };
    } catch {
      throw this.unreadable(method, path, 'body is not JSON');
    }
  }

  /** Request whose answer carries nothing we need; the body is read so the connection can be reused. */
  async send(method: string, path: string, opts: RequestOptions = {}): Promise<void> {
    await this.limited(async () => {
      const res = await this.request(method, path, opts);
      await this.body(method, path, res, opts.maxBytes);
    });
  }

  /**
   * A 2xx answer we cannot read (an HTML proxy page, a truncated body): not a status classify() knows,
   * and not a network failure. Treated like a bad gateway: a temporary server-side problem.
   */
  private unreadable(method: string, path: string, why: string): SyncError {
    return this.scrub(new SyncError('PlexTemporaryError', `${label(method, path)} → unreadable response (${why})`));
  }

  /**
   * One item of an answer that does not parse: not an outage (the server answered, and the rest of the
   * answer is read), and asking again gets the same item. Permanent, for that item's job alone.
   */
  malformedItem(what: string, reason: string): SyncError {
    return this.scrub(new SyncError('PlexBadResponse', `${what} → malformed item (${reason})`));
  }

  /** Parses with a pure parser, turning a shape problem into a SyncError for this request. */
  parsed<T>(method: string, path: string, parse: () => T): T {
    try {
      return parse();
    } catch (err) {
      if (err instanceof PlexResponseError && err.kind === 'missing') throw this.fail({ status: 404 }, label(method, path));
      if (err instanceof PlexResponseError && err.kind === 'malformed-item') throw this.malformedItem(label(method, path), err.message);
      throw this.unreadable(method, path, err instanceof Error ? err.message : String(err));
    }
  }

  /**
   * A 404 for a path every Plex answers (`/identity`, `/library/sections`, the listing of a section Plex
   * still lists) is not about an item: a reverse proxy answers so while Plex restarts. It is an outage
   * (PlexTemporaryError), never a sign that something is gone.
   */
  notFromPlex(err: unknown): unknown {
    if (!(err instanceof SyncError && err.type === 'PlexNotFound' && err.status === 404)) return err;
    return this.scrub(
      new SyncError('PlexTemporaryError', `${err.message} for a path Plex always has (a proxy answering while Plex is away?)`, 404),
    );
  }
}
