import { describe, expect, it } from 'vitest';
import { decideHook, PLEX_RELEVANT_FIELDS, RENAME_HOOKS } from '../../src/hook/decide.js';
import { hookOutcome } from '../../src/dashboard/http-hook.js';
import { PLUGIN_TASKS } from '../../src/stash-plugin/task-list.js';
import { RENAME_HOOK_TRIGGERS, type PluginInput } from '../../src/hook/input.js';
import { TASK_HANDLERS } from '../../src/stash-plugin/tasks.js';
import { decodeInboxEntry, fanoutSchema, priorityOf, PRIORITY, syncJobSchema } from '../../src/model/job.js';
import { encodeFanoutEntry, encodeInboxEntry, type FanoutEvent, type SyncJobData } from '../../src/model/inbox-item.js';
import { bulkSceneUpdateHooks, NULL_SCENE_UPDATE_INPUT, sceneUpdateHook, scenesUpdateHooks } from '../helpers/stash-scene-hooks.js';

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
    'id',
    'ids',
    'organized',
    'play_count',
    'o_counter',
    'resume_time',
    'play_duration',
    'director',
    'url',
    'urls',
    'gallery_ids',
    'stash_ids',
    'clientMutationId',
  ])('skips when only %s is given', (field) => {
    const d = decideHook(update([field]), NOW);
    expect(d).toMatchObject({ action: 'skip', why: expect.stringContaining('no field Plex shows changed') as unknown });
  });

  it('the relevant fields are exactly these (change with src/sync/mapping.ts)', () => {
    expect([...PLEX_RELEVANT_FIELDS].sort()).toEqual(
      [
        'code',
        'cover_image',
        'date',
        'details',
        'file_ids',
        'group_ids',
        'groups',
        'movie_ids',
        'movies',
        'performer_ids',
        'primary_file_id',
        'rating100',
        'studio_id',
        'tag_ids',
        'title',
      ].sort(),
    );
  });

  it('records a bulk edit touching tags among irrelevant fields (one hook per scene)', () => {
    const d = decideHook(update(['ids', 'organized', 'tag_ids']), NOW);
    expect(d).toMatchObject({ action: 'record', job: { fields: ['ids', 'organized', 'tag_ids'] } });
  });

  // Stash sends Scene.Create.Post as RegisterPostHooks(ctx, id, SceneCreatePost, nil, nil) for scans and
  // the sceneCreate mutation alike (stashapp/stash pkg/scene/create.go, scan.go): `"input": null`, and
  // no `inputFields` (omitempty in pkg/plugin/common/msg.go HookContext).
  it.each([
    ['as Stash sends it ("input": null, no inputFields)', { id: 7, type: 'Scene.Create.Post', input: null }],
    ['with neither', { id: 7, type: 'Scene.Create.Post' }],
  ])('records Scene.Create.Post %s: a new scene is queued', (_, ctx) => {
    const d = decideHook(input(ctx), NOW);
    expect(d).toEqual({ action: 'record', job: { sceneId: '7', reason: 'hook', event: 'Scene.Create.Post', enqueuedAt: NOW } });
  });

  // Stash's scan sends Scene.Update.Post as RegisterPostHooks(ctx, id, SceneUpdatePost, nil, nil) for a
  // file it found moved, renamed or changed (stashapp/stash pkg/file/scan.go → pkg/scene/scan.go
  // associateExisting), the scene's updated_at unchanged: the scene is re-synced, at bulk priority.
  it.each([
    ['as Stash sends it ("input": null, no inputFields)', { id: 45, type: 'Scene.Update.Post', input: null }],
    ['absent', { id: 45, type: 'Scene.Update.Post' }],
    ['null', { id: 45, type: 'Scene.Update.Post', input: null, inputFields: null }],
  ])("records a scan's hook (input/inputFields %s) as a bulk-priority re-sync of the scene", (_, ctx) => {
    const d = decideHook(input(ctx), NOW);
    expect(d).toEqual({ action: 'record', job: { sceneId: '45', reason: 'reconcile', event: 'Scene.Update.Post', enqueuedAt: NOW } });
    if (d.action === 'record') {
      expect(syncJobSchema.parse(d.job)).toEqual(d.job);
      expect(priorityOf(d.job.reason)).toBe(PRIORITY.bulk);
    }
  });

  it('skips an edit with no fields given', () => {
    expect(decideHook(update([]), NOW)).toMatchObject({ action: 'skip', why: expect.stringContaining('no fields') as unknown });
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
    for (const type of [
      'Scene.Destroy.Post',
      'Tag.Update.Post',
      'Scene.Update.Pre',
      'Gallery.Update.Post',
      'Performer.Create.Post',
      'constructor',
      '__proto__',
    ]) {
      expect(decideHook(input({ id: 45, type, input: { title: 'x' }, inputFields: ['title'] }), NOW)).toMatchObject({ action: 'skip' });
    }
  });

  it('rejects an input without hookContext; a task (args.mode) is told the tasks need Node (the HTTP hook runs hooks only)', () => {
    expect(decideHook(input(undefined, {}), NOW)).toEqual({
      action: 'reject',
      error: 'invalid plugin input: args.hookContext is missing',
    });
    expect(decideHook(input(undefined, { mode: 'sync_all' }), NOW)).toEqual({
      action: 'reject',
      error: 'task sync_all: the tasks need Node.js 20 or newer on the Stash host (the HTTP hook runs hooks only)',
    });
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
    const d = decideHook(
      input({ id: '123456789', type: 'Scene.Update.Post', input: {}, inputFields: ['title', 'title', long, ...many] }),
      NOW,
    );
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

// Every way Stash saves a scene fires Scene.Update.Post once per scene (test/helpers/stash-scene-hooks.ts
// has the shapes, docs/REAL-SERVERS.md the upstream sources).
describe('decideHook: the scene saves as Stash sends them', () => {
  const record = (sceneId: number, fields: string[]) => ({
    action: 'record',
    job: { sceneId: String(sceneId), reason: 'hook', event: 'Scene.Update.Post', fields, enqueuedAt: NOW },
  });

  it('sceneUpdate: the scene, by the fields given', () => {
    expect(decideHook(input(sceneUpdateHook(45, 'New title')), NOW)).toEqual(record(45, ['id', 'title']));
  });

  it("scenesUpdate: each scene by its own fields, though `input` holds every scene's", () => {
    const [a, b] = scenesUpdateHooks(45, 46, { title: 'Parsed', date: '2024-05-06', tag: '7' });
    expect(decideHook(input(a), NOW)).toEqual(record(45, ['id', 'title', 'date']));
    expect(decideHook(input(b), NOW)).toEqual(record(46, ['id', 'tag_ids']));
  });

  it('bulkSceneUpdate: every scene of ids; its {ids, mode} relations are the fields changed', () => {
    for (const hook of bulkSceneUpdateHooks([45, 46, 47], { performer: '3', tag: '7' })) {
      expect(decideHook(input(hook), NOW)).toEqual(record(hook.id, ['ids', 'performer_ids', 'tag_ids']));
    }
    const bulk = (given: Record<string, unknown>) =>
      decideHook(
        input({ id: 45, type: 'Scene.Update.Post', input: { ids: ['45'], ...given }, inputFields: ['ids', ...Object.keys(given)] }),
        NOW,
      );
    expect(bulk({ studio_id: '2' }).action).toBe('record');
    expect(bulk({ tag_ids: { mode: 'SET' } }).action).toBe('record'); // clears the tags
    expect(bulk({ performer_ids: { ids: ['3'], mode: 'REMOVE' } }).action).toBe('record');
    expect(bulk({ organized: true }).action).toBe('skip');
    expect(bulk({ gallery_ids: { ids: ['1'], mode: 'ADD' }, urls: { values: ['u'], mode: 'ADD' } }).action).toBe('skip');
  });

  it("without inputFields (older Stash): this scene's element of an array input; no element of its own or a scalar syncs the whole scene", () => {
    const [a] = scenesUpdateHooks(45, 46, { title: 'Parsed', date: '2024-05-06', tag: '7' });
    const { inputFields: _, ...withoutFields } = a;
    expect(decideHook(input(withoutFields), NOW)).toEqual(record(45, ['id', 'title', 'date']));
    const organizedOnly = [{ ...NULL_SCENE_UPDATE_INPUT, id: '45', organized: true }];
    expect(decideHook(input({ id: 45, type: 'Scene.Update.Post', input: organizedOnly }), NOW).action).toBe('skip');
    const whole = { action: 'record', job: { sceneId: '45', reason: 'hook', event: 'Scene.Update.Post', enqueuedAt: NOW } };
    expect(
      decideHook(input({ id: 45, type: 'Scene.Update.Post', input: [{ ...NULL_SCENE_UPDATE_INPUT, id: '46', title: 'x' }] }), NOW),
    ).toEqual(whole);
    expect(decideHook(input({ id: 45, type: 'Scene.Update.Post', input: 'a string' }), NOW)).toEqual(whole);
    expect(decideHook(input({ id: 45, type: 'Scene.Update.Post', input: [] }), NOW)).toEqual(whole);
  });

  it("a rename hook with an input of another shape re-syncs the relation's scenes", () => {
    const fanout = { action: 'fanout', event: { relation: 'tag', id: '9', event: 'Tag.Update.Post', enqueuedAt: NOW } };
    expect(decideHook(input({ id: 9, type: 'Tag.Update.Post', input: [{ id: '9', name: 'x' }] }), NOW)).toEqual(fanout);
    expect(decideHook(input({ id: 9, type: 'Tag.Update.Post', input: 'x' }), NOW)).toEqual(fanout);
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

describe('decideHook: renames and merges (fan-out)', () => {
  const ctx = (type: string, id: unknown, inputFields: string[], given: Record<string, unknown> = { id: String(id) }) =>
    input({ id, type, input: given, inputFields });

  it.each([
    ['Performer.Update.Post', 'performer'],
    ['Studio.Update.Post', 'studio'],
    ['Tag.Update.Post', 'tag'],
    ['Group.Update.Post', 'group'],
    ['Movie.Update.Post', 'group'], // Stash before v0.27.0 (and still, deprecated): its groups are movies
  ] as const)('%s with `name` among the fields → fanout of that %s', (type, relation) => {
    const d = decideHook(ctx(type, 7, ['name', 'id'], { id: '7', name: 'New name' }), NOW);
    expect(d).toEqual({ action: 'fanout', event: { relation, id: '7', event: type, enqueuedAt: NOW } });
    if (d.action === 'fanout') expect(fanoutSchema.parse(d.event)).toEqual(d.event);
  });

  it.each([
    ['Studio.Update.Post', ['details'], 'studio'],
    ['Studio.Update.Post', ['image'], 'studio'],
    ['Tag.Update.Post', ['description'], 'tag'],
    ['Group.Update.Post', ['synopsis'], 'group'],
    ['Group.Update.Post', ['front_image'], 'group'],
    ['Studio.Update.Post', ['parent_id'], 'studio'],
    ['Tag.Update.Post', ['parent_ids'], 'tag'],
  ] as const)(
    "%s of %j → a fanout: the collection's text or image, or the parent that makes one (src/sync/collections.ts)",
    (type, fields, relation) => {
      expect(decideHook(ctx(type, 7, [...fields, 'id']), NOW)).toMatchObject({ action: 'fanout', event: { relation } });
    },
  );

  it("Performer.Update.Post with a new image → a fanout: Plex shows it as the actor's photo (SYNC_FIELDS actorphotos)", () => {
    expect(decideHook(ctx('Performer.Update.Post', 7, ['image', 'id']), NOW)).toMatchObject({
      action: 'fanout',
      event: { relation: 'performer', id: '7' },
    });
  });

  it('Tag.Merge.Post → always a fanout of the destination (the hook id), whatever the input', () => {
    // Stash's TagsMerge fires the hook with the destination's id, the TagsMergeInput and no inputFields.
    const merge = { id: 12, type: 'Tag.Merge.Post', input: { source: ['3', '4'], destination: '12' } };
    expect(decideHook(input(merge), NOW)).toEqual({
      action: 'fanout',
      event: { relation: 'tag', id: '12', event: 'Tag.Merge.Post', enqueuedAt: NOW },
    });
    expect(decideHook(input({ id: '12', type: 'Tag.Merge.Post' }), NOW).action).toBe('fanout');
    expect(decideHook(input({ id: '12', type: 'Tag.Merge.Post', input: null, inputFields: ['source'] }), NOW).action).toBe('fanout');
  });

  it.each([
    ['Performer.Update.Post', ['birthdate', 'id'], 'performer 7: no field Plex shows changed (birthdate, id)'],
    ['Performer.Update.Post', ['favorite', 'id'], 'performer 7'],
    ['Performer.Update.Post', ['ids', 'tag_ids'], 'performer 7'], // a bulk edit: cannot rename
    ['Performer.Update.Post', ['disambiguation', 'alias_list'], 'performer 7'],
    ['Studio.Update.Post', ['rating100', 'favorite'], 'studio 7'],
    ['Tag.Update.Post', ['child_ids', 'aliases'], 'tag 7'],
    ['Tag.Update.Post', ['sort_name', 'favorite'], 'tag 7'],
    ['Group.Update.Post', ['rating100', 'director'], 'group 7'],
    ['Tag.Update.Post', [], 'tag 7'],
  ])('%s with only %j → skip', (type, fields, why) => {
    expect(decideHook(ctx(type, 7, fields), NOW)).toMatchObject({ action: 'skip', why: expect.stringContaining(why) as unknown });
  });

  it('without inputFields (older Stash) decides from the non-null keys of input; without input at all skips', () => {
    expect(decideHook(input({ id: 7, type: 'Performer.Update.Post', input: { id: '7', name: 'X', birthdate: null } }), NOW).action).toBe(
      'fanout',
    );
    expect(
      decideHook(input({ id: 7, type: 'Performer.Update.Post', input: { id: '7', name: null, birthdate: '1990-01-01' } }), NOW).action,
    ).toBe('skip');
    expect(decideHook(input({ id: 7, type: 'Studio.Update.Post' }), NOW)).toMatchObject({
      action: 'skip',
      why: 'studio 7: Studio.Update.Post without input',
    });
  });

  it.each([
    ['Performer.Update.Post', 'performer'],
    ['Studio.Update.Post', 'studio'],
    ['Tag.Update.Post', 'tag'],
    ['Tag.Merge.Post', 'tag'],
  ])('%s with a bad id → reject, naming the %s', (type, noun) => {
    for (const id of ['abc', '', '0', '-3', '1.5', 0, -1, 1.5, 2 ** 60, null, true]) {
      const d = decideHook(input({ id, type, input: { name: 'x' }, inputFields: ['name'] }), NOW);
      expect(d, JSON.stringify(id)).toEqual({
        action: 'reject',
        error: `invalid plugin input: args.hookContext.id must be a numeric ${noun} id`,
      });
    }
  });

  it('every rename trigger of the manifest has a rule, and only those', () => {
    expect(Object.keys(RENAME_HOOKS).sort()).toEqual([...RENAME_HOOK_TRIGGERS].sort());
  });

  it('a fanout decision is recorded by the HTTP hook as the same fan-out entry (one decision, both paths)', () => {
    const d = decideHook(ctx('Performer.Update.Post', '31', ['name', 'id']), NOW);
    const o = hookOutcome(d);
    expect(o).toMatchObject({ status: 200, kind: 'fanout' });
    expect(decodeInboxEntry(o.entry!)).toEqual({
      ok: true,
      fanout: { relation: 'performer', id: '31', event: 'Performer.Update.Post', enqueuedAt: NOW },
    });
  });

  it('fan-out entries round-trip through the inbox encoding', () => {
    const events: FanoutEvent[] = [
      { relation: 'performer', id: '1', event: 'Performer.Update.Post', enqueuedAt: NOW },
      { relation: 'studio', id: '22', event: 'Studio.Update.Post', enqueuedAt: 0 },
      { relation: 'tag', id: '333', event: 'Tag.Merge.Post', enqueuedAt: 5 },
    ];
    for (const e of events) expect(decodeInboxEntry(encodeFanoutEntry(e))).toEqual({ ok: true, fanout: e });
  });
});
