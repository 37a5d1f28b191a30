// What a dashboard handler sees and returns, free of express (as bull-board's handlers return
// `{ status, body }`): a handler is a function of its ports and of this small request, so a unit test
// calls it with fakes. ./respond.ts writes a Reply to express.
import type { z } from 'zod';

/** The parts of a request the handlers read. */
export interface DashboardRequest {
  query: Readonly<Record<string, unknown>>;
  /** The raw body, on routes that read one (`body: 'raw'` in ./routes.ts). */
  body?: Buffer;
  /** The caller's address, for the log (and the image route's rate limit). */
  remote?: string;
  /** The route's path parameters (`:id`). */
  params?: Readonly<Record<string, string>>;
  /** The request's If-None-Match header (the image route answers 304 to its own ETag). */
  ifNoneMatch?: string;
}

/** A JSON answer (every string in it is redacted when sent) or a text one with its content type. */
export type Reply =
  | { status: number; json: unknown }
  | { status: number; type: string; text: string; headers?: Record<string, string> }
  | { status: number; type: string; bytes: Buffer; headers?: Record<string, string> };

export type Handler = (req: DashboardRequest) => Promise<Reply>;

export const json = (status: number, body: unknown): Reply => ({ status, json: body });

/**
 * A JSON request body (empty: `{}`) checked by `schema`: its data, or the 400 to answer, naming the first
 * issue (`usage` when the body is not JSON at all).
 */
export function jsonBody<T>(raw: Buffer | undefined, schema: z.ZodType<T>, usage: string): { data: T } | { reply: Reply } {
  let body: unknown;
  try {
    body = JSON.parse(raw?.toString('utf8').trim() || '{}');
  } catch {
    return { reply: json(400, { error: usage }) };
  }
  const parsed = schema.safeParse(body);
  if (parsed.success) return { data: parsed.data };
  const issue = parsed.error.issues[0];
  return { reply: json(400, { error: `${issue.path.map(String).join('.') || 'body'}: ${issue.message}` }) };
}
