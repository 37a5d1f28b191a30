// GET /api/status: the status document (the page's data), redacted.
import { json, type Handler } from '../reply.js';
import type { ReadStatus } from '../status-reader.js';

export interface StatusPorts {
  /** Rejects with a 503 TimeoutError when Redis does not answer in time. */
  readStatus: ReadStatus;
}

export function statusHandler(ports: StatusPorts): Handler {
  return async () => json(200, (await ports.readStatus()).status);
}
