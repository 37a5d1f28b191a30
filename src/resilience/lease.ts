// Leader lease and fenced writes: exactly one supervisor acts, and one that lost its lease cannot write.
// The lease key (keys().leader) is written only by LeaderLease's scripts and read only here (readLease).
import { z } from 'zod';
import { luaScript, runLua } from '../core/lua.js';
import type { Keys, RedisConnection } from '../core/redis.js';
import { readString } from './tolerant-read.js';

export const DEFAULT_LEASE_TTL_MS = 15_000;

// The scripts, with their keys, arguments and results, are in ./lua/ (loaded once by src/core/lua.ts).
const ACQUIRE = luaScript('resilience/lua/leaseAcquire-1.lua');
const RELEASE = luaScript('resilience/lua/leaseRelease-1.lua');
const FENCED_WRITE = luaScript('resilience/lua/fencedWrite.lua');

/** One write of a fenced batch: a Redis command on one key. */
export interface FencedOp {
  cmd: 'HSET' | 'DEL' | 'LPUSH' | 'LTRIM' | 'SET' | 'LSET' | 'SADD' | 'HDEL';
  key: string;
  args: (string | number)[];
}

export class LeaderLease {
  constructor(
    private readonly redis: RedisConnection,
    /** The lease key (a Lua step fenced by it takes it as its first key). */
    readonly key: string,
    readonly id: string,
    readonly ttlMs = DEFAULT_LEASE_TTL_MS,
  ) {}

  /** 'acquired' (or renewed), 'replaced-corrupt' (took over a lease without TTL), or 'held-by-other'. */
  async tryAcquire(): Promise<'acquired' | 'replaced-corrupt' | 'held-by-other'> {
    const r = Number(await runLua(this.redis, ACQUIRE, [this.key], [this.id, this.ttlMs]));
    return r === 1 ? 'acquired' : r === 2 ? 'replaced-corrupt' : 'held-by-other';
  }

  async release(): Promise<void> {
    await runLua(this.redis, RELEASE, [this.key], [this.id]);
  }

  async holder(): Promise<string | null> {
    return this.redis.get(this.key);
  }

  /** Applies `ops` atomically if this process still holds the lease; false when it does not. */
  async write(ops: FencedOp[]): Promise<boolean> {
    if (ops.length === 0) return true;
    const keys = [this.key, ...new Set(ops.map((o) => o.key))];
    const payload = ops.map((o) => ({ cmd: o.cmd, key: keys.indexOf(o.key) + 1, args: o.args.map(String) }));
    const r = await runLua(this.redis, FENCED_WRITE, keys, [this.id, JSON.stringify(payload)]);
    return Number(r) === 1;
  }
}

/** A lease holder's id (hostname-pid-uuid): printable, short. */
const leaderIdSchema = z.string().regex(/^[\x21-\x7e]{1,200}$/);

/** The lease as a reader sees it. */
export interface LeaseView {
  /** The holder's id; null when there is none or it is unreadable. */
  holder: string | null;
  /** PTTL of the key: > 0 for a live lease, -1 for one without expiry, -2 when missing. */
  ttlMs: number;
}

/** The lease; an unreadable holder (wrong Redis type, not an id) reads as none, with a warning. */
export async function readLease(redis: RedisConnection, redisKeys: Pick<Keys, 'leader'>, warnings: string[]): Promise<LeaseView> {
  const [raw, ttlMs] = await Promise.all([readString(redis, redisKeys.leader, 'supervisor lease', warnings), redis.pttl(redisKeys.leader)]);
  if (raw === null || leaderIdSchema.safeParse(raw).success) return { holder: raw, ttlMs };
  warnings.push('stored supervisor lease holder unreadable: not shown');
  return { holder: null, ttlMs };
}

/** A supervisor leader is alive: a readable holder whose lease expires (one without expiry is stale). */
export function leaseAlive(leaseView: LeaseView): boolean {
  return leaseView.holder !== null && leaseView.ttlMs > 0;
}
