// The size of a simulated video file when a test gives none: derived from its base name (any case), so
// the same file seen by Stash and by Plex under different folders has the same size, as a real file does.
import { createHash } from 'node:crypto';

export function simFileSize(path: string): number {
  const base = (path.split(/[\\/]/).pop() ?? path).toLowerCase();
  return 100_000_000 + createHash('sha256').update(base).digest().readUInt32BE(0);
}
