// A reverse proxy in front of a simulator, as users put one in front of Stash: every request is passed on
// with its headers (credentials included, when the client sent any), optionally served under a path
// prefix that it strips and announces in X-Forwarded-Prefix (as Stash's docs have nginx do). It records
// the path of every request, to show which ones went through it.
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReverseProxy {
  /** Its base URL, the prefix included: `http://127.0.0.1:<port>/stash`. */
  url: string;
  /** The path (and query) of every request it was sent, as sent to it. */
  readonly paths: string[];
  /** How many requests carried an ApiKey header or a cookie. */
  withCredentials(): number;
  stop(): Promise<void>;
}

export async function startReverseProxy(target: string, opts: { prefix?: string } = {}): Promise<ReverseProxy> {
  const prefix = opts.prefix ?? '';
  const to = new URL(target);
  const paths: string[] = [];
  let credentialed = 0;
  const server: Server = createServer((req, res) => {
    const path = req.url ?? '/';
    paths.push(path);
    const headers: IncomingHttpHeaders = { ...req.headers };
    if (headers.apikey || headers.cookie) credentialed++;
    if (prefix) {
      if (!path.startsWith(`${prefix}/`)) {
        res.writeHead(404).end('not under the prefix');
        return;
      }
      headers['x-forwarded-prefix'] = prefix;
    }
    const upstream = request(
      { host: to.hostname, port: to.port, method: req.method, path: path.slice(prefix.length), headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.writeHead(502).end('bad gateway'));
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}${prefix}`,
    paths,
    withCredentials: () => credentialed,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
