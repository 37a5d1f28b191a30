// Moves hook events from the inbox stream into the `sync` queue (consumer group: each entry once,
// acknowledged only after its job was added; entries left pending by a crashed consumer are claimed).
import { hostname } from 'node:os';
import type { Queue } from 'bullmq';
import type { ErrorStrategies } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { RedisConnection } from '../core/redis.js';
import { INBOX_GROUP } from '../core/redis.js';
import { decodeInboxEntry } from '../model/job.js';
import type { FanoutEvent, FanoutRelation, SyncJobData } from '../model/inbox-item.js';
import { enqueueSyncBulk, raiseJoined } from './queue.js';

export interface IngestOptions {
  /** A connection of its own: XREADGROUP blocks it. */
  connection: RedisConnection;
  inboxKey: string;
  queue: Queue<SyncJobData>;
  strategies: ErrorStrategies;
  log: Logger;
  batch?: number;
  blockMs?: number;
  /** Entries pending longer than this in another (crashed) consumer are claimed. */
  claimIdleMs?: number;
  /** Scenes carrying a performer, studio or tag, in pages (for renames). Without it fan-outs are refused. */
  scenesWith?: (relation: FanoutRelation, id: string) => AsyncGenerator<string[]>;
}

type StreamEntry = [id: string, fields: string[]];

export class InboxIngest {
  readonly consumer = `${hostname()}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  private running = false;
  private loop: Promise<void> | undefined;
  private lastClaim = 0;
  ingested = 0;
  rejected = 0;

  constructor(private readonly opts: IngestOptions) {}

  async start(): Promise<void> {
    await this.ensureGroup();
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  private async ensureGroup() {
    try {
      await this.opts.connection.xgroup('CREATE', this.opts.inboxKey, INBOX_GROUP, '0', 'MKSTREAM');
    } catch (err) {
      if (!String((err as Error).message).includes('BUSYGROUP')) throw err;
    }
  }

  private async run() {
    const { connection, inboxKey, log } = this.opts;
    while (this.running) {
      try {
        if (Date.now() - this.lastClaim > (this.opts.claimIdleMs ?? 30_000) / 2) {
          this.lastClaim = Date.now();
          await this.claimStale();
        }
        const res = (await connection.xreadgroup(
          'GROUP',
          INBOX_GROUP,
          this.consumer,
          'COUNT',
          this.opts.batch ?? 500,
          'BLOCK',
          this.opts.blockMs ?? 1_000,
          'STREAMS',
          inboxKey,
          '>',
        )) as [string, StreamEntry[]][] | null;
        const entries = res?.[0]?.[1] ?? [];
        if (entries.length) await this.handle(entries);
      } catch (err) {
        if (!this.running) break;
        if (String((err as Error).message).includes('NOGROUP')) await this.ensureGroup().catch(() => undefined);
        log.warn({ err: (err as Error).message }, 'inbox ingest: Redis error, retrying');
        await new Promise((r) => setTimeout(r, 1_000));
      }
    }
  }

  private async claimStale() {
    const { connection, inboxKey } = this.opts;
    let cursor = '0-0';
    do {
      const [next, entries] = (await connection.xautoclaim(
        inboxKey,
        INBOX_GROUP,
        this.consumer,
        this.opts.claimIdleMs ?? 30_000,
        cursor,
        'COUNT',
        500,
      )) as [string, StreamEntry[], string[]?];
      const live = entries.filter((e) => e && e[1]);
      if (live.length) {
        this.opts.log.info({ count: live.length }, 'inbox ingest: claimed entries left pending by another consumer');
        await this.handle(live);
      }
      cursor = next;
    } while (cursor !== '0-0' && this.running);
  }

  /** Adds the jobs, then acknowledges and deletes the entries (the stream does not grow). */
  async handle(entries: StreamEntry[]) {
    const jobs: SyncJobData[] = [];
    const fanouts: FanoutEvent[] = [];
    for (const [id, flat] of entries) {
      const decoded = decodeInboxEntry(flat);
      if (decoded.ok && decoded.job) jobs.push(decoded.job);
      else if (decoded.ok) fanouts.push(decoded.fanout);
      else {
        this.rejected++;
        this.opts.log.warn({ entryId: id, error: decoded.error }, 'inbox ingest: invalid entry dropped');
      }
    }
    await raiseJoined(this.opts.queue, jobs, await enqueueSyncBulk(this.opts.queue, jobs, this.opts.strategies));
    for (const f of fanouts) await this.fanOut(f); // throws (entry stays pending, retried) if Stash is down
    const ids = entries.map(([id]) => id);
    await this.opts.connection.xack(this.opts.inboxKey, INBOX_GROUP, ...ids);
    await this.opts.connection.xdel(this.opts.inboxKey, ...ids);
    this.ingested += jobs.length;
  }

  /** A renamed performer, studio or tag: a bulk-priority sync of every scene that carries it. */
  private async fanOut(f: FanoutEvent) {
    if (!this.opts.scenesWith) throw new Error('fan-out needs a Stash client');
    let scenes = 0;
    for await (const ids of this.opts.scenesWith(f.relation, f.id)) {
      const now = Date.now();
      await enqueueSyncBulk(
        this.opts.queue,
        ids.map((sceneId) => ({ sceneId, reason: 'reconcile' as const, event: f.event, enqueuedAt: now })),
        this.opts.strategies,
      );
      scenes += ids.length;
    }
    this.ingested += scenes;
    this.opts.log.info(
      { relation: f.relation, id: f.id, event: f.event, scenes },
      `${f.relation} ${f.id} changed: ${scenes} scene(s) to re-sync`,
    );
  }
}
