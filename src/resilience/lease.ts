// Leader lease and fenced writes: exactly one supervisor acts, and one that lost its lease cannot write.
import type { RedisConnection } from '../core/redis.js';

export const DEFAULT_LEASE_TTL_MS = 15_000;

// Acquire or renew: take the key when free, extend it when ours. A key without TTL (corrupt, or written
// by hand) would block every supervisor forever: it is replaced, and the caller warns. So is a key of
// another Redis type, on which GET would fail every time.
const ACQUIRE = `
local t = redis.call('TYPE', KEYS[1]).ok
if t ~= 'string' and t ~= 'none' then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 2
end
local cur = redis.call('GET', KEYS[1])
if cur == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if cur and redis.call('PTTL', KEYS[1]) == -1 then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 2
end
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
return 0`;

const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

// Applies a list of writes only while ARGV[1] holds the lease in KEYS[1]. Every other key the writes touch
// is passed in KEYS (same hash slot on a cluster: all share the prefix's hash tag).
const FENCED = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
local ops = cjson.decode(ARGV[2])
for _, op in ipairs(ops) do
  local args = {}
  for i, a in ipairs(op.args) do args[i] = a end
  redis.call(op.cmd, KEYS[op.key], unpack(args))
end
return 1`;

/** One write of a fenced batch: a Redis command on one key. */
export interface FencedOp {
  cmd: 'HSET' | 'DEL' | 'LPUSH' | 'LTRIM' | 'SET' | 'LSET' | 'SADD' | 'HDEL';
  key: string;
  args: (string | number)[];
}

export class LeaderLease {
  constructor(
    private readonly redis: RedisConnection,
    private readonly key: string,
    readonly id: string,
    readonly ttlMs = DEFAULT_LEASE_TTL_MS,
  ) {}

  /** 'acquired' (or renewed), 'replaced-corrupt' (took over a lease without TTL), or 'held-by-other'. */
  async tryAcquire(): Promise<'acquired' | 'replaced-corrupt' | 'held-by-other'> {
    const r = Number(await this.redis.eval(ACQUIRE, 1, this.key, this.id, this.ttlMs));
    return r === 1 ? 'acquired' : r === 2 ? 'replaced-corrupt' : 'held-by-other';
  }

  async release(): Promise<void> {
    await this.redis.eval(RELEASE, 1, this.key, this.id);
  }

  async holder(): Promise<string | null> {
    return this.redis.get(this.key);
  }

  /** Applies `ops` atomically if this process still holds the lease; false when it does not. */
  async write(ops: FencedOp[]): Promise<boolean> {
    if (ops.length === 0) return true;
    const keys = [this.key, ...new Set(ops.map((o) => o.key))];
    const payload = ops.map((o) => ({ cmd: o.cmd, key: keys.indexOf(o.key) + 1, args: o.args.map(String) }));
    const r = await this.redis.eval(FENCED, keys.length, ...keys, this.id, JSON.stringify(payload));
    return Number(r) === 1;
  }
}
