// The inbox stream's entry encoding, free of dependencies: the Stash hook loads it on its fast path
// (zod alone would cost it ~25 ms). decodeInboxEntry, with validation, is in job.ts.
import type { FanoutEvent, SyncJobData } from './job.js';

/**
 * An inbox stream entry: a flat list of field/value strings for XADD. Kind `scene` carries a job
 * payload; later kinds (renames) carry what the fan-out needs.
 */
export function encodeInboxEntry(job: SyncJobData): string[] {
  const out = ['kind', 'scene', 'sceneId', job.sceneId, 'reason', job.reason, 'enqueuedAt', String(job.enqueuedAt)];
  if (job.event) out.push('event', job.event);
  if (job.fields) out.push('fields', JSON.stringify(job.fields));
  return out;
}

export function encodeFanoutEntry(e: FanoutEvent): string[] {
  return ['kind', 'fanout', 'relation', e.relation, 'id', e.id, 'event', e.event, 'enqueuedAt', String(e.enqueuedAt)];
}
