// Reading stored records tolerantly: a key of the wrong Redis type (corrupt) or content that is not
// JSON reads as absent, with a warning, so a damaged key never takes a page or a task down. Each
// record's own reader (./store.ts, ./health-record.ts, ./lease.ts) then checks it against its writer's
// schema.
import type { RedisConnection } from '../core/redis.js';

export const WRONG_TYPE = Symbol('wrong type');
export type Read<T> = T | null | typeof WRONG_TYPE;

/** A read that answers WRONG_TYPE for a key of another Redis type (corrupt); other errors propagate. */
export function tolerant<T>(promise: Promise<T>): Promise<Read<T>> {
  return promise.catch((err: Error) => {
    if (/WRONGTYPE/.test(err.message)) return WRONG_TYPE;
    throw err;
  });
}

/** Whether `v` is WRONG_TYPE; if so, a warning naming `what` is added. */
export function wrongType<T>(read: Read<T>, what: string, warnings: string[]): read is typeof WRONG_TYPE {
  if (read !== WRONG_TYPE) return false;
  warnings.push(`stored ${what} has the wrong Redis type: ignored`);
  return true;
}

/** JSON text → a value; undefined (with a warning naming `what`) when it is not JSON. */
export function parseJson(raw: string, what: string, warnings: string[]): unknown {
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    warnings.push(`stored ${what} is not JSON: ignored`);
    return undefined;
  }
}

/** A string key; null when missing or of the wrong Redis type (with a warning naming `what`). */
export async function readString(redis: RedisConnection, key: string, what: string, warnings: string[]): Promise<string | null> {
  const raw = await tolerant(redis.get(key));
  return wrongType(raw, what, warnings) ? null : raw;
}
