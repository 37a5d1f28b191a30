// The hook's minimal Redis client: URL parsing and the RESP2 reply parser.
import { describe, expect, it } from 'vitest';
import { parseRedisUrl, parseRedisUrlWhatwg, parseReply, RedisReplyError } from '../../src/hook/mini-redis.js';

describe('parseRedisUrl', () => {
  it('defaults, auth, db, tls, IPv6', () => {
    expect(parseRedisUrl('redis://localhost')).toEqual({
      host: 'localhost',
      port: 6379,
      tls: false,
      username: undefined,
      password: undefined,
      db: 0,
    });
    expect(parseRedisUrl('rediss://u%40x:p%3Aw@r.lan:6380/3')).toEqual({
      host: 'r.lan',
      port: 6380,
      tls: true,
      username: 'u@x',
      password: 'p:w',
      db: 3,
    });
    expect(parseRedisUrl('redis://:secret@127.0.0.1:1/')).toMatchObject({ username: undefined, password: 'secret', db: 0 });
    expect(parseRedisUrl('redis://[::1]:7000')).toMatchObject({ host: '::1', port: 7000 });
  });
  it('rejects other schemes and non-numeric databases', () => {
    expect(() => parseRedisUrl('http://x')).toThrow(/redis:\/\//);
    expect(() => parseRedisUrl('redis://x/abc')).toThrow(/database number/);
  });
});

describe('parseRedisUrl: the common form read without WHATWG URL, to the same result', () => {
  it.each([
    'redis://127.0.0.1:6379',
    'redis://127.0.0.1',
    'rediss://redis.lan:6380/3',
    'redis://REDIS:1/',
    'redis://h/0',
    'redis://h:65535/12',
    'redis://a_b.c-d:7000',
    'redis://h/',
    'redis://10.0.0.1:6379/123456789',
    'redis://127.000.0.1:6379',
  ])('%s', (url) => {
    expect(parseRedisUrl(url)).toEqual(parseRedisUrlWhatwg(url));
  });

  it.each([
    'redis://h:65536',
    'redis://h:06379',
    'redis://h/05',
    'redis://u:p@h',
    'redis://[::1]:1',
    'redis://%41:1',
    'http://h',
    'redis://h/x',
    'redis://h:0',
  ])('%s goes to WHATWG URL (same result or error)', (url) => {
    const outcome = (f: (u: string) => unknown) => {
      try {
        return f(url);
      } catch (err) {
        return (err as Error).message;
      }
    };
    expect(outcome(parseRedisUrl)).toEqual(outcome(parseRedisUrlWhatwg));
  });
});

describe('parseReply', () => {
  const p = (s: string) => parseReply(Buffer.from(s));
  it('parses every RESP2 type with the next offset', () => {
    expect(p('+OK\r\n')).toEqual(['OK', 5]);
    expect(p(':42\r\n')).toEqual([42, 5]);
    expect(p('$5\r\nhello\r\n')).toEqual(['hello', 11]);
    expect(p('$-1\r\n')).toEqual([null, 5]);
    expect(p('*2\r\n$1\r\na\r\n:1\r\n')).toEqual([['a', 1], 15]);
    expect(p('*-1\r\n')).toEqual([null, 5]);
    const [err] = p('-WRONGPASS invalid username-password pair\r\n')!;
    expect(err).toBeInstanceOf(RedisReplyError);
    expect((err as Error).message).toBe('WRONGPASS invalid username-password pair');
  });
  it('bulk strings count bytes, not characters', () => {
    expect(p('$2\r\né\r\n')).toEqual(['é', 8]);
  });
  it('waits for the rest of an incomplete reply', () => {
    for (const s of ['', '+OK', '$5\r\nhel', '*2\r\n$1\r\na\r\n', ':1\r']) expect(p(s)).toBeUndefined();
  });
  it('parses at an offset (pipelined replies)', () => {
    const buf = Buffer.from('$3\r\n1-0\r\n$3\r\n2-0\r\n');
    const first = parseReply(buf)!;
    expect(parseReply(buf, first[1])).toEqual(['2-0', buf.length]);
  });
  it('throws on a byte that starts no reply', () => {
    expect(() => p('?\r\n')).toThrow(/protocol error/);
  });
});
