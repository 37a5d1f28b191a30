// GET /healthz (open): for container health checks and load balancers. Says only whether Redis answers.
import { json, type Handler } from '../reply.js';
import { withTimeout } from '../timeout.js';

export interface HealthzPorts {
  /** Redis PING. */
  ping(): Promise<unknown>;
  /** A ping slower than this answers 503. */
  pingTimeoutMs: number;
}

export function healthzHandler(ports: HealthzPorts): Handler {
  return async () => {
    try {
      await withTimeout(ports.ping(), ports.pingTimeoutMs, 'Redis did not answer');
      return json(200, { ok: true });
    } catch {
      return json(503, { ok: false, error: 'Redis is not answering' });
    }
  };
}
