// GET /api/status: the status document (the page's data) with its headline, redacted.
import { json, type Handler } from '../reply.js';
import type { ReadStatus } from '../status-reader.js';

export interface StatusPorts {
  /** Rejects with a 503 TimeoutError when Redis does not answer in time. */
  readStatus: ReadStatus;
}

export function statusHandler(ports: StatusPorts): Handler {
  return async () => {
    const read = await ports.readStatus();
    // The headline is an extra of the page's: the worst problem now and what recovers it.
    return json(200, { ...read.status, headline: read.headline });
  };
}
