/** A plain JSON object (not null, not an array): what every parser of untrusted input checks first. */
export const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
