// The health probe: one unauthenticated GET /identity and its outcome in the form the supervisor records
// (the supervisor's loop, the dashboard's direct probe and the plugin's Health Check all probe with it).
import { SyncError } from '../core/errors.js';

export interface ProbeResult {
  ok: boolean;
  latencyMs: number | null;
  /** `Type: message`, like a failedReason (a SyncError's message carries no secret). */
  error: string | null;
  at: number;
}

/** What a probe needs of a Plex client. */
export interface IdentityReader {
  identity(timeoutMs?: number): Promise<{ latencyMs: number }>;
}

/** GET /identity within `timeoutMs`; never throws (a failure's error goes to `onError`, e.g. the dependency report). */
export async function probeIdentity(
  plex: IdentityReader,
  timeoutMs: number,
  now: () => number,
  onError?: (err: unknown) => void,
): Promise<ProbeResult> {
  const at = now();
  try {
    const { latencyMs } = await plex.identity(timeoutMs);
    return { ok: true, latencyMs, error: null, at };
  } catch (err) {
    onError?.(err);
    return { ok: false, latencyMs: null, error: err instanceof SyncError ? err.reason : (err as Error).message, at };
  }
}
