// The hook's spool: where an event (an InboxItem of src/model/inbox-item.ts: a scene job, or a fan-out
// event for a renamed performer, studio or tag) waits while Redis cannot take it, never lost.
//   - the spool: an append-only JSON-lines file in the plugin folder, one item per line: a scene job as
//     its SyncJobData (`{"sceneId":…,"reason":…}`, the format of every spool line before fan-outs
//     existed, so old spools replay unchanged), a fan-out as `{"kind":"fanout","relation":…,"id":…,
//     "event":…,"enqueuedAt":…}`. (A plugin older than fan-outs moves such lines to the bad-lines file.)
//   - replaySpool: delivers every spooled entry (before the caller's new one, through a Sender:
//     ./inbox-writer.ts in the hook, ioredis in the dashboard) and keeps what was not delivered.
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
import { join } from 'node:path';
import { inboxItemOf, itemJson, type InboxItem } from '../model/inbox-item.js';

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
  `${SPOOL_FILE}.${process.pid}-${Date.now()}-${Math.floor(Math.random() * 0xffffffff)
    .toString(16)
    .padStart(8, '0')}.claim`;

const errno = (err: unknown) => (err as NodeJS.ErrnoException)?.code;

/** Test seam: runs between the write and the check that the file is still the spool. */
export interface AppendHooks {
  afterWrite?: () => void;
}

function writeAll(fd: number, data: Buffer) {
  for (let off = 0; off < data.length;) off += writeSync(fd, data, off);
}

/**
 * Appends items (scene jobs, fan-out events) to the spool, durably (fsync). Throws if the folder is not
 * writable: the caller must then report the event as lost, not as spooled.
 */
export function appendToSpool(dir: string, items: InboxItem | readonly InboxItem[], hooks: AppendHooks = {}): void {
  const list: readonly InboxItem[] = Array.isArray(items) ? items : [items as InboxItem];
  if (list.length === 0) return;
  const path = spoolPath(dir);
  const body = list.map((item) => `${itemJson(item)}\n`).join('');
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
      n += readFileSync(join(dir, name), 'utf8')
        .split('\n')
        .filter((l) => l.trim()).length;
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

/** A spool line → item, or null when it is none (inboxItemOf: a light shape check). */
function asItem(line: string): InboxItem | null {
  try {
    return inboxItemOf(JSON.parse(line));
  } catch {
    return null;
  }
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
  // Listed first: with no spool (every run while Redis is up) nothing is renamed, and no ENOENT thrown.
  const found = spoolFiles(dir);
  if (found.includes(SPOOL_FILE)) claim(spool);
  for (const name of found) {
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
