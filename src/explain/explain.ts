// `npm run explain`: what the next sync of one scene would do, and why, read from the same functions the
// sync runs (src/sync/processor.ts resolveScene, readiness.ts, match-check.ts matchFacts + claims.ts
// judgeMatch, mapping.ts desiredState, ownership.ts decide and the poster's rules), with a Plex client
// that writes nothing (PlexClientOptions.readOnly) and no write of its own: it changes nothing.
import type { Config, SyncRequirement } from '../core/config.js';
import { SyncError } from '../core/errors.js';
import type { Keys, RedisConnection } from '../core/redis.js';
import type { PlexItem, StashScene } from '../model/types.js';
import type { Candidate, ResolvedItem, ResolveTrace } from '../plex/resolver.js';
import { conflictReason, judgeMatch } from '../sync/claims.js';
import { desiredState } from '../sync/mapping.js';
import { collectionTitles } from '../sync/collections.js';
import { matchFacts } from '../sync/match-check.js';
import { decideEdit } from '../sync/ownership.js';
import { NOT_IN_PLEX, readItemOwnership, resolveScene, type PlexPort, type StashPort } from '../sync/processor.js';
import { requirementChecks } from '../sync/readiness.js';
import { readSceneItem } from '../sync/scene-item.js';
import { excludedReason, readExclusion } from '../sync/sync-exclusions.js';
import { fieldRows, type FieldRow } from './fields.js';
import { imageVerdict } from './poster.js';

export interface ExplainDeps {
  plex: Pick<PlexPort, 'resolveItem' | 'getItem' | 'editBudget' | 'plexPathOf'>;
  stash: StashPort;
  redis: RedisConnection;
  keys: Pick<Keys, 'own' | 'plexSceneItem' | 'plexItemScene' | 'plexConflicts' | 'syncExcluded' | 'plexCollectionTitles'>;
  sync: Config['sync'];
  matching: Pick<Config['matching'], 'scanMissing' | 'notFound'>;
  now?: () => number;
}

/** The scene as Stash has it: what the sync reads of it. */
export interface ExplainedScene {
  id: string;
  title: string | null;
  details: string | null;
  date: string | null;
  studio: string | null;
  performers: string[];
  tags: string[];
  rating100: number | null;
  organized: boolean;
  stashIds: number;
  files: { path: string; size: number | null }[];
  updatedAt: string;
}

/** One path looked for: a Stash file, PATH_MAP applied, the library section chosen, and what came of it. */
export interface TriedPath {
  stashPath: string;
  plexPath: string;
  section: { key: string; title: string; location: string } | null;
  outcome: 'found' | 'not found' | 'ambiguous';
  detail: string;
}

export interface ExplainedMatch {
  ratingKey: string;
  sectionKey: string;
  /** The Stash file that matched, and the files the Plex item holds. */
  stashFile: string;
  plexFiles: string[];
  /** path: found by its exact path; cache: the path cache's entry, verified; fallback: same base name and size. */
  how: 'path' | 'cache' | 'fallback';
  /** The item the scene last synced to (null: never synced). */
  lastSyncedTo: string | null;
  /** Why this item is not this scene's to sync (claims), or null. */
  conflict: string | null;
}

export interface Explanation {
  scene: ExplainedScene;
  requirements: { require: SyncRequirement[]; ready: boolean; checks: { requirement: SyncRequirement; met: boolean; why: string }[] };
  tried: TriedPath[];
  candidates: (Candidate & { stashPath: string })[];
  match: ExplainedMatch | null;
  fields: FieldRow[];
  /** A restore keeps the scene out of sync (why), or null. */
  excluded: string | null;
  /** What the next sync of the scene would do, in one line. */
  next: string;
}

/** A scene id that is none: not a number, or no scene of Stash. The CLI exits 2, the dashboard answers 404 (or 400). */
export class ExplainInputError extends Error {
  constructor(
    message: string,
    readonly kind: 'bad id' | 'unknown scene',
  ) {
    super(message);
  }
}

export const SCENE_ID = /^\d{1,18}$/;

function sceneView(s: StashScene): ExplainedScene {
  return {
    id: s.id,
    title: s.title,
    details: s.details,
    date: s.date,
    studio: s.studio?.name ?? null,
    performers: s.performers.map((p) => p.name),
    tags: s.tags.map((t) => t.name),
    rating100: s.rating100,
    organized: s.organized,
    stashIds: s.stash_ids.length,
    files: s.files.map((f) => ({ path: f.path, size: f.size ?? null })),
    updatedAt: s.updated_at,
  };
}

/** The resolution traced: every path tried and every candidate, and the match (null: not in Plex). */
async function traceResolution(deps: ExplainDeps, scene: StashScene, lastSyncedTo: string | null) {
  const tried: TriedPath[] = [];
  const candidates: Explanation['candidates'] = [];
  const trace: ResolveTrace = {
    path: (p) => tried.push({ ...p, outcome: 'not found', detail: '' }),
    candidate: (c) => candidates.push({ ...c, stashPath: tried.at(-1)?.stashPath ?? '' }),
  };
  const onMiss = (_path: string, err: SyncError) => {
    const last = tried.at(-1);
    if (last) last.detail = err.message;
  };
  try {
    const resolved = await resolveScene(scene, deps.plex, { trace, lastSyncedTo: lastSyncedTo ?? undefined }, onMiss);
    const last = tried.at(-1);
    if (last) Object.assign(last, { outcome: 'found', detail: `Plex item ${resolved.target.ratingKey}` });
    return { tried, candidates, resolved, missed: null };
  } catch (err) {
    if (!(err instanceof SyncError) || (err.type !== 'PlexNotFound' && err.type !== 'AmbiguousMatch')) throw err;
    const last = tried.at(-1);
    if (last && err.type === 'AmbiguousMatch') Object.assign(last, { outcome: 'ambiguous', detail: err.message });
    if (tried.length === 0) tried.push({ stashPath: '', plexPath: '', section: null, outcome: 'not found', detail: err.message });
    return { tried, candidates, resolved: null, missed: err };
  }
}

/** What the sync does for a scene Plex does not hold (processor.ts whenNotFound), in words. */
function notFoundNext(deps: ExplainDeps, err: SyncError): string {
  if (err.type === 'AmbiguousMatch') return `fail as AmbiguousMatch: ${err.message}`;
  const scan = deps.matching.scanMissing ? 'ask Plex to scan the file’s folder (PLEX_SCAN_MISSING), then ' : '';
  return deps.matching.notFound === 'skip'
    ? `${scan}complete as skipped ("${NOT_IN_PLEX}", PLEX_NOT_FOUND=skip)`
    : `${scan}retry later (PlexNotFound, PLEX_NOT_FOUND=retry)`;
}

/** The match checked as the sync checks it (claims), read only. */
async function explainMatch(deps: ExplainDeps, scene: StashScene, target: ResolvedItem, file: StashScene['files'][number], item: PlexItem) {
  const matchDeps = {
    ...deps,
    plexPathOf: (p: string) => deps.plex.plexPathOf(p),
    scenesWithFileNamed: (n: string) => deps.stash.scenesWithFileNamed(n),
  };
  const { facts } = await matchFacts(matchDeps, scene, target, file, item);
  const { conflict } = judgeMatch(facts, (deps.now ?? Date.now)());
  return conflict ? conflictReason(conflict) : null;
}

/** Explains the next sync of scene `sceneId`; throws ExplainInputError for an id that is none. */
export async function explainScene(deps: ExplainDeps, sceneId: string): Promise<Explanation> {
  if (!SCENE_ID.test(sceneId)) throw new ExplainInputError(`a scene id is a number, not "${sceneId}"`, 'bad id');
  const [exclusion, lastSyncedTo, scene] = await Promise.all([
    readExclusion(deps.redis, deps.keys, sceneId),
    readSceneItem(deps.redis, deps.keys, sceneId),
    deps.stash.findScene(sceneId),
  ]);
  if (!scene) throw new ExplainInputError(`Stash has no scene ${sceneId}`, 'unknown scene');
  const checks = requirementChecks(scene, deps.sync.require);
  const requirements = { require: [...deps.sync.require], ready: checks.every((c) => c.met), checks };
  const excluded = exclusion ? excludedReason(sceneId, exclusion) : null;
  const { tried, candidates, resolved, missed } = await traceResolution(deps, scene, lastSyncedTo);
  const desired = desiredState(scene, undefined, { ...deps.sync, collections: collectionTitles(scene, deps.sync.collections) });
  const notReady = requirements.ready
    ? null
    : `not ready: ${checks
        .filter((c) => !c.met)
        .map((c) => c.why)
        .join('; ')} (SYNC_REQUIRE)`;
  const base = { scene: sceneView(scene), requirements, tried, candidates };
  if (!resolved) {
    const stoppedBy = excluded ?? notReady ?? `not in Plex: ${missed.message}`;
    const next = excluded ? `skip: ${excluded}` : notReady ? `skip: ${notReady}` : notFoundNext(deps, missed);
    return { ...base, match: null, fields: fieldRows({ fields: deps.sync.fields, desired, matched: null, stoppedBy }), excluded, next };
  }
  const { target, file } = resolved;
  const current = target.item ?? (await deps.plex.getItem(target.ratingKey));
  const conflict = await explainMatch(deps, scene, target, file, current);
  const match: ExplainedMatch = {
    ratingKey: target.ratingKey,
    sectionKey: target.sectionKey,
    stashFile: file.path,
    plexFiles: current.files,
    how: target.cached ? 'cache' : target.via,
    lastSyncedTo,
    conflict,
  };
  // As the sync decides: a collection made by hand in Plex is not stash2plex's to take the item out of.
  const { record, ourCollections } = await readItemOwnership(deps, target, current, desired.tags.collection ?? [], true);
  const decision = decideEdit(desired, current, record, {
    ...deps.sync,
    editBudget: deps.plex.editBudget(target.sectionKey, target.ratingKey),
    ourCollections,
  });
  const decided = { ...decision.fields };
  const nowMs = (deps.now ?? Date.now)();
  // The poster's source when POSTER_FROM=group is read by the sync itself; explain judges the screenshot.
  if (deps.sync.fields.includes('poster')) {
    const image = { field: 'poster' as const, shape: deps.sync.posterStyle, url: desired.posterUrl };
    decided.poster = await imageVerdict(deps.stash, image, record, current, nowMs);
  }
  if (deps.sync.fields.includes('background')) {
    const image = { field: 'background' as const, shape: 'full' as const, url: desired.posterUrl };
    decided.background = await imageVerdict(deps.stash, image, record, current, nowMs);
  }
  const stoppedBy = excluded ?? notReady ?? conflict;
  const fields = fieldRows({ fields: deps.sync.fields, desired, matched: { current, record, decided }, stoppedBy });
  return { ...base, match, fields, excluded, next: stoppedBy ? `skip: ${stoppedBy}` : nextSync(fields) };
}

/** "set title, genres; clear summary; keep 5 fields" or "nothing to send". */
export function nextSync(fields: readonly FieldRow[]): string {
  const of = (a: FieldRow['action']) => fields.filter((f) => f.action === a).map((f) => f.field);
  const [set, clear] = [of('set'), of('clear')];
  const parts = [set.length ? `set ${set.join(', ')}` : '', clear.length ? `clear ${clear.join(', ')}` : ''].filter(Boolean);
  return parts.length ? `send to Plex: ${parts.join('; ')}` : 'nothing to send: Plex already shows what Stash has';
}
