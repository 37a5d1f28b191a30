// Stash's scene saves as the simulator (./stash.ts) runs them, pure: what the mutations sceneUpdate,
// scenesUpdate and bulkSceneUpdate change in a scene, and the hookContext each saved scene's
// Scene.Update.Post hook gets, exactly as Stash builds it:
//
//   - stashapp/stash internal/api/resolver_mutation_scene.go: SceneUpdate, ScenesUpdate and
//     BulkSceneUpdate save every scene first, then run the post hooks once per scene, in turn, with
//     ExecutePostHooks(ctx, scene.ID, SceneUpdatePost, input, translator.getFields()). `input` is the
//     mutation's whole input: for scenesUpdate the ARRAY of every scene's input (each hook gets all of
//     them), for bulkSceneUpdate the one BulkSceneUpdateInput (its ids and relations as {ids, mode}).
//   - internal/api/changeset_translator.go: getFields() lists the keys of the input map as the client
//     gave them (for scenesUpdate, this scene's own map), in any order (a Go map); null when empty.
//   - pkg/plugin/common/msg.go HookContext: `id` (int), `type`, `input` always, `inputFields` omitempty.
//   - `input` is serialised from Go structs: models.SceneUpdateInput (pkg/models/scene.go) has no
//     omitempty, so every field appears, null when not given; BulkSceneUpdateInput and BulkUpdateIds
//     are gqlgen-generated (internal/api/generated_models.go), whose nullable fields are `omitempty`
//     (gqlgen plugin/modelgen/models.go getStructTagFromField): only the fields given a value.
//   - A given field is set (strings trimmed), null clears it; sceneUpdate's relations are replaced,
//     bulkSceneUpdate's are changed by their mode: SET, ADD or REMOVE (changeset_translator.go
//     updateIds, updateIdsBulk, updateStrings(Bulk)). Deprecated or unused fields (o_counter,
//     play_count, resume_time; play_duration, not simulated) are ignored; the ones the simulator does not
//     model (galleries, a cover by URL, the primary file) fail loudly rather than pass unseen.
//   - Groups: sceneUpdate's `groups` (else the deprecated `movies`) replace the scene's groups
//     (updateGroupIDs / updateGroupIDsFromMovies, mode SET; a scene's index in a group is not simulated);
//     bulkSceneUpdate's `group_ids` (else `movie_ids`) change them by mode (updateGroupIDsBulk).
import { GraphQLError } from 'graphql';

/** A hook's context, as Stash serialises it into the plugin input's `args.hookContext`. */
export interface StashHookContext {
  id: number;
  type: string;
  input: unknown;
  inputFields?: string[];
}

/** A mutation's input object as graphql-js hands it to a resolver: only the fields the client gave. */
export type GraphQLInput = Record<string, unknown>;

/** A scene's change, in the simulator's terms (./stash.ts SimSceneInput, plus a cover). */
export interface ScenePatch {
  title?: string | null;
  code?: string | null;
  details?: string | null;
  director?: string | null;
  urls?: string[];
  date?: string | null;
  rating100?: number | null;
  organized?: boolean;
  stash_ids?: { endpoint: string; stash_id: string }[];
  studio_id?: string | null;
  performer_ids?: string[];
  tag_ids?: string[];
  group_ids?: string[];
  cover?: { bytes: Buffer; contentType: string };
}

/** What a bulk change by mode needs of the scene as it is. */
export interface SceneRelations {
  performer_ids: readonly string[];
  tag_ids: readonly string[];
  group_ids: readonly string[];
  urls: readonly string[];
}

const SCENE_UPDATE_POST = 'Scene.Update.Post';

/** models.SceneUpdateInput's JSON fields, in the struct's order (pkg/models/scene.go). */
const SCENE_UPDATE_INPUT_FIELDS = [
  'clientMutationId',
  'id',
  'title',
  'code',
  'details',
  'director',
  'url',
  'urls',
  'date',
  'rating100',
  'o_counter',
  'organized',
  'studio_id',
  'gallery_ids',
  'performer_ids',
  'movies',
  'groups',
  'tag_ids',
  'cover_image',
  'stash_ids',
  'resume_time',
  'play_duration',
  'play_count',
  'primary_file_id',
] as const;

/** BulkSceneUpdateInput's JSON fields, in the schema's order (graphql/schema/types/scene.graphql). */
const BULK_SCENE_UPDATE_INPUT_FIELDS = [
  'clientMutationId',
  'ids',
  'title',
  'code',
  'details',
  'director',
  'url',
  'urls',
  'date',
  'rating100',
  'organized',
  'studio_id',
  'gallery_ids',
  'performer_ids',
  'tag_ids',
  'group_ids',
  'movie_ids',
] as const;

const asRecord = (v: unknown): GraphQLInput => (v ?? {}) as GraphQLInput;
const nested = (v: unknown, fields: readonly string[]) => {
  const r = asRecord(v);
  return Object.fromEntries(fields.map((f) => [f, r[f] ?? null]));
};

/** One SceneUpdateInput as Go serialises it: every field, null when not given, nested inputs as structs. */
export function goSceneUpdateInput(input: GraphQLInput): Record<string, unknown> {
  const list = (v: unknown, fields: readonly string[]) => (Array.isArray(v) ? v.map((e) => nested(e, fields)) : null);
  const out: Record<string, unknown> = {};
  for (const f of SCENE_UPDATE_INPUT_FIELDS) out[f] = input[f] ?? null;
  out.movies = list(input.movies, ['movie_id', 'scene_index']);
  out.groups = list(input.groups, ['group_id', 'scene_index']);
  out.stash_ids = list(input.stash_ids, ['stash_id', 'endpoint', 'updated_at']);
  return out;
}

/** The BulkSceneUpdateInput as Go serialises it: only fields with a value (omitempty), {ids?, mode} objects. */
export function goBulkSceneUpdateInput(input: GraphQLInput): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of BULK_SCENE_UPDATE_INPUT_FIELDS) {
    const v = input[f];
    if (v === null || v === undefined || (Array.isArray(v) && v.length === 0)) continue;
    if (typeof v === 'object' && !Array.isArray(v)) {
      // BulkUpdateIds {ids, mode} / BulkUpdateStrings {values, mode}: the list omitempty too.
      const key = f === 'urls' ? 'values' : 'ids';
      const { [key]: items, mode } = v as Record<string, unknown>;
      out[f] = Array.isArray(items) && items.length > 0 ? { [key]: items, mode } : { mode };
    } else {
      out[f] = v;
    }
  }
  return out;
}

/** getFields(): the input map's keys, omitted when there are none. */
const fieldsOf = (input: GraphQLInput) => (Object.keys(input).length > 0 ? { inputFields: Object.keys(input) } : {});

/** sceneUpdate: the one hook, its input the one SceneUpdateInput. */
export function sceneUpdateHook(input: GraphQLInput): StashHookContext {
  return { id: Number(input.id), type: SCENE_UPDATE_POST, input: goSceneUpdateInput(input), ...fieldsOf(input) };
}

/** scenesUpdate: a hook per scene, each with the array of EVERY scene's input and its own fields. */
export function scenesUpdateHooks(inputs: readonly GraphQLInput[]): StashHookContext[] {
  const all = inputs.map(goSceneUpdateInput);
  return inputs.map((input) => ({ id: Number(input.id), type: SCENE_UPDATE_POST, input: all, ...fieldsOf(input) }));
}

/** bulkSceneUpdate: a hook per scene of `ids`, each with the one BulkSceneUpdateInput and its fields. */
export function bulkSceneUpdateHooks(input: GraphQLInput): StashHookContext[] {
  const go = goBulkSceneUpdateInput(input);
  return sceneIdsOf(input).map((id) => ({ id: Number(id), type: SCENE_UPDATE_POST, input: go, ...fieldsOf(input) }));
}

/**
 * A scan that found a scene's file moved, renamed or changed (stashapp/stash pkg/file/scan.go:
 * handleRename / onExistingFile fire the handlers with the old file; pkg/scene/scan.go Handle →
 * associateExisting: RegisterPostHooks(ctx, s.ID, SceneUpdatePost, nil, nil)): no input at all, so
 * `"input": null` and no `inputFields` (omitempty); the scene itself is not saved (updated_at stays).
 */
export function scanUpdateHook(sceneId: string): StashHookContext {
  return { id: Number(sceneId), type: SCENE_UPDATE_POST, input: null };
}

/**
 * moveFiles(input: MoveFilesInput) (internal/api/resolver_mutation_file.go MoveFiles, pkg/file/move.go
 * Mover.Move): each file's new path, `destination_folder` joined with `destination_basename` (one file
 * only) or the file's own base name. `destination_folder_id` names a folder by its id, which the
 * simulator does not model: it fails loudly. Stash fires no hook for it.
 */
export function movedPaths(input: GraphQLInput, oldPaths: readonly string[]): string[] {
  refuseUnsimulated(input, ['destination_folder_id']);
  const folder = input.destination_folder;
  if (typeof folder !== 'string') throw new GraphQLError('must specify destination folder or path');
  const basename = input.destination_basename;
  if (typeof basename === 'string' && oldPaths.length !== 1)
    throw new GraphQLError('must specify one file when providing destination path');
  return oldPaths.map(
    (p) => `${folder.replace(/\/+$/, '')}/${typeof basename === 'string' && basename !== '' ? basename : p.slice(p.lastIndexOf('/') + 1)}`,
  );
}

/** bulkSceneUpdate's scenes (`ids`), in order. */
export const sceneIdsOf = (input: GraphQLInput): string[] => ((input.ids as string[] | null | undefined) ?? []).map(String);

const notSimulated = (field: string) => new GraphQLError(`stash simulator: ${field} is not simulated`);
/** Fails loudly on a value for a field the simulator does not model (a null one changes nothing). */
function refuseUnsimulated(input: GraphQLInput, fields: readonly string[]): void {
  for (const f of fields) if (input[f] !== null && input[f] !== undefined) throw notSimulated(f);
}
const asText = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v));
const trimmed = (v: unknown) => (v === null || v === undefined ? null : asText(v).trim());

/** A `data:` URL's bytes (Stash's ProcessImageInput also fetches http(s) URLs: not simulated). */
function coverOf(value: unknown): ScenePatch['cover'] {
  const m = /^data:([^;,]+)?(;base64)?,(.*)$/s.exec(String(value));
  if (!m) throw notSimulated('cover_image other than a data: URL');
  const bytes = m[2] ? Buffer.from(m[3], 'base64') : Buffer.from(decodeURIComponent(m[3]), 'latin1');
  return { bytes, contentType: m[1] ?? 'image/png' };
}

/** The fields both inputs share: strings, rating, organized, date, studio. */
function ownFields(input: GraphQLInput, patch: ScenePatch): void {
  for (const f of ['title', 'code', 'details', 'director'] as const) if (f in input) patch[f] = trimmed(input[f]);
  if ('rating100' in input) patch.rating100 = (input.rating100 as number | null) ?? null;
  if ('organized' in input) patch.organized = input.organized === true;
  if ('date' in input) {
    const date = trimmed(input.date);
    const valid = date === null || date === '' || /^\d{4}(-\d{2}(-\d{2})?)?$/.test(date);
    if (!valid) throw new GraphQLError(`converting date: invalid date ${date}`);
    patch.date = date === '' ? null : date;
  }
  if ('studio_id' in input) patch.studio_id = (input.studio_id as string | null) ?? null;
}

/** sceneUpdate's (and each of scenesUpdate's) input → the change: a field given is set, null clears it. */
export function scenePatch(input: GraphQLInput): ScenePatch {
  const patch: ScenePatch = {};
  ownFields(input, patch);
  if ('urls' in input) patch.urls = ((input.urls as string[] | null) ?? []).map((u) => u.trim());
  else if ('url' in input) patch.urls = input.url === null ? [] : [asText(input.url).trim()];
  if ('performer_ids' in input) patch.performer_ids = ((input.performer_ids as string[] | null) ?? []).map(String);
  if ('tag_ids' in input) patch.tag_ids = ((input.tag_ids as string[] | null) ?? []).map(String);
  if ('stash_ids' in input) {
    const given = (input.stash_ids as { endpoint: string; stash_id: string }[] | null) ?? [];
    patch.stash_ids = given.map(({ endpoint, stash_id }) => ({ endpoint, stash_id }));
  }
  if (input.cover_image !== null && input.cover_image !== undefined) patch.cover = coverOf(input.cover_image);
  const groupIds = (list: unknown, key: 'group_id' | 'movie_id') => ((list as GraphQLInput[] | null) ?? []).map((g) => String(g[key]));
  if ('groups' in input) patch.group_ids = groupIds(input.groups, 'group_id');
  else if ('movies' in input) patch.group_ids = groupIds(input.movies, 'movie_id');
  refuseUnsimulated(input, ['gallery_ids', 'primary_file_id']);
  return patch;
}

/** A relation changed by mode, as Stash's UpdateIDs / UpdateStrings apply it. */
function byMode(current: readonly string[], change: { items?: readonly string[] | null; mode: string }): string[] {
  const items = (change.items ?? []).map(String);
  if (change.mode === 'ADD') return [...new Set([...current, ...items])];
  if (change.mode === 'REMOVE') return current.filter((x) => !items.includes(x));
  return [...new Set(items)];
}

/** bulkSceneUpdate's input → one scene's change (relations by their mode; a null relation changes nothing). */
export function bulkScenePatch(input: GraphQLInput, scene: SceneRelations): ScenePatch {
  const patch: ScenePatch = {};
  ownFields(input, patch);
  const relation = (f: 'performer_ids' | 'tag_ids' | 'group_ids', given: string = f) => {
    const v = input[given] as { ids?: string[] | null; mode: string } | null | undefined;
    if (v) patch[f] = byMode(scene[f], { items: v.ids, mode: v.mode });
  };
  relation('performer_ids');
  relation('tag_ids');
  // hasField: a given group_ids (even null) is the one read, movie_ids then ignored.
  relation('group_ids', 'group_ids' in input ? 'group_ids' : 'movie_ids');
  const urls = input.urls as { values?: string[] | null; mode: string } | null | undefined;
  if (urls) patch.urls = byMode(scene.urls, { items: urls.values?.map((u) => u.trim()), mode: urls.mode });
  else if ('url' in input && !('urls' in input)) patch.urls = input.url === null ? [] : [asText(input.url).trim()]; // legacy
  refuseUnsimulated(input, ['gallery_ids']);
  return patch;
}
