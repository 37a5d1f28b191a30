// A plugin's settings as saved in Stash (`configuration { plugins(include: [id]) }`), read by the hook's
// settings (./settings.ts) when REDIS_URL / REDIS_PREFIX are not in its environment and its 60 s cache is
// stale. One GraphQL POST over node:http / node:https, loaded on first use: StashClient
// (src/stash-api/client.ts) would bring zod and fetch (undici), 100–200 ms to load, into a process Stash
// waits for on every scene save. So this module imports nothing heavy, and nothing at all runs until it
// is called. The document is listed with every other one Stash is sent (src/stash-api/queries.ts), where
// the tests check it against Stash's real schema.
import type * as Http from 'node:http';
import type { IncomingMessage, RequestOptions } from 'node:http';
import { ResponseTooLarge } from '../core/bounded-body.js';
import { lazyBuiltin } from '../core/lazy-builtin.js';
import { stashAuthHeaders, type StashCredentials } from './stash-connection.js';
import { isObject } from '../core/is-object.js';

/** Longest answer read: a plugin's settings are a few hundred bytes. */
export const PLUGIN_SETTINGS_MAX_BYTES = 1024 * 1024;
export const PLUGIN_SETTINGS_TIMEOUT_MS = 3_000;
/** Longest server-provided text quoted in an error message. */
const MAX_DETAIL = 300;
const OPERATION = 'PluginConfiguration';

/**
 * A plugin's settings: `{ "<id>": { key: value } }`; the id is absent while nothing is set. The ids are
 * written into the document as string literals, not passed as a variable: `include` is `[String!]` in
 * Stash v0.24 and `[ID!]` from v0.25.0 on, and a variable of either type is rejected by the other
 * (422, "Variable "$id" of type "ID!" used in position expecting type "String!""); a literal fits both.
 */
export function pluginConfigurationQuery(pluginId: string | readonly string[]): string {
  const ids = (typeof pluginId === 'string' ? [pluginId] : pluginId).map((id) => JSON.stringify(id));
  return /* GraphQL */ `
  query PluginConfiguration {
    configuration {
      plugins(include: [${ids.join(', ')}])
    }
  }
`;
}

export interface PluginSettingsRequest extends StashCredentials {
  /** Stash's base URL, e.g. `http://localhost:9999` (a path prefix behind a proxy is kept). */
  url: string;
  /** The plugin id, or several (the variants of one plugin): the settings of the first that has any. */
  pluginId: string | readonly string[];
  /** Whole request, answer included (default PLUGIN_SETTINGS_TIMEOUT_MS). */
  timeoutMs?: number;
}

const clip = (s: string) => (s.length > MAX_DETAIL ? `${s.slice(0, MAX_DETAIL)}…` : s);

/**
 * The plugin's settings out of Stash's answer: `{}` while none are saved; of several ids, the first
 * that has settings. Throws, saying why, on a GraphQL error or an answer of another shape.
 */
export function pluginSettingsOf(body: unknown, pluginId: string | readonly string[]): Record<string, unknown> {
  if (typeof pluginId !== 'string') {
    for (const id of pluginId) {
      const settings = pluginSettingsOf(body, id);
      if (Object.keys(settings).length > 0) return settings;
    }
    return {};
  }
  if (!isObject(body)) throw new Error('the answer is not a GraphQL JSON body');
  const errors = body.errors;
  if (Array.isArray(errors) && errors.length > 0) {
    const first = isObject(errors[0]) && typeof errors[0].message === 'string' ? errors[0].message : 'without a message';
    throw new Error(`GraphQL error: ${clip(first)}`);
  }
  const plugins = isObject(body.data) && isObject(body.data.configuration) ? body.data.configuration.plugins : undefined;
  if (!isObject(plugins)) throw new Error('unexpected response shape at configuration.plugins');
  const settings = plugins[pluginId];
  if (settings === undefined || settings === null) return {};
  if (!isObject(settings)) throw new Error(`unexpected response shape at configuration.plugins.${pluginId}`);
  return settings;
}

/** The body of `res`, at most `limit` bytes (a larger one is aborted). */
function readBody(res: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const declared = Number(res.headers['content-length']);
    if (declared > limit) {
      res.destroy();
      return reject(new ResponseTooLarge(limit, declared, true));
    }
    const chunks: Buffer[] = [];
    let total = 0;
    res.on('data', (c: Buffer) => {
      total += c.length;
      if (total > limit) {
        res.destroy();
        reject(new ResponseTooLarge(limit, total, false));
      } else chunks.push(c);
    });
    res.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.once('error', reject);
  });
}

/**
 * The plugin's settings as saved in Stash (`{}` while none are). Rejects with a message fit for a log
 * (never a credential): the request, and the HTTP status, GraphQL error or network error.
 */
export async function readPluginSettings(req: PluginSettingsRequest): Promise<Record<string, unknown>> {
  const what = `POST /graphql ${OPERATION}`;
  const url = new URL(`${req.url.replace(/\/+$/, '')}/graphql`);
  const http = await lazyBuiltin<typeof Http>(url.protocol === 'https:' ? 'node:https' : 'node:http');
  const payload = JSON.stringify({ operationName: OPERATION, query: pluginConfigurationQuery(req.pluginId) });
  const options: RequestOptions = {
    method: 'POST',
    // One request, then the process exits: no keep-alive connection to linger.
    agent: false,
    headers: {
      'Content-Type': 'application/json',
      Accept: 'application/json',
      'Content-Length': Buffer.byteLength(payload),
      ...stashAuthHeaders(req),
    },
  };
  const timeoutMs = req.timeoutMs ?? PLUGIN_SETTINGS_TIMEOUT_MS;
  const answer = new Promise<{ status: number; text: string }>((resolve, reject) => {
    const request = http.request(url, options, (res) => {
      readBody(res, PLUGIN_SETTINGS_MAX_BYTES).then((text) => resolve({ status: res.statusCode ?? 0, text }), reject);
    });
    const timer = setTimeout(() => request.destroy(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    request.once('close', () => clearTimeout(timer));
    request.once('error', reject);
    request.end(payload);
  });
  let status: number;
  let text: string;
  try {
    ({ status, text } = await answer);
  } catch (err) {
    throw new Error(`${what}: ${(err as Error).message}`, { cause: err });
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (status < 200 || status >= 300) {
    const detail = isObject(body) && Array.isArray(body.errors) && isObject(body.errors[0]) ? body.errors[0].message : undefined;
    throw new Error(`${what}: HTTP ${status}${typeof detail === 'string' ? `: ${clip(detail)}` : ''}`);
  }
  try {
    return pluginSettingsOf(body, req.pluginId);
  } catch (err) {
    throw new Error(`${what}: ${(err as Error).message}`, { cause: err });
  }
}
