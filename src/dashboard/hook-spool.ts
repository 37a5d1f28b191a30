// The HTTP hook's spool: an event Redis did not take (unreachable, or refusing writes: OOM, READONLY)
// is appended to a spool on the dashboard's disk, in the Node hook's format and with its claim protocol
// (src/hook/spool.ts), and replayed into the inbox as soon as Redis takes writes again: every few
// seconds while something is spooled, and right after the next event Redis took.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../core/log.js';
import type { RedisConnection } from '../core/redis.js';
import { appendToSpool, replaySpool, spooledCount, type Sender } from '../hook/spool.js';
import { encodeItem, type InboxItem } from '../model/inbox-item.js';

export const DEFAULT_SPOOL_REPLAY_MS = 5_000;

export interface HookSpoolOptions {
  /** HOOK_SPOOL_DIR; the spool lives in its subfolder named after the prefix. */
  baseDir: string;
  prefix: string;
  redis: RedisConnection;
  inboxKey: string;
  log: Logger;
  /** How often a non-empty spool is replayed. Default 5 s. */
  replayEveryMs?: number;
}

export class HookSpool {
  readonly dir: string;
  private timer: NodeJS.Timeout | undefined;
  private replaying: Promise<number> | undefined;
  /** False once a replay found the spool empty; true again after an append. */
  private maybePending = true;

  constructor(private readonly opts: HookSpoolOptions) {
    this.dir = join(opts.baseDir, opts.prefix);
  }

  /** Starts the replay timer (the folder is created by the first event spooled). */
  start(): void {
    this.timer = setInterval(() => void this.replay(), this.opts.replayEveryMs ?? DEFAULT_SPOOL_REPLAY_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Appends the item durably; throws when the folder is not writable (the event is then not recorded). */
  add(item: InboxItem): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    appendToSpool(this.dir, item);
    this.maybePending = true;
  }

  /** Spooled events delivered (0 when Redis is not ready or nothing waits). One replay at a time. */
  replay(): Promise<number> {
    if (!this.maybePending || this.opts.redis.status !== 'ready') return Promise.resolve(0);
    this.replaying ??= this.replayOnce().finally(() => (this.replaying = undefined));
    return this.replaying;
  }

  private async replayOnce(): Promise<number> {
    const { redis, inboxKey, log } = this.opts;
    const send: Sender = async (items) => {
      const pipeline = redis.pipeline();
      for (const item of items) pipeline.xadd(inboxKey, '*', ...encodeItem(item));
      let delivered = 0;
      for (const [err] of (await pipeline.exec()) ?? []) {
        if (err) return { delivered, error: err };
        delivered++;
      }
      return { delivered };
    };
    try {
      const r = await replaySpool(this.dir, send);
      if (r.replayed)
        log.info({ replayed: r.replayed, pending: r.pending }, `stash hook: replayed ${r.replayed} spooled event(s) into the inbox`);
      if (r.invalid) log.warn({ invalid: r.invalid, dir: this.dir }, 'stash hook: unreadable spool lines moved aside');
      if (r.error) log.warn({ pending: r.pending, err: r.error.message }, 'stash hook: spool replay stopped; retried later');
      if (r.pending === 0 && spooledCount(this.dir) === 0) this.maybePending = false;
      return r.replayed;
    } catch (err) {
      log.error({ dir: this.dir, err: (err as Error).message }, 'stash hook: the spool could not be written back; retried later');
      return 0;
    }
  }
}
