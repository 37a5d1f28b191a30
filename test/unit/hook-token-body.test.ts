// The HTTP hook's token-in-body form (wget): HOOK_TOKEN, a newline, the plugin input. The pure parts
// (content type, the token line's end, the compare) and the reader over real streams, chunked every way.
import { PassThrough, Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { readTokenBody } from '../../src/dashboard/hook-token-body.js';
import { isTokenBodyType, scanTokenLine, tokenLineCap, tokenMatches } from '../../src/dashboard/http-hook.js';
import { HTTP_HOOK_TOKEN_BODY_TYPE } from '../../src/hook/input.js';

const TOKEN = 'hook-token-0123456789abcdef';
const INPUT = '{"server_connection":{},"args":{"hookContext":{"id":4,"type":"Scene.Update.Post"}}}';
const LIMIT = 1024;

/** `text` as a stream of chunks of `size` bytes (the token line split anywhere). */
const chunked = (text: string | Buffer, size: number) => {
  const b = Buffer.isBuffer(text) ? text : Buffer.from(text, 'utf8');
  const parts: Buffer[] = [];
  for (let i = 0; i < b.length; i += size) parts.push(Buffer.from(b.subarray(i, i + size)));
  return Readable.from(parts, { objectMode: false });
};

describe('the token-in-body form: pure parts', () => {
  it('is told by its Content-Type alone (parameters and case ignored)', () => {
    expect(HTTP_HOOK_TOKEN_BODY_TYPE).toBe('application/x-stash2plex-hook');
    for (const t of ['application/x-stash2plex-hook', 'Application/X-Stash2plex-Hook', 'application/x-stash2plex-hook; charset=utf-8'])
      expect(isTokenBodyType(t), t).toBe(true);
    for (const t of [undefined, '', 'application/json', 'application/x-stash2plex-hook-not', 'text/plain; x=application/x-stash2plex-hook'])
      expect(isTokenBodyType(t), String(t)).toBe(false);
  });

  it('the script posts exactly that Content-Type', async () => {
    const { readFileSync } = await import('node:fs');
    expect(readFileSync('src/stash-plugin/stash2plex.sh', 'utf8')).toContain(`--header 'Content-Type: ${HTTP_HOOK_TOKEN_BODY_TYPE}'`);
  });

  it('the token line ends at the first newline, within the cap; past it, it is too long', () => {
    const cap = 8;
    expect(scanTokenLine(Buffer.from('abc\n{}'), cap)).toEqual({ kind: 'line', end: 3 });
    expect(scanTokenLine(Buffer.from('\n{}'), cap)).toEqual({ kind: 'line', end: 0 }); // empty token
    expect(scanTokenLine(Buffer.from('12345678\nrest'), cap)).toEqual({ kind: 'line', end: 8 });
    expect(scanTokenLine(Buffer.from('123456789\nrest'), cap)).toEqual({ kind: 'too-long' });
    expect(scanTokenLine(Buffer.from('abc'), cap)).toEqual({ kind: 'more' });
    expect(scanTokenLine(Buffer.from('12345678'), cap)).toEqual({ kind: 'more' });
    expect(scanTokenLine(Buffer.from('123456789'), cap)).toEqual({ kind: 'too-long' });
  });

  it("the cap is the same for every usual token (where reading stops tells nothing of the token's length)", () => {
    expect(tokenLineCap('a')).toBe(tokenLineCap(TOKEN));
    expect(tokenLineCap('x'.repeat(4096))).toBe(4096);
    expect(tokenLineCap('x'.repeat(5000))).toBe(5000); // a token past the cap still fits its line
  });

  it('matches only the exact, non-empty token', () => {
    expect(tokenMatches(TOKEN, TOKEN)).toBe(true);
    for (const given of [null, '', `${TOKEN}x`, TOKEN.slice(0, -1), ` ${TOKEN}`, `${TOKEN}\r`, TOKEN.toUpperCase()])
      expect(tokenMatches(given, TOKEN), String(given)).toBe(false);
    expect(tokenMatches('', '')).toBe(false);
  });
});

describe('readTokenBody', () => {
  it('the right token line: the input after it, byte for byte, however the body is chunked', async () => {
    const input = `${INPUT.slice(0, -1)},"t":"Ünïcödé\\n"}`;
    for (const size of [1, 2, 5, TOKEN.length, TOKEN.length + 1, 64, 100_000]) {
      const read = await readTokenBody(chunked(`${TOKEN}\n${input}`, size), TOKEN, LIMIT);
      expect(read, String(size)).toEqual({ kind: 'input', input: Buffer.from(input, 'utf8') });
    }
    // Only the first newline ends the token line: the input may have its own.
    const multiline = `{\n"a": 1\n}\n`;
    expect(await readTokenBody(chunked(`${TOKEN}\n${multiline}`, 3), TOKEN, LIMIT)).toEqual({
      kind: 'input',
      input: Buffer.from(multiline),
    });
    // The right token and nothing after it: an empty input (the route answers 400 "stdin is empty").
    expect(await readTokenBody(chunked(`${TOKEN}\n`, 4), TOKEN, LIMIT)).toEqual({ kind: 'input', input: Buffer.alloc(0) });
  });

  it('a wrong token: refused, the whole body read and dropped (drained)', async () => {
    for (const line of [`${TOKEN}x`, TOKEN.slice(0, -1), `Bearer ${TOKEN}`, `${TOKEN}\r`, INPUT]) {
      const read = await readTokenBody(chunked(`${line}\n${INPUT}`, 7), TOKEN, LIMIT);
      expect(read, line).toEqual({ kind: 'refused', given: 'wrong', drained: true });
    }
  });

  it('an empty token line, or an empty body: refused as no token', async () => {
    expect(await readTokenBody(chunked(`\n${INPUT}`, 7), TOKEN, LIMIT)).toEqual({ kind: 'refused', given: 'none', drained: true });
    expect(await readTokenBody(Readable.from([]), TOKEN, LIMIT)).toEqual({ kind: 'refused', given: 'none', drained: true });
  });

  it('a missing newline: no token line, even when the whole body is the token (the input is never taken for it)', async () => {
    expect(await readTokenBody(chunked(TOKEN, 5), TOKEN, LIMIT)).toEqual({ kind: 'refused', given: 'wrong', drained: true });
    expect(await readTokenBody(chunked(INPUT, 5), TOKEN, LIMIT)).toEqual({ kind: 'refused', given: 'wrong', drained: true });
  });

  it('a first line past the cap: refused, never compared', async () => {
    const long = 'x'.repeat(tokenLineCap(TOKEN) + 1);
    const stream = new PassThrough();
    const reading = readTokenBody(stream, TOKEN, 10 * LIMIT);
    stream.write(long); // no newline yet, and the stream stays open
    stream.write('y'.repeat(100));
    stream.end(`\n${INPUT}`);
    expect(await reading).toEqual({ kind: 'refused', given: 'wrong', drained: true });
  });

  it('oversize: the right token with an input over the limit is too large; the limit itself is read', async () => {
    const exact = 'x'.repeat(LIMIT);
    expect(await readTokenBody(chunked(`${TOKEN}\n${exact}`, 100), TOKEN, LIMIT)).toEqual({
      kind: 'input',
      input: Buffer.from(exact),
    });
    expect(await readTokenBody(chunked(`${TOKEN}\n${exact}x`, 100), TOKEN, LIMIT)).toEqual({ kind: 'too-large' });
    // A wrong token with a body over the limit: refused, the rest left unread (the route closes the connection).
    expect(await readTokenBody(chunked(`wrong\n${exact}${exact}`, 100), TOKEN, LIMIT)).toEqual({
      kind: 'refused',
      given: 'wrong',
      drained: false,
    });
  });

  it('stops at the limit: the rest of an endless body is never read', async () => {
    let pulled = 0;
    const endless = new Readable({
      read() {
        pulled += 1;
        this.push(pulled === 1 ? Buffer.from(`${TOKEN}\n`) : Buffer.alloc(256, 0x20));
      },
    });
    expect(await readTokenBody(endless, TOKEN, LIMIT)).toEqual({ kind: 'too-large' });
    // Paused: the stream fills its own buffer (highWaterMark) and then pulls no more.
    await new Promise((r) => setTimeout(r, 20));
    const settled = pulled;
    await new Promise((r) => setTimeout(r, 20));
    expect(pulled).toBe(settled);
    expect(pulled * 256).toBeLessThan(LIMIT + endless.readableHighWaterMark + 1024);
    endless.destroy();
  });

  it('a client that goes away mid-body: aborted', async () => {
    const stream = new PassThrough();
    const reading = readTokenBody(stream, TOKEN, LIMIT);
    stream.write(`${TOKEN}\n{"server`);
    stream.destroy(new Error('aborted'));
    expect(await reading).toEqual({ kind: 'aborted' });
  });

  it("zeroes the token line's bytes once compared (the chunks it came in included)", async () => {
    const chunks = [Buffer.from(TOKEN.slice(0, 10)), Buffer.from(`${TOKEN.slice(10)}\n${INPUT}`)];
    const read = await readTokenBody(Readable.from(chunks, { objectMode: false }), TOKEN, LIMIT);
    expect(read).toEqual({ kind: 'input', input: Buffer.from(INPUT) });
    for (const c of chunks) expect(c.toString('latin1')).not.toMatch(/[^\0]/);
  });
});
