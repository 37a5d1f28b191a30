// One run at a time of a port shared by several routes (Reconcile Library and restore: the status page's
// and the Stash tasks'): a call while one runs is refused with 409 and `busy`, never queued behind it.
import { HttpError } from './timeout.js';

export function oneAtATime<A extends unknown[], R>(run: (...args: A) => Promise<R>, busy: string): (...args: A) => Promise<R> {
  let running = false;
  return async (...args: A) => {
    if (running) throw new HttpError(409, busy);
    running = true;
    try {
      return await run(...args);
    } finally {
      running = false;
    }
  };
}
