// A TCP connection on the libuv handle that node:net's Socket itself wraps (the `tcp_wrap` and
// `stream_wrap` bindings: nodejs/node lib/net.js and lib/internal/stream_base_commons.js), for the hook
// alone. Stash waits for the hook on every scene save, and loading node:net with the node:stream it
// stands on, then running a Socket through its first connect, costs a hook about a quarter of a
// `node -e 0` (BENCHMARKS.md, the floor row): more than everything else the hook does. The handle costs a
// tenth of that.
//
// process.binding is deprecated (DEP0111) but documentation-only: it warns only under
// --pending-deprecation, and then this is not used. Anything unexpected about the bindings (missing, a
// changed shape, a throw on the way in) makes connectTcpHandle return null and the caller use node:net;
// HOOK_REDIS_TRANSPORT=net (src/hook/mini-redis.ts) forces that. Plain TCP to an IP literal only: a host
// name's lookup costs more than node:net, which also tries each address it resolves to; TLS needs node:tls.
import { getSystemErrorName } from 'node:util';

/** A byte stream, as MiniRedis needs it: a failure or the server's close ends it, once. */
export interface Connection {
  write(data: string): void;
  destroy(): void;
  /** Call once, before the first write: data until the end, then `onEnd` with why it ended. */
  listen(onData: (chunk: Buffer) => void, onEnd: (err: Error) => void): void;
}

interface TcpHandle {
  onread: ((ab: ArrayBuffer | undefined) => void) | null;
  connect(req: ConnectReq, address: string, port: number): number;
  connect6(req: ConnectReq, address: string, port: number): number;
  setNoDelay(on: boolean): number;
  readStart(): number;
  writeUtf8String(req: WriteReq, data: string): number;
  close(): void;
}
interface ConnectReq {
  oncomplete: (status: number) => void;
}
interface WriteReq {
  handle: TcpHandle;
  oncomplete: (status: number) => void;
}
interface Bindings {
  TCP: new (type: number) => TcpHandle;
  TCPConnectWrap: new () => ConnectReq;
  SOCKET: number;
  WriteWrap: new () => WriteReq;
  state: Int32Array;
  kReadBytesOrError: number;
  kArrayBufferOffset: number;
}

const HANDLE_METHODS = ['connect', 'connect6', 'setNoDelay', 'readStart', 'writeUtf8String', 'close'] as const;

/** Node's --pending-deprecation turns process.binding into a warning on stderr, which Stash would log. */
function pendingDeprecation(): boolean {
  return process.execArgv.includes('--pending-deprecation') || /--pending-deprecation/.test(process.env.NODE_OPTIONS ?? '') || process.env.NODE_PENDING_DEPRECATION === '1';
}

/** The bindings, when they have the shape this code was written against (Node 20–24); else null. */
function loadBindings(): Bindings | null {
  const binding = (process as { binding?: (name: string) => unknown }).binding;
  if (typeof binding !== 'function' || pendingDeprecation()) return null;
  try {
    const tcp = binding('tcp_wrap') as { TCP?: unknown; TCPConnectWrap?: unknown; constants?: { SOCKET?: unknown } };
    const stream = binding('stream_wrap') as { WriteWrap?: unknown; streamBaseState?: unknown; kReadBytesOrError?: unknown; kArrayBufferOffset?: unknown };
    const TCP = tcp.TCP as Bindings['TCP'] | undefined;
    const ok =
      typeof TCP === 'function' &&
      HANDLE_METHODS.every((m) => typeof (TCP.prototype as unknown as Record<string, unknown>)[m] === 'function') &&
      typeof tcp.TCPConnectWrap === 'function' &&
      typeof tcp.constants?.SOCKET === 'number' &&
      typeof stream.WriteWrap === 'function' &&
      stream.streamBaseState instanceof Int32Array &&
      typeof stream.kReadBytesOrError === 'number' &&
      typeof stream.kArrayBufferOffset === 'number';
    if (!ok) return null;
    return {
      TCP,
      TCPConnectWrap: tcp.TCPConnectWrap as Bindings['TCPConnectWrap'],
      SOCKET: tcp.constants!.SOCKET as number,
      WriteWrap: stream.WriteWrap as Bindings['WriteWrap'],
      state: stream.streamBaseState as Int32Array,
      kReadBytesOrError: stream.kReadBytesOrError as number,
      kArrayBufferOffset: stream.kArrayBufferOffset as number,
    };
  } catch {
    return null;
  }
}

/** One IPv4 octet as libuv reads it (inet_pton: no leading zero, at most 255). */
const OCTET = '(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
const IPV4 = new RegExp(`^${OCTET}(\\.${OCTET}){3}$`);

/**
 * 4 or 6 for an IP literal libuv takes (brackets already removed), 0 for anything else: a host name, or
 * a form only a resolver reads (`127.000.0.1`), which node:net then looks up.
 */
export function ipFamily(host: string): 0 | 4 | 6 {
  if (IPV4.test(host)) return 4;
  return host.includes(':') ? 6 : 0;
}

/** A libuv status as node:net words it: `connect ECONNREFUSED 127.0.0.1:6379`. */
function uvError(status: number, syscall: string, where = ''): Error {
  let code: string;
  try {
    code = getSystemErrorName(status);
  } catch {
    code = `error ${status}`;
  }
  return Object.assign(new Error(`${syscall} ${code}${where ? ` ${where}` : ''}`), { code, errno: status, syscall });
}

/** `destroy` closes the handle once (shared with the dial, which may give it up before it connects). */
function connection(b: Bindings, handle: TcpHandle, destroy: () => void): Connection {
  let end: (err: Error) => void = () => undefined;
  const fail = (err: Error) => {
    destroy();
    end(err);
  };
  return {
    write(data) {
      const req = new b.WriteWrap();
      req.handle = handle;
      // Called only for a write that did not complete at once.
      req.oncomplete = (status) => {
        if (status < 0) fail(uvError(status, 'write'));
      };
      const status = handle.writeUtf8String(req, data);
      if (status < 0) fail(uvError(status, 'write'));
    },
    destroy,
    listen(onData, onEnd) {
      end = onEnd;
      handle.onread = (ab) => {
        const n = b.state[b.kReadBytesOrError]!;
        if (n > 0 && ab) onData(Buffer.from(ab, b.state[b.kArrayBufferOffset]!, n));
        else if (n < 0) fail(getSystemErrorName(n) === 'EOF' ? new Error('Redis closed the connection') : uvError(n, 'read'));
      };
      const status = handle.readStart();
      if (status < 0) fail(uvError(status, 'read'));
    },
  };
}

/** A connection being made: `connected` settles once; `abort` gives it up (a timeout). */
export interface Dialing {
  connected: Promise<Connection>;
  abort(): void;
}

/**
 * Connects to `host` (an IP literal) on a libuv TCP handle of its own; null when it is a host name or the
 * bindings are not what this expects (use node:net then). Rejects with node:net's words (ECONNREFUSED…).
 */
export function dialTcpHandle(host: string, port: number): Dialing | null {
  const family = ipFamily(host);
  const b = family ? loadBindings() : null;
  if (!b) return null;
  let handle: TcpHandle | undefined;
  try {
    handle = new b.TCP(b.SOCKET);
    const h = handle;
    const req = new b.TCPConnectWrap();
    let settle!: { resolve: (c: Connection) => void; reject: (e: Error) => void };
    const connected = new Promise<Connection>((resolve, reject) => (settle = { resolve, reject }));
    let closed = false;
    const close = () => {
      if (!closed) (closed = true), h.close();
    };
    const fail = (status: number) => {
      close();
      settle.reject(uvError(status, 'connect', `${host}:${port}`));
    };
    req.oncomplete = (status) => {
      if (status < 0) return fail(status);
      h.setNoDelay(true);
      settle.resolve(connection(b, h, close));
    };
    const status = family === 6 ? h.connect6(req, host, port) : h.connect(req, host, port);
    if (status < 0) fail(status);
    return { connected, abort: close };
  } catch {
    handle?.close();
    return null;
  }
}
