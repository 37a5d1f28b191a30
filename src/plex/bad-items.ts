// Malformed items left out of Plex's answers (a listing's or a batched read's), logged once each: a
// listing is read again and again, and its bad items with it. One log per client, shared by its parts.
import type { Logger } from '../core/log.js';
import type { BadItem } from './schemas.js';

/** Malformed items remembered as already logged (each is logged once); past this many the memory starts over. */
const MAX_NOTED_BAD_ITEMS = 10_000;

export class BadItemLog {
  /** Malformed items already logged (their ratingKey), so a listing read again does not log them again. */
  private readonly noted = new Set<string>();

  constructor(
    private readonly log: Pick<Logger, 'warn'> | undefined,
    /** Takes the token out of a request's description (PlexTransport.scrubText). */
    private readonly scrub: (text: string) => string,
  ) {}

  /** Logs each malformed item left out of an answer, once per item. */
  note(what: string, bad: readonly BadItem[]): void {
    for (const { ratingKey, reason } of bad) {
      const id = ratingKey ?? `? ${reason}`;
      if (this.noted.has(id)) continue;
      if (this.noted.size >= MAX_NOTED_BAD_ITEMS) this.noted.clear();
      this.noted.add(id);
      this.log?.warn({ request: this.scrub(what), ratingKey, reason }, 'Plex answered a malformed item: left out');
    }
  }
}
