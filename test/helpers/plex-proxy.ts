// A pass-through HTTP proxy in front of a simulator that runs `before(path)` ahead of forwarding each
// request: a test puts a fault (Redis losing a key, say) at an exact step of a run that reads Plex,
// without touching the code under test or the simulator.
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Proxy {
  url: string;
  stop(): Promise<void>;
}

export async function startProxy(target: string, before: (path: string) => Promise<void>): Promise<Proxy> {
  const to = new URL(target);
  const server = createServer((req, res) => {
    before(req.url ?? '/').then(
      () => {
        const upstream = request(
          { host: to.hostname, port: to.port, method: req.method, path: req.url, headers: req.headers },
          (answer) => {
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            answer.pipe(res);
          },
        );
        upstream.on('error', () => res.destroy());
        req.pipe(upstream);
      },
      (err: Error) => res.writeHead(500).end(`proxy: ${err.message}`),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
