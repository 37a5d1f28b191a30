// A Stash simulator: a real HTTP server on 127.0.0.1 that answers GraphQL from an in-memory library,
// executed by graphql-js against Stash's real schema (vendor/stash-graphql-schema, a copy of stashapp/stash graphql/schema) so that a
// query real Stash would reject is rejected here too. Where it matters to stash2plex it behaves like
// Stash (stash-plugins.md): ApiKey header or session cookie, 401 on /graphql and 302 to /login elsewhere
// without credentials, 422 for documents the schema rejects, `updated_at` written as RFC 3339 text in whole
// seconds in the server's zone at write time and compared as text (stashapp/stash pkg/sqlite/timestamp.go,
// pkg/sqlite/sql.go getTimestampWhereClause), a server clock that may be set off, performer/studio/tag
// renames that do not touch scenes, per_page as asked (no cap since v0.20.0; negative: all), every
// returned URL built on `external_host` or the address asked plus X-Forwarded-Prefix
// (internal/api/server.go BaseURLMiddleware), an older version's schema where it differs for stash2plex
// (./stash-versions.ts), and the scene saves sceneUpdate, scenesUpdate and bulkSceneUpdate with the
// Scene.Update.Post hook each saved scene fires, its hookContext built as Stash builds it
// (./stash-mutations.ts), handed to `onHook`; a scan that finds a file moved (scanMovedFile: the
// no-input Scene.Update.Post, updated_at unchanged) and moveFiles (no hook at all). Performers' images
// and groups' front images as Stash serves them (`/performer/<id>/image`, `/group/<id>/frontimage`), their
// paths `?t=<updated_at>` with `&default=true` when there is none (internal/api/urlbuilders/performer.go,
// group.go). Fault injection (down / 503 / latency) and a request log for tests, demo and bench.
import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { deflateSync } from 'node:zlib';
import {
  buildSchema,
  execute,
  executeSync,
  GraphQLError,
  Kind,
  parse,
  validate,
  type DocumentNode,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type GraphQLObjectType,
} from 'graphql';
import { formatStashTime } from '../stash-api/client.js';
import { FIND_SCENE, withMovies } from '../stash-api/queries.js';
import { defaultStashSchemaDir, loadStashSchema, readStashSchemaSource } from '../stash-api/schema.js';
import type { StashScene } from '../model/types.js';
import { simFileSize } from './file-size.js';
import { SimServer, type ServerModel } from './sim-server.js';
import {
  bulkSceneUpdateHooks,
  bulkScenePatch,
  movedPaths,
  scanUpdateHook,
  sceneIdsOf,
  scenePatch,
  sceneUpdateHook,
  scenesUpdateHooks,
  type GraphQLInput,
  type ScenePatch,
  type StashHookContext,
} from './stash-mutations.js';
import { EMBEDDED_STASH_SDL } from './stash-schema.graphql.js';
import { schemaOfVersion, SIM_DEFAULT_STASH_VERSION } from './stash-versions.js';

export type StashSimMode = 'up' | 'down' | '503';

/** A scene as findScene answers it (FIND_SCENE: the ids of its performers and tags too, to edit relations; groups as Stash nests them). */
export type SimSceneView = Omit<StashScene, 'performers' | 'tags' | 'groups'> & {
  performers: { id: string; name: string; image_path: string | null }[];
  tags: { id: string; name: string; description: string | null; image_path: string | null; parents: { name: string }[] }[];
  groups: NonNullable<StashScene['groups']>;
};

/** How many scenes each performer is in. */
function performerSceneCounts(scenes: Iterable<{ performer_ids: readonly string[] }>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const s of scenes) for (const id of s.performer_ids) counts.set(id, (counts.get(id) ?? 0) + 1);
  return counts;
}

/** FIND_SCENE, which reads the relation ids `scene()` needs. */
const SIM_FIND_SCENE = (() => {
  if (!FIND_SCENE.includes('performers { id name') || !FIND_SCENE.includes('tags { id name'))
    throw new Error('FIND_SCENE changed: update SIM_FIND_SCENE');
  return FIND_SCENE;
})();

export interface StashSimOptions {
  /** The server model from the start (slots and service time; SimServer.setServerModel): none by default. */
  model?: ServerModel;
  /** When set, every request needs it (ApiKey header) or a session cookie, as Stash with credentials. */
  apiKey?: string | null;
  port?: number;
  /** Folder with schema.graphql + types/ (default vendor/stash-graphql-schema from cwd). */
  schemaDir?: string;
  /** The zone Stash writes `updated_at` in, minutes east of UTC (default 0: `…Z`); setUtcOffsetMinutes moves it. */
  utcOffsetMinutes?: number;
  /** Clock of the library (default Date.now). */
  now?: () => number;
  /** How far the Stash server's clock is off `now` (negative: behind), in ms (default 0). */
  clockSkewMs?: number;
  /**
   * The version `version { version }` answers (default SIM_DEFAULT_STASH_VERSION); an older one also
   * serves that version's schema where it differs for stash2plex (src/sim/stash-versions.ts: from v0.24.0).
   */
  version?: string;
  /**
   * Stash's `external_host` setting: the base of every URL it returns (paths.screenshot) instead of the
   * address it was asked on. setExternalHost changes it, as Stash reads it on every request.
   */
  externalHost?: string | null;
  /** Runs each Scene.Update.Post hook of a scene save (also settable later: `onHook`). */
  onHook?: StashHookRunner | null;
}

/** What runs a plugin hook: Stash waits for it, scene after scene, before the mutation answers. */
export type StashHookRunner = (hookContext: StashHookContext) => Promise<void> | void;
export type { StashHookContext } from './stash-mutations.js';

export interface StashSimRequest {
  /** Epoch ms of arrival. */
  at: number;
  method: string;
  path: string;
  /** GraphQL operation name (or null), 'screenshot', or null for other paths. */
  operationName: string | null;
  /** Top-level fields the GraphQL operation selected (e.g. ['findScenes']). */
  fields: string[];
  /** Status answered (0 until answered). */
  status: number;
}

export type StashRequestFilter =
  { operationName?: string; field?: string; status?: number; path?: string } | ((r: StashSimRequest) => boolean);

/** What addScene/updateScene take: the scene's own fields, relations by id, file paths. */
export interface SimSceneInput {
  title?: string | null;
  code?: string | null;
  details?: string | null;
  director?: string | null;
  urls?: string[];
  date?: string | null;
  rating100?: number | null;
  organized?: boolean;
  /** StashBox ids, as the scene editor's "StashIDs" (endpoint URL and the remote id). */
  stash_ids?: { endpoint: string; stash_id: string }[];
  studio_id?: string | null;
  performer_ids?: string[];
  tag_ids?: string[];
  /** The groups the scene is in (sceneUpdate's `groups`, here by id). */
  group_ids?: string[];
  /** A path, or a path and a size (default simFileSize: the same for the same base name). */
  files?: (string | { path: string; size: number })[];
  /** Test convenience (not a Stash input): set the change time instead of "now". */
  updated_at?: Date | number;
}

interface SceneRec {
  id: string;
  title: string | null;
  code: string | null;
  details: string | null;
  director: string | null;
  urls: string[];
  date: string | null;
  rating100: number | null;
  organized: boolean;
  stash_ids: { endpoint: string; stash_id: string; updated_at: string }[];
  studio_id: string | null;
  performer_ids: string[];
  tag_ids: string[];
  group_ids: string[];
  files: { id: string; path: string; size: number }[];
  /** As Stash stores them: RFC 3339 text in the zone of the moment they were written. */
  created_at: string;
  updated_at: string;
  screenshot: { bytes: Buffer; contentType: string } | null;
}

interface NamedRec {
  id: string;
  name: string;
  parent_id: string | null;
  created_at: string;
  updated_at: string;
  /** A performer's, studio's or tag's image of its own (null: Stash serves its default). */
  image?: SimImage | null;
  /** A studio's details or a tag's description (Studio.details, Tag.description). */
  text?: string | null;
  /** A tag's parent tags (Tag.parents), by id. */
  parent_tag_ids?: string[];
}

/** A Stash group (v0.27.0 and later; movies before): its name and front image. */
interface GroupRec {
  id: string;
  name: string;
  synopsis: string | null;
  front: SimImage | null;
  created_at: string;
  updated_at: string;
}

export interface SimImage {
  bytes: Buffer;
  contentType: string;
}

type Kinds = 'performer' | 'studio' | 'tag';

/**
 * per_page when none is given. No upper limit: Stash removed its cap of 1000 in v0.20.0 (pkg/models/
 * find_filter.go GetPageSize); a negative one is every result (IsGetAll).
 */
const DEFAULT_PER_PAGE = 25;
const SORTS = ['id', 'title', 'date', 'created_at', 'updated_at', 'rating', 'path'] as const;

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export class StashSimulator extends SimServer<StashSimMode> {
  /** The key Stash accepts (Settings → Security → API Key); setApiKey changes it as a user regenerating it does. */
  private apiKeyValue: string | null;
  readonly schema: GraphQLSchema;
  /** 'reference' when built from the real schema files, 'embedded' for the fallback. */
  readonly schemaSource: 'reference' | 'embedded';
  /** What `version { version }` answers. */
  readonly version: string;
  /** Every request answered or being answered, oldest first. */
  readonly requests: StashSimRequest[] = [];
  /** Runs the hooks of scene saves; null: no plugin hooks (the mutations still save). */
  onHook: StashHookRunner | null;
  /** Hooks that threw: Stash logs a failed hook and carries on, the save stands. */
  readonly hookFailures: { hookContext: StashHookContext; error: string }[] = [];

  private readonly baseNow: () => number;
  private offsetMinutes: number;
  private clockSkewMs: number;
  private externalHost: string | null;
  private readonly sessions = new Set<string>();
  private readonly scenes = new Map<string, SceneRec>();
  private readonly named: Record<Kinds, Map<string, NamedRec>> = { performer: new Map(), studio: new Map(), tag: new Map() };
  private readonly plugins = new Map<string, Record<string, unknown>>();
  private readonly groups = new Map<string, GroupRec>();
  private nextGroupId = 1;
  private readonly nextId: Record<Kinds | 'scene' | 'file', number> = { scene: 1, file: 1, performer: 1, studio: 1, tag: 1 };
  private readonly findSceneDoc: DocumentNode;
  /** Each root() is one request; performerCounts is the scene count of each performer, as of that request. */
  private requestSeq = 0;
  private performerCounts: { request: number; counts: Map<string, number> } | null = null;

  private constructor(opts: StashSimOptions) {
    super('up', { model: opts.model });
    this.apiKeyValue = opts.apiKey ?? null;
    this.baseNow = opts.now ?? Date.now;
    this.offsetMinutes = opts.utcOffsetMinutes ?? 0;
    this.clockSkewMs = opts.clockSkewMs ?? 0;
    this.externalHost = opts.externalHost ?? null;
    this.version = opts.version ?? SIM_DEFAULT_STASH_VERSION;
    const dir = opts.schemaDir ?? defaultStashSchemaDir();
    const real = loadStashSchema(dir);
    this.onHook = opts.onHook ?? null;
    this.schemaSource = real ? 'reference' : 'embedded';
    const older = schemaOfVersion(real ? readStashSchemaSource(dir)! : EMBEDDED_STASH_SDL, this.version);
    this.schema = older ?? real ?? buildSchema(EMBEDDED_STASH_SDL);
    // A Stash before v0.27.0 has movies, not groups: the client asks it so (queries.ts withMovies).
    const hasGroups = 'groups' in (this.schema.getType('Scene') as GraphQLObjectType).getFields();
    this.findSceneDoc = parse(hasGroups ? SIM_FIND_SCENE : withMovies(SIM_FIND_SCENE));
  }

  static async start(opts: StashSimOptions = {}): Promise<StashSimulator> {
    const sim = new StashSimulator(opts);
    await sim.listen(opts.port ?? 0);
    return sim;
  }

  // ---- fault injection --------------------------------------------------------------------------
  // setMode/getMode/setLatencyMs/stop come from SimServer: 'down' closes the listening socket and every
  // open connection (connection refused); 'up' listens again on the same port; '503' answers every
  // request 503. Latency simulates a slow Stash, e.g. during a scan.

  // ---- the server's clock and zone ---------------------------------------------------------------

  /** Moves the zone Stash writes in from now on (a DST change, a moved server); stored times keep theirs. */
  setUtcOffsetMinutes(minutes: number): void {
    this.offsetMinutes = minutes;
  }

  /** Stash's `external_host` setting (null: unset); applies from the next request on. */
  setExternalHost(url: string | null): void {
    this.externalHost = url;
  }

  /** Sets the Stash server's clock off (negative: behind). */
  setClockSkewMs(ms: number): void {
    this.clockSkewMs = ms;
  }

  /** The Stash server's clock. */
  private now(): number {
    return this.baseNow() + this.clockSkewMs;
  }

  // ---- counters ---------------------------------------------------------------------------------

  count(filter?: StashRequestFilter): number {
    if (!filter) return this.requests.length;
    const f = filter;
    const match =
      typeof f === 'function'
        ? f
        : (r: StashSimRequest) =>
            (f.operationName === undefined || r.operationName === f.operationName) &&
            (f.field === undefined || r.fields.includes(f.field)) &&
            (f.status === undefined || r.status === f.status) &&
            (f.path === undefined || r.path.split('?')[0] === f.path);
    return this.requests.filter(match).length;
  }

  resetCounters(): void {
    this.requests.length = 0;
  }

  // ---- credentials --------------------------------------------------------------------------------

  /** A logged-in session, as the cookie Stash hands a plugin in server_connection.SessionCookie. */
  createSession(): { name: string; value: string } {
    const value = randomBytes(16).toString('hex');
    this.sessions.add(value);
    return { name: 'session', value };
  }

  // ---- library ------------------------------------------------------------------------------------

  /** Adds a scene (as a scan plus an edit would); returns its id, a numeric string. */
  addScene(input: SimSceneInput = {}): string {
    const id = String(this.nextId.scene++);
    const at = this.time(input.updated_at !== undefined ? new Date(input.updated_at).getTime() : this.now());
    const rec: SceneRec = {
      id,
      title: null,
      code: null,
      details: null,
      director: null,
      urls: [],
      date: null,
      rating100: null,
      organized: false,
      stash_ids: [],
      studio_id: null,
      performer_ids: [],
      tag_ids: [],
      group_ids: [],
      files: [],
      created_at: at,
      updated_at: at,
      screenshot: null,
    };
    this.scenes.set(id, rec);
    this.apply(rec, { files: [`/data/scene-${id}.mp4`], ...input });
    return id;
  }

  /** Edits a scene; bumps its updated_at like any scene update in Stash. */
  updateScene(id: string, patch: SimSceneInput): void {
    const rec = this.mustScene(id);
    this.apply(rec, patch);
    rec.updated_at = this.time(patch.updated_at !== undefined ? new Date(patch.updated_at).getTime() : this.now());
  }

  /**
   * A scan that finds a scene's file (the one at `from`, default its first) at `to`: moved or renamed on
   * disk. As Stash's scan: the file keeps its id and size, only its path changes, the scene is not saved
   * (its updated_at stays), and its Scene.Update.Post hook runs without input (./stash-mutations.ts
   * scanUpdateHook), awaited like every hook.
   */
  async scanMovedFile(id: string, to: string, from?: string): Promise<void> {
    const rec = this.mustScene(id);
    const file = from === undefined ? rec.files[0] : rec.files.find((f) => f.path === from);
    if (!file) throw new Error(`scene ${id} has no file ${from ?? ''}`.trim());
    file.path = to;
    await this.runHooks([scanUpdateHook(id)]);
  }

  /** A scene's files with their ids (what moveFiles takes), in order. */
  filesOf(id: string): { id: string; path: string; size: number }[] {
    return this.mustScene(id).files.map((f) => ({ ...f }));
  }

  deleteScene(id: string): boolean {
    return this.scenes.delete(id);
  }

  /** The scene as findScene answers it (same query, same schema) with relation ids, or null. */
  scene(id: string): SimSceneView | null {
    const result = executeSync({
      schema: this.schema,
      document: this.findSceneDoc,
      rootValue: this.root(this.externalHost ?? this.url),
      variableValues: { id },
    });
    if (result.errors?.length) throw new Error(result.errors[0].message);
    type Group = SimSceneView['groups'][number];
    type Raw = Omit<SimSceneView, 'groups'> & { groups?: { group: Group }[]; movies?: { movie: Group }[] };
    const found = (result.data as { findScene: Raw | null }).findScene;
    if (!found) return null;
    // As the client reads it (src/stash-api/client.ts): the groups (movies before v0.27.0) without Stash's wrapper.
    const { groups, movies, ...rest } = found;
    return { ...rest, groups: groups?.map((g) => g.group) ?? movies?.map((m) => m.movie) ?? [] };
  }

  sceneIds(): string[] {
    return [...this.scenes.keys()];
  }

  /** Find-or-create by name (names are unique in Stash); returns the id. */
  addPerformer(name: string): string {
    return this.addNamed('performer', name, null);
  }

  /** Find-or-create by name; a parent makes it a sub-studio. */
  addStudio(name: string, parentId: string | null = null): string {
    if (parentId !== null) this.mustNamed('studio', parentId);
    return this.addNamed('studio', name, parentId);
  }

  addTag(name: string): string {
    return this.addNamed('tag', name, null);
  }

  /** Renames bump the performer's own updated_at only: Stash fires no scene hook and touches no scene. */
  renamePerformer(id: string, name: string): void {
    this.rename('performer', id, name);
  }

  renameStudio(id: string, name: string): void {
    this.rename('studio', id, name);
  }

  renameTag(id: string, name: string): void {
    this.rename('tag', id, name);
  }

  /** The plugin's saved settings (`configuration.plugins`); an empty object removes them. */
  setPluginSettings(pluginId: string, settings: Record<string, unknown>): void {
    if (Object.keys(settings).length === 0) this.plugins.delete(pluginId);
    else this.plugins.set(pluginId, structuredClone(settings));
  }

  /**
   * A performer's image (performerUpdate's `image`; null deletes it): the performer's updated_at moves, and
   * so the `t` of its image_path (stashapp/stash internal/api/urlbuilders/performer.go).
   */
  setPerformerImage(id: string, image: SimImage | null): void {
    const r = this.mustNamed('performer', id);
    r.image = image && { bytes: Buffer.from(image.bytes), contentType: image.contentType };
    r.updated_at = this.time(this.now());
  }

  /** A performer's image of its own (null: none). */
  performerImage(id: string): Buffer | null {
    return this.mustNamed('performer', id).image?.bytes ?? null;
  }

  /** Adds a group (groupCreate), with a front image or none; returns its id. */
  addGroup(name: string, front: SimImage | null = null, synopsis: string | null = null): string {
    const id = String(this.nextGroupId++);
    const at = this.time(this.now());
    this.groups.set(id, { id, name, synopsis, front, created_at: at, updated_at: at });
    return id;
  }

  /** groupUpdate of name and synopsis (undefined: unchanged): its updated_at moves (and the `t` of its image URLs). */
  updateGroup(id: string, patch: { name?: string; synopsis?: string | null }): void {
    const g = this.groups.get(id);
    if (!g) throw new Error(`no group ${id}`);
    if (patch.name !== undefined) g.name = patch.name;
    if (patch.synopsis !== undefined) g.synopsis = patch.synopsis;
    g.updated_at = this.time(this.now());
  }

  /**
   * studioUpdate / tagUpdate of what a collection shows: a studio's details or a tag's description (`text`),
   * its image (null deletes it), a tag's parents. Undefined: unchanged; updated_at moves.
   */
  updateNamed(kind: 'studio' | 'tag', id: string, patch: { text?: string | null; image?: SimImage | null; parentIds?: string[] }): void {
    const r = this.mustNamed(kind, id);
    if (patch.text !== undefined) r.text = patch.text;
    if (patch.image !== undefined) r.image = patch.image && { bytes: Buffer.from(patch.image.bytes), contentType: patch.image.contentType };
    if (patch.parentIds !== undefined) r.parent_tag_ids = patch.parentIds.map((x) => this.mustNamed('tag', x).id);
    r.updated_at = this.time(this.now());
  }

  /** A group's front image (groupUpdate's `front_image`; null deletes it): its updated_at moves. */
  setGroupFrontImage(id: string, front: SimImage | null): void {
    const g = this.groups.get(id);
    if (!g) throw new Error(`no group ${id}`);
    g.front = front;
    g.updated_at = this.time(this.now());
  }

  /** Replaces the screenshot served for a scene (any content type, to simulate odd answers). */
  setScreenshot(id: string, bytes: Buffer | Uint8Array, contentType = 'image/png'): void {
    this.coverChanged(id, { bytes: Buffer.from(bytes), contentType });
  }

  /** A new cover is a scene update (sceneUpdate's cover_image): updated_at, and so the screenshot URL's `?t=`, moves. */
  private coverChanged(id: string, screenshot: SceneRec['screenshot']): void {
    const rec = this.mustScene(id);
    rec.screenshot = screenshot;
    rec.updated_at = this.time(this.now());
  }

  /**
   * The scene loses its cover (a scan without "generate covers", a cover deleted): like Stash, its
   * screenshot URL then answers 200 with the built-in SVG placeholder.
   */
  removeCover(id: string): void {
    this.coverChanged(id, { bytes: STASH_SCENE_PLACEHOLDER_SVG, contentType: 'image/svg+xml' });
  }

  /** The screenshot bytes currently served for a scene. */
  screenshotOf(id: string): { bytes: Buffer; contentType: string } {
    const rec = this.mustScene(id);
    return rec.screenshot ?? { bytes: scenePng(id), contentType: 'image/png' };
  }

  private apply(rec: SceneRec, p: SimSceneInput): void {
    if (p.studio_id) this.mustNamed('studio', p.studio_id);
    for (const x of p.performer_ids ?? []) this.mustNamed('performer', x);
    for (const x of p.tag_ids ?? []) this.mustNamed('tag', x);
    if (p.title !== undefined) rec.title = p.title;
    if (p.code !== undefined) rec.code = p.code;
    if (p.details !== undefined) rec.details = p.details;
    if (p.director !== undefined) rec.director = p.director;
    if (p.urls !== undefined) rec.urls = [...p.urls];
    if (p.date !== undefined) rec.date = p.date;
    if (p.rating100 !== undefined) rec.rating100 = p.rating100;
    if (p.organized !== undefined) rec.organized = p.organized;
    if (p.stash_ids !== undefined) rec.stash_ids = p.stash_ids.map((x) => ({ ...x, updated_at: this.time(this.now()) }));
    if (p.studio_id !== undefined) rec.studio_id = p.studio_id;
    if (p.performer_ids !== undefined) rec.performer_ids = [...new Set(p.performer_ids)];
    if (p.tag_ids !== undefined) rec.tag_ids = [...new Set(p.tag_ids)];
    for (const x of p.group_ids ?? []) if (!this.groups.has(x)) throw new Error(`no group ${x}`);
    if (p.group_ids !== undefined) rec.group_ids = [...new Set(p.group_ids)];
    if (p.files !== undefined) {
      rec.files = p.files.map((f) => {
        const { path, size } = typeof f === 'string' ? { path: f, size: simFileSize(f) } : f;
        return { id: String(this.nextId.file++), path, size };
      });
    }
  }

  private addNamed(kind: Kinds, name: string, parentId: string | null): string {
    for (const r of this.named[kind].values()) if (r.name === name) return r.id;
    const id = String(this.nextId[kind]++);
    const at = this.time(this.now());
    this.named[kind].set(id, { id, name, parent_id: parentId, created_at: at, updated_at: at });
    return id;
  }

  private rename(kind: Kinds, id: string, name: string): void {
    const r = this.mustNamed(kind, id);
    r.name = name;
    r.updated_at = this.time(this.now());
  }

  private mustScene(id: string): SceneRec {
    const rec = this.scenes.get(id);
    if (!rec) throw new Error(`no scene ${id}`);
    return rec;
  }

  private mustNamed(kind: Kinds, id: string): NamedRec {
    const r = this.named[kind].get(id);
    if (!r) throw new Error(`no ${kind} ${id}`);
    return r;
  }

  // ---- GraphQL resolvers --------------------------------------------------------------------------

  private time(ms: number): string {
    return formatStashTime(ms, this.offsetMinutes);
  }

  /** Root resolvers; `base` is the server URL as the client reached it (Stash builds paths from it). */
  private root(base: string) {
    this.requestSeq += 1;
    return {
      findScene: (args: { id?: string | null }) => {
        const rec = args.id != null ? this.scenes.get(String(args.id)) : undefined;
        return rec ? this.sceneView(rec, base) : null;
      },
      findScenes: (args: {
        scene_filter?: SceneFilter | null;
        ids?: string[] | null;
        scene_ids?: number[] | null;
        filter?: FindFilter | null;
      }) => this.findScenes(args, base),
      findPerformers: (args: { performer_filter?: NamedFilter | null; ids?: string[] | null; filter?: FindFilter | null }) =>
        this.findNamed('performer', args.performer_filter, args.ids, args.filter),
      findStudios: (args: { studio_filter?: NamedFilter | null; ids?: string[] | null; filter?: FindFilter | null }) =>
        this.findNamed('studio', args.studio_filter, args.ids, args.filter),
      findTags: (args: { tag_filter?: NamedFilter | null; ids?: string[] | null; filter?: FindFilter | null }) =>
        this.findNamed('tag', args.tag_filter, args.ids, args.filter),
      findGroups: (args: { group_filter?: NamedFilter | null; ids?: string[] | null; filter?: FindFilter | null }) =>
        this.findGroups('groups', args.group_filter, args.ids, args.filter, base),
      findMovies: (args: { movie_filter?: NamedFilter | null; ids?: string[] | null; filter?: FindFilter | null }) =>
        this.findGroups('movies', args.movie_filter, args.ids, args.filter, base),
      version: () => ({ version: this.version, hash: '', build_time: '' }),
      sceneUpdate: async (args: { input: GraphQLInput }) => {
        const id = String(args.input.id);
        return (await this.saveScenes([{ id, patch: scenePatch(args.input) }], [sceneUpdateHook(args.input)], base))[0];
      },
      scenesUpdate: (args: { input: GraphQLInput[] }) =>
        this.saveScenes(
          args.input.map((input) => ({ id: String(input.id), patch: scenePatch(input) })),
          scenesUpdateHooks(args.input),
          base,
        ),
      bulkSceneUpdate: (args: { input: GraphQLInput }) =>
        this.saveScenes(
          sceneIdsOf(args.input).map((id) => {
            const scene = this.scenes.get(id);
            if (!scene) throw new GraphQLError(`scene with id ${id} not found`);
            return { id, patch: bulkScenePatch(args.input, scene) };
          }),
          bulkSceneUpdateHooks(args.input),
          base,
        ),
      moveFiles: (args: { input: GraphQLInput }) => this.moveFiles(args.input),
      // internal/api/resolver_mutation_configure.go ConfigurePlugin: the input replaces the plugin's whole
      // map (SetPluginConfiguration), and the answer is the map as saved.
      configurePlugin: (args: { plugin_id: string; input: Record<string, unknown> }) => {
        this.setPluginSettings(String(args.plugin_id), args.input ?? {});
        return structuredClone(this.plugins.get(String(args.plugin_id)) ?? {});
      },
      configuration: () => ({
        plugins: (args: { include?: string[] | null }) => {
          const ids = args.include?.length ? args.include : [...this.plugins.keys()];
          // Like Stash: an included plugin with nothing saved is absent from the map.
          return Object.fromEntries(ids.filter((id) => this.plugins.has(id)).map((id) => [id, structuredClone(this.plugins.get(id))]));
        },
      }),
    };
  }

  /**
   * A scene save as Stash runs it (internal/api/resolver_mutation_scene.go): every change checked, then
   * made (one transaction: a bad one changes nothing), then each scene's hook in turn, awaited; the
   * answer is the scenes as they are after their hooks.
   */
  private async saveScenes(changes: { id: string; patch: ScenePatch }[], hooks: StashHookContext[], base: string) {
    for (const { id, patch } of changes) {
      if (!this.scenes.has(id)) throw new GraphQLError(`scene with id ${id} not found`);
      if (patch.studio_id) this.mustNamed('studio', patch.studio_id);
      for (const x of patch.performer_ids ?? []) this.mustNamed('performer', x);
      for (const x of patch.tag_ids ?? []) this.mustNamed('tag', x);
      for (const x of patch.group_ids ?? []) if (!this.groups.has(x)) throw new GraphQLError(`group with id ${x} not found`);
    }
    for (const { id, patch } of changes) {
      const { cover, ...fields } = patch;
      this.updateScene(id, fields);
      if (cover) this.coverChanged(id, cover);
    }
    await this.runHooks(hooks);
    return changes.map(({ id }) => this.sceneView(this.mustScene(id), base));
  }

  /** Each hook in turn, awaited; one that fails is logged (hookFailures) and the rest still run, as in Stash. */
  private async runHooks(hooks: readonly StashHookContext[]): Promise<void> {
    for (const hookContext of hooks) {
      try {
        await this.onHook?.(hookContext);
      } catch (err) {
        this.hookFailures.push({ hookContext, error: err instanceof Error ? err.message : String(err) });
      }
    }
  }

  /**
   * moveFiles (internal/api/resolver_mutation_file.go): the files get their new paths, in one
   * transaction (an unknown id or a taken path changes nothing); no scene is saved and no hook runs.
   */
  private moveFiles(input: GraphQLInput): boolean {
    const ids = ((input.ids as string[] | null | undefined) ?? []).map(String);
    const files = ids.map((fileId) => {
      for (const rec of this.scenes.values()) {
        const f = rec.files.find((x) => x.id === fileId);
        if (f) return f;
      }
      throw new GraphQLError(`finding file ${fileId}: file with id ${fileId} not found`);
    });
    const to = movedPaths(
      input,
      files.map((f) => f.path),
    );
    const taken = new Set([...this.scenes.values()].flatMap((r) => r.files.map((f) => f.path)));
    to.forEach((p, i) => {
      if (p !== files[i].path && taken.has(p)) throw new GraphQLError(`file ${p} already exists`);
    });
    files.forEach((f, i) => (f.path = to[i]!));
    return true;
  }

  private findScenes(
    args: { scene_filter?: SceneFilter | null; ids?: string[] | null; scene_ids?: number[] | null; filter?: FindFilter | null },
    base: string,
  ) {
    const ids = args.ids?.length ? args.ids : args.scene_ids?.map(String);
    if (ids?.length) return this.findScenesByIds(ids, base);
    let list = [...this.scenes.values()];
    if (args.scene_filter) list = list.filter(this.predicate(args.scene_filter));
    const f = args.filter ?? {};
    const sort = f.sort ?? 'title';
    if (!(SORTS as readonly string[]).includes(sort)) throw new GraphQLError(`invalid sort: ${sort}`);
    const dir = f.direction === 'DESC' ? -1 : 1;
    const key = (s: SceneRec): string | number => {
      switch (sort) {
        case 'id':
          return Number(s.id);
        case 'created_at':
          return s.created_at;
        case 'updated_at':
          return s.updated_at; // the stored text: ties within a second, like Stash
        case 'rating':
          return s.rating100 ?? -1;
        case 'path':
          return s.files[0]?.path ?? '';
        default:
          return (s as unknown as Record<string, string | null>)[sort] ?? '';
      }
    };
    list.sort((a, b) => {
      const ka = key(a);
      const kb = key(b);
      const c = ka < kb ? -1 : ka > kb ? 1 : Number(a.id) - Number(b.id);
      return c * dir;
    });
    const count = list.length;
    const per = f.per_page ?? DEFAULT_PER_PAGE;
    const page = Math.max(1, f.page ?? 1);
    const slice = per < 0 ? list : list.slice((page - 1) * per, page * per);
    return { count, duration: 0, filesize: 0, scenes: slice.map((s) => this.sceneView(s, base)) };
  }

  /**
   * findScenes with `ids` (or `scene_ids`), as Stash answers it: the filter and paging are ignored, the
   * scenes come in the order asked, and an id without a scene (a repeated one too: its second place stays
   * empty) fails the whole request (stashapp/stash pkg/sqlite/scene.go FindMany).
   */
  private findScenesByIds(ids: readonly string[], base: string) {
    const scenes = ids.map((id, i) => {
      const rec = ids.indexOf(id) === i ? this.scenes.get(id) : undefined;
      if (!rec) throw new GraphQLError(`scene with id ${id} not found`);
      return rec;
    });
    return { count: scenes.length, duration: 0, filesize: 0, scenes: scenes.map((s) => this.sceneView(s, base)) };
  }

  /** findPerformers / findStudios / findTags: a page of the kind's records (see pageOf). */
  private findNamed(
    kind: Kinds,
    filter: NamedFilter | null | undefined,
    ids: string[] | null | undefined,
    f: FindFilter | null | undefined,
  ) {
    const { count, slice } = this.pageOf(kind, [...this.named[kind].values()], filter, ids, f);
    const views = slice.map((r) => ({ id: r.id, name: r.name, created_at: r.created_at, updated_at: r.updated_at }));
    return { count, [`${kind}s`]: views }; // performers, studios, tags
  }

  /** findGroups / findMovies (before Stash v0.27.0, and deprecated since): groups as the Group type resolves them. */
  private findGroups(
    list: 'groups' | 'movies',
    filter: NamedFilter | null | undefined,
    ids: string[] | null | undefined,
    f: FindFilter | null | undefined,
    base: string,
  ) {
    const { count, slice } = this.pageOf(list === 'groups' ? 'group' : 'movie', [...this.groups.values()], filter, ids, f);
    return { count, [list]: slice.map((g) => this.groupView(g.id, base)) };
  }

  /**
   * One page of records: filter on `updated_at` / `created_at` only (anything else fails loudly), sort by
   * id, name, created_at or updated_at (then id), paged like findScenes.
   */
  private pageOf<R extends { id: string; name: string; created_at: string; updated_at: string }>(
    kind: string,
    records: R[],
    filter: NamedFilter | null | undefined,
    ids: string[] | null | undefined,
    f: FindFilter | null | undefined,
  ): { count: number; slice: R[] } {
    let list = ids ? records.filter((r) => ids.includes(r.id)) : records;
    const tomorrow = this.time(this.now() + 86_400_000);
    for (const [field, value] of Object.entries(filter ?? {})) {
      if (value == null) continue;
      if (field !== 'updated_at' && field !== 'created_at')
        throw new GraphQLError(`stash simulator: ${kind}_filter.${field} is not simulated`);
      const c = value as TimestampCriterion;
      list = list.filter((r) => compareTimestampText(field === 'updated_at' ? r.updated_at : r.created_at, c, tomorrow));
    }
    const sort = f?.sort ?? 'name';
    const key = (r: R): string | number => {
      switch (sort) {
        case 'id':
          return Number(r.id);
        case 'name':
          return r.name;
        case 'created_at':
          return r.created_at;
        case 'updated_at':
          return r.updated_at;
        default:
          throw new GraphQLError(`stash simulator: sort ${sort} is not simulated`);
      }
    };
    const dir = f?.direction === 'DESC' ? -1 : 1;
    list.sort((a, b) => {
      const ka = key(a);
      const kb = key(b);
      return (ka < kb ? -1 : ka > kb ? 1 : Number(a.id) - Number(b.id)) * dir;
    });
    const per = f?.per_page ?? DEFAULT_PER_PAGE;
    const page = Math.max(1, f?.page ?? 1);
    return { count: list.length, slice: per < 0 ? list : list.slice((page - 1) * per, page * per) };
  }

  /** A scene_filter as Stash reads it: its own criteria ANDed, then `AND`/`OR`/`NOT` with a sub-filter. */
  private predicate(filter: SceneFilter): (s: SceneRec) => boolean {
    const tests: ((s: SceneRec) => boolean)[] = [];
    for (const [field, value] of Object.entries(filter)) {
      if (value == null || field === 'AND' || field === 'OR' || field === 'NOT') continue;
      switch (field) {
        case 'updated_at':
        case 'created_at': {
          const c = value as TimestampCriterion;
          tests.push((s) =>
            compareTimestampText(field === 'updated_at' ? s.updated_at : s.created_at, c, this.time(this.now() + 86_400_000)),
          );
          break;
        }
        case 'performers':
          tests.push((s) => multi(s.performer_ids, value as MultiCriterion));
          break;
        case 'tags':
          tests.push((s) => multi(s.tag_ids, value as MultiCriterion));
          break;
        case 'groups':
        case 'movies': // deprecated since v0.27.0: the same groups
          tests.push((s) => multi(s.group_ids, value as MultiCriterion));
          break;
        case 'studios': {
          const c = value as MultiCriterion & { depth?: number | null };
          const wanted = this.withSubStudios(c.value ?? [], c.depth ?? 0);
          tests.push((s) => multi(s.studio_id ? [s.studio_id] : [], { ...c, value: wanted }));
          break;
        }
        case 'path':
          tests.push(pathCriterion(value as { value: string; modifier: string }));
          break;
        default:
          // Real Stash supports it; the simulator does not: fail loudly rather than ignore the filter.
          throw new GraphQLError(`stash simulator: scene_filter.${field} is not simulated`);
      }
    }
    const own = (s: SceneRec) => tests.every((t) => t(s));
    const and = filter.AND ? this.predicate(filter.AND as SceneFilter) : null;
    const or = filter.OR ? this.predicate(filter.OR as SceneFilter) : null;
    const not = filter.NOT ? this.predicate(filter.NOT as SceneFilter) : null;
    return (s) => {
      let ok = own(s) && (and ? and(s) : true);
      if (or) ok = ok || or(s);
      return not ? ok && !not(s) : ok;
    };
  }

  /** Studio ids plus sub-studios down to `depth` levels (-1: all), like a hierarchical criterion. */
  private withSubStudios(ids: string[], depth: number): string[] {
    const out = new Set(ids);
    let frontier = ids;
    for (let level = 0; frontier.length > 0 && (depth < 0 || level < depth); level++) {
      frontier = [...this.named.studio.values()]
        .filter((st) => st.parent_id !== null && frontier.includes(st.parent_id))
        .map((st) => st.id);
      frontier = frontier.filter((x) => !out.has(x));
      for (const x of frontier) out.add(x);
    }
    return [...out];
  }

  private sceneView(s: SceneRec, base: string) {
    const named = (kind: Kinds, id: string) => {
      const r = this.mustNamed(kind, id);
      return { id: r.id, name: r.name, created_at: r.created_at, updated_at: r.updated_at };
    };
    const studio = (id: string): Record<string, unknown> => {
      const r = this.mustNamed('studio', id);
      return {
        ...named('studio', id),
        details: r.text ?? null,
        image_path: this.imagePath('studio', id, base),
        parent_studio: () => (r.parent_id ? studio(r.parent_id) : null),
      };
    };
    const tag = (id: string): Record<string, unknown> => {
      const r = this.mustNamed('tag', id);
      return {
        ...named('tag', id),
        description: r.text ?? null,
        image_path: this.imagePath('tag', id, base),
        parents: () => (r.parent_tag_ids ?? []).map(tag),
      };
    };
    // Performer.scene_count: the scenes the performer is in (internal/api/resolver_model_performer.go SceneCount),
    // counted once per request (root()) that asks for it.
    const sceneCount = (id: string) => {
      if (this.performerCounts?.request !== this.requestSeq)
        this.performerCounts = { request: this.requestSeq, counts: performerSceneCounts(this.scenes.values()) };
      return this.performerCounts.counts.get(id) ?? 0;
    };
    return {
      id: s.id,
      title: s.title,
      code: s.code,
      details: s.details,
      director: s.director,
      url: s.urls[0] ?? null,
      urls: s.urls,
      date: s.date,
      rating100: s.rating100,
      organized: s.organized,
      interactive: false,
      o_counter: 0,
      play_count: 0,
      play_history: [],
      o_history: [],
      created_at: s.created_at,
      updated_at: s.updated_at,
      files: s.files.map((f) => ({
        id: f.id,
        path: f.path,
        basename: f.path.split(/[\\/]/).pop() ?? f.path,
        size: f.size,
        format: 'mp4',
        width: 1920,
        height: 1080,
        duration: 60,
      })),
      // Stash adds the change time so browsers refetch an updated screenshot.
      paths: {
        screenshot: `${base}/scene/${s.id}/screenshot?t=${Math.floor(Date.parse(s.updated_at) / 1000)}`,
        preview: null,
        stream: null,
      },
      studio: () => (s.studio_id ? studio(s.studio_id) : null),
      performers: () =>
        s.performer_ids.map((id) => ({
          ...named('performer', id),
          image_path: this.performerImagePath(id, base),
          scene_count: () => sceneCount(id),
        })),
      tags: () => s.tag_ids.map(tag),
      scene_markers: [],
      galleries: [],
      groups: () => s.group_ids.map((id) => ({ group: this.groupView(id, base), scene_index: null })),
      // Deprecated since v0.27.0, still answered: the scene's groups as movies (internal/api/resolver_model_scene.go Movies).
      movies: () => s.group_ids.map((id) => ({ movie: this.groupView(id, base), scene_index: null })),
      stash_ids: s.stash_ids,
    };
  }

  /** Stash's image_path of a performer: `?t=<updated_at>`, `&default=true` without an image of its own (urlbuilders/performer.go). */
  private performerImagePath(id: string, base: string): string {
    const r = this.mustNamed('performer', id);
    return `${base}/performer/${id}/image?t=${Math.floor(Date.parse(r.updated_at) / 1000)}${r.image ? '' : '&default=true'}`;
  }

  /** Stash's image_path of a studio or tag: `?t=<updated_at>`, `&default=true` without an image (urlbuilders/studio.go, tag.go). */
  private imagePath(kind: 'studio' | 'tag', id: string, base: string): string {
    const r = this.mustNamed(kind, id);
    return `${base}/${kind}/${id}/image?t=${Math.floor(Date.parse(r.updated_at) / 1000)}${r.image ? '' : '&default=true'}`;
  }

  /** A group as the Group type resolves it: front_image_path as urlbuilders/group.go builds it. */
  private groupView(id: string, base: string) {
    const g = this.groups.get(id)!;
    const t = Math.floor(Date.parse(g.updated_at) / 1000);
    return {
      id: g.id,
      name: g.name,
      synopsis: g.synopsis,
      created_at: g.created_at,
      updated_at: g.updated_at,
      front_image_path: `${base}/group/${id}/frontimage?t=${t}${g.front ? '' : '&default=true'}`,
    };
  }

  /**
   * GET /performer/<id>/image and /group/<id>/frontimage (internal/api/routes_performer.go, routes_group.go):
   * the image of its own, else (or with `default=true`) Stash's default, here an SVG. Null: not such a path.
   */
  private imageReply(url: URL): Reply | null {
    const named = /^\/(performer|studio|tag)\/(\d+)\/image$/.exec(url.pathname);
    const group = /^\/group\/(\d+)\/frontimage$/.exec(url.pathname);
    if (!named && !group) return null;
    const own = named ? this.named[named[1] as Kinds].get(named[2])?.image : this.groups.get(group![1])?.front;
    if (own === undefined && !(group && this.groups.has(group[1]))) throw new HttpError(404, 'not found');
    const img = own && url.searchParams.get('default') !== 'true' ? own : { bytes: STASH_DEFAULT_IMAGE_SVG, contentType: 'image/svg+xml' };
    return { status: 200, type: img.contentType, body: img.bytes };
  }

  // ---- HTTP -------------------------------------------------------------------------------------

  protected override async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://stash.invalid');
    const entry: StashSimRequest = {
      at: Date.now(),
      method: req.method ?? 'GET',
      path: url.pathname + url.search,
      operationName: null,
      fields: [],
      status: 0,
    };
    if (this.isDown()) {
      req.socket.destroy();
      return;
    }
    this.requests.push(entry);
    let reply: Reply;
    try {
      const body = await readBody(req);
      await this.delay();
      if (this.isDown()) {
        req.socket.destroy();
        return;
      }
      reply = await this.handle(req, url, body, entry);
    } catch (err) {
      reply =
        err instanceof HttpError
          ? { status: err.status, body: err.message, type: 'text/plain; charset=utf-8', headers: err.headers }
          : { status: 500, body: String(err), type: 'text/plain; charset=utf-8' };
    }
    entry.status = reply.status;
    // Go's net/http stamps every answer with the server's clock (src/net/http/server.go, chunkWriter.writeHeader).
    res.writeHead(reply.status, { 'Content-Type': reply.type, Date: new Date(this.now()).toUTCString(), ...reply.headers });
    res.end(reply.body);
  }

  get apiKey(): string | null {
    return this.apiKeyValue;
  }

  /**
   * Changes the key Stash accepts, at once (Stash regenerating its API key): a client with the old key
   * then meets 401, as real Stash answers a wrong ApiKey header (internal/api/authentication.go, with
   * pkg/session/session.go's ErrUnauthorized), and is accepted again when the key is set back.
   */
  setApiKey(key: string | null): void {
    this.apiKeyValue = key;
  }

  /** Stash's authenticate middleware: bad key → 401; none → 401 for /graphql, else 302 to /login. */
  private authenticate(req: IncomingMessage, url: URL): void {
    if (this.apiKey === null || url.pathname === '/login') return;
    const key = req.headers.apikey;
    if (typeof key === 'string' && key !== '') {
      if (key !== this.apiKey) throw new HttpError(401, '', { 'WWW-Authenticate': 'FormBased' });
      return;
    }
    const session = cookie(req, 'session');
    if (session !== null && this.sessions.has(session)) return;
    const last = url.pathname.split('/').pop() ?? '';
    if (url.pathname === '/graphql' || (last.includes('.') && !last.endsWith('.html'))) {
      throw new HttpError(401, '', { 'WWW-Authenticate': 'FormBased' });
    }
    const returnURL = encodeURIComponent(url.pathname + url.search);
    throw new HttpError(302, '', { Location: `/login?returnURL=${returnURL}` });
  }

  private async handle(req: IncomingMessage, url: URL, body: Buffer, entry: StashSimRequest): Promise<Reply> {
    if (this.mode === '503') throw new HttpError(503, 'Service Unavailable');
    const shot = /^\/scene\/(\d+)\/screenshot$/.exec(url.pathname);
    if (shot) entry.operationName = 'screenshot';
    if (/^\/performer\/\d+\/image$/.test(url.pathname)) entry.operationName = 'performer-image';
    if (/^\/group\/\d+\/frontimage$/.test(url.pathname)) entry.operationName = 'group-image';
    if (/^\/(studio|tag)\/\d+\/image$/.test(url.pathname)) entry.operationName = 'collection-image';
    this.authenticate(req, url);
    if (url.pathname === '/login' && req.method === 'GET') {
      return { status: 200, type: 'text/html; charset=utf-8', body: '<!doctype html><title>Login</title><form method="post"></form>' };
    }
    if (shot && req.method === 'GET') {
      const rec = this.scenes.get(shot[1]);
      if (!rec) throw new HttpError(404, 'not found');
      const img = this.screenshotOf(rec.id);
      return { status: 200, type: img.contentType, body: img.bytes };
    }
    const image = req.method === 'GET' ? this.imageReply(url) : null;
    if (image) return image;
    if (url.pathname === '/graphql') {
      if (req.method !== 'POST') throw new HttpError(405, 'method not allowed');
      return this.graphql(body, this.baseUrl(req), entry);
    }
    throw new HttpError(404, '404 page not found');
  }

  /**
   * The base of every URL Stash returns (internal/api/server.go BaseURLMiddleware): `external_host` as
   * it is written in the config, else https when X-Forwarded-Proto says so (or TLS) and the request's
   * Host; then X-Forwarded-Prefix without its trailing slashes.
   */
  private baseUrl(req: IncomingMessage): string {
    const prefix = String(req.headers['x-forwarded-prefix'] ?? '').replace(/\/+$/, '');
    if (this.externalHost) return this.externalHost + prefix;
    const scheme = req.headers['x-forwarded-proto'] === 'https' ? 'https' : 'http';
    return `${scheme}://${req.headers.host ?? `127.0.0.1:${this.port}`}${prefix}`;
  }

  /** gqlgen over HTTP: 400 for a body that is not JSON, 422 for a rejected document, else 200. */
  private async graphql(body: Buffer, base: string, entry: StashSimRequest): Promise<Reply> {
    let params: { query?: unknown; variables?: unknown; operationName?: unknown };
    try {
      params = JSON.parse(body.toString('utf8')) as typeof params;
      if (params === null || typeof params !== 'object') throw new Error('not an object');
    } catch {
      return jsonReply(400, { errors: [{ message: 'json request body could not be decoded: invalid JSON' }], data: null });
    }
    const operationName = typeof params.operationName === 'string' && params.operationName !== '' ? params.operationName : null;
    entry.operationName = operationName;
    if (typeof params.query !== 'string' || params.query.trim() === '') {
      return jsonReply(422, {
        errors: [{ message: 'no operation provided', extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }],
        data: null,
      });
    }
    let document: DocumentNode;
    try {
      document = parse(params.query);
    } catch (err) {
      return jsonReply(422, { errors: [gqlError(err, 'GRAPHQL_PARSE_FAILED')], data: null });
    }
    const op = document.definitions.find(
      (d): d is OperationDefinitionNode =>
        d.kind === Kind.OPERATION_DEFINITION && (operationName === null || d.name?.value === operationName),
    );
    entry.fields = op ? op.selectionSet.selections.flatMap((s) => (s.kind === Kind.FIELD ? [s.name.value] : [])) : [];
    const invalid = validate(this.schema, document);
    if (invalid.length > 0) {
      return jsonReply(422, { errors: invalid.map((e) => gqlError(e, 'GRAPHQL_VALIDATION_FAILED')), data: null });
    }
    const result = await execute({
      schema: this.schema,
      document,
      rootValue: this.root(base),
      variableValues: params.variables && typeof params.variables === 'object' ? (params.variables as Record<string, unknown>) : undefined,
      operationName: operationName ?? undefined,
    });
    // No `data` at all: the request failed before execution (unknown operation, bad variables).
    if (!('data' in result) || result.data === undefined) {
      return jsonReply(422, { errors: (result.errors ?? []).map((e) => gqlError(e, 'GRAPHQL_VALIDATION_FAILED')), data: null });
    }
    return jsonReply(
      200,
      result.errors?.length ? { errors: result.errors.map((e) => gqlError(e)), data: result.data } : { data: result.data },
    );
  }
}

// ---- helpers --------------------------------------------------------------------------------------

interface Reply {
  status: number;
  type: string;
  body: string | Buffer;
  headers?: Record<string, string>;
}

interface FindFilter {
  page?: number | null;
  per_page?: number | null;
  sort?: string | null;
  direction?: 'ASC' | 'DESC' | null;
}
interface TimestampCriterion {
  value: string;
  value2?: string | null;
  modifier: string;
}
interface MultiCriterion {
  value?: string[] | null;
  modifier: string;
  excludes?: string[] | null;
}
type SceneFilter = Record<string, unknown>;
type NamedFilter = Record<string, unknown>;

function jsonReply(status: number, body: unknown): Reply {
  return { status, type: 'application/json', body: JSON.stringify(body) };
}

function gqlError(err: unknown, code?: string): Record<string, unknown> {
  const e = err instanceof GraphQLError ? err : new GraphQLError(err instanceof Error ? err.message : String(err));
  const out = e.toJSON();
  return code ? { ...out, extensions: { ...out.extensions, code } } : { ...out };
}

/**
 * Stash's timestamp criterion: the stored RFC 3339 text compared with the given string as text (SQLite),
 * so any prefix form ("2026-01-01T00:00") works. BETWEEN without value2 ends a day from now, like Stash.
 */
export function compareTimestampText(stored: string, c: TimestampCriterion, tomorrow: string): boolean {
  const upper = c.value2 ?? tomorrow;
  switch (c.modifier) {
    case 'GREATER_THAN':
      return stored > c.value;
    case 'LESS_THAN':
      return stored < c.value;
    case 'EQUALS':
      return stored === c.value;
    case 'NOT_EQUALS':
      return stored !== c.value;
    case 'BETWEEN':
      return stored >= c.value && stored <= upper;
    case 'NOT_BETWEEN':
      return stored < c.value || stored > upper;
    case 'NOT_NULL':
      return true;
    case 'IS_NULL':
      return false;
    default:
      throw new GraphQLError(`unsupported timestamp modifier ${c.modifier}`);
  }
}

/** A multi criterion on a scene's related ids. */
function multi(have: string[], c: MultiCriterion): boolean {
  const want = c.value ?? [];
  const excluded = c.excludes ?? [];
  if (excluded.some((x) => have.includes(x))) return false;
  switch (c.modifier) {
    case 'INCLUDES':
      return want.length === 0 || want.some((x) => have.includes(x));
    case 'INCLUDES_ALL':
      return want.every((x) => have.includes(x));
    case 'EXCLUDES':
      return !want.some((x) => have.includes(x));
    case 'IS_NULL':
      return have.length === 0;
    case 'NOT_NULL':
      return have.length > 0;
    default:
      throw new GraphQLError(`unsupported modifier ${c.modifier}`);
  }
}

function cookie(req: IncomingMessage, name: string): string | null {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return v.join('=');
  }
  return null;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

// ---- a small PNG per scene -----------------------------------------------------------------------

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(buf: Buffer): number {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

/** A valid 8×8 PNG in a colour derived from the id, with the id in a tEXt chunk (distinct bytes). */
/**
 * What Stash serves for a scene without a cover: its embedded static/scene/scene.svg
 * (stashapp/stash internal/manager/running_streams.go ServeScreenshot falls back to
 * static.DefaultSceneImage; pkg/utils/image.go ServeImage labels it image/svg+xml), status 200.
 */
export const STASH_SCENE_PLACEHOLDER_SVG = Buffer.from(
  [
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="-384 -104 1280 720">',
    '<!--! Font Awesome Free 6.2.0 by @fontawesome - https://fontawesome.com License - https://fontawesome.com/license/free (Icons: CC BY 4.0, Fonts: SIL OFL 1.1, Code: MIT License) Copyright 2022 Fonticons, Inc. -->',
    '    <path d="M512 256c0 141.4-114.6 256-256 256S0 397.4 0 256S114.6 0 256 0S512 114.6 512 256zM188.3 147.1c-7.6 4.2-12.3 12.3-12.3 20.9V344c0 8.7 4.7 16.7 12.3 20.9s16.8 4.1 24.3-.5l144-88c7.1-4.4 11.5-12.1 11.5-20.5s-4.4-16.1-11.5-20.5l-144-88c-7.4-4.5-16.7-4.7-24.3-.5z" style="fill:#ffffff;fill-opacity:1"/>',
    '</svg>',
    '',
  ].join('\n'),
);

/** What the simulator serves for a performer or group without an image (Stash serves one of its static defaults). */
export const STASH_DEFAULT_IMAGE_SVG = Buffer.from(
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 2 3"><rect width="2" height="3"/></svg>\n',
);

export function scenePng(id: string): Buffer {
  const [r, g, b] = createHash('sha256').update(`scene:${id}`).digest();
  const size = 8;
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit RGB, no interlace
  const row = Buffer.concat([Buffer.from([0]), Buffer.from(Array.from({ length: size }, () => [r, g, b]).flat())]);
  const raw = Buffer.concat(Array.from({ length: size }, () => row));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('tEXt', Buffer.from(`Comment\0stash scene ${id}`, 'latin1')),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/**
 * SQL LIKE as SQLite runs it: `%` any run, `_` one character, ASCII letters in any case (stashapp/stash
 * compares `folder || '/' || basename LIKE ?`).
 */
function sqlLike(text: string, pattern: string): boolean {
  const asciiLower = (x: string) => x.replace(/[A-Z]/g, (ch) => ch.toLowerCase());
  const re = asciiLower(pattern)
    .replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
    .replace(/%/g, '[\\s\\S]*')
    .replace(/_/g, '[\\s\\S]');
  return new RegExp(`^${re}$`).test(asciiLower(text));
}

/**
 * A scene's `path` criterion as Stash reads it (pkg/sqlite/criterion_handlers.go pathCriterionHandler):
 * any of its files' full paths; INCLUDES/EXCLUDES split an unquoted value into words (any word matches,
 * `%word%`), a quoted one is one pattern; EQUALS/NOT_EQUALS compare without wildcards.
 */
function pathCriterion(c: { value: string; modifier: string }): (s: SceneRec) => boolean {
  const q = c.value.trim();
  const quoted = q.length >= 2 && q.startsWith('"') && q.endsWith('"');
  const words = quoted ? [q.slice(1, -1)] : q.split(/\s+/);
  const any = (s: SceneRec, patterns: string[]) => s.files.some((f) => patterns.some((p) => sqlLike(f.path, p)));
  switch (c.modifier) {
    case 'INCLUDES':
      return (s) =>
        any(
          s,
          words.map((w) => `%${w}%`),
        );
    case 'EXCLUDES':
      return (s) =>
        !any(
          s,
          words.map((w) => `%${w}%`),
        );
    case 'EQUALS':
      return (s) => any(s, [c.value]);
    case 'NOT_EQUALS':
      return (s) => !any(s, [c.value]);
    default:
      throw new GraphQLError(`stash simulator: path modifier ${c.modifier} is not simulated`);
  }
}
