// A hostile HTTP server (raw TCP, so nothing tidies its answers): every request gets 200 and a huge body,
// either chunked without a length, with an honest huge Content-Length, or gzip-encoded with a small,
// true Content-Length that says nothing about the size once decoded (a decompression bomb). It streams
// with backpressure and stops as soon as the client drops the connection, counting what it sent.
import { once } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import { createGzip } from 'node:zlib';

export type HostileMode = 'chunked' | 'content-length' | 'gzip';
export const HOSTILE_MODES: HostileMode[] = ['chunked', 'content-length', 'gzip'];

export interface HostileServer {
  url: string;
  /** Body bytes written so far (compressed bytes in gzip mode), all connections. */
  sent(): number;
  /** Requests answered with a huge body so far. */
  hostileAnswers(): number;
  /** While false, every request gets a bodiless 503 (a Plex starting up) instead. */
  setHostile(on: boolean): void;
  stop(): Promise<void>;
}

const PIECE = 64 * 1024;

/** `total` bytes of `head` followed by filler, gzip-compressed without ever holding them whole. */
async function gzipOf(head: Buffer, total: number): Promise<Buffer> {
  const gzip = createGzip();
  const out: Buffer[] = [];
  gzip.on('data', (b: Buffer) => out.push(b));
  const filler = Buffer.alloc(PIECE, 'a');
  gzip.write(head);
  for (let n = head.length; n < total; n += PIECE) if (!gzip.write(filler)) await once(gzip, 'drain');
  gzip.end();
  await once(gzip, 'end');
  return Buffer.concat(out);
}

export async function startHostileServer(opts: {
  mode: HostileMode;
  bytes: number;
  contentType: string;
  head?: Buffer;
  hostile?: boolean;
}): Promise<HostileServer> {
  const head = opts.head ?? Buffer.alloc(0);
  const gz = opts.mode === 'gzip' ? await gzipOf(head, opts.bytes) : null;
  let sent = 0;
  let hostile = opts.hostile ?? true;
  let answers = 0;
  const sockets = new Set<Socket>();

  const write = async (socket: Socket, data: Buffer) => {
    if (socket.destroyed) return false;
    // once() rejects on 'error' (the client resetting the connection): that is the end of this answer.
    if (!socket.write(data)) await Promise.race([once(socket, 'drain'), once(socket, 'close')]).catch(() => undefined);
    return !socket.destroyed;
  };
  const answer = async (socket: Socket) => {
    if (!hostile) {
      socket.end('HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      return;
    }
    answers++;
    const length = gz
      ? `Content-Encoding: gzip\r\nContent-Length: ${gz.length}`
      : opts.mode === 'chunked'
        ? 'Transfer-Encoding: chunked'
        : `Content-Length: ${opts.bytes}`;
    if (
      !(await write(socket, Buffer.from(`HTTP/1.1 200 OK\r\nContent-Type: ${opts.contentType}\r\n${length}\r\nConnection: close\r\n\r\n`)))
    )
      return;
    const first = gz ?? Buffer.concat([head, Buffer.alloc(Math.max(0, PIECE - head.length), 'a')]);
    const filler = Buffer.alloc(PIECE, 'a');
    const total = gz ? gz.length : opts.bytes;
    for (let at = 0; at < total;) {
      const piece = gz ? gz.subarray(at, at + PIECE) : at === 0 ? first : filler;
      const n = Math.min(piece.length, total - at);
      const data =
        opts.mode === 'chunked'
          ? Buffer.concat([Buffer.from(`${n.toString(16)}\r\n`), piece.subarray(0, n), Buffer.from('\r\n')])
          : piece.subarray(0, n);
      if (!(await write(socket, data))) return;
      sent += n;
      at += n;
    }
    if (opts.mode === 'chunked') await write(socket, Buffer.from('0\r\n\r\n'));
    socket.end();
  };

  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
    let request = '';
    const onData = (d: Buffer) => {
      request += d.toString('latin1');
      if (!request.includes('\r\n\r\n')) return;
      socket.off('data', onData);
      socket.resume();
      answer(socket).catch(() => socket.destroy());
    };
    socket.on('data', onData);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    sent: () => sent,
    hostileAnswers: () => answers,
    setHostile: (on) => void (hostile = on),
    async stop() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
