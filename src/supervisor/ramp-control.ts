// The supervisor's rate limits: the trial limit, the recovery ramp and the steady limit, applied to the
// queues. The decisions are src/resilience/ramp-steering.ts (pure); this performs them.
import type { Config } from '../core/config.js';
import type { Logger } from '../core/log.js';
import type { RateLimit } from '../resilience/ramp.js';
import { keepOutcomes, limitChange, steerRamp } from '../resilience/ramp-steering.js';
import type { LeaderState } from './leader-state.js';
import type { QueueControl } from './queue-control.js';

export interface RampControlDeps {
  control: QueueControl;
  state: LeaderState;
  config: Pick<Config, 'ramp' | 'plex'>;
  log: Logger;
}

export class RampControl {
  /** Successes and outage-class failures of job attempts within the ramp's error window. */
  private outcomes: { at: number; ok: boolean }[] = [];
  /** The limit this leader applied (limitSignature); undefined: none yet. */
  private applied: string | undefined;
  private lastEvalAt = 0;

  constructor(private readonly deps: RampControlDeps) {}

  /** A new leader does not know which limit is in force. */
  forgetApplied(): void {
    this.applied = undefined;
  }

  /** Takes this tick's outcomes; those out of the error window are dropped. */
  observe(outcomes: readonly { at: number; ok: boolean }[], now: number): void {
    this.outcomes = keepOutcomes([...this.outcomes, ...outcomes], this.deps.config.ramp.errorWindowMs, now);
  }

  /** Sets `limit` on the queues unless it is in force already. */
  async applyLimit(limit: RateLimit | null): Promise<void> {
    const change = limitChange(this.applied, limit);
    if (!change) return;
    await this.deps.control.setRateLimit(limit);
    if (change.endWindow) await this.deps.control.endRateWindow();
    this.applied = change.signature;
  }

  /** Re-evaluates the ramp when a step is due (steerRamp) and performs the plan: stored records first, then the limit. */
  async steer(now: number): Promise<void> {
    const snap = this.deps.state.snap!;
    const { config } = this.deps;
    const plan = steerRamp({
      breaker: snap.breaker.state,
      ramp: snap.ramp,
      outages: snap.outages,
      outcomes: this.outcomes,
      limitApplied: this.applied !== undefined,
      lastEvalAt: this.lastEvalAt,
      settings: config.ramp,
      maxRate: config.plex.maxRate,
      now,
    });
    if (!plan) return;
    this.lastEvalAt = now;
    if (plan.ramp !== undefined) await this.deps.state.saveRamp(plan.ramp);
    if (plan.outage) await this.deps.state.saveOutage(plan.outage);
    if (plan.limit !== undefined) await this.applyLimit(plan.limit);
    if (plan.note === 'finished') this.deps.log.info('ramp finished, normal rate');
    else if (plan.note)
      this.deps.log.warn(
        { backoff: plan.note === 'halved' },
        plan.note === 'halved' ? 'errors during the ramp: rate halved' : 'errors fell: ramp rate restored',
      );
  }
}
