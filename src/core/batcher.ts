// Coalesces single reads of jobs running at the same moment into one request (the DataLoader pattern).
// Own code rather than the `dataloader` package: a batch here is bounded by a cost as well as by a key
// count (Plex's URL length), and keys are shared within a batch without any cache across batches
// (every job must read fresh; dataloader dedupes only through its cache).

/** One request for many keys: a value or an Error per key (a key left out is a bug of `run`). */
export type BatchRun<K, V> = (keys: K[]) => Promise<Map<K, V | Error>>;

export interface BatcherOptions<K> {
  /** Most keys in one request. */
  maxKeys: number;
  /** Most summed cost of one request's keys (e.g. URL bytes), with `cost` per key. */
  maxCost?: number;
  cost?: (key: K) => number;
  /**
   * Longest a batch not full waits for more keys after its first (0: until the current I/O callbacks
   * have run). It waits at most half the last request's round trip: jobs a round trip apart then meet
   * in one batch within a few rounds, and a fast server is not kept waiting.
   */
  windowMs?: number;
}

interface Waiter<V> {
  resolve(value: V): void;
  reject(err: unknown): void;
}

interface Pending<K, V> {
  waiters: Map<K, Waiter<V>[]>;
  cost: number;
  cancelTimer(): void;
}

export class Batcher<K, V> {
  private pending: Pending<K, V> | null = null;
  private readonly cost: (key: K) => number;
  /** Round trip of the last request (ms); unknown at first, so the first batch waits the whole window. */
  private lastRunMs = Infinity;

  constructor(
    private readonly run: BatchRun<K, V>,
    private readonly opts: BatcherOptions<K>,
  ) {
    this.cost = opts.cost ?? (() => 0);
  }

  /** The value of `key`, read together with the other keys asked for meanwhile. */
  load(key: K): Promise<V> {
    return new Promise<V>((resolve, reject) => {
      let batch = this.pending;
      const fresh = !batch?.waiters.has(key);
      const cost = fresh ? this.cost(key) : 0;
      if (batch && fresh && (batch.waiters.size >= this.opts.maxKeys || batch.cost + cost > (this.opts.maxCost ?? Infinity))) {
        this.flush(batch);
        batch = null;
      }
      batch ??= this.open();
      const list = batch.waiters.get(key) ?? [];
      if (list.length === 0) batch.waiters.set(key, list);
      list.push({ resolve, reject });
      batch.cost += cost;
      if (batch.waiters.size >= this.opts.maxKeys) this.flush(batch);
    });
  }

  private open(): Pending<K, V> {
    const windowMs = Math.min(this.opts.windowMs ?? 0, Math.floor(this.lastRunMs / 2));
    const flush = () => this.flush(batch);
    let cancelTimer: () => void;
    if (windowMs > 0) {
      const t = setTimeout(flush, windowMs);
      cancelTimer = () => clearTimeout(t);
    } else {
      const i = setImmediate(flush);
      cancelTimer = () => clearImmediate(i);
    }
    const batch: Pending<K, V> = { waiters: new Map(), cost: 0, cancelTimer };
    this.pending = batch;
    return batch;
  }

  private flush(batch: Pending<K, V>): void {
    if (this.pending !== batch) return; // flushed already (full), its timer fired late
    this.pending = null;
    batch.cancelTimer();
    const keys = [...batch.waiters.keys()];
    const started = performance.now();
    this.run(keys).then(
      (results) => {
        this.lastRunMs = performance.now() - started;
        for (const [key, waiters] of batch.waiters) {
          const value = results.get(key);
          const outcome = value === undefined ? new Error(`batched read answered nothing for ${String(key)}`) : value;
          for (const w of waiters) {
            if (outcome instanceof Error) w.reject(outcome);
            else w.resolve(outcome);
          }
        }
      },
      (err: unknown) => {
        for (const waiters of batch.waiters.values()) for (const w of waiters) w.reject(err);
      },
    );
  }
}
