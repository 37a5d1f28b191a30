// Reads an HTTP response body with a byte limit, so a hostile or broken server (or a proxy in front of
// it) cannot make the process hold a body of any size: a 2 GiB answer read whole aborts V8.
// `Content-Length` is checked first; the body is then streamed with a running count (decoded bytes, so
// a compressed bomb is caught too) and the request is aborted as soon as the count passes the limit.

/** A body over its limit; `bytes` is the declared length or the bytes received when reading stopped. */
export class ResponseTooLarge extends Error {
  constructor(
    readonly limit: number,
    readonly bytes: number,
    readonly declared: boolean,
  ) {
    super(
      declared
        ? `answer too large: Content-Length ${bytes} bytes, over the ${limit}-byte limit`
        : `answer too large: over the ${limit}-byte limit (aborted after ${bytes} bytes)`,
    );
    this.name = 'ResponseTooLarge';
  }
}

/** The response's `Content-Length`, or null when absent or not a number (a chunked body). */
export function declaredLength(res: Response): number | null {
  const raw = res.headers.get('content-length');
  if (raw === null || !/^\s*\d+\s*$/.test(raw)) return null;
  return Number(raw);
}

/** Drops a body unread; cancelling the stream aborts the request (undici closes the connection). */
export async function discardBody(res: Response): Promise<void> {
  await res.body?.cancel().catch(() => undefined);
}

/** The whole body, at most `limit` bytes; past it, the request is aborted and ResponseTooLarge thrown. */
export async function readBounded(res: Response, limit: number): Promise<Buffer> {
  const declared = declaredLength(res);
  if (declared !== null && declared > limit) {
    await discardBody(res);
    throw new ResponseTooLarge(limit, declared, true);
  }
  if (!res.body) return Buffer.alloc(0);
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel().catch(() => undefined);
      throw new ResponseTooLarge(limit, total, false);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, total);
}

/** The body as UTF-8 text, at most `limit` bytes. */
export async function readBoundedText(res: Response, limit: number): Promise<string> {
  return (await readBounded(res, limit)).toString('utf8');
}
