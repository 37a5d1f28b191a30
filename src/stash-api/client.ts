// Stash GraphQL client (fetch, plain query strings, no graphql runtime needed). Every failure leaves as a
// SyncError typed by classify(); the API key and session cookie travel only in headers and are scrubbed
// from every message, so errors may be logged and stored in failedReason as they are.
import { z } from 'zod';
import { classify, SyncError } from '../core/errors.js';
import { discardBody, readBounded, readBoundedText, ResponseTooLarge } from '../core/bounded-body.js';
import { redact, type Logger } from '../core/log.js';
import type { FanoutRelation } from '../model/inbox-item.js';
import type { Screenshot, StashScene } from '../model/types.js';
import {
  FIND_PERFORMERS_UPDATED,
  FIND_SCENE,
  SCENE_GROUP_COVERS,
  FIND_SCENE_IDS_PAGE,
  FIND_SCENES_BY_IDS,
  FIND_SCENES_WITH_FILE_NAMED,
  FIND_SCENES_BY_SCENE_IDS,
  FIND_SCENES_PAGE,
  FIND_SCENES_BY_PERFORMER,
  FIND_SCENES_BY_STUDIO,
  FIND_SCENES_BY_TAG,
  FIND_SCENES_BY_GROUP,
  FIND_SCENES_BY_MOVIE,
  FIND_SCENES_UPDATED,
  FIND_STUDIOS_UPDATED,
  FIND_TAGS_UPDATED,
  FIND_GROUPS_UPDATED,
  FIND_MOVIES_UPDATED,
  STASH_CLOCK,
  STASH_CLOCK_MOVIES,
  STASH_VERSION,
  withMovies,
  withPerformerSceneCounts,
} from './queries.js';
import { stashAuthHeaders } from '../hook/stash-connection.js';
import { stashServerInfo, type StashServerInfo } from './stash-version.js';
import type { RequestLimiter } from '../resilience/limiter.js';

export const STASH_DEFAULT_TIMEOUT_MS = 15_000;
export const STASH_DEFAULT_PAGE_SIZE = 100;
/**
 * The largest page stash2plex asks Stash for: its own bound on one answer (a page of 1000 scenes is a few
 * MiB). Stash itself has had no cap since v0.20.0 (stashapp/stash pkg/models/find_filter.go GetPageSize).
 */
export const STASH_MAX_PAGE_SIZE = 1000;
/** Default of STASH_MAX_RESPONSE_BYTES: a page of 1000 scenes is a few MiB. */
export const STASH_DEFAULT_MAX_RESPONSE_BYTES = 32 * 1024 * 1024;
/** Default of POSTER_MAX_BYTES. */
export const STASH_DEFAULT_POSTER_MAX_BYTES = 20 * 1024 * 1024;
/** Safety stop of every paged walk (100 × 100 000 = ten million scenes). */
const MAX_PAGES = 100_000;
/** The largest GraphQL Int (32-bit signed). */
const INT32_MAX = 2_147_483_647;
/** Longest server-provided text (GraphQL error, redirect target) quoted in an error message. */
const MAX_DETAIL = 300;

export interface StashClientOptions {
  /** Stash server, e.g. `http://localhost:9999` (a path prefix behind a proxy is kept). */
  url: string;
  /** Sent as the `ApiKey` header. */
  apiKey?: string | null;
  /** Sent as `Cookie: name=value` (the plugin's server_connection.SessionCookie) when there is no key. */
  sessionCookie?: { name: string; value: string } | null;
  /** Per-request timeout, body included (default 15 s). */
  timeoutMs?: number;
  /** Largest GraphQL answer read (STASH_MAX_RESPONSE_BYTES, default 32 MiB); a larger one is aborted. */
  maxResponseBytes?: number;
  /** Largest screenshot read (POSTER_MAX_BYTES, default 20 MiB); a larger one is skipped. */
  posterMaxBytes?: number;
  /** Where an aborted oversized answer is reported (with its size). */
  log?: Pick<Logger, 'warn'>;
  /** The worker process's adaptive limit toward Stash: every request and its body read go through it (src/resilience/limiter.ts). */
  limiter?: RequestLimiter;
  /** Read each performer's `scene_count` with a scene (COLLECTION_PERFORMERS_MIN > 0; queries.ts withPerformerSceneCounts). */
  performerSceneCounts?: boolean;
}

export interface UpdatedScenesPage {
  /** Scenes in the whole window (all pages). */
  count: number;
  scenes: { id: string; updated_at: string }[];
}

// ---- response shapes (checked: an unexpected Stash answer is a clear error, not a crash later) ------

const text = z.string().nullable().optional();
const groupShape = z.object({ id: z.string(), name: z.string(), synopsis: z.string().nullable(), front_image_path: z.string().nullable() });
const sceneSchema: z.ZodType<StashScene, unknown> = z
  .object({
    id: z.string(),
    title: z.string().nullable(),
    code: z.string().nullable(),
    details: z.string().nullable(),
    director: z.string().nullable(),
    urls: z.array(z.string()),
    date: z.string().nullable(),
    rating100: z.number().nullable(),
    organized: z.boolean(),
    updated_at: z.string(),
    studio: z
      .object({
        id: z.string(),
        name: z.string(),
        details: text,
        image_path: text,
        parent_studio: z.object({ id: z.string().optional(), name: z.string(), details: text, image_path: text }).nullable(),
      })
      .nullable(),
    performers: z.array(
      z.object({ id: z.string(), name: z.string(), image_path: z.string().nullable(), scene_count: z.number().optional() }),
    ),
    tags: z.array(
      z.object({
        id: z.string().optional(),
        name: z.string(),
        description: text,
        image_path: text,
        parents: z.array(z.object({ name: z.string() })).optional(),
      }),
    ),
    // Stash v0.27.0 on: groups; before: movies (queries.ts withMovies), read back as groups.
    groups: z.array(z.object({ group: groupShape })).optional(),
    movies: z.array(z.object({ movie: groupShape })).optional(),
    // Int64 (bytes), a JSON number; optional so an older shape still reads (the base-name fallback then skips the file).
    files: z.array(z.object({ path: z.string(), basename: z.string(), size: z.number().nullable().optional() })),
    stash_ids: z.array(z.object({ endpoint: z.string(), stash_id: z.string() })),
    paths: z.object({ screenshot: z.string().nullable() }).nullable(),
  })
  .transform(({ groups, movies, ...scene }) => {
    const inGroups = groups?.map((g) => g.group) ?? movies?.map((m) => m.movie);
    return inGroups ? { ...scene, groups: inGroups } : scene;
  });
const findSceneData = z.object({ findScene: sceneSchema.nullable() });
const sceneGroupCoversData = z.object({
  findScene: z.object({ groups: z.array(z.object({ group: z.object({ front_image_path: z.string().nullable() }) })) }).nullable(),
});
const findScenesData = z.object({ findScenes: z.object({ scenes: z.array(sceneSchema) }) });
const sceneFilesData = z.object({
  findScenes: z.object({
    scenes: z.array(
      z.object({
        id: z.string(),
        files: z.array(z.object({ path: z.string(), basename: z.string(), size: z.number().nullable().optional() })),
      }),
    ),
  }),
});

/** A scene's id and files: what the fallback's duplicate check needs. */
export type StashSceneFiles = z.infer<typeof sceneFilesData>['findScenes']['scenes'][number];

/** Most scenes one file-name query answers: duplicates of one file are a handful. */
const FILE_NAMED_PAGE = 100;
/** How Stash fails a findScenes(ids) when one id has no scene (pkg/sqlite/scene.go FindMany). */
const MISSING_SCENE = /scene with id (\d+) not found/;
const scenePageData = z.object({ findScenes: z.object({ count: z.number(), scenes: z.array(sceneSchema) }) });
/** A page of ids under `findX { count x { id } }`, e.g. ('findScenes', 'scenes'). */
const idPageShape = (root: string, list: string) =>
  z.object({ [root]: z.object({ count: z.number(), [list]: z.array(z.object({ id: z.string() })) }) });
type IdPageRoot = { count: number } & Record<string, { id: string }[] | number>;
/** A page of changes under `findX { count x { id updated_at } }`. */
const changedPageShape = (root: string, list: string) =>
  z.object({ [root]: z.object({ count: z.number(), [list]: z.array(z.object({ id: z.string(), updated_at: z.string() })) }) });
type Changed = { id: string; updated_at: string };
type ChangedPageRoot = { count: number } & Record<string, Changed[] | number>;
const updatedPageData = z.object({
  findScenes: z.object({ count: z.number(), scenes: z.array(z.object({ id: z.string(), updated_at: z.string() })) }),
});
const newestOf = (list: string) => z.object({ [list]: z.array(z.object({ updated_at: z.string() })) });
const clockData = z.object({
  scenes: newestOf('scenes'),
  performers: newestOf('performers'),
  studios: newestOf('studios'),
  tags: newestOf('tags'),
  groups: newestOf('groups'),
});
const versionData = z.object({ version: z.object({ version: z.string().nullable() }) });
const graphqlBody = z.object({
  data: z.unknown().optional(),
  errors: z.array(z.object({ message: z.string() }).passthrough()).nullish(),
});

// ---- time windows ---------------------------------------------------------------------------------
// Stash stores `updated_at` as RFC 3339 text in its own local zone (stashapp/stash pkg/sqlite/timestamp.go)
// and puts a criterion's value into SQL as it is (pkg/sqlite/sql.go getTimestampWhereClause): SQLite
// compares TEXT. So every bound is written in the zone Stash writes in, learnt from Stash itself.

/**
 * Every window's query starts this much earlier (and ends this much later): a value written before a
 * DST change keeps its old offset, so as text it may sort up to an hour off; the extra minute covers
 * truncation to whole seconds. What the query returns is then kept to the window itself, each
 * `updated_at` read as the instant it denotes (stashWindowRange, inStashRange).
 */
export const STASH_WINDOW_WIDENING_MS = 61 * 60_000;

/**
 * What a window of ours (an instant on our clock: an outage's start and end, "the last N hours") keeps
 * beyond its bounds once they are moved onto Stash's clock by the measured skew (StashClock.aheadMs). It is
 * for our own processes, whose clocks are taken to agree within it: a worker stamps an outage's first
 * failure, the supervisor its end, a Stash task on Stash's host reads them. A bound Stash wrote (a
 * checkpoint) is on Stash's clock already and gets none. What an outage window misses beyond it, the next
 * checkpoint finds.
 */
export const STASH_WINDOW_TOLERANCE_MS = 10_000;

/** How far Stash's clock runs ahead of ours (negative: behind), in ms: at least `min`, at most `max`. */
export interface StashClockAhead {
  min: number;
  max: number;
}

/** Where Stash's clock stands, learnt from Stash at the start of every run. */
export interface StashClock {
  /** The newest `updated_at` of any scene, performer, studio or tag, as Stash wrote it; null: empty. */
  newest: string | null;
  /** The UTC offset of `newest`, in minutes: the zone Stash writes in (0 when the library is empty). */
  offsetMinutes: number;
  /**
   * Stash's clock against ours, from the `Date` header of the clock request (stashClockAhead); absent
   * when none came (then a window bound of ours keeps the query's whole widening).
   */
  aheadMs?: StashClockAhead;
}

/**
 * A window of changes. A bound is an instant (epoch ms or Date: e.g. an outage's start) or a time
 * Stash itself wrote (RFC 3339 text: a checkpoint); `until` absent runs to now.
 */
export interface StashWindow {
  since: number | Date | string;
  until?: number | Date | string;
}

/** The timestamp criterion Stash takes (TimestampCriterionInput), as we send it: never relative. */
export interface StashTimeCriterion {
  value: string;
  value2?: string;
  modifier: 'GREATER_THAN' | 'BETWEEN';
}

const RFC3339_ZONE = /(Z|[+-]\d{2}:\d{2})$/i;

/** The UTC offset, in minutes, of an RFC 3339 time as Stash writes it (`Z`, `+09:00`); null if none. */
export function stashOffsetOf(text: string): number | null {
  const zone = RFC3339_ZONE.exec(text.trim())?.[1];
  if (!zone) return null;
  if (zone.toUpperCase() === 'Z') return 0;
  const sign = zone[0] === '-' ? -1 : 1;
  return sign * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6)));
}

/** Epoch ms of a bound: an instant as it is, a Stash time text parsed with its own offset. */
function instantOf(bound: number | Date | string): number {
  const ms = typeof bound === 'string' ? Date.parse(bound) : new Date(bound).getTime();
  if (!Number.isFinite(ms)) throw new RangeError(`not a time: ${String(bound).slice(0, 40)}`);
  return ms;
}

/**
 * An instant as Stash writes `updated_at`: RFC 3339, whole seconds, in the given offset
 * (`Z` for UTC, as Go's time.RFC3339 does).
 */
export function formatStashTime(at: Date | number, offsetMinutes = 0): string {
  const ms = Math.floor(new Date(at).getTime() / 1000) * 1000;
  const local = new Date(ms + offsetMinutes * 60_000).toISOString().slice(0, 19);
  if (offsetMinutes === 0) return `${local}Z`;
  const abs = Math.abs(offsetMinutes);
  const hh = String(Math.floor(abs / 60)).padStart(2, '0');
  const mm = String(abs % 60).padStart(2, '0');
  return `${local}${offsetMinutes < 0 ? '-' : '+'}${hh}:${mm}`;
}

/**
 * THE one place a time filter is made: every `updated_at` criterion stash2plex sends comes from here.
 * Bounds are written in Stash's zone (`offsetMinutes`, from StashClock) and widened by
 * STASH_WINDOW_WIDENING_MS. `GREATER_THAN` is strict, so it starts one more second early;
 * `BETWEEN` is inclusive at both ends. A few extra scenes are harmless; a missed one is not.
 */
export function updatedAtCriterion(window: StashWindow, offsetMinutes: number): StashTimeCriterion {
  const since = instantOf(window.since) - STASH_WINDOW_WIDENING_MS;
  if (window.until !== undefined) {
    const until = instantOf(window.until) + STASH_WINDOW_WIDENING_MS;
    return { value: formatStashTime(since, offsetMinutes), value2: formatStashTime(until, offsetMinutes), modifier: 'BETWEEN' };
  }
  return { value: formatStashTime(since - 1000, offsetMinutes), modifier: 'GREATER_THAN' };
}

/**
 * Stash's clock against ours, from one answer: Go's net/http stamps every response with `Date` (whole
 * seconds, the server's clock) unless the handler set one, at some instant between our sending the request
 * (`sentAt`) and the headers reaching us (`receivedAt`), both on our clock. Undefined without a readable
 * `Date` (a proxy may drop it).
 */
export function stashClockAhead(date: string | null | undefined, sentAt: number, receivedAt: number): StashClockAhead | undefined {
  const stamped = date ? Date.parse(date) : Number.NaN;
  if (!Number.isFinite(stamped) || !(receivedAt >= sentAt)) return undefined;
  // Stash's clock read `stamped` to `stamped + 999 ms` at a moment ours read `sentAt` to `receivedAt`.
  return { min: stamped - receivedAt, max: stamped + 999 - sentAt };
}

/** The instants (epoch ms on Stash's clock, both included) a window keeps; `to` null: no end. */
export interface StashRange {
  from: number;
  to: number | null;
}

/**
 * The exact window on Stash's clock, for the changes the (wide) query returns. A bound Stash wrote (a
 * checkpoint) is on its clock and kept from its own second on: a change in that second may have come after
 * Stash reported it. A bound of ours moves by the measured skew, plus STASH_WINDOW_TOLERANCE_MS, or by the
 * whole STASH_WINDOW_WIDENING_MS when no skew was measured; its start goes back to a whole second, since
 * Stash writes `updated_at` truncated to seconds.
 */
export function stashWindowRange(window: StashWindow, clock: Pick<StashClock, 'aheadMs'>): StashRange {
  const ahead = clock.aheadMs;
  const onStashClock = (bound: number | Date | string, end: 'from' | 'to'): number => {
    const at = instantOf(bound);
    if (typeof bound === 'string') return at;
    if (!ahead) return end === 'from' ? at - STASH_WINDOW_WIDENING_MS : at + STASH_WINDOW_WIDENING_MS;
    return end === 'from' ? at + ahead.min - STASH_WINDOW_TOLERANCE_MS : at + ahead.max + STASH_WINDOW_TOLERANCE_MS;
  };
  const from = Math.floor(onStashClock(window.since, 'from') / 1000) * 1000;
  return { from, to: window.until === undefined ? null : onStashClock(window.until, 'to') };
}

/**
 * Whether a change Stash reports (its `updated_at`, read with its own offset) lies in the range. A time
 * without a zone or unreadable is kept: re-syncing a scene costs no Plex edit, missing one loses a change.
 */
export function inStashRange(updatedAt: string, range: StashRange): boolean {
  const at = stashOffsetOf(updatedAt) === null ? Number.NaN : Date.parse(updatedAt);
  if (!Number.isFinite(at)) return true;
  return at >= range.from && (range.to === null || at <= range.to);
}

/** The newest of Stash's own times (compared as instants: texts in different offsets do not sort). */
export function newestStashTime(times: (string | null | undefined)[]): string | null {
  let best: string | null = null;
  for (const t of times) {
    if (!t || !Number.isFinite(Date.parse(t))) continue;
    if (best === null || Date.parse(t) > Date.parse(best)) best = t;
  }
  return best;
}

/**
 * The `findX` query of each relation's own records changed in a window, with its root and list fields.
 * Groups: findGroups from Stash v0.27.0, findMovies before (FIND_MOVIES_UPDATED answers under the same names).
 */
const RELATION_UPDATED: Record<FanoutRelation, { operation: string; query: string; root: string; list: string }> = {
  performer: { operation: 'FindPerformersUpdated', query: FIND_PERFORMERS_UPDATED, root: 'findPerformers', list: 'performers' },
  studio: { operation: 'FindStudiosUpdated', query: FIND_STUDIOS_UPDATED, root: 'findStudios', list: 'studios' },
  tag: { operation: 'FindTagsUpdated', query: FIND_TAGS_UPDATED, root: 'findTags', list: 'tags' },
  group: { operation: 'FindGroupsUpdated', query: FIND_GROUPS_UPDATED, root: 'findGroups', list: 'groups' },
};
const MOVIES_UPDATED = { ...RELATION_UPDATED.group, operation: 'FindMoviesUpdated', query: FIND_MOVIES_UPDATED };

const RELATION_QUERY: Record<FanoutRelation, string> = {
  performer: FIND_SCENES_BY_PERFORMER,
  studio: FIND_SCENES_BY_STUDIO,
  tag: FIND_SCENES_BY_TAG,
  group: FIND_SCENES_BY_GROUP,
};

const clip = (s: string) => (s.length > MAX_DETAIL ? `${s.slice(0, MAX_DETAIL)}…` : s);
/** GraphQL errors that mean "who are you": the only ones that are not StashUnavailable. */
const AUTH_MESSAGE = /unauthori[sz]ed|not authenticated|forbidden|invalid api ?key/i;

/**
 * Stash's image routes at the end of a URL's path: `/scene/{id}/screenshot`, `/performer/{id}/image`,
 * `/studio/{id}/image`, `/tag/{id}/image`, `/group/{id}/frontimage` (`/movie/…` before v0.27),
 * `/image/{id}/thumbnail`, `/gallery/{id}/cover`, `/scene/{id}/scene_marker/{id}/screenshot`
 * (stashapp/stash internal/api/urlbuilders/*.go).
 */
const STASH_IMAGE_ROUTE = /\/(?:scene|performer|studio|tag|group|movie|image|gallery)\/\d+(?:\/scene_marker\/\d+)?\/[a-z_]+$/;

/**
 * Where an image URL Stash gave is read. Stash writes every URL it returns on its own base URL:
 * `external_host` from its config when set (common behind a reverse proxy), else the scheme and Host it
 * was asked with, plus `X-Forwarded-Prefix` (internal/api/server.go BaseURLMiddleware). That base need
 * not be how stash2plex reaches Stash, and a foreign origin gets no credentials. So a Stash image route
 * (with its query: the `?t=` version) is read from `base`, STASH_URL with its own path prefix, whatever
 * origin and prefix the URL came with; any other URL stays as it is. `base` has no trailing slash.
 */
export function stashImageUrl(url: string, base: string): URL {
  const given = new URL(url, `${base}/`);
  const route = STASH_IMAGE_ROUTE.exec(given.pathname)?.[0];
  if (route === undefined) return given;
  const target = new URL(`${base}${route}`);
  target.search = given.search;
  return target;
}

export class StashClient {
  private readonly base: string;
  private readonly origin: string;
  private readonly headers: Record<string, string>;
  private readonly secrets: string[];
  private readonly timeoutMs: number;
  private readonly maxResponseBytes: number;
  private readonly posterMaxBytes: number;
  private readonly log: Pick<Logger, 'warn'> | undefined;
  private readonly limiter: RequestLimiter | undefined;
  private performerSceneCounts: boolean;
  /** The version read, in flight or done (dropped when it fails): see server(). */
  private serverRead: Promise<StashServerInfo> | null = null;

  constructor(opts: StashClientOptions) {
    this.base = opts.url.replace(/\/+$/, '');
    this.origin = new URL(this.base).origin;
    this.headers = stashAuthHeaders(opts);
    this.secrets = [opts.apiKey ?? '', opts.sessionCookie?.value ?? ''].filter(Boolean);
    this.timeoutMs = opts.timeoutMs ?? STASH_DEFAULT_TIMEOUT_MS;
    this.maxResponseBytes = opts.maxResponseBytes ?? STASH_DEFAULT_MAX_RESPONSE_BYTES;
    this.posterMaxBytes = opts.posterMaxBytes ?? STASH_DEFAULT_POSTER_MAX_BYTES;
    this.log = opts.log;
    this.limiter = opts.limiter;
    this.performerSceneCounts = opts.performerSceneCounts ?? false;
  }

  /** COLLECTION_PERFORMERS_MIN changed in Stash's plugin settings: the next scene read follows it. */
  setPerformerSceneCounts(on: boolean): void {
    this.performerSceneCounts = on;
  }

  // ---- transport ----------------------------------------------------------------------------------

  /** classify() decides the type; the message is scrubbed of credentials and may carry a detail. */
  private fail(failure: { status: number } | { error: unknown }, what: string, detail?: string): SyncError {
    const err = classify('stash', failure, what);
    const message = redact(detail ? `${err.message}: ${clip(detail)}` : err.message, this.secrets);
    return message === err.message ? err : new SyncError(err.type, message, err.status);
  }

  /** A request and its body read under the limiter's permit (Stash works until the body is read). */
  private limited<T>(operation: () => Promise<T>): Promise<T> {
    return this.limiter ? this.limiter.run(operation) : operation();
  }

  private tooLarge(what: string, error: ResponseTooLarge): void {
    this.log?.warn({ request: what, bytes: error.bytes, limit: error.limit }, 'Stash answer too large: aborted');
  }

  /**
   * One GraphQL operation; returns `data` checked against `shape`. `onHeaders` sees the answer's `Date`
   * and when, on our clock, the request left and the headers came (StashClient.clock measures skew by it).
   */
  private async query<T>(
    operationName: string,
    query: string,
    variables: Record<string, unknown>,
    shape: z.ZodType<T>,
    onHeaders?: (date: string | null, sentAt: number, receivedAt: number) => void,
  ): Promise<T> {
    const what = `POST /graphql ${operationName}`;
    let res: Response;
    let text: string;
    try {
      ({ res, text } = await this.limited(async () => {
        const sentAt = Date.now();
        const answer = await fetch(`${this.base}/graphql`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', Accept: 'application/json', ...this.headers },
          body: JSON.stringify({ operationName, query, variables }),
          redirect: 'manual',
          signal: AbortSignal.timeout(this.timeoutMs),
        });
        onHeaders?.(answer.headers.get('date'), sentAt, Date.now());
        return { res: answer, text: await readBoundedText(answer, this.maxResponseBytes) };
      }));
    } catch (error) {
      if (error instanceof ResponseTooLarge) this.tooLarge(what, error);
      throw this.fail({ error }, what);
    }
    let body: z.infer<typeof graphqlBody> | null = null;
    try {
      const parsed = graphqlBody.safeParse(JSON.parse(text));
      if (parsed.success) body = parsed.data;
    } catch {
      body = null;
    }
    const firstError = body?.errors?.[0]?.message;
    // Stash (gqlgen) answers 422 to a document its schema rejects, with the reason in `errors`.
    if (!res.ok) throw this.fail({ status: res.status }, what, firstError);
    if (!body) throw this.fail({ error: new Error('response is not a GraphQL JSON body') }, what);
    if (firstError !== undefined) {
      // Stash rejects credentials with HTTP 401; a resolver saying so is treated the same way.
      if (AUTH_MESSAGE.test(firstError)) throw this.fail({ status: 401 }, `${what} (GraphQL error)`, firstError);
      throw this.fail({ error: new Error(`GraphQL error: ${clip(firstError)}`) }, what);
    }
    const data = shape.safeParse(body.data);
    if (!data.success) {
      const issue = data.error.issues[0];
      throw this.fail({ error: new Error(`unexpected response shape at ${issue?.path.join('.') || '(root)'}: ${issue?.message}`) }, what);
    }
    return data.data;
  }

  /**
   * Walks pages of a `findX` query until its count is reached, yielding each non-empty page's items
   * (`read` picks the count and the items out of a page's data).
   */
  private async *walk<T, D>(
    operationName: string,
    query: string,
    variables: Record<string, unknown>,
    perPage: number,
    shape: z.ZodType<D>,
    read: (data: D) => { count: number; items: T[] },
  ): AsyncGenerator<{ count: number; items: T[] }> {
    if (!Number.isInteger(perPage) || perPage < 1) throw new RangeError(`perPage must be a positive integer, got ${perPage}`);
    // Stash serves any page size; ours is bounded so that one answer stays a few MiB.
    const per_page = Math.min(perPage, STASH_MAX_PAGE_SIZE);
    let seen = 0;
    for (let page = 1; page <= MAX_PAGES; page++) {
      const { count, items } = read(await this.query(operationName, query, { ...variables, page, per_page }, shape));
      if (items.length === 0) return;
      yield { count, items };
      seen += items.length;
      if (seen >= count) return;
    }
  }

  /**
   * Walks `root` pages (default `findScenes { count scenes { id } }`) until the count is reached,
   * yielding each non-empty page's ids.
   */
  private async *pages(
    operationName: string,
    query: string,
    variables: Record<string, unknown>,
    perPage: number,
    root = 'findScenes',
    list = 'scenes',
  ): AsyncGenerator<string[]> {
    const shape = idPageShape(root, list) as unknown as z.ZodType<Record<string, IdPageRoot>>;
    const read = (data: Record<string, IdPageRoot>) => ({
      count: data[root].count,
      items: (data[root][list] as { id: string }[]).map((s) => s.id),
    });
    for await (const { items } of this.walk(operationName, query, variables, perPage, shape, read)) yield items;
  }

  // ---- the server ---------------------------------------------------------------------------------

  /** Reads the version now, not the kept answer (the supervisor's check of Stash); kept for server(). */
  checkServer(): Promise<StashServerInfo> {
    this.serverRead = null;
    return this.server();
  }

  /** A scene document as this server takes it: a Stash before v0.27.0 has movies, not groups (queries.ts withMovies). */
  private async sceneDocument(doc: string): Promise<string> {
    return this.sceneDocumentFor(doc, (await this.server()).groups);
  }

  private sceneDocumentFor(doc: string, groups: boolean): string {
    const counted = this.performerSceneCounts ? withPerformerSceneCounts(doc) : doc;
    return groups ? counted : withMovies(counted);
  }

  /**
   * The Stash server's version and what it offers (`version { version }`), read once: a worker asks at
   * start. A failed read is asked again on the next call, so a Stash that is down at start costs nothing
   * once it is back.
   */
  server(): Promise<StashServerInfo> {
    this.serverRead ??= this.query('StashVersion', STASH_VERSION, {}, versionData).then(
      (d) => stashServerInfo(d.version.version),
      (err: unknown) => {
        this.serverRead = null;
        throw err;
      },
    );
    return this.serverRead;
  }

  /**
   * Ids of the records changed in the window, page by page: the query is updatedAtCriterion's (wide), and
   * of each page only those whose `updated_at` lies in stashWindowRange are kept; a page left empty is
   * not yielded, the walk goes on.
   */
  private async *changedIn(
    operationName: string,
    query: string,
    window: StashWindow,
    clock: StashClock,
    perPage: number,
    root = 'findScenes',
    list = 'scenes',
  ): AsyncGenerator<string[]> {
    const updated = updatedAtCriterion(window, clock.offsetMinutes);
    const range = stashWindowRange(window, clock);
    const shape = changedPageShape(root, list) as unknown as z.ZodType<Record<string, ChangedPageRoot>>;
    const read = (data: Record<string, ChangedPageRoot>) => ({ count: data[root].count, items: data[root][list] as Changed[] });
    for await (const { items } of this.walk(operationName, query, { updated }, perPage, shape, read)) {
      const ids = items.filter((item) => inStashRange(item.updated_at, range)).map((item) => item.id);
      if (ids.length) yield ids;
    }
  }

  // ---- scenes -------------------------------------------------------------------------------------

  /** The scene, or null when Stash has no scene with this id. */
  async findScene(id: string): Promise<StashScene | null> {
    const { findScene } = await this.query('FindScene', await this.sceneDocument(FIND_SCENE), { id }, findSceneData);
    return findScene;
  }

  /**
   * POSTER_FROM=group: the front image of the first of the scene's groups that has one of its own (Stash
   * marks the placeholder with `&default=true`: stashapp/stash internal/api/urlbuilders/group.go), null
   * when none has. Stash v0.27.0 and later (groups replaced movies then).
   */
  async groupCover(sceneId: string): Promise<string | null> {
    const { findScene } = await this.query('SceneGroupCovers', SCENE_GROUP_COVERS, { id: sceneId }, sceneGroupCoversData);
    const covers = (findScene?.groups ?? []).map((g) => g.group.front_image_path);
    return (
      covers.find((url): url is string => !!url && new URL(url, 'http://stash.invalid').searchParams.get('default') !== 'true') ?? null
    );
  }

  /** A performer's image as Stash serves it (`/performer/<id>/image?t=<version>`), read with this client's credentials. */
  fetchPerformerImage(performerId: string, version: string): Promise<Screenshot> {
    return this.fetchScreenshot(`${this.base}/performer/${encodeURIComponent(performerId)}/image?t=${encodeURIComponent(version)}`);
  }

  /**
   * Several scenes in one request: per id the scene, or null when Stash has none. Stash fails the whole
   * request naming the first id without a scene: that one is left out and the rest asked once more; a
   * second missing one has the rest read one by one (findScene answers null), so a batch never costs more
   * requests than its ids. A failure of the request is every id's (thrown).
   */
  async findScenes(ids: readonly string[]): Promise<Map<string, StashScene | null>> {
    const out = new Map<string, StashScene | null>();
    let rest = [...new Set(ids)]; // a repeated id fails Stash's FindMany like a missing one
    for (let attempt = 0; rest.length > 0; attempt++) {
      if (attempt === 2 || rest.length === 1) {
        await Promise.all(rest.map(async (id) => out.set(id, await this.findScene(id))));
        return out;
      }
      try {
        const { findScenes } = await this.findScenesRequest(rest);
        for (const scene of findScenes.scenes) out.set(scene.id, scene);
        for (const id of rest) if (!out.has(id)) out.set(id, null);
        return out;
      } catch (err) {
        const missing = err instanceof SyncError ? MISSING_SCENE.exec(err.message)?.[1] : undefined;
        if (missing === undefined || !rest.includes(missing)) throw err;
        out.set(missing, null);
        rest = rest.filter((id) => id !== missing);
      }
    }
    return out;
  }

  /** One findScenes by ids, with the argument the server has: `ids` from Stash v0.25.0, `scene_ids` before. */
  private async findScenesRequest(ids: string[]): Promise<z.infer<typeof findScenesData>> {
    const { sceneIdsArgument, groups } = await this.server();
    const doc = (d: string) => this.sceneDocumentFor(d, groups);
    if (sceneIdsArgument === 'ids') return this.query('FindScenesByIds', doc(FIND_SCENES_BY_IDS), { ids }, findScenesData);
    // `scene_ids` is [Int!], 32 bits in GraphQL: an id beyond would fail the whole request, so it is read alone.
    const [small, large] = [ids.filter((id) => Number(id) <= INT32_MAX), ids.filter((id) => Number(id) > INT32_MAX)];
    const [batch, alone] = await Promise.all([
      small.length > 0
        ? this.query('FindScenesBySceneIds', doc(FIND_SCENES_BY_SCENE_IDS), { scene_ids: small.map(Number) }, findScenesData)
        : null,
      Promise.all(large.map((id) => this.findScene(id))),
    ]);
    return { findScenes: { scenes: [...(batch?.findScenes.scenes ?? []), ...alone.filter((s): s is StashScene => s !== null)] } };
  }

  /**
   * The scenes holding a file of this base name (any case, as the base-name fallback compares), from
   * Stash's `path` criterion, which matches more (any path containing it): filtered here to the exact
   * base name. At most FILE_NAMED_PAGE.
   */
  async scenesWithFileNamed(basename: string): Promise<StashSceneFiles[]> {
    const { findScenes } = await this.query(
      'FindScenesWithFileNamed',
      FIND_SCENES_WITH_FILE_NAMED,
      { name: `"${basename}"`, per_page: FILE_NAMED_PAGE },
      sceneFilesData,
    );
    const name = basename.toLowerCase();
    return findScenes.scenes.filter((s) => s.files.some((f) => f.basename.toLowerCase() === name));
  }

  /**
   * Where Stash's clock stands (one request, after the version read once): the newest `updated_at` of its
   * scenes, performers, studios, tags and groups, and the zone Stash writes in (that time's offset). Asked
   * at the start of every run, so a DST change or a moved server is picked up; the host we run on says
   * nothing about Stash's zone.
   */
  async clock(): Promise<StashClock> {
    let aheadMs: StashClockAhead | undefined;
    const d = await this.query(
      'StashClock',
      (await this.server()).groups ? STASH_CLOCK : STASH_CLOCK_MOVIES,
      {},
      clockData,
      (date, sentAt, receivedAt) => (aheadMs = stashClockAhead(date, sentAt, receivedAt)),
    );
    const newest = newestStashTime(
      [d.scenes.scenes, d.performers.performers, d.studios.studios, d.tags.tags, d.groups.groups].map(
        (l) => (l as { updated_at: string }[])[0]?.updated_at,
      ),
    );
    return { newest, offsetMinutes: (newest === null ? null : stashOffsetOf(newest)) ?? 0, ...(aheadMs ? { aheadMs } : {}) };
  }

  /**
   * One page of the scenes the window's query returns (widened: updatedAtCriterion), oldest change first,
   * unfiltered: `count` is that query's; each `updated_at` says whether it is in the window (inStashRange).
   */
  async findScenesUpdated(opts: { window: StashWindow; clock: StashClock; page: number; perPage: number }): Promise<UpdatedScenesPage> {
    const updated = updatedAtCriterion(opts.window, opts.clock.offsetMinutes);
    const { findScenes } = await this.query(
      'FindScenesUpdated',
      FIND_SCENES_UPDATED,
      { updated, page: opts.page, per_page: opts.perPage },
      updatedPageData,
    );
    return findScenes;
  }

  /**
   * Ids of the scenes changed in the window, page by page: queried wide (updatedAtCriterion), kept exact
   * (stashWindowRange). A scene edited while the walk runs moves to the end of the order and may shift
   * another past a page boundary; that edit fires its own hook, so the reconciliation does not need to
   * catch it.
   */
  async *scenesUpdatedIn(window: StashWindow, clock: StashClock, perPage = STASH_DEFAULT_PAGE_SIZE): AsyncGenerator<string[]> {
    yield* this.changedIn('FindScenesUpdated', FIND_SCENES_UPDATED, window, clock, perPage);
  }

  /**
   * Every scene with all its fields, page by page (at most 1000 a page), in id order, with the count of
   * the whole library as Stash gives it on each page (Reconcile Library: never the whole library at once).
   */
  async *scenePages(perPage = STASH_MAX_PAGE_SIZE): AsyncGenerator<{ count: number; scenes: StashScene[] }> {
    const read = (d: z.infer<typeof scenePageData>) => ({ count: d.findScenes.count, items: d.findScenes.scenes });
    const doc = await this.sceneDocument(FIND_SCENES_PAGE);
    for await (const { count, items } of this.walk('FindScenesPage', doc, {}, perPage, scenePageData, read)) yield { count, scenes: items };
  }

  /** Ids of every scene, page by page, in id order (Sync All). */
  async *allSceneIds(perPage = STASH_DEFAULT_PAGE_SIZE): AsyncGenerator<string[]> {
    yield* this.pages('FindSceneIdsPage', FIND_SCENE_IDS_PAGE, {}, perPage);
  }

  /**
   * Ids of the scenes showing a performer, studio (or one of its sub-studios), tag or group, page by page:
   * renaming one fires no scene hook, so these scenes are re-synced by id.
   */
  async *sceneIdsWith(kind: FanoutRelation, id: string, perPage = STASH_DEFAULT_PAGE_SIZE): AsyncGenerator<string[]> {
    // A Stash before v0.27.0 has movies, not groups.
    const movies = kind === 'group' && !(await this.server()).groups;
    const operation = movies ? 'FindScenesByMovie' : `FindScenesBy${kind[0].toUpperCase()}${kind.slice(1)}`;
    yield* this.pages(operation, movies ? FIND_SCENES_BY_MOVIE : RELATION_QUERY[kind], { ids: [id] }, perPage);
  }

  /**
   * Ids of the performers, studios, tags or groups themselves changed in the window (queried wide, kept
   * exact, as scenesUpdatedIn), page by page, oldest change first: a rename bumps only the relation's
   * updated_at, so checkpoints find renames here.
   */
  async *relationsUpdatedIn(
    kind: FanoutRelation,
    window: StashWindow,
    clock: StashClock,
    perPage = STASH_DEFAULT_PAGE_SIZE,
  ): AsyncGenerator<string[]> {
    const q = kind === 'group' && !(await this.server()).groups ? MOVIES_UPDATED : RELATION_UPDATED[kind];
    yield* this.changedIn(q.operation, q.query, window, clock, perPage, q.root, q.list);
  }

  // ---- screenshot ---------------------------------------------------------------------------------

  /**
   * The scene's screenshot (a `paths.screenshot` URL), read from STASH_URL: stashImageUrl. Credentials
   * go only to the Stash origin, never to another host. Redirects are not followed: without valid
   * credentials Stash answers 302 to its login page, and that HTML must not become a poster. Anything
   * but 200 + image/* throws; an image over POSTER_MAX_BYTES is skipped (the read is aborted), not an error.
   */
  async fetchScreenshot(url: string): Promise<Screenshot> {
    let target: URL;
    try {
      target = stashImageUrl(url, this.base);
    } catch (error) {
      throw this.fail({ error }, 'GET screenshot', 'not a URL');
    }
    return this.limited(() => this.screenshotAt(target));
  }

  /** fetchScreenshot's request and body read, under the limiter's permit. */
  private async screenshotAt(target: URL): Promise<Screenshot> {
    const sameOrigin = target.origin === this.origin;
    const what = `GET ${target.pathname}`;
    let res: Response;
    try {
      res = await fetch(target, {
        headers: { Accept: 'image/*', ...(sameOrigin ? this.headers : {}) },
        redirect: 'manual',
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      throw this.fail({ error }, what);
    }
    const contentType = (res.headers.get('content-type') ?? '').split(';')[0].trim().toLowerCase();
    if (res.status !== 200) {
      await discardBody(res);
      const location = res.headers.get('location');
      const detail = [
        location ? `redirect to ${location.split('?')[0]} (credentials missing or rejected)` : '',
        sameOrigin ? '' : `credentials withheld: ${target.origin} is not the Stash server`,
      ]
        .filter(Boolean)
        .join('; ');
      throw this.fail({ status: res.status }, what, detail || undefined);
    }
    if (!contentType.startsWith('image/')) {
      await discardBody(res);
      throw this.fail({ error: new Error(`not an image (content-type ${contentType || 'missing'})`) }, what);
    }
    try {
      return { bytes: await readBounded(res, this.posterMaxBytes), contentType };
    } catch (error) {
      if (!(error instanceof ResponseTooLarge)) throw this.fail({ error }, what);
      this.tooLarge(what, error);
      return { skipped: `screenshot not uploaded: ${error.message} (POSTER_MAX_BYTES)` };
    }
  }
}
