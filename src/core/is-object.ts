/** A plain JSON object (not null, not an array): what every parser of untrusted input checks first. */
export const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
