// The dashboard's one deadline on a promise (Redis reads, pings, XADDs, closing connections).

/** An error carrying the HTTP status to answer with; its message is shown (keep it free of secrets). */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** A deadline passed: answers 503 when it reaches the error handler. */
export class TimeoutError extends HttpError {
  constructor(message: string) {
    super(503, message);
  }
}

/**
 * `p`, or a TimeoutError "`what` within `ms` ms" once `ms` have passed (e.g. `'Redis did not answer'`).
 * The timer is cleared as soon as `p` settles; `p` itself is not cancelled.
 */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new TimeoutError(`${what} within ${ms} ms`)), ms);
    }),
  ]);
}

/** True when `p` settled within `ms`, false when it did not (its rejection is passed on). */
export function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  return withTimeout(promise, ms, 'no answer').then(
    () => true,
    (err: unknown) => {
      if (err instanceof TimeoutError) return false;
      throw err;
    },
  );
}
