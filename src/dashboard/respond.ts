// Express side of the handlers: a Reply written to the response, JSON answers redacted and never cached,
// and the last error handler (JSON, never a stack).
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { redact, type Logger } from '../core/log.js';
import type { DashboardRequest, Handler, Reply } from './reply.js';
import { HttpError } from './timeout.js';

/** Every string value of a JSON-like value, redacted (keys and numbers untouched). */
export function redactDeep<T>(value: T, secrets: readonly string[]): T {
  if (typeof value === 'string') return redact(value, secrets) as T;
  if (Array.isArray(value)) return (value as unknown[]).map((v) => redactDeep(v, secrets)) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactDeep(v, secrets)])) as T;
  }
  return value;
}

export type SendJson = (res: Response, status: number, body: unknown) => void;

/** JSON, redacted, never cached: every JSON answer of the dashboard (the hook's excepted). */
export function jsonSender(secrets: readonly string[]): SendJson {
  return (res, status, body) => {
    res
      .status(status)
      .type('application/json')
      .set('Cache-Control', 'no-store')
      .send(JSON.stringify(redactDeep(body, secrets)));
  };
}

function send(res: Response, reply: Reply, sendJson: SendJson): void {
  if ('json' in reply) return sendJson(res, reply.status, reply.json);
  if (reply.headers) res.set(reply.headers);
  res
    .status(reply.status)
    .type(reply.type)
    .send('bytes' in reply ? reply.bytes : reply.text);
}

const requestOf = (req: Request): DashboardRequest => ({
  query: req.query,
  body: Buffer.isBuffer(req.body) ? req.body : undefined,
  remote: req.socket.remoteAddress,
  params: req.params as Record<string, string>,
  ifNoneMatch: req.get('if-none-match'),
});

/** The handler as express middleware; a rejection goes to the error handler (express 5). */
export function toExpress(handler: Handler, sendJson: SendJson): RequestHandler {
  return async (req, res) => send(res, await handler(requestOf(req)), sendJson);
}

/** The last handler: JSON with the status of an HttpError (or body-parser's), never a stack. */
export function errorHandler(log: Logger, secrets: readonly string[], sendJson: SendJson) {
  return (err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const e = err as { status?: number; statusCode?: number; expose?: boolean; message?: string };
    const status = err instanceof HttpError ? err.status : (e.status ?? e.statusCode ?? 500);
    const code = status >= 400 && status < 600 ? status : 500;
    const message =
      err instanceof HttpError || (e.expose && code < 500) ? (e.message ?? 'error') : code < 500 ? 'bad request' : 'internal error';
    log[code >= 500 ? 'error' : 'warn'](
      { method: req.method, path: req.path, status: code, err: redact(String(e.message ?? err), secrets) },
      'dashboard request failed',
    );
    if (res.headersSent) return void res.end();
    sendJson(res, code, { error: message });
  };
}
