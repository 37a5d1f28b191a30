// The hook's spool and its minimal Redis client, against the test run's real Redis: no entry is lost
// (append, replay, partial delivery, appenders racing replays, crashed replays), and two replays
// never deliver the same entries, in one process or several.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  appendToSpool,
  ORPHAN_CLAIM_MS,
  replaySpool,
  SPOOL_BAD_FILE,
  SPOOL_FILE,
  spooledCount,
  spoolPath,
  type Sender,
} from '../../src/hook/spool.js';
import { fanoutItem, type InboxItem } from '../../src/model/inbox-item.js';
import { InboxWriter, recordJob } from '../../src/hook/inbox-writer.js';
import { MiniRedis, parseRedisUrl } from '../../src/hook/mini-redis.js';
import { decodeInboxEntry } from '../../src/model/job.js';
import type { FanoutEvent, SyncJobData } from '../../src/model/inbox-item.js';
import { freePort } from '../helpers/ports.js';
import { testRedis, testRedisUrl, uniquePrefix } from '../helpers/redis.js';

let redis: Redis;
const dirs: string[] = [];
const servers: Server[] = [];
let driver: string;

const job = (id: number, reason: SyncJobData['reason'] = 'hook'): SyncJobData => ({
  sceneId: String(id),
  reason,
  event: 'Scene.Update.Post',
  fields: ['title'],
  enqueuedAt: 1_750_000_000_000 + id,
});
const newDir = () => {
  const d = mkdtempSync(join(tmpdir(), 's2p-spool-'));
  dirs.push(d);
  return d;
};
const newKey = () => `${uniquePrefix('spool')}:inbox`;

async function streamJobs(key: string): Promise<SyncJobData[]> {
  const entries = (await redis.xrange(key, '-', '+')) as [string, string[]][];
  return entries.map(([, flat]) => {
    const d = decodeInboxEntry(flat);
    if (d.ok && d.job) return d.job;
    throw new Error(d.ok ? 'not a scene entry' : d.error);
  });
}
const ids = (jobs: SyncJobData[]) => jobs.map((j) => Number(j.sceneId));
const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);

async function writerSender(key: string): Promise<{ send: Sender; close(): void }> {
  const w = await InboxWriter.open(testRedisUrl(), key);
  return { send: (jobs) => w.add(jobs), close: () => w.close() };
}

/** Runs the child driver (spool.ts and inbox-writer.ts bundled): append scene ids, or replay into `key`. */
function runDriver(args: {
  mode: 'append' | 'replay' | 'replay-loop';
  dir: string;
  key?: string;
  from?: number;
  count?: number;
  stopFile?: string;
}) {
  return new Promise<{ code: number | null; out: string }>((done, reject) => {
    const child = spawn(process.execPath, [driver, JSON.stringify({ ...args, url: testRedisUrl() })], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.once('error', reject);
    child.once('exit', (code) => done({ code, out }));
  });
}

const DRIVER_SOURCE = `
import { existsSync } from 'node:fs';
import { appendToSpool, replaySpool } from '../../src/hook/spool.ts';
import { InboxWriter } from '../../src/hook/inbox-writer.ts';
const a = JSON.parse(process.argv[2]);
const job = (id) => ({ sceneId: String(id), reason: 'hook', event: 'Scene.Update.Post', fields: ['title'], enqueuedAt: 1750000000000 + id });
if (a.mode === 'append') {
  for (let i = 0; i < a.count; i++) appendToSpool(a.dir, job(a.from + i));
  process.stdout.write(JSON.stringify({ appended: a.count }));
} else {
  const w = await InboxWriter.open(a.url, a.key);
  let replayed = 0;
  do {
    const r = await replaySpool(a.dir, (jobs) => w.add(jobs), { batch: 7 });
    if (r.error) throw r.error;
    replayed += r.replayed;
  } while (a.mode === 'replay-loop' && !existsSync(a.stopFile));
  w.close();
  process.stdout.write(JSON.stringify({ replayed }));
}
`;

beforeAll(async () => {
  redis = testRedis();
  const out = mkdtempSync(join(tmpdir(), 's2p-spool-driver-'));
  dirs.push(out);
  driver = join(out, 'driver.mjs');
  await build({
    stdin: { contents: DRIVER_SOURCE, resolveDir: resolve('test/integration'), loader: 'ts', sourcefile: 'driver.ts' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile: driver,
    logLevel: 'error',
  });
});
afterAll(() => {
  redis.disconnect();
  for (const s of servers) s.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('spool append and replay', () => {
  it('replays every spooled entry in order and leaves no file behind', async () => {
    const dir = newDir();
    const key = newKey();
    for (const id of range(1, 5)) appendToSpool(dir, job(id));
    appendToSpool(dir, [job(6), job(7)]);
    expect(spooledCount(dir)).toBe(7);
    const s = await writerSender(key);
    const r = await replaySpool(dir, s.send);
    s.close();
    expect(r).toEqual({ replayed: 7, pending: 0, invalid: 0 });
    expect(await streamJobs(key)).toEqual(range(1, 7).map((id) => job(id)));
    expect(readdirSync(dir)).toEqual([]);
    expect(await replaySpool(dir, s.send)).toEqual({ replayed: 0, pending: 0, invalid: 0 });
  });

  it('the spool file is private (0600): it sits in the plugin folder', () => {
    const dir = newDir();
    appendToSpool(dir, job(1));
    if (process.platform !== 'win32') {
      expect(statSync(spoolPath(dir)).mode & 0o777).toBe(0o600);
    }
  });

  it('keeps what was not delivered, and the next replay delivers it: no loss, no duplicate', async () => {
    const dir = newDir();
    const key = newKey();
    for (const id of range(1, 10)) appendToSpool(dir, job(id));
    const s = await writerSender(key);
    // Delivers 3 entries of the first batch, then "the connection drops".
    const flaky: Sender = async (jobs) => {
      const r = await s.send(jobs.slice(0, 3));
      return { delivered: r.delivered, error: new Error('connection reset') };
    };
    const first = await replaySpool(dir, flaky, { batch: 4 });
    expect(first).toMatchObject({ replayed: 3, pending: 7, invalid: 0 });
    expect(first.error?.message).toBe('connection reset');
    expect(spooledCount(dir)).toBe(7);
    // A sender that throws delivers nothing.
    const thrown = await replaySpool(dir, () => Promise.reject(new Error('down')));
    expect(thrown).toMatchObject({ replayed: 0, pending: 7 });
    const second = await replaySpool(dir, s.send);
    s.close();
    expect(second).toEqual({ replayed: 7, pending: 0, invalid: 0 });
    expect(ids(await streamJobs(key)).sort((a, b) => a - b)).toEqual(range(1, 10));
  });

  it('two concurrent replays in one process deliver each entry exactly once', async () => {
    const dir = newDir();
    const key = newKey();
    for (const id of range(1, 50)) appendToSpool(dir, job(id));
    const s = await writerSender(key);
    const slow: Sender = async (jobs) => {
      await new Promise((r) => setTimeout(r, 20));
      return s.send(jobs);
    };
    const [a, b] = await Promise.all([replaySpool(dir, slow, { batch: 5 }), replaySpool(dir, slow, { batch: 5 })]);
    // Entries appended while a replay runs go to a fresh spool, for the next replay.
    appendToSpool(dir, job(51));
    const c = await replaySpool(dir, s.send);
    s.close();
    expect(a.replayed + b.replayed).toBe(50);
    expect(c.replayed).toBe(1);
    expect(ids(await streamJobs(key)).sort((x, y) => x - y)).toEqual(range(1, 51));
  });

  it('two replay processes at once deliver 1000 spooled entries exactly once', async () => {
    const dir = newDir();
    const key = newKey();
    appendToSpool(
      dir,
      range(1, 1000).map((id) => job(id)),
    );
    const results = await Promise.all([runDriver({ mode: 'replay', dir, key }), runDriver({ mode: 'replay', dir, key })]);
    for (const r of results) expect(r.code, r.out).toBe(0);
    const replayed = results.map((r) => (JSON.parse(r.out) as { replayed: number }).replayed);
    expect(replayed[0] + replayed[1]).toBe(1000);
    const got = ids(await streamJobs(key));
    expect(got).toHaveLength(1000);
    expect(new Set(got).size).toBe(1000);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('appender processes racing replay processes lose nothing', async () => {
    const dir = newDir();
    const key = newKey();
    const stopFile = join(newDir(), 'stop');
    const replayers = [runDriver({ mode: 'replay-loop', dir, key, stopFile }), runDriver({ mode: 'replay-loop', dir, key, stopFile })];
    const appenders = await Promise.all(range(0, 4).map((i) => runDriver({ mode: 'append', dir, from: i * 1000 + 1, count: 150 })));
    for (const r of appenders) expect(r.code, r.out).toBe(0);
    writeFileSync(stopFile, '');
    for (const r of await Promise.all(replayers)) expect(r.code, r.out).toBe(0);
    const final = await runDriver({ mode: 'replay', dir, key });
    expect(final.code, final.out).toBe(0);
    const got = ids(await streamJobs(key));
    const want = range(0, 4).flatMap((i) => range(i * 1000 + 1, 150));
    expect(new Set(got)).toEqual(new Set(want));
    // Duplicates are possible (an appender re-writes lines a replay may have read): harmless.
    expect(new Set(got).size).toBe(want.length);
    expect(spooledCount(dir)).toBe(0);
  }, 60_000);

  it('an appender whose file is claimed mid-write writes its lines again, into a claim of its own', async () => {
    const dir = newDir();
    const claimed = join(dir, 'claimed-by-a-replay');
    appendToSpool(dir, job(1));
    appendToSpool(dir, [job(2), job(3)], { afterWrite: () => renameSync(spoolPath(dir), claimed) }); // what a replay's claim does
    expect(
      readFileSync(claimed, 'utf8')
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { sceneId: string }).sceneId),
    ).toEqual(['1', '2', '3']);
    const own = readdirSync(dir).filter((n) => n.startsWith(`${SPOOL_FILE}.${process.pid}-`) && n.endsWith('.claim'));
    expect(own).toHaveLength(1);
    expect(
      readFileSync(join(dir, own[0]), 'utf8')
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { sceneId: string }).sceneId),
    ).toEqual(['2', '3']);
    expect(existsSync(spoolPath(dir))).toBe(false);
    // This process is alive: its claim is not adopted (by a replay in another process neither).
    const key = newKey();
    const s = await writerSender(key);
    expect((await replaySpool(dir, s.send)).replayed).toBe(0);
    s.close();
    // Once the appender is gone (here: a replay in another process, after ours "exits"), it is.
    const r = await runDriver({ mode: 'replay', dir, key });
    expect((JSON.parse(r.out) as { replayed: number }).replayed).toBe(0); // we are still alive...
    renameSync(join(dir, own[0]), join(dir, own[0].replace(`.${process.pid}-`, '.999999999-'))); // ...as if we had exited
    expect((JSON.parse((await runDriver({ mode: 'replay', dir, key })).out) as { replayed: number }).replayed).toBe(2);
    expect(ids(await streamJobs(key))).toEqual([2, 3]);
  });

  it('adopts the claim of a replay that died, not that of one still running', async () => {
    const dir = newDir();
    const key = newKey();
    const dead = spawn(process.execPath, ['-e', '0']);
    await new Promise((r) => dead.once('exit', r));
    const alive = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)']);
    try {
      const claim = (pid: number, at: number, id: number) =>
        writeFileSync(join(dir, `${SPOOL_FILE}.${pid}-${at}-abcd1234.claim`), `${JSON.stringify(job(id))}\n`);
      claim(dead.pid!, Date.now(), 1);
      claim(alive.pid!, Date.now(), 2); // a replay in progress: left alone
      claim(alive.pid!, Date.now() - ORPHAN_CLAIM_MS - 1_000, 3); // too old: adopted (pid reuse)
      const s = await writerSender(key);
      const r = await replaySpool(dir, s.send);
      s.close();
      expect(r.replayed).toBe(2);
      expect(ids(await streamJobs(key)).sort()).toEqual([1, 3]);
      expect(readdirSync(dir)).toEqual([`${SPOOL_FILE}.${alive.pid}-${readdirSync(dir)[0].split('-')[1]}-abcd1234.claim`]);
      expect(spooledCount(dir)).toBe(1);
    } finally {
      alive.kill('SIGKILL');
    }
  });

  it('a torn line does not swallow the next entry; lines that are not jobs are set aside', async () => {
    const dir = newDir();
    const key = newKey();
    writeFileSync(spoolPath(dir), `${JSON.stringify(job(1))}\n{"sceneId":"2","rea`);
    appendToSpool(dir, job(3));
    writeFileSync(spoolPath(dir), `${readFileSync(spoolPath(dir), 'utf8')}[1,2]\n{"sceneId":"x","reason":"hook","enqueuedAt":1}\n\n`);
    appendToSpool(dir, job(3)); // an exact duplicate line is sent once
    const s = await writerSender(key);
    const r = await replaySpool(dir, s.send);
    s.close();
    expect(r).toEqual({ replayed: 2, pending: 0, invalid: 3 });
    expect(ids(await streamJobs(key))).toEqual([1, 3]);
    expect(readFileSync(join(dir, SPOOL_BAD_FILE), 'utf8').trim().split('\n')).toHaveLength(3);
  });

  it('appending to a folder that does not exist throws (the caller must not claim it spooled)', () => {
    expect(() => appendToSpool(join(newDir(), 'missing'), job(1))).toThrow(/ENOENT/);
  });
});

describe('recordJob: Redis, else the spool', () => {
  it('spools while Redis is unreachable, then replays before the next entry', async () => {
    const dir = newDir();
    const key = newKey();
    const closed = `redis://127.0.0.1:${await freePort()}`;
    const down = await recordJob(dir, { url: closed, key }, job(1));
    expect(down.delivered).toBe(false);
    expect(down.error?.message).toMatch(/ECONNREFUSED/);
    expect(spooledCount(dir)).toBe(1);
    const up = await recordJob(dir, { url: testRedisUrl(), key }, job(2));
    expect(up).toEqual({ delivered: true, replayed: 1 });
    expect(ids(await streamJobs(key))).toEqual([1, 2]);
    expect(existsSync(spoolPath(dir))).toBe(false);
  });

  it('spools when Redis accepts the connection but never answers (command timeout)', async () => {
    const dir = newDir();
    const silent = createServer((sock) => sock.on('data', () => undefined));
    servers.push(silent);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as { port: number }).port;
    const started = Date.now();
    const r = await recordJob(dir, { url: `redis://127.0.0.1:${port}`, key: newKey() }, job(1), { commandTimeoutMs: 200 });
    expect(r.delivered).toBe(false);
    expect(r.error?.message).toMatch(/did not answer within 200 ms/);
    expect(Date.now() - started).toBeLessThan(5_000); // the 200 ms bound, not a hang (generous: busy machines)
    expect(spooledCount(dir)).toBe(1);
  });
});

describe('MiniRedis / InboxWriter', () => {
  it('follows a cluster MOVED redirect to the node holding the inbox', async () => {
    const key = newKey();
    const target = parseRedisUrl(testRedisUrl());
    let redirected = 0;
    const mover = createServer((sock: Socket) =>
      sock.on('data', (d) => {
        for (const _ of d.toString().matchAll(/XADD/g)) {
          redirected++;
          sock.write(`-MOVED 1234 ${target.host}:${target.port}\r\n`);
        }
      }),
    );
    servers.push(mover);
    await new Promise<void>((r) => mover.listen(0, '127.0.0.1', r));
    const w = await InboxWriter.open(`redis://127.0.0.1:${(mover.address() as { port: number }).port}`, key);
    const r = await w.add([job(1), job(2)]);
    w.close();
    expect(r).toEqual({ delivered: 2 });
    expect(redirected).toBe(2);
    expect(ids(await streamJobs(key))).toEqual([1, 2]);
  });

  it('authenticates (user and password from the URL), selects the database, reports a refusal', async () => {
    const user = uniquePrefix('user');
    await redis.call('ACL', 'SETUSER', user, 'on', '>pa:ss@word', '~*', '+@all');
    const key = newKey();
    try {
      const u = new URL(testRedisUrl());
      const url = `redis://${user}:${encodeURIComponent('pa:ss@word')}@${u.host}/5`;
      const w = await InboxWriter.open(url, key);
      expect(await w.add([job(9)])).toEqual({ delivered: 1 });
      w.close();
      const db5 = redis.duplicate({ db: 5 });
      expect(await db5.xlen(key)).toBe(1);
      await db5.del(key);
      db5.disconnect();
      expect(await redis.xlen(key)).toBe(0);
      await expect(InboxWriter.open(`redis://${user}:wrong@${u.host}`, key)).rejects.toThrow(/WRONGPASS/);
    } finally {
      await redis.call('ACL', 'DELUSER', user);
    }
  });

  it('pipelines commands and returns error replies as values', async () => {
    const c = await MiniRedis.connect(parseRedisUrl(testRedisUrl()));
    const key = uniquePrefix('k');
    const replies = await c.pipeline([
      ['SET', key, 'v'],
      ['GET', key],
      ['INCR', key],
      ['DEL', key],
      ['GET', key],
    ]);
    c.close();
    expect(replies.slice(0, 2)).toEqual(['OK', 'v']);
    expect(replies[2]).toBeInstanceOf(Error);
    expect(replies.slice(3)).toEqual([1, null]);
    await expect(c.pipeline([['PING']])).rejects.toThrow();
  });
});

describe('MiniRedis over node:net', () => {
  /** A server on `host` that runs `onData` for what it receives; its port. */
  async function server(host: string, onData: (sock: Socket, d: Buffer) => void): Promise<number> {
    const srv = createServer((sock: Socket) => sock.on('data', (d) => onData(sock, d)));
    servers.push(srv);
    await new Promise<void>((r) => srv.listen(0, host, r));
    return (srv.address() as { port: number }).port;
  }

  it('reaches an IPv4 address, an IPv6 address and a host name', async () => {
    const pong = (sock: Socket) => sock.write('+PONG\r\n');
    const v4 = await server('127.0.0.1', pong);
    const v6 = await server('::1', pong);
    for (const url of [`redis://127.0.0.1:${v4}`, `redis://[::1]:${v6}`, `redis://localhost:${v4}`]) {
      const c = await MiniRedis.connect(parseRedisUrl(url));
      expect([url, await c.pipeline([['PING']])]).toEqual([url, ['PONG']]);
      c.close();
    }
  });

  it('a reply that arrives in many reads (a 1 MiB value) comes back whole', async () => {
    const c = await MiniRedis.connect(parseRedisUrl(testRedisUrl()));
    const key = uniquePrefix('big');
    const value = 'x'.repeat(1024 * 1024 - 3) + 'end';
    const replies = await c.pipeline([
      ['SET', key, value],
      ['GET', key],
      ['DEL', key],
    ]);
    c.close();
    expect(replies[0]).toBe('OK');
    expect((replies[1] as string).length).toBe(value.length);
    expect(replies[1] === value).toBe(true);
    expect(replies[2]).toBe(1);
  });

  it("a refused connection rejects in node:net's words", async () => {
    const port = await freePort();
    await expect(MiniRedis.connect(parseRedisUrl(`redis://127.0.0.1:${port}`))).rejects.toThrow(`connect ECONNREFUSED 127.0.0.1:${port}`);
  });

  it('a server that closes the connection fails what waits for it, and what comes after', async () => {
    const port = await server('127.0.0.1', (sock) => sock.end());
    const c = await MiniRedis.connect(parseRedisUrl(`redis://127.0.0.1:${port}`));
    await expect(c.pipeline([['PING']])).rejects.toThrow('Redis closed the connection');
    await expect(c.pipeline([['PING']])).rejects.toThrow('Redis closed the connection');
  });

  it('a server that never answers fails the pipeline at its timeout', async () => {
    const port = await server('127.0.0.1', () => undefined);
    const c = await MiniRedis.connect(parseRedisUrl(`redis://127.0.0.1:${port}`), { commandTimeoutMs: 150 });
    await expect(c.pipeline([['PING']])).rejects.toThrow('Redis did not answer within 150 ms');
    c.close();
  });
});

describe('fan-out events (renames) in the spool', () => {
  const rename = (id: number, relation: FanoutEvent['relation'] = 'performer'): FanoutEvent => ({
    relation,
    id: String(id),
    event: relation === 'performer' ? 'Performer.Update.Post' : relation === 'studio' ? 'Studio.Update.Post' : 'Tag.Merge.Post',
    enqueuedAt: 1_750_000_000_000 + id,
  });
  /** Every entry of the stream, decoded: scene jobs and fan-outs, in order. */
  async function streamItems(key: string) {
    const entries = (await redis.xrange(key, '-', '+')) as [string, string[]][];
    return entries.map(([, flat]) => {
      const d = decodeInboxEntry(flat);
      if (!d.ok) throw new Error(d.error);
      return d.job ? { scene: d.job } : { fanout: d.fanout };
    });
  }

  it('are spooled beside scene jobs and replayed in order as fan-out entries', async () => {
    const dir = newDir();
    const key = newKey();
    const items: InboxItem[] = [job(1), fanoutItem(rename(7)), job(2), fanoutItem(rename(3, 'studio')), fanoutItem(rename(9, 'tag'))];
    appendToSpool(dir, items.slice(0, 2));
    for (const item of items.slice(2)) appendToSpool(dir, item);
    const lines = readFileSync(spoolPath(dir), 'utf8').trim().split('\n');
    expect(JSON.parse(lines[1])).toEqual({
      kind: 'fanout',
      relation: 'performer',
      id: '7',
      event: 'Performer.Update.Post',
      enqueuedAt: 1_750_000_000_007,
    });
    expect(JSON.parse(lines[0])).toEqual(job(1)); // scene lines keep the old format
    expect(spooledCount(dir)).toBe(5);
    const s = await writerSender(key);
    const r = await replaySpool(dir, s.send, { batch: 2 });
    s.close();
    expect(r).toEqual({ replayed: 5, pending: 0, invalid: 0 });
    expect(await streamItems(key)).toEqual([
      { scene: job(1) },
      { fanout: rename(7) },
      { scene: job(2) },
      { fanout: rename(3, 'studio') },
      { fanout: rename(9, 'tag') },
    ]);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a spool written before fan-outs existed (scene lines only, no kind) replays unchanged', async () => {
    const dir = newDir();
    const key = newKey();
    // Byte for byte what the previous plugin version wrote.
    const old = [
      '{"sceneId":"41","reason":"hook","event":"Scene.Update.Post","fields":["title","id"],"enqueuedAt":1750000000041}',
      '{"sceneId":"42","reason":"hook","event":"Scene.Create.Post","fields":["file_ids"],"enqueuedAt":1750000000042}',
    ];
    writeFileSync(spoolPath(dir), `${old.join('\n')}\n`);
    appendToSpool(dir, fanoutItem(rename(5)));
    const s = await writerSender(key);
    expect(await replaySpool(dir, s.send)).toEqual({ replayed: 3, pending: 0, invalid: 0 });
    s.close();
    const got = await streamItems(key);
    expect(got.map((g) => (g.scene ? `scene ${g.scene.sceneId} ${g.scene.event}` : `${g.fanout.relation} ${g.fanout.id}`))).toEqual([
      'scene 41 Scene.Update.Post',
      'scene 42 Scene.Create.Post',
      'performer 5',
    ]);
    expect(got[0].scene).toEqual(JSON.parse(old[0]));
  });

  it('malformed fan-out lines and unknown kinds are set aside, not delivered', async () => {
    const dir = newDir();
    const key = newKey();
    const bad = [
      { kind: 'fanout', relation: 'gallery', id: '1', event: 'x', enqueuedAt: 1 },
      { kind: 'fanout', relation: 'tag', id: 'abc', event: 'x', enqueuedAt: 1 },
      { kind: 'fanout', relation: 'tag', id: '1', enqueuedAt: 1 },
      { kind: 'fanout', relation: 'tag', id: '1', event: 'x', enqueuedAt: '1' },
      { kind: 'rename', sceneId: '1', reason: 'hook', enqueuedAt: 1 },
    ];
    writeFileSync(spoolPath(dir), bad.map((b) => `${JSON.stringify(b)}\n`).join(''));
    appendToSpool(dir, [fanoutItem(rename(2, 'tag')), job(3)]);
    const s = await writerSender(key);
    const r = await replaySpool(dir, s.send);
    s.close();
    expect(r).toEqual({ replayed: 2, pending: 0, invalid: 5 });
    expect(await streamItems(key)).toEqual([{ fanout: rename(2, 'tag') }, { scene: job(3) }]);
    expect(readFileSync(join(dir, SPOOL_BAD_FILE), 'utf8').trim().split('\n')).toHaveLength(5);
  });

  it('recordJob takes a fan-out like a scene job: spooled while Redis is down, replayed first', async () => {
    const dir = newDir();
    const key = newKey();
    const down = await recordJob(dir, { url: `redis://127.0.0.1:${await freePort()}`, key }, fanoutItem(rename(8)));
    expect(down.delivered).toBe(false);
    expect(spooledCount(dir)).toBe(1);
    const up = await recordJob(dir, { url: testRedisUrl(), key }, fanoutItem(rename(4, 'studio')));
    expect(up).toEqual({ delivered: true, replayed: 1 });
    expect(await streamItems(key)).toEqual([{ fanout: rename(8) }, { fanout: rename(4, 'studio') }]);
    expect(existsSync(spoolPath(dir))).toBe(false);
  });
});
