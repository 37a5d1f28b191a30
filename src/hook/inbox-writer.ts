// The hook's delivery of an inbox item: XADD over MiniRedis (./mini-redis.ts) after replaying the spool
// (./spool.ts); while Redis cannot take it, the item goes to the spool instead.
import { encodeItem, type InboxItem } from '../model/inbox-item.js';
import { MiniRedis, parseRedisUrl, RedisReplyError, type MiniRedisOptions, type RedisTarget, type Reply } from './mini-redis.js';
import { appendToSpool, replaySpool, type DeliverResult } from './spool.js';

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
        this.client = await MiniRedis.connect({ ...this.target, host: moved[1], port: Number(moved[2]), db: 0 }, this.opts);
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
export interface RecordOptions extends MiniRedisOptions {
  /**
   * Leave the connection open: for a caller that exits right after (the hook). Closing a socket runs
   * node:stream's teardown, ~1 ms of a run Stash waits for; the exit closes it for free.
   */
  leaveOpen?: boolean;
}

export async function recordJob(
  dir: string,
  redis: { url: string; key: string },
  job: InboxItem,
  opts: RecordOptions = {},
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
    if (!opts.leaveOpen) writer.close();
  }
}
