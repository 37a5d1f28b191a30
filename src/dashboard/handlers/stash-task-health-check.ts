// POST /api/stash/task/health-check (hook-token): the Stash task Health Check's direct probe of Plex when
// the plugin has no PLEX_URL (../task-stream.ts): one probe, as the status page's "Check Plex now"
// (POST /api/health-check). The result is `{ok, latencyMs, error}`; the plugin reads the rest of its
// report from Redis itself.
import { z } from 'zod';
import type { Probe } from '../probe.js';
import { jsonBody } from '../reply.js';
import type { StashTaskHandler } from '../task-stream.js';

const bodySchema = z.strictObject({});

export interface StashTaskHealthCheckPorts {
  probe: Probe;
}

export function stashTaskHealthCheckHandler(ports: StashTaskHealthCheckPorts): StashTaskHandler {
  return (req) => {
    const parsed = jsonBody(req.body, bodySchema, 'the body must be an empty JSON object');
    if ('reply' in parsed) return parsed;
    return {
      run: async () => {
        const r = await ports.probe();
        return { ok: r.ok, latencyMs: r.latencyMs, error: r.error };
      },
    };
  };
}
