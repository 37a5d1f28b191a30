// Bull Board is mounted writable, but its queue-level pause and resume (PUT /queues/api/queues/:queueName/
// pause|resume, and the pause-all and resume-all of every queue) are refused while the supervisor holds the
// queue: "resume" during an outage would release the held jobs into a Plex that is down, and "pause" would
// turn into the supervisor's own pause and end with it. The answer says why; Bull Board shows it in its
// error toast. Everything else of Bull Board (retry, promote, clean, a job's actions) passes: retried jobs
// wait in the paused queue and then run under the trial limit and the ramp like every other job.
import type { Logger } from '../../core/log.js';
import type { SupervisorHold } from '../../supervisor/queue-control.js';
import { json, type Reply } from '../reply.js';

export interface QueueHoldPorts {
  /** The queues Bull Board shows. */
  queueNames: readonly string[];
  /** The supervisor's hold of a queue, as it marked it (null: not held by the supervisor). */
  supervisorHold(queue: string): Promise<SupervisorHold | null>;
  log: Pick<Logger, 'warn'>;
}

/** What a refused request is told: the queue, the supervisor's reasons, when it ends, what to do instead. */
export function heldQueueMessage(queue: string, hold: SupervisorHold, action: 'pause' | 'resume'): string {
  const why = hold.reasons.length ? hold.reasons.join(', ') : 'Plex down';
  const until = hold.reasons.includes('token rejected') ? 'once Plex is up and accepts PLEX_TOKEN again' : 'once Plex is back';
  const head = `The queue "${queue}" is paused by the stash2plex supervisor (${why}); it resumes by itself ${until}, then drains under the recovery ramp.`;
  return action === 'resume'
    ? `${head} Resuming it now would send the held jobs to a Plex that cannot take them: refused.`
    : `${head} It is paused already; to keep it paused after that, pause it once it runs again.`;
}

/**
 * The refusal of Bull Board's pause or resume of `queue` (null: every queue, its pause-all/resume-all),
 * or null to let Bull Board act: refused when the supervisor holds that queue (any of them, for all).
 */
export function queueHoldGuard(
  ports: QueueHoldPorts,
): (queue: string | null, action: 'pause' | 'resume', remote?: string) => Promise<Reply | null> {
  return async (queue, action, remote) => {
    for (const name of queue === null ? ports.queueNames : [queue]) {
      const hold = await ports.supervisorHold(name);
      if (!hold) continue;
      ports.log.warn(
        { queue: name, action, remote, reasons: hold.reasons },
        `dashboard: Bull Board ${action} refused: the supervisor holds the queue`,
      );
      return json(409, { error: 'Paused by the supervisor', message: heldQueueMessage(name, hold, action), reasons: hold.reasons });
    }
    return null;
  };
}
