// The hook's decision, pure: given the plugin input, skip it, record a job, or reject the input.
// Runs before any network work, so a skip costs Stash nothing but the process start.
//
// On the hook's hot path: imports only types from src/sync/job.ts (that module pulls in `zod`, whose
// load alone would double the hook's run time), see inboxEntryFields below.
import type { SyncJobData } from '../sync/job.js';
import { HOOK_TRIGGERS, type PluginInput } from './plugin-io.js';

/**
 * Fields of Stash's SceneUpdateInput / BulkSceneUpdateInput / SceneCreateInput whose change can change
 * what Plex shows (src/sync/mapping.ts):
 * - title, details, date, rating100, studio_id (studio, and the studio collection), performer_ids
 *   (actors), tag_ids (genres): mapped fields;
 * - cover_image: the screenshot, uploaded as the poster;
 * - primary_file_id (update) and file_ids (create): which file the scene is, i.e. which Plex item it
 *   resolves to by path, and the title fallback (the file name) of an untitled scene.
 * Not relevant (the edit is skipped): id/ids, code, director, url/urls, organized, o_counter,
 * play_count, play_duration, resume_time, gallery_ids, groups/movies/group_ids/movie_ids, stash_ids,
 * clientMutationId. The worker maps none of these; when the mapping grows (say director → Plex
 * director), add the field here — a test pins this set, so the two are changed together.
 * A skipped edit still syncs whenever any relevant field changes later, or with Sync All.
 */
export const PLEX_RELEVANT_FIELDS: ReadonlySet<string> = new Set([
  'title',
  'details',
  'date',
  'rating100',
  'studio_id',
  'performer_ids',
  'tag_ids',
  'cover_image',
  'primary_file_id',
  'file_ids',
]);

/** syncJobSchema's limits on `fields` (src/sync/job.ts). */
const MAX_FIELDS = 200;
const MAX_FIELD_LENGTH = 100;

export type HookDecision =
  | { action: 'skip'; why: string }
  | { action: 'record'; job: SyncJobData }
  | { action: 'reject'; error: string };

/** A Stash scene id: a positive integer, as number or numeric string. */
function sceneIdOf(id: unknown): string | null {
  if (typeof id === 'number') return Number.isSafeInteger(id) && id > 0 ? String(id) : null;
  if (typeof id === 'string') return /^[1-9]\d{0,17}$/.test(id.trim()) ? id.trim() : null;
  return null;
}

/**
 * - no hookContext → reject (the input is not a hook's);
 * - non-numeric or non-positive id → reject;
 * - a trigger other than Scene.Update.Post / Scene.Create.Post → skip;
 * - no input and no inputFields (a scan: new or moved files) → skip;
 * - no field Plex shows among the fields given → skip;
 * - else record { sceneId, reason 'hook', event: the trigger, fields: the fields given, enqueuedAt }.
 * `inputFields` (the fields really given) decides; an input without `inputFields` (older Stash) falls
 * back to the input's non-null keys.
 */
export function decideHook(input: PluginInput, now: number = Date.now()): HookDecision {
  const ctx = input.args.hookContext;
  if (!ctx) return { action: 'reject', error: 'invalid plugin input: args.hookContext is missing' };
  const sceneId = sceneIdOf(ctx.id);
  if (sceneId === null) {
    return { action: 'reject', error: `invalid plugin input: args.hookContext.id must be a numeric scene id` };
  }
  if (!(HOOK_TRIGGERS as readonly string[]).includes(ctx.type)) {
    return { action: 'skip', why: `not a scene save hook (${ctx.type.slice(0, 100)})` };
  }
  let fields: string[];
  if (Array.isArray(ctx.inputFields)) fields = ctx.inputFields;
  else if (ctx.input && typeof ctx.input === 'object') {
    fields = Object.entries(ctx.input)
      .filter(([, v]) => v !== null && v !== undefined)
      .map(([k]) => k);
  } else {
    return { action: 'skip', why: `scene ${sceneId}: scan-triggered ${ctx.type} (no input)` };
  }
  if (fields.length === 0) return { action: 'skip', why: `scene ${sceneId}: no fields given` };
  if (!fields.some((f) => PLEX_RELEVANT_FIELDS.has(f))) {
    const shown = fields.slice(0, 10).join(', ') + (fields.length > 10 ? ', …' : '');
    return { action: 'skip', why: `scene ${sceneId}: no field Plex shows changed (${shown})` };
  }
  const kept = [...new Set(fields.filter((f) => f.length <= MAX_FIELD_LENGTH))].slice(0, MAX_FIELDS);
  return {
    action: 'record',
    job: { sceneId, reason: 'hook', event: ctx.type, fields: kept, enqueuedAt: Math.floor(now) },
  };
}
