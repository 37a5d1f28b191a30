// A minimal Redis client for the hook: RESP2 over one connection, commands pipelined (AUTH, SELECT,
// XADD). ioredis costs ~25 ms to load, a large share of a hook that Stash waits for on every save. The
// connection is node:net's (node:tls for rediss://), loaded on first use: a skip never loads it.
// Off the hook's path (the workers, the CLI) use ioredis via src/core/redis.ts.
import type * as Net from 'node:net';
import type { Socket } from 'node:net';
import type * as Tls from 'node:tls';
import { lazyBuiltin } from '../core/lazy-builtin.js';

export interface RedisTarget {
  host: string;
  port: number;
  tls: boolean;
  username?: string;
  password?: string;
  db: number;
}

/**
 * The common form, `redis[s]://host[:port][/db]` with a plain host: read without WHATWG URL, whose first
 * use (the parser and each getter compiled on its first call) costs a hook run about 0.4 ms. Anything
 * else (user info, IPv6, escapes, leading zeros, a port out of range) goes to parseRedisUrlWhatwg. A test
 * holds the two equal on the forms this one takes.
 */
const SIMPLE_REDIS_URL = /^(rediss?):\/\/([A-Za-z0-9._-]+)(?::([1-9]\d{0,4}))?(?:\/(0|[1-9]\d{0,8})?)?$/;

/** redis[s]://[user[:password]@]host[:port][/db] */
export function parseRedisUrl(url: string): RedisTarget {
  const m = SIMPLE_REDIS_URL.exec(url);
  if (!m || Number(m[3] ?? 0) > 65535) return parseRedisUrlWhatwg(url);
  return {
    host: m[2],
    port: m[3] ? Number(m[3]) : 6379,
    tls: m[1] === 'rediss',
    username: undefined,
    password: undefined,
    db: Number(m[4] ?? 0),
  };
}

/** parseRedisUrl for any form, through WHATWG URL. */
export function parseRedisUrlWhatwg(url: string): RedisTarget {
  const u = new URL(url);
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new Error('the Redis URL must be redis:// or rediss://');
  const db = u.pathname && u.pathname !== '/' ? Number(u.pathname.slice(1)) : 0;
  if (!Number.isInteger(db) || db < 0) throw new Error('the Redis URL path must be a database number');
  return {
    host: u.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1',
    port: u.port ? Number(u.port) : 6379,
    tls: u.protocol === 'rediss:',
    username: u.username ? decodeURIComponent(u.username) : undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
    db,
  };
}

/** An error reply of Redis (`-ERR …`): the server is there but refused the command. */
export class RedisReplyError extends Error {
  override name = 'RedisReplyError';
}

export type Reply = string | number | null | RedisReplyError | Reply[];

function encodeCommand(args: readonly string[]): string {
  let s = `*${args.length}\r\n`;
  for (const a of args) s += `$${Buffer.byteLength(a, 'utf8')}\r\n${a}\r\n`;
  return s;
}

/** One RESP2 reply at `pos`, or undefined when the buffer does not hold all of it yet. */
export function parseReply(buf: Buffer, pos = 0): [Reply, number] | undefined {
  if (pos >= buf.length) return undefined;
  const end = buf.indexOf('\r\n', pos);
  if (end < 0) return undefined;
  const line = buf.toString('utf8', pos + 1, end);
  switch (buf[pos]) {
    case 0x2b: // +
      return [line, end + 2];
    case 0x2d: // -
      return [new RedisReplyError(line), end + 2];
    case 0x3a: // :
      return [Number(line), end + 2];
    case 0x24: {
      // $
      const n = Number(line);
      if (n < 0) return [null, end + 2];
      if (buf.length < end + 2 + n + 2) return undefined;
      return [buf.toString('utf8', end + 2, end + 2 + n), end + 4 + n];
    }
    case 0x2a: {
      // *
      const n = Number(line);
      if (n < 0) return [null, end + 2];
      const out: Reply[] = [];
      let p = end + 2;
      for (let i = 0; i < n; i++) {
        const r = parseReply(buf, p);
        if (!r) return undefined;
        out.push(r[0]);
        p = r[1];
      }
      return [out, p];
    }
    default:
      throw new Error(`Redis protocol error: unexpected byte 0x${buf[pos].toString(16)}`);
  }
}

export interface MiniRedisOptions {
  /** Longest wait for the TCP (and TLS) connection. */
  connectTimeoutMs?: number;
  /** Longest wait for the replies of one pipeline. */
  commandTimeoutMs?: number;
}

/** A connection being made: `connected` settles once; `abort` gives it up (a timeout). */
interface Dialing {
  connected: Promise<Socket>;
  abort(): void;
}

async function dialSocket(target: RedisTarget): Promise<Dialing> {
  const sock: Socket = target.tls
    ? (await lazyBuiltin<typeof Tls>('node:tls')).connect({ host: target.host, port: target.port, servername: target.host })
    : (await lazyBuiltin<typeof Net>('node:net')).connect({ host: target.host, port: target.port });
  sock.setNoDelay(true);
  const connected = new Promise<Socket>((resolve, reject) => {
    sock.once(target.tls ? 'secureConnect' : 'connect', () => resolve(sock));
    sock.once('error', (err) => {
      sock.destroy();
      reject(err);
    });
  });
  return { connected, abort: () => sock.destroy() };
}

/** `p`, or a rejection with `timeoutError()` after `ms`. */
function within<T>(p: Promise<T>, ms: number, timeoutError: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(timeoutError()), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** One connection, commands pipelined, replies in order. Not a general client: enough for XADD. */
export class MiniRedis {
  private buf: Buffer = Buffer.alloc(0);
  private waiting: { resolve: (r: Reply) => void; reject: (e: Error) => void }[] = [];
  private failure: Error | undefined;

  private constructor(
    private readonly sock: Socket,
    private readonly commandTimeoutMs: number,
  ) {
    // A failure or the server's close ends the connection, once: what waits, and what comes after, fails.
    sock.removeAllListeners('error');
    sock.on('data', (chunk: Buffer) => this.onData(chunk));
    sock.on('error', (err) => this.fail(err));
    sock.on('close', () => this.fail(new Error('Redis closed the connection')));
  }

  static async connect(target: RedisTarget, opts: MiniRedisOptions = {}): Promise<MiniRedis> {
    const connectTimeoutMs = opts.connectTimeoutMs ?? 1_000;
    const dialing = await dialSocket(target);
    const sock = await within(dialing.connected, connectTimeoutMs, () => {
      dialing.abort();
      return new Error(`connect to ${target.host}:${target.port} timed out after ${connectTimeoutMs} ms`);
    });
    const client = new MiniRedis(sock, opts.commandTimeoutMs ?? 2_000);
    const hello: string[][] = [];
    if (target.password !== undefined) {
      hello.push(target.username ? ['AUTH', target.username, target.password] : ['AUTH', target.password]);
    }
    if (target.db) hello.push(['SELECT', String(target.db)]);
    if (hello.length) {
      try {
        const replies = await client.pipeline(hello);
        const refused = replies.find((r) => r instanceof RedisReplyError);
        if (refused) throw refused;
      } catch (err) {
        client.close();
        throw err;
      }
    }
    return client;
  }

  /** Sends the commands in one write; error replies come back as RedisReplyError values. */
  pipeline(commands: readonly (readonly string[])[]): Promise<Reply[]> {
    if (this.failure) return Promise.reject(this.failure);
    const replies = commands.map(() => new Promise<Reply>((resolve, reject) => this.waiting.push({ resolve, reject })));
    this.sock.write(commands.map(encodeCommand).join(''));
    const timedOut = () => {
      const err = new Error(`Redis did not answer within ${this.commandTimeoutMs} ms`);
      this.fail(err);
      return err;
    };
    return within(Promise.all(replies), this.commandTimeoutMs, timedOut);
  }

  close(): void {
    this.failure ??= new Error('connection closed');
    this.sock.destroy();
  }

  private onData(chunk: Buffer) {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    let pos = 0;
    try {
      for (let r = parseReply(this.buf, pos); r; r = parseReply(this.buf, pos)) {
        pos = r[1];
        this.waiting.shift()?.resolve(r[0]);
      }
    } catch (err) {
      this.fail(err as Error);
      this.sock.destroy();
      return;
    }
    this.buf = pos >= this.buf.length ? Buffer.alloc(0) : this.buf.subarray(pos);
  }

  private fail(err: Error) {
    this.failure ??= err;
    for (const w of this.waiting.splice(0)) w.reject(err);
  }
}
