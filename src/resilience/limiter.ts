// The adaptive concurrency limiter of one target (Plex or Stash) in one worker process: a FIFO of waiting
// requests in front of at most limitOf(state) outstanding ones, the policy (./concurrency-limit.ts) fed
// with each answer's latency. Thin: the decisions are the policy's; this only holds permits and a clock.
import { isTimeoutError } from '../core/errors.js';
import { initialLimitState, LIMIT_DEFAULTS, limitOf, observe, type LimitSettings, type LimitState } from './concurrency-limit.js';

export type LimiterTarget = 'plex' | 'stash';

/** What a limiter shows (status page, /metrics): its limit now, its requests out and waiting, latency vs baseline. */
export interface LimiterSnapshot {
  target: LimiterTarget;
  adaptive: boolean;
  limit: number;
  ceiling: number;
  inFlight: number;
  waiting: number;
  /** Median latency of the last window (ms), null before the first. */
  latencyMs: number | null;
  /** The server's latency without a queue, as measured (ms), null before the first window. */
  baselineMs: number | null;
}

/** Anything that runs requests through a limit: the transport and the Stash client take one (optional). */
export interface RequestLimiter {
  run<T>(request: () => Promise<T>): Promise<T>;
}

export class ConcurrencyLimiter implements RequestLimiter {
  private state: LimitState;
  private inFlight = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    readonly target: LimiterTarget,
    private readonly settings: LimitSettings,
    private readonly clock: () => number = () => performance.now(),
  ) {
    this.state = initialLimitState(settings, clock());
  }

  /** WORKER_CONCURRENCY the ceiling; ADAPTIVE_CONCURRENCY=false keeps the limit there. */
  static forWorker(target: LimiterTarget, opts: { ceiling: number; adaptive: boolean }): ConcurrencyLimiter {
    return new ConcurrencyLimiter(target, { ...LIMIT_DEFAULTS, ...opts });
  }

  get limit(): number {
    return limitOf(this.state, this.settings);
  }

  /** Runs `request` once a permit is free (FIFO); its latency (or timeout) feeds the policy. */
  async run<T>(request: () => Promise<T>): Promise<T> {
    // A waiting request is handed its permit by wake() (counted there), so none can overtake it meanwhile.
    if (this.inFlight < this.limit && this.waiting.length === 0) this.inFlight++;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    const sentAt = this.clock();
    const inFlight = this.inFlight;
    try {
      const result = await request();
      this.record({ latencyMs: this.clock() - sentAt, inFlight });
      return result;
    } catch (err) {
      // Only a timeout says something about load; a refused connection or an error status is the breaker's business.
      if (isTimeoutError(err)) this.record({ latencyMs: this.clock() - sentAt, inFlight, timedOut: true });
      throw err;
    } finally {
      this.inFlight--;
      this.wake();
    }
  }

  snapshot(): LimiterSnapshot {
    return {
      target: this.target,
      adaptive: this.settings.adaptive,
      limit: this.limit,
      ceiling: this.settings.ceiling,
      inFlight: this.inFlight,
      waiting: this.waiting.length,
      latencyMs: this.state.latencyMs,
      baselineMs: this.state.baselineMs,
    };
  }

  private record(sample: { latencyMs: number; inFlight: number; timedOut?: boolean }): void {
    this.state = observe(this.state, sample, this.clock(), this.settings);
  }

  /** Lets waiting requests go while permits are free (the limit may have grown by several). */
  private wake(): void {
    while (this.inFlight < this.limit && this.waiting.length > 0) {
      this.inFlight++;
      this.waiting.shift()!();
    }
  }
}
