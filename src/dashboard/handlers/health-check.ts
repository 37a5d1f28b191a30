// POST /api/health-check: the "Check Plex now" button; one probe of Plex, its result.
import { json, type Handler } from '../reply.js';
import type { Probe } from '../probe.js';

export interface HealthCheckPorts {
  probe: Probe;
}

export function healthCheckHandler(ports: HealthCheckPorts): Handler {
  return async () => {
    const r = await ports.probe();
    return json(200, { ok: r.ok, latencyMs: r.latencyMs, error: r.error, at: r.at });
  };
}
