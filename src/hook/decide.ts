// The hook's decision, pure: given the plugin input, skip it, record a scene job, record a fan-out
// event (a rename of a performer, studio or tag), or reject the input. Runs before any network work, so
// a skip costs Stash nothing but the process start. Shared by the Node hook (workers/stash-plugin.ts) and
// the HTTP hook endpoint (src/dashboard/stash-hook.ts), so both record the same events.
//
// On the hook's hot path: the inbox item's definition (src/model/inbox-item.ts) is dependency-free, and
// nothing here loads `zod` (src/model/job.ts), whose load alone would double the hook's run time.
import {
  fanoutItem,
  MAX_FIELD_LENGTH,
  MAX_FIELDS,
  stashIdOf,
  type FanoutEvent,
  type FanoutRelation,
  type InboxItem,
  type SyncJobData,
} from '../model/inbox-item.js';
import { SCENE_HOOK_TRIGGERS, type PluginInput, type RenameHookTrigger } from './input.js';
import { isObject } from '../core/is-object.js';

/**
 * Fields of Stash's SceneUpdateInput / BulkSceneUpdateInput / SceneCreateInput whose change can change
 * what Plex shows (src/sync/mapping.ts):
 * - title, details, date, rating100, studio_id (studio, and the studio collection), performer_ids
 *   (actors), tag_ids (genres, labels), code (the original title): mapped fields;
 * - groups / movies (SceneUpdateInput) and group_ids / movie_ids (BulkSceneUpdateInput): the scene's
 *   groups, its group collections (COLLECTION_SOURCES groups, the default) and POSTER_FROM=group's cover;
 * - cover_image: the screenshot, uploaded as the poster;
 * - primary_file_id (update) and file_ids (create): which file the scene is, i.e. which Plex item it
 *   resolves to by path, and the title fallback (the file name) of an untitled scene.
 * BulkSceneUpdateInput names its relations alike, as `{ids, mode}` objects (`tag_ids: {ids: ["7"],
 * mode: "ADD"}`; `{mode: "SET"}` alone clears them): the field is given, so the relation changed.
 * Not relevant (the edit is skipped): id/ids, director, url/urls, organized, o_counter,
 * play_count, play_duration, resume_time, gallery_ids, stash_ids, clientMutationId. The worker maps
 * none of these; when the mapping grows (say director → Plex director), add the field here — a test pins
 * this set, so the two are changed together.
 * A skipped edit still syncs whenever any relevant field changes later, or with Sync All.
 */
export const PLEX_RELEVANT_FIELDS: ReadonlySet<string> = new Set([
  'title',
  'code',
  'details',
  'date',
  'rating100',
  'studio_id',
  'performer_ids',
  'tag_ids',
  'groups',
  'movies',
  'group_ids',
  'movie_ids',
  'cover_image',
  'primary_file_id',
  'file_ids',
]);

/**
 * The rename hooks: which relation's scenes are re-synced, and the input fields whose change Plex shows
 * (null: always). Plex shows a performer's name (actors) and image (its actor photo), a studio's name (studio, and the studio
 * collection) and a tag's name (genres), a collection's text and image, and the parents that make one (COLLECTION_SOURCES
 * parentstudio, COLLECTION_TAGS=*) — not a tag's aliases, a
 * performer's birthdate… (src/sync/mapping.ts). A tag merge always changes the tags of the scenes that
 * carried the merged tags: they now carry the destination, the hook's id.
 * Stash's UI edit forms send every field, so a performer saved from its edit page gives `name` even
 * when only the birthdate changed: that fan-out re-syncs the scenes, and the workers' diff sends Plex
 * nothing. Single-field updates (favourite, rating) and bulk edits (which cannot rename) are skipped.
 */
export const RENAME_HOOKS: Readonly<Record<RenameHookTrigger, { relation: FanoutRelation; fields: ReadonlySet<string> | null }>> = {
  'Performer.Update.Post': { relation: 'performer', fields: new Set(['name', 'image']) },
  // A studio's, tag's or group's details (description, synopsis) and image: its collection's (src/sync/collections.ts).
  // A studio's parent is its scenes' parent-studio collection; a tag's parents decide whether it is a
  // collection (COLLECTION_TAGS=*). A tag's sub-tags (child_ids) are the children's to tell: their scenes
  // are not the parent's, and the hook cannot see which were removed.
  'Studio.Update.Post': { relation: 'studio', fields: new Set(['name', 'details', 'image', 'parent_id']) },
  'Tag.Update.Post': { relation: 'tag', fields: new Set(['name', 'description', 'image', 'parent_ids']) },
  'Tag.Merge.Post': { relation: 'tag', fields: null },
  'Group.Update.Post': { relation: 'group', fields: new Set(['name', 'synopsis', 'front_image']) },
  'Movie.Update.Post': { relation: 'group', fields: new Set(['name', 'synopsis', 'front_image']) },
};

export type HookDecision =
  | { action: 'skip'; why: string }
  | { action: 'record'; job: SyncJobData }
  | { action: 'fanout'; event: FanoutEvent }
  | { action: 'reject'; error: string };

/** The inbox item a decision records, or null (skip, reject). */
export function itemOfDecision(decision: HookDecision): InboxItem | null {
  if (decision.action === 'record') return decision.job;
  return decision.action === 'fanout' ? fanoutItem(decision.event) : null;
}

/** An input element's id is the hook's (Stash sends ids as strings or numbers). */
const sameId = (a: unknown, b: unknown) => (typeof a === 'string' || typeof a === 'number') && String(a) === String(b);

/**
 * The fields the edit gave: `inputFields` (the fields really given: Stash lists the keys of this
 * scene's own input, for scenesUpdate too) when Stash sends it. Without it (older Stash), the non-null
 * keys of the input: of the object, or for an array (scenesUpdate's inputs of every scene) of the
 * element with this hook's id. Null when there is no input at all (a scan's hook); 'unknown' when there is one
 * but no field can be told from it (an array without this id, a scalar): the whole scene is synced.
 */
function givenFields(ctx: NonNullable<PluginInput['args']['hookContext']>): string[] | null | 'unknown' {
  if (Array.isArray(ctx.inputFields)) return ctx.inputFields;
  const { input } = ctx;
  if (input === null || input === undefined) return null;
  const own: unknown = Array.isArray(input) ? (input as unknown[]).find((e) => isObject(e) && sameId(e.id, ctx.id)) : input;
  if (!isObject(own)) return 'unknown';
  return Object.entries(own)
    .filter(([, v]) => v !== null && v !== undefined)
    .map(([k]) => k);
}

const shownFields = (fields: string[]) => fields.slice(0, 10).join(', ') + (fields.length > 10 ? ', …' : '');

/**
 * - no hookContext → reject (the input is not a hook's; a task's says tasks need Node);
 * - non-numeric or non-positive id → reject (for any trigger);
 * - Performer/Studio/Tag.Update.Post: `name` among the fields given → fanout { relation, id, event:
 *   the trigger, enqueuedAt }, else skip; Tag.Merge.Post → always fanout (id: the destination);
 * - a trigger other than these and Scene.Update.Post / Scene.Create.Post → skip;
 * - Scene.Create.Post → always record (fields absent): Stash sends it WITHOUT input or inputFields, for
 *   scans and the sceneCreate mutation alike (stashapp/stash pkg/scene/create.go, pkg/scene/scan.go:
 *   RegisterPostHooks(ctx, id, SceneCreatePost, nil, nil); so `"input": null`, no `inputFields`);
 * - Scene.Update.Post with no input and no inputFields → record { sceneId, reason 'reconcile', event:
 *   the trigger, enqueuedAt }: Stash's scan sends it so for a file it found moved, renamed or changed,
 *   or added to the scene (stashapp/stash pkg/file/scan.go → pkg/scene/scan.go associateExisting:
 *   RegisterPostHooks(ctx, id, SceneUpdatePost, nil, nil)). The scene's metadata did not change, but its
 *   file may now be another Plex item's. Bulk priority (reason 'reconcile', as a fan-out's scenes): a
 *   scan of a moved folder sends thousands, and fresh edits go first; an unchanged scene costs Plex no edit;
 * - an input whose fields cannot be told (givenFields) → record without fields (a full sync);
 * - no field Plex shows among the fields given → skip;
 * - else record { sceneId, reason 'hook', event: the trigger, fields: the fields given, enqueuedAt }.
 */
export function decideHook(input: PluginInput, now: number = Date.now()): HookDecision {
  const ctx = input.args.hookContext;
  if (!ctx && input.args.mode !== undefined) {
    // A task reached the HTTP hook (the stash2plex plugin in a Stash without Node): say what it needs.
    return {
      action: 'reject',
      error: `task ${input.args.mode}: the tasks need Node.js 20 or newer on the Stash host (the HTTP hook runs hooks only)`,
    };
  }
  if (!ctx) return { action: 'reject', error: 'invalid plugin input: args.hookContext is missing' };
  const rename = Object.hasOwn(RENAME_HOOKS, ctx.type) ? RENAME_HOOKS[ctx.type as RenameHookTrigger] : undefined;
  const id = stashIdOf(ctx.id);
  if (id === null) {
    return { action: 'reject', error: `invalid plugin input: args.hookContext.id must be a numeric ${rename?.relation ?? 'scene'} id` };
  }
  if (rename) {
    const { relation } = rename;
    const fanout: HookDecision = { action: 'fanout', event: { relation, id, event: ctx.type, enqueuedAt: Math.floor(now) } };
    if (rename.fields === null) return fanout;
    const fields = givenFields(ctx);
    if (fields === null) return { action: 'skip', why: `${relation} ${id}: ${ctx.type} without input` };
    if (fields !== 'unknown' && !fields.some((f) => rename.fields!.has(f))) {
      return { action: 'skip', why: `${relation} ${id}: no field Plex shows changed (${shownFields(fields)})` };
    }
    return fanout;
  }
  if (!(SCENE_HOOK_TRIGGERS as readonly string[]).includes(ctx.type)) {
    return { action: 'skip', why: `not a hook stash2plex acts on (${ctx.type.slice(0, 100)})` };
  }
  const sceneId = id;
  if (ctx.type === 'Scene.Create.Post') {
    return { action: 'record', job: { sceneId, reason: 'hook', event: ctx.type, enqueuedAt: Math.floor(now) } };
  }
  const fields = givenFields(ctx);
  if (fields === null) return { action: 'record', job: { sceneId, reason: 'reconcile', event: ctx.type, enqueuedAt: Math.floor(now) } };
  if (fields === 'unknown') return { action: 'record', job: { sceneId, reason: 'hook', event: ctx.type, enqueuedAt: Math.floor(now) } };
  if (fields.length === 0) return { action: 'skip', why: `scene ${sceneId}: no fields given` };
  if (!fields.some((f) => PLEX_RELEVANT_FIELDS.has(f))) {
    return { action: 'skip', why: `scene ${sceneId}: no field Plex shows changed (${shownFields(fields)})` };
  }
  const kept = [...new Set(fields.filter((f) => f.length <= MAX_FIELD_LENGTH))].slice(0, MAX_FIELDS);
  return {
    action: 'record',
    job: { sceneId, reason: 'hook', event: ctx.type, fields: kept, enqueuedAt: Math.floor(now) },
  };
}
