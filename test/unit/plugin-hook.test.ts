import { describe, expect, it } from 'vitest';
import { keys } from '../../src/redis.js';
import { decideHook, PLEX_RELEVANT_FIELDS } from '../../src/stash/hook.js';
import { PLUGIN_TASKS, type PluginInput } from '../../src/stash/plugin-io.js';
import { TASK_HANDLERS } from '../../src/stash/plugin-tasks.js';
import { decodeInboxEntry, encodeInboxEntry, syncJobSchema, type SyncJobData } from '../../src/sync/job.js';

const NOW = 1_750_000_000_000;

function input(ctx: Record<string, unknown> | undefined, args: Record<string, unknown> = {}): PluginInput {
  return {
    server_connection: { Scheme: 'http', Host: '0.0.0.0', Port: 9999, PluginDir: '/p' },
    args: { ...args, ...(ctx ? { hookContext: ctx as never } : {}) },
  };
}
const update = (inputFields: string[] | null | undefined, extra: Record<string, unknown> = {}) =>
  input({ id: 45, type: 'Scene.Update.Post', input: inputFields ? { id: '45' } : inputFields, inputFields, ...extra });

describe('decideHook', () => {
  it('records an edit of a field Plex shows', () => {
    const d = decideHook(update(['title', 'id']), NOW);
    expect(d).toEqual({
      action: 'record',
      job: { sceneId: '45', reason: 'hook', event: 'Scene.Update.Post', fields: ['title', 'id'], enqueuedAt: NOW },
    });
    if (d.action === 'record') expect(syncJobSchema.parse(d.job)).toEqual(d.job);
  });

  it.each([...PLEX_RELEVANT_FIELDS])('records when %s is given', (field) => {
    expect(decideHook(update([field, 'id']), NOW).action).toBe('record');
  });

  it.each([
    'id', 'ids', 'organized', 'play_count', 'o_counter', 'resume_time', 'play_duration', 'code', 'director', 'url', 'urls',
    'gallery_ids', 'groups', 'movies', 'group_ids', 'stash_ids', 'clientMutationId',
  ])('skips when only %s is given', (field) => {
    const d = decideHook(update([field]), NOW);
    expect(d).toMatchObject({ action: 'skip', why: expect.stringContaining('no field Plex shows changed') });
  });

  it('the relevant fields are exactly these (change with src/sync/mapping.ts)', () => {
    expect([...PLEX_RELEVANT_FIELDS].sort()).toEqual(
      ['cover_image', 'date', 'details', 'file_ids', 'performer_ids', 'primary_file_id', 'rating100', 'studio_id', 'tag_ids', 'title'].sort(),
    );
  });

  it('records a bulk edit touching tags among irrelevant fields (one hook per scene)', () => {
    const d = decideHook(update(['ids', 'organized', 'tag_ids']), NOW);
    expect(d).toMatchObject({ action: 'record', job: { fields: ['ids', 'organized', 'tag_ids'] } });
  });

  it('records Scene.Create.Post with input (a scene created in the UI)', () => {
    const d = decideHook(input({ id: '7', type: 'Scene.Create.Post', input: { title: 'New' }, inputFields: ['title', 'file_ids'] }), NOW);
    expect(d).toMatchObject({ action: 'record', job: { sceneId: '7', event: 'Scene.Create.Post' } });
  });

  it.each([
    ['absent', { id: 45, type: 'Scene.Update.Post' }],
    ['null', { id: 45, type: 'Scene.Update.Post', input: null, inputFields: null }],
    ['create, absent', { id: 45, type: 'Scene.Create.Post' }],
  ])('skips a scan-triggered hook (input/inputFields %s)', (_, ctx) => {
    expect(decideHook(input(ctx), NOW)).toMatchObject({ action: 'skip', why: expect.stringContaining('scan-triggered') });
  });

  it('skips an edit with no fields given', () => {
    expect(decideHook(update([]), NOW)).toMatchObject({ action: 'skip', why: expect.stringContaining('no fields') });
  });

  it('without inputFields (older Stash) decides from the non-null keys of input', () => {
    const base = { id: 45, type: 'Scene.Update.Post' };
    expect(decideHook(input({ ...base, input: { id: '45', title: 'x', details: null } }), NOW)).toMatchObject({
      action: 'record',
      job: { fields: ['id', 'title'] },
    });
    expect(decideHook(input({ ...base, input: { id: '45', organized: true, title: null } }), NOW).action).toBe('skip');
  });

  it('skips other triggers', () => {
    for (const type of ['Scene.Destroy.Post', 'Tag.Update.Post', 'Scene.Update.Pre']) {
      expect(decideHook(input({ id: 45, type, input: { title: 'x' }, inputFields: ['title'] }), NOW)).toMatchObject({ action: 'skip' });
    }
  });

  it('rejects an input without hookContext', () => {
    expect(decideHook(input(undefined, { mode: 'x' }), NOW)).toEqual({ action: 'reject', error: 'invalid plugin input: args.hookContext is missing' });
  });

  it.each(['abc', '12a', '', ' ', '-3', '1.5', '0', '1e3', 0, -1, 1.5, Number.NaN, 2 ** 60])('rejects the id %j', (id) => {
    const d = decideHook(input({ id, type: 'Scene.Update.Post', input: {}, inputFields: ['title'] }), NOW);
    expect(d).toEqual({ action: 'reject', error: 'invalid plugin input: args.hookContext.id must be a numeric scene id' });
  });

  it('rejects a bad id even for a hook it would skip', () => {
    expect(decideHook(input({ id: 'x', type: 'Scene.Update.Post' }), NOW).action).toBe('reject');
  });

  it('accepts numeric strings and keeps the job within syncJobSchema limits', () => {
    const long = 'f'.repeat(150);
    const many = Array.from({ length: 300 }, (_, i) => `field_${i}`);
    const d = decideHook(input({ id: '123456789', type: 'Scene.Update.Post', input: {}, inputFields: ['title', 'title', long, ...many] }), NOW);
    expect(d.action).toBe('record');
    if (d.action !== 'record') return;
    expect(d.job.sceneId).toBe('123456789');
    expect(d.job.fields![0]).toBe('title');
    expect(d.job.fields).toHaveLength(200);
    expect(d.job.fields).not.toContain(long);
    expect(syncJobSchema.safeParse(d.job).success).toBe(true);
  });

  it('uses the clock it is given, else now', () => {
    const d = decideHook(update(['title']));
    expect(d.action === 'record' && Math.abs(d.job.enqueuedAt - Date.now()) < 5_000).toBe(true);
  });
});

describe('inbox entries round-trip', () => {
  const jobs: SyncJobData[] = [
    { sceneId: '1', reason: 'hook', event: 'Scene.Update.Post', fields: ['title', 'id'], enqueuedAt: NOW },
    { sceneId: '22', reason: 'manual', event: 'sync_all', enqueuedAt: 0 },
    { sceneId: '333', reason: 'reconcile', enqueuedAt: NOW },
    { sceneId: '4', reason: 'requeue', fields: [], enqueuedAt: 5 },
    { sceneId: '5', reason: 'hook', fields: ['a"b', 'ü'], enqueuedAt: 1 },
  ];
  it.each(jobs)('encodeInboxEntry(%j) decodes back', (job) => {
    expect(decodeInboxEntry(encodeInboxEntry(job))).toEqual({ ok: true, job });
  });
  it('every task has a handler', () => {
    for (const t of PLUGIN_TASKS) expect(typeof TASK_HANDLERS[t.mode]).toBe('function');
  });
});
