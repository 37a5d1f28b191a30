// Getting a hook's event into Redis, or — while Redis cannot be reached — into a spool file, without
// ever losing one. An event is an InboxItem: a scene job (SyncJobData) or a fan-out event (a renamed
// performer, studio or tag, tagged `kind: 'fanout'`).
//   - the spool: an append-only JSON-lines file in the plugin folder, one item per line: a scene job as
//     its SyncJobData (`{"sceneId":…,"reason":…}`, the format of every spool line before fan-outs
//     existed, so old spools replay unchanged), a fan-out as `{"kind":"fanout","relation":…,"id":…,
//     "event":…,"enqueuedAt":…}`. (A plugin older than fan-outs moves such lines to the bad-lines file.)
//   - replaySpool: delivers every spooled entry (before the caller's new one) and keeps what was not
//     delivered;
//   - InboxWriter: a minimal Redis client (RESP2 over node:net/tls: AUTH, SELECT, pipelined XADD,
//     cluster MOVED redirects) for the inbox stream. ioredis costs ~25 ms to load, a large share of a
//     hook that Stash waits for on every save; this costs nothing measurable. Off the hook's path
//     (the workers, the CLI) use ioredis via src/core/redis.ts.
//
// Concurrency (several hook processes at once: bulk edits run hooks one after another, but tasks,
// hooks from several Stash requests and retries overlap): a replay claims the spool by renaming it to
// a name of its own (rename is atomic: one replay wins, the others find nothing), so no two replays
// deliver the same entries. An appender that opened the file just before it was claimed may write into
// the claimed file after the replay read it: after writing, the appender checks that the spool path
// still names the file it wrote to, and if not writes its lines again into a claim file of its own,
// which replays adopt once its process has exited — a duplicate is harmless (jobs are deduplicated per
// scene and a sync is idempotent), a loss is not. A replay that dies mid-way leaves its claim file; a
// later replay adopts claims whose process is gone (or that are older than ORPHAN_CLAIM_MS). Replays
// never truncate in place: what a replay could not deliver is appended back to the live spool.
import {
  closeSync,
  fstatSync,
  fsyncSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import type { FanoutEvent, FanoutRelation, SyncJobData } from '../model/job.js';
import { encodeFanoutEntry, encodeInboxEntry } from '../model/inbox-codec.js';

export const SPOOL_FILE = 'stash2plex.spool.jsonl';
/** Lines of the spool that are not items (a torn write, a hand edit): kept here, never delivered. */
export const SPOOL_BAD_FILE = 'stash2plex.spool.bad.jsonl';
const CLAIM_RE = /^stash2plex\.spool\.jsonl\.(\d+)-(\d+)-[0-9a-f]+\.claim$/;
/** A claim older than this is adopted even if its process id is alive again (pid reuse). */
export const ORPHAN_CLAIM_MS = 10 * 60_000;
const REPLAY_BATCH = 500;

export const spoolPath = (dir: string) => join(dir, SPOOL_FILE);
/** A file owned by this process: `<spool>.<pid>-<ms>-<random>.claim`. */
const claimName = () =>
  `${SPOOL_FILE}.${process.pid}-${Date.now()}-${Math.floor(Math.random() * 0xffffffff).toString(16).padStart(8, '0')}.claim`;

const errno = (err: unknown) => (err as NodeJS.ErrnoException)?.code;

// ---- what is spooled and sent: scene jobs and fan-out events ----------------------------------------

/** A fan-out event as the spool and InboxWriter carry it: tagged, to tell it from a scene job. */
export type FanoutItem = FanoutEvent & { kind: 'fanout' };
/** One inbox entry to be: a scene job or a fan-out event. */
export type InboxItem = SyncJobData | FanoutItem;

export const fanoutItem = (e: FanoutEvent): FanoutItem => ({ kind: 'fanout', relation: e.relation, id: e.id, event: e.event, enqueuedAt: e.enqueuedAt });
export const isFanoutItem = (item: InboxItem): item is FanoutItem => (item as { kind?: unknown }).kind === 'fanout';
/** `scene 12`, `performer 7`: for messages. */
export const itemLabel = (item: InboxItem): string => (isFanoutItem(item) ? `${item.relation} ${item.id}` : `scene ${item.sceneId}`);

/** The XADD field/value list of an item (src/model/inbox-codec.ts). */
export function encodeItem(item: InboxItem): string[] {
  return isFanoutItem(item) ? encodeFanoutEntry(item) : encodeInboxEntry(item);
}

/** The spool line of an item (without the newline). Fields in a fixed order: equal items, equal lines. */
function spoolLine(item: InboxItem): string {
  return JSON.stringify(isFanoutItem(item) ? fanoutItem(item) : item);
}

const FANOUT_RELATIONS: readonly string[] = ['performer', 'studio', 'tag'] satisfies readonly FanoutRelation[];

/** Test seam: runs between the write and the check that the file is still the spool. */
export interface AppendHooks {
  afterWrite?: () => void;
}

function writeAll(fd: number, data: Buffer) {
  for (let off = 0; off < data.length; ) off += writeSync(fd, data, off);
}

/**
 * Appends items (scene jobs, fan-out events) to the spool, durably (fsync). Throws if the folder is not
 * writable: the caller must then report the event as lost, not as spooled.
 */
export function appendToSpool(dir: string, items: InboxItem | readonly InboxItem[], hooks: AppendHooks = {}): void {
  const list: readonly InboxItem[] = Array.isArray(items) ? items : [items as InboxItem];
  if (list.length === 0) return;
  const path = spoolPath(dir);
  const body = list.map((item) => `${spoolLine(item)}\n`).join('');
  const fd = openSync(path, 'a+', 0o600);
  let wroteToSpool = false;
  try {
    // A torn last line (a writer killed mid-write) must not swallow ours: start on a fresh line.
    const { size } = fstatSync(fd);
    let lead = '';
    if (size > 0) {
      const last = Buffer.alloc(1);
      readSync(fd, last, 0, 1, size - 1);
      if (last[0] !== 0x0a) lead = '\n';
    }
    writeAll(fd, Buffer.from(lead + body, 'utf8'));
    fsyncSync(fd);
    const mine = fstatSync(fd, { bigint: true });
    hooks.afterWrite?.();
    try {
      const now = statSync(path, { bigint: true });
      wroteToSpool = now.ino === mine.ino && now.dev === mine.dev;
    } catch (err) {
      if (errno(err) !== 'ENOENT') throw err;
    }
  } finally {
    closeSync(fd);
  }
  if (wroteToSpool) return;
  // A replay claimed the file while we wrote: it may have read it before our lines landed. Write them
  // again, into a claim file of this process: replays leave it alone while we live (we exit in
  // milliseconds) and adopt it once we are gone. Bounded: no retry loop a busy replayer could starve.
  const own = openSync(join(dir, claimName()), 'wx', 0o600);
  try {
    writeAll(own, Buffer.from(body, 'utf8'));
    fsyncSync(own);
  } finally {
    closeSync(own);
  }
}

/** Entries waiting in the spool (live file and unfinished claims), for status reports. */
export function spooledCount(dir: string): number {
  let n = 0;
  for (const name of spoolFiles(dir)) {
    try {
      n += readFileSync(join(dir, name), 'utf8').split('\n').filter((l) => l.trim()).length;
    } catch {
      /* claimed or gone meanwhile */
    }
  }
  return n;
}

function spoolFiles(dir: string): string[] {
  try {
    return readdirSync(dir).filter((n) => n === SPOOL_FILE || CLAIM_RE.test(n));
  } catch {
    return [];
  }
}

function pidAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return errno(err) === 'EPERM';
  }
}

/**
 * A spool line → item, or null when it is none. Light shape check; the workers' decodeInboxEntry
 * validates fully (and drops what is invalid). A line without `kind` is a scene job (every line ever
 * spooled before fan-outs existed).
 */
function asItem(line: string): InboxItem | null {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return null;
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) return null;
  const j = v as Record<string, unknown>;
  if (j.kind === 'fanout') {
    if (typeof j.relation !== 'string' || !FANOUT_RELATIONS.includes(j.relation)) return null;
    if (typeof j.id !== 'string' || !/^\d{1,18}$/.test(j.id)) return null;
    if (typeof j.event !== 'string' || typeof j.enqueuedAt !== 'number') return null;
    return fanoutItem(j as unknown as FanoutEvent);
  }
  if (j.kind !== undefined) return null;
  if (typeof j.sceneId !== 'string' || !/^\d{1,18}$/.test(j.sceneId)) return null;
  if (typeof j.reason !== 'string' || typeof j.enqueuedAt !== 'number') return null;
  if (j.event !== undefined && typeof j.event !== 'string') return null;
  if (j.fields !== undefined && !(Array.isArray(j.fields) && j.fields.every((f) => typeof f === 'string'))) return null;
  return j as unknown as SyncJobData;
}

/** What a delivery attempt achieved: the first `delivered` entries are in Redis. */
export interface DeliverResult {
  delivered: number;
  error?: Error;
}

export type Sender = (items: readonly InboxItem[]) => Promise<DeliverResult>;

export interface ReplayResult {
  /** Spooled entries now in Redis. */
  replayed: number;
  /** Entries put back into the spool (not delivered). */
  pending: number;
  /** Lines that were not items, moved to SPOOL_BAD_FILE. */
  invalid: number;
  /** Why delivery stopped early, if it did. */
  error?: Error;
}

/**
 * Sends every spooled entry, oldest first, in batches; what was not delivered goes back into the
 * spool. Resolves (never rejects for a delivery failure: see `error`); throws only when the spool
 * cannot be written back, leaving the claim file for a later replay to adopt.
 */
export async function replaySpool(dir: string, send: Sender, opts: { batch?: number } = {}): Promise<ReplayResult> {
  const claims: string[] = [];
  const spool = spoolPath(dir);
  const claim = (from: string) => {
    const to = join(dir, claimName());
    try {
      renameSync(from, to);
      claims.push(to);
    } catch (err) {
      if (errno(err) !== 'ENOENT') throw err;
    }
  };
  claim(spool);
  for (const name of spoolFiles(dir)) {
    const m = CLAIM_RE.exec(name);
    if (!m) continue;
    const full = join(dir, name);
    if (claims.includes(full)) continue;
    const [pid, at] = [Number(m[1]), Number(m[2])];
    if (!pidAlive(pid) || Date.now() - at > ORPHAN_CLAIM_MS) claim(full);
  }
  if (claims.length === 0) return { replayed: 0, pending: 0, invalid: 0 };

  const jobs: InboxItem[] = [];
  const bad: string[] = [];
  const seen = new Set<string>();
  for (const file of claims) {
    for (const raw of readFileSync(file, 'utf8').split('\n')) {
      const line = raw.trim();
      if (!line || seen.has(line)) continue; // an exact duplicate (an appender's retry) is sent once
      seen.add(line);
      const item = asItem(line);
      if (item) jobs.push(item);
      else bad.push(line);
    }
  }

  let delivered = 0;
  let error: Error | undefined;
  const size = Math.max(1, opts.batch ?? REPLAY_BATCH);
  while (delivered < jobs.length) {
    const batch = jobs.slice(delivered, delivered + size);
    let r: DeliverResult;
    try {
      r = await send(batch);
    } catch (err) {
      r = { delivered: 0, error: err as Error };
    }
    delivered += Math.min(batch.length, Math.max(0, r.delivered));
    if (r.error || r.delivered < batch.length) {
      error = r.error ?? new Error('delivery stopped early');
      break;
    }
  }
  const rest = jobs.slice(delivered);
  appendToSpool(dir, rest);
  if (bad.length) {
    const fd = openSync(join(dir, SPOOL_BAD_FILE), 'a', 0o600);
    try {
      writeAll(fd, Buffer.from(bad.map((l) => `${l}\n`).join(''), 'utf8'));
    } finally {
      closeSync(fd);
    }
  }
  for (const file of claims) {
    try {
      unlinkSync(file);
    } catch {
      /* already gone */
    }
  }
  return { replayed: delivered, pending: rest.length, invalid: bad.length, ...(error ? { error } : {}) };
}

// ---- a minimal Redis client for the inbox -------------------------------------------------------

export interface RedisTarget {
  host: string;
  port: number;
  tls: boolean;
  username?: string;
  password?: string;
  db: number;
}

/** redis[s]://[user[:password]@]host[:port][/db] */
export function parseRedisUrl(url: string): RedisTarget {
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
      throw new Error(`Redis protocol error: unexpected byte 0x${buf[pos]!.toString(16)}`);
  }
}

/**
 * node:net / node:tls, loaded on first use: a hook that skips never pays for them. In the plugin's
 * CommonJS bundle through `require` — a dynamic import() there would first start Node's ESM loader,
 * measured at 20–40 ms, more than all the rest of the hook — and through import() under ESM (tsc
 * output, tests, ESM bundles), where `require` does not exist or only throws.
 */
function builtin<T>(name: 'node:net' | 'node:tls'): Promise<T> {
  // `module` too: an ESM bundle by esbuild has a `require` stub that throws.
  const cjs = typeof module === 'object' && module !== null && typeof require === 'function';
  return cjs ? Promise.resolve(require(name) as T) : (import(name) as Promise<T>);
}

export interface MiniRedisOptions {
  /** Longest wait for the TCP (and TLS) connection. */
  connectTimeoutMs?: number;
  /** Longest wait for the replies of one pipeline. */
  commandTimeoutMs?: number;
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
    sock.on('data', (chunk: Buffer) => this.onData(chunk));
    sock.on('error', (err) => this.fail(err));
    sock.on('close', () => this.fail(new Error('Redis closed the connection')));
  }

  static async connect(target: RedisTarget, opts: MiniRedisOptions = {}): Promise<MiniRedis> {
    const connectTimeoutMs = opts.connectTimeoutMs ?? 1_000;
    const sock: Socket = target.tls
      ? (await builtin<typeof import('node:tls')>('node:tls')).connect({ host: target.host, port: target.port, servername: target.host })
      : (await builtin<typeof import('node:net')>('node:net')).connect({ host: target.host, port: target.port });
    sock.setNoDelay(true);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        sock.destroy();
        reject(new Error(`connect to ${target.host}:${target.port} timed out after ${connectTimeoutMs} ms`));
      }, connectTimeoutMs);
      sock.once(target.tls ? 'secureConnect' : 'connect', () => {
        clearTimeout(timer);
        sock.removeAllListeners('error');
        resolve();
      });
      sock.once('error', (err) => {
        clearTimeout(timer);
        sock.destroy();
        reject(err);
      });
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
    const replies = commands.map(
      () => new Promise<Reply>((resolve, reject) => this.waiting.push({ resolve, reject })),
    );
    this.sock.write(commands.map(encodeCommand).join(''));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const err = new Error(`Redis did not answer within ${this.commandTimeoutMs} ms`);
        this.fail(err);
        reject(err);
      }, this.commandTimeoutMs);
    });
    return Promise.race([Promise.all(replies), timeout]).finally(() => clearTimeout(timer));
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

/**
 * XADD of inbox entries over MiniRedis. Follows a cluster's MOVED redirect (the inbox key lives on
 * one node). `add` reports how many leading entries were stored.
 */
export class InboxWriter {
  private constructor(
    private client: MiniRedis,
    private readonly target: RedisTarget,
    private readonly key: string,
    private readonly opts: MiniRedisOptions,
  ) {}

  static async open(url: string, key: string, opts: MiniRedisOptions = {}): Promise<InboxWriter> {
    const target = parseRedisUrl(url);
    return new InboxWriter(await MiniRedis.connect(target, opts), target, key, opts);
  }

  async add(jobs: readonly InboxItem[]): Promise<DeliverResult> {
    let delivered = 0;
    for (let redirects = 0; delivered < jobs.length; redirects++) {
      let replies: Reply[];
      try {
        replies = await this.client.pipeline(jobs.slice(delivered).map((j) => ['XADD', this.key, '*', ...encodeItem(j)]));
      } catch (err) {
        return { delivered, error: err as Error };
      }
      const firstBad = replies.findIndex((r) => r instanceof RedisReplyError);
      if (firstBad < 0) return { delivered: jobs.length };
      delivered += firstBad;
      const err = replies[firstBad] as RedisReplyError;
      const moved = /^MOVED \d+ (.+):(\d+)$/.exec(err.message);
      if (!moved || redirects >= 3) return { delivered, error: err };
      this.client.close();
      try {
        this.client = await MiniRedis.connect({ ...this.target, host: moved[1]!, port: Number(moved[2]), db: 0 }, this.opts);
      } catch (e) {
        return { delivered, error: e as Error };
      }
    }
    return { delivered };
  }

  close(): void {
    this.client.close();
  }
}

// ---- the hook's delivery: Redis if it answers, else the spool -------------------------------------

export interface RecordOutcome {
  /** The item is in the inbox stream. */
  delivered: boolean;
  /** Spooled entries delivered first. */
  replayed: number;
  /** Why the job went to the spool instead (it is there now). */
  error?: Error;
}

/**
 * Replays the spool, then XADDs the item (a scene job or a fan-out event); if Redis cannot be reached
 * or fails on the way, the item (and whatever of the spool was not delivered) is in the spool when
 * this resolves. Throws only when the spool itself cannot be written: then the event is lost and the
 * caller must say so.
 */
export async function recordJob(
  dir: string,
  redis: { url: string; key: string },
  job: InboxItem,
  opts: MiniRedisOptions = {},
): Promise<RecordOutcome> {
  let writer: InboxWriter;
  try {
    writer = await InboxWriter.open(redis.url, redis.key, opts);
  } catch (err) {
    appendToSpool(dir, job);
    return { delivered: false, replayed: 0, error: err as Error };
  }
  try {
    const replay = await replaySpool(dir, (jobs) => writer.add(jobs));
    if (replay.error) {
      appendToSpool(dir, job);
      return { delivered: false, replayed: replay.replayed, error: replay.error };
    }
    const r = await writer.add([job]);
    if (r.delivered < 1) {
      appendToSpool(dir, job);
      return { delivered: false, replayed: replay.replayed, error: r.error ?? new Error('not stored') };
    }
    return { delivered: true, replayed: replay.replayed };
  } finally {
    writer.close();
  }
}
