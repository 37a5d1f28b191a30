// The hook's stdin: one JSON object that Stash writes and closes (stashapp/stash pkg/plugin/raw.go: an
// os/exec StdinPipe, i.e. a pipe, written by a goroutine and closed). Read within a size limit and a
// deadline: a caller that never closes stdin must not hold the hook, and Stash with it, for ever.
//
// On the hook's hot path. process.stdin on a pipe is a net.Socket: its first use loads node:net and
// node:stream (~3 ms, a tenth of a `node -e 0`). So:
//   - on Linux stdin is reopened through /proc/self/fd/0, which gives a file description of our own
//     that can be non-blocking, and polled: the deadline still holds, nothing is loaded. (A blocking
//     read, or fs.read on the thread pool, would hold the process, even its exit, until the writer
//     closed its end.) That serves a pipe (as Stash gives it) and a regular file alike.
//   - else a regular file is read with blocking reads (it always ends);
//   - anything else (a socket, as Node's child_process gives, which cannot be reopened; a pipe elsewhere
//     than Linux; a TTY) is read through process.stdin.
// The input is read into one buffer, grown when full, and handed on without a copy: every Buffer
// function a run calls for the first time costs it a little.
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';

export type StdinResult = Buffer | null | 'timeout';

const errno = (err: unknown) => (err as NodeJS.ErrnoException)?.code;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Longest pause between two polls of an empty pipe. */
const MAX_POLL_MS = 10;

/** Collects chunks up to `limit` bytes; `take` says false once they are over it. */
function collector(limit: number) {
  const chunks: Buffer[] = [];
  let total = 0;
  return {
    take(c: Buffer): boolean {
      total += c.length;
      if (total > limit) return false;
      chunks.push(c);
      return true;
    },
    all: () => Buffer.concat(chunks),
  };
}

function stdinStat() {
  try {
    return fstatSync(0);
  } catch {
    return null;
  }
}

/**
 * Reads `fd` to its end, up to `limit` bytes (null beyond); EAGAIN (a non-blocking pipe, empty for now)
 * waits and polls again.
 */
async function readFd(fd: number, limit: number, deadline: number): Promise<StdinResult> {
  let buf = Buffer.allocUnsafe(64 * 1024);
  let used = 0;
  for (let pause = 1; ;) {
    if (used === buf.length) {
      const bigger = Buffer.allocUnsafe(Math.min(buf.length * 2, limit + 1));
      buf.copy(bigger, 0, 0, used);
      buf = bigger;
    }
    let n: number;
    try {
      n = readSync(fd, buf, used, buf.length - used, null);
    } catch (err) {
      if (errno(err) !== 'EAGAIN') throw err;
      if (Date.now() >= deadline) return 'timeout';
      await sleep(Math.min(pause, Math.max(1, deadline - Date.now())));
      pause = Math.min(pause * 2, MAX_POLL_MS);
      continue;
    }
    if (n === 0) return buf.subarray(0, used);
    used += n;
    if (used > limit) return null;
  }
}

/** A non-blocking descriptor of stdin of its own (Linux; not for a socket), or null. */
function reopenNonBlocking(): number | null {
  if (process.platform !== 'linux') return null;
  try {
    return openSync('/proc/self/fd/0', constants.O_RDONLY | constants.O_NONBLOCK);
  } catch {
    return null;
  }
}

function readStream(out: ReturnType<typeof collector>, timeoutMs: number): Promise<StdinResult> {
  return new Promise((done, reject) => {
    const timer = setTimeout(() => {
      process.stdin.destroy();
      done('timeout');
    }, timeoutMs);
    const end = (result: Buffer | null) => {
      clearTimeout(timer);
      done(result);
    };
    process.stdin.on('data', (c: Buffer) => {
      if (!out.take(c)) {
        process.stdin.destroy();
        end(null);
      }
    });
    process.stdin.once('end', () => end(out.all()));
    process.stdin.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

/** stdin up to `limit` bytes; null when there is more; 'timeout' when it has not ended within `timeoutMs`. */
export async function readStdin(limit: number, timeoutMs: number): Promise<StdinResult> {
  const deadline = Date.now() + timeoutMs;
  const fd = reopenNonBlocking();
  if (fd !== null) {
    try {
      return await readFd(fd, limit, deadline);
    } finally {
      closeSync(fd);
    }
  }
  if (stdinStat()?.isFile()) return readFd(0, limit, deadline);
  return readStream(collector(limit), timeoutMs);
}
