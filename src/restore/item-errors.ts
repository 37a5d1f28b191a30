// Which failures of a restore are one item's (or one collection's) alone: the run reports it and goes on
// with the next; any other failure (Plex down, Redis) stops the run.
import { SyncError } from '../core/errors.js';

/** Plex errors that are this item's (or collection's) alone. */
const ITEM_ERRORS = new Set(['PlexNotFound', 'PlexBadRequest']);

/** The error as this item's alone; rethrown when it is not (it stops the run). */
export function itemErrorOrThrow(err: unknown): SyncError {
  if (err instanceof SyncError && ITEM_ERRORS.has(err.type)) return err;
  throw err;
}
