// The HTTP hook's token-in-body form (Content-Type application/x-stash2plex-hook): HOOK_TOKEN, a newline,
// then the plugin input. stash2plex.sh posts it with wget, whose only way to send a header is its argv,
// which `ps` shows every local user; the file wget posts is the script's own, mode 600.
//
// Read in two steps, so that a caller without the token gets no further than with the header form: the
// first line only (at most tokenLineCap bytes, the same whatever the token's length), compared in
// constant time; then, the token right, the input (at most maxInputBytes, else 413). A missing or wrong
// token is answered once the rest of the body has been read and dropped (kept nowhere; so wget, still
// writing, reads the 401 rather than a reset), or at once, the connection closed, past the input limit.
// The token's bytes are zeroed once compared, and are never in req.body, a log line or an answer.
import type { NextFunction, Request, Response } from 'express';
import type { Readable } from 'node:stream';
import { scanTokenLine, tokenLineCap, tokenMatches } from './http-hook.js';

/** What reading a token-in-body request gave. */
export type TokenBodyRead =
  /** The token was right: the plugin input (the body after the token line). */
  | { kind: 'input'; input: Buffer }
  /** No token line, or the wrong token; `drained`: the whole body was read (and dropped). */
  | { kind: 'refused'; given: 'none' | 'wrong'; drained: boolean }
  /** The token was right, the input over the limit. */
  | { kind: 'too-large' }
  /** The client went away before the end. */
  | { kind: 'aborted' };

/** The token line's verdict: right or not, and for the log whether any token was given. */
interface Verdict {
  right: boolean;
  given: 'none' | 'wrong';
}

/** The verdict on the first line (its newline left out). */
function judgeTokenLine(line: Buffer, expected: string): Verdict {
  const given = line.toString('utf8');
  return { right: tokenMatches(given, expected), given: given === '' ? 'none' : 'wrong' };
}
/** A first line past the cap, or a body without a newline. */
const NO_TOKEN_LINE: Verdict = { right: false, given: 'wrong' };

/** Reads a token-in-body request from `stream` (see the file's comment); never rejects. */
export function readTokenBody(stream: Readable, expected: string, maxInputBytes: number): Promise<TokenBodyRead> {
  const cap = tokenLineCap(expected);
  return new Promise((resolve) => {
    let head = Buffer.alloc(0); // the body until the token line's verdict
    const received: Buffer[] = []; // what `head` was built from, zeroed with it
    let verdict: Verdict | null = null;
    const input: Buffer[] = [];
    let inputBytes = 0; // after the token line: kept (token right) or dropped
    let settled = false;

    const done = (read: TokenBodyRead) => {
      if (settled) return;
      settled = true;
      stream.off('data', onData).off('end', onEnd).off('error', onAbort).off('close', onAbort);
      if (read.kind !== 'input' && !(read.kind === 'refused' && read.drained)) stream.pause();
      resolve(read);
    };
    const forgetHead = () => {
      for (const b of [head, ...received]) b.fill(0);
      head = Buffer.alloc(0);
      received.length = 0;
    };
    const onData = (chunk: Buffer) => {
      let rest = chunk;
      if (verdict === null) {
        received.push(chunk);
        const grown = Buffer.concat([head, chunk]);
        head.fill(0);
        head = grown;
        const scan = scanTokenLine(head, cap);
        if (scan.kind === 'more') return;
        verdict = scan.kind === 'line' ? judgeTokenLine(head.subarray(0, scan.end), expected) : NO_TOKEN_LINE;
        rest = scan.kind === 'line' ? Buffer.from(head.subarray(scan.end + 1)) : Buffer.alloc(0);
        forgetHead();
      }
      inputBytes += rest.length;
      if (inputBytes > maxInputBytes)
        return done(verdict.right ? { kind: 'too-large' } : { kind: 'refused', given: verdict.given, drained: false });
      if (verdict.right && rest.length > 0) input.push(rest);
    };
    const onEnd = () => {
      // No newline at all: no token line (the input is never taken for the token).
      verdict ??= head.length === 0 ? { right: false, given: 'none' } : NO_TOKEN_LINE;
      forgetHead();
      done(verdict.right ? { kind: 'input', input: Buffer.concat(input) } : { kind: 'refused', given: verdict.given, drained: true });
    };
    const onAbort = () => {
      forgetHead();
      done({ kind: 'aborted' });
    };
    stream.on('data', onData).on('end', onEnd).on('error', onAbort).on('close', onAbort);
  });
}

export interface TokenBodyReaderOptions {
  /** HOOK_TOKEN. */
  token: string;
  /** The plugin input's limit (the token line comes on top). */
  maxInputBytes: number;
  /** Answers the 401 (./hook-token-gate.ts refuseToken); `close`: the rest of the body was left unread. */
  refuse: (req: Request, res: Response, given: 'none' | 'wrong', close: boolean) => void;
}

/** A body error as body-parser reports one, for the route's error handler. */
function bodyError(status: number, type: string, message: string): Error {
  return Object.assign(new Error(message), { status, type, expose: true });
}

/** Express middleware for a token-in-body request: the input in req.body (a Buffer), or one refusal. */
export function tokenBodyReader(opts: TokenBodyReaderOptions) {
  const { token, maxInputBytes } = opts;
  return async (req: Request, res: Response, next: NextFunction) => {
    const encoding = req.get('content-encoding')?.trim().toLowerCase();
    if (encoding && encoding !== 'identity') return next(bodyError(415, 'encoding.unsupported', 'unsupported content encoding'));
    // What cannot fit is refused unread: the token line (at most the cap and its newline), then the input.
    const declared = Number(req.get('content-length') ?? 0);
    if (declared > tokenLineCap(token) + 1 + maxInputBytes) return next(bodyError(413, 'entity.too.large', 'request entity too large'));
    const read = await readTokenBody(req, token, maxInputBytes);
    switch (read.kind) {
      case 'input':
        req.body = read.input;
        return next();
      case 'refused':
        return opts.refuse(req, res, read.given, !read.drained);
      case 'too-large':
        return next(bodyError(413, 'entity.too.large', 'request entity too large'));
      case 'aborted':
        return next(bodyError(400, 'request.aborted', 'request aborted'));
    }
  };
}
