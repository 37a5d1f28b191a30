// The pure gap classification of Reconcile Library (src/sync/library-gaps.ts): classes, the queue
// decision (the rules of a sync), and the report's tally and text.
import { describe, expect, it } from 'vitest';
import { SYNC_FIELD_NAMES, type SyncField } from '../../src/core/config.js';
import {
  classifyScene,
  emptyReport,
  indexLostMessage,
  movedSinceSync,
  parseLibraryReport,
  reportLines,
  reportSummary,
  REPORT_SAMPLE,
  tallyScene,
  type GapSettings,
  type SceneInPlex,
} from '../../src/sync/library-gaps.js';
import { desiredState } from '../../src/sync/mapping.js';
import { decideEdit, valueHash } from '../../src/sync/ownership.js';
import { item, scene } from '../helpers/scene.js';

/** The fields these tests are about; those of issue 24 (content rating, original and sort title, tagline, labels) have test/unit/scene-fields.test.ts. */
const LATER: SyncField[] = ['collection', 'contentrating', 'originaltitle', 'sorttitle', 'tagline', 'labels'];
const ALL: SyncField[] = SYNC_FIELD_NAMES.filter((f) => !LATER.includes(f));
const settings = (over: Partial<GapSettings> = {}): GapSettings => ({
  mode: 'mirror',
  fields: ALL,
  require: ['metadata'],
  preservePlexEdits: false,
  maxTags: 200,
  posterStyle: 'screenshot',
  posterFrom: 'screenshot',
  imageBaseUrl: null,
  contentRating: 'XXX',
  labelTags: [],
  scanMissing: true,
  ...over,
});
/** The record after a sync of `scene()` onto `item()`. */
const synced = () => decideEdit(desiredState(scene()), item(), {}, settings()).owned;
/** An item as Plex's scanner leaves it: the file name as title, nothing else, nothing locked. */
const blank = item({
  title: 'clip.one',
  summary: '',
  studio: '',
  originallyAvailableAt: '',
  userRating: null,
  tags: { genre: [], actor: [], collection: [] },
  locked: [],
});
const notReady = scene({ title: null, details: null, date: null, studio: null, performers: [], tags: [] });
const classify = (x: Partial<SceneInPlex>, s = settings()) => classifyScene({ scene: scene(), item: item(), record: synced(), ...x }, s);

describe('classifyScene', () => {
  it('finds nothing in a synced, unchanged item, and queues nothing', () => {
    expect(classify({})).toEqual({ classes: [], queue: false });
  });

  it('not in Plex: queued when ready and a folder scan could bring the file in', () => {
    expect(classify({ item: null, record: {}, scannable: true })).toEqual({ classes: ['notInPlex'], queue: true });
    expect(classify({ item: null, record: {}, scannable: false })).toEqual({ classes: ['notInPlex'], queue: false });
    expect(classify({ item: null, record: {}, scannable: true }, settings({ scanMissing: false })).queue).toBe(false);
    expect(classify({ scene: notReady, item: null, record: {}, scannable: true }).queue).toBe(false);
  });

  it('empty: no synced field shows a value or a lock (a title only counts locked); never synced too when ready', () => {
    expect(classify({ item: blank, record: {} })).toEqual({ classes: ['empty', 'neverSynced'], queue: true });
    expect(classify({ item: { ...blank, locked: ['title'] }, record: {} }).classes).toEqual(['neverSynced']);
    expect(classify({ item: { ...blank, summary: 'From an agent' }, record: {} }).classes).toEqual(['neverSynced']);
    // The poster alone is not a field Plex shows a value of.
    expect(classify({ item: blank, record: {} }, settings({ fields: ['poster'] })).classes).toEqual(['neverSynced']);
  });

  it('a scene not ready is empty but neither never synced nor queued: a sync would skip it', () => {
    expect(classify({ scene: notReady, item: blank, record: {} })).toEqual({ classes: ['empty'], queue: false });
  });

  it('drifted: a field stash2plex set shows another value now (by the record), each kind of field', () => {
    expect(classify({ item: item({ summary: 'Edited in Plex' }) })).toEqual({ classes: ['drifted'], queue: true });
    expect(classify({ item: item({ tags: { genre: ['Other'], actor: ['Alice', 'Bob'], collection: [] } }) }).classes).toEqual(['drifted']);
    expect(classify({ item: item({ userRating: 3 }) }).classes).toEqual(['drifted']);
    // Tags in another order are the same value.
    expect(classify({ item: item({ tags: { genre: ['Tag2', 'Tag1'], actor: ['Bob', 'Alice'], collection: [] } }) }).classes).toEqual([]);
    // A field out of SYNC_FIELDS is no longer stash2plex's.
    expect(classify({ item: item({ summary: 'Edited in Plex' }) }, settings({ fields: ['title'] })).classes).toEqual([]);
  });

  it('a drift PRESERVE_PLEX_EDITS keeps is reported, not queued (a sync would leave it)', () => {
    expect(classify({ item: item({ summary: 'Edited in Plex' }) }, settings({ preservePlexEdits: true }))).toEqual({
      classes: ['drifted'],
      queue: false,
    });
  });

  it('never synced with Plex already equal and locked: queued all the same (the sync records ownership)', () => {
    expect(classify({ record: {} })).toEqual({ classes: ['neverSynced'], queue: true });
  });

  it('moved: reported with whatever else the item shows; queued when ready (the sync moves it onto the item holding the new path)', () => {
    expect(classify({ moved: true })).toEqual({ classes: ['moved'], queue: true });
    expect(classify({ moved: true, item: blank, record: {} })).toEqual({ classes: ['empty', 'neverSynced', 'moved'], queue: true });
    expect(classify({ moved: true, scene: notReady })).toEqual({ classes: ['moved'], queue: false });
    // Plex does not hold the new path yet: queued only when the sync's folder scan could bring it in.
    expect(classify({ moved: true, item: null, record: {}, scannable: true })).toEqual({ classes: ['notInPlex', 'moved'], queue: true });
    expect(classify({ moved: true, item: null, record: {}, scannable: false })).toEqual({ classes: ['notInPlex', 'moved'], queue: false });
  });

  it('moved since its last sync: synced (a hint) and none of its paths in the path cache', () => {
    const entry = { ratingKey: '101', file: '/plex/a.mp4' };
    expect(movedSinceSync('101', [null])).toBe(true);
    expect(movedSinceSync('101', [null, null])).toBe(true);
    expect(movedSinceSync('101', [null, entry])).toBe(false);
    expect(movedSinceSync('101', [entry])).toBe(false);
    // Never synced; no file at all.
    expect(movedSinceSync(null, [null])).toBe(false);
    expect(movedSinceSync('101', [])).toBe(false);
  });

  it('a record of the poster alone is a sync', () => {
    expect(classify({ record: { poster: valueHash('x') } }).classes).toEqual([]);
  });
});

describe('the report', () => {
  it('counts every scene, keeps the first 20 ids of each class, and counts what to queue', () => {
    const r = emptyReport(true, 1000);
    for (let i = 1; i <= 25; i++) tallyScene(r, String(i), { classes: ['empty', 'neverSynced'], queue: true });
    tallyScene(r, '26', { classes: [], queue: false });
    expect(r.scanned).toBe(26);
    expect(r.empty.count).toBe(25);
    expect(r.empty.sceneIds).toHaveLength(REPORT_SAMPLE);
    expect(r.empty.sceneIds[0]).toBe('1');
    expect(r.toQueue).toBe(25);
    expect(r.queued).toBe(0);
  });

  it('reads as lines, one per class, and round-trips through its stored form', () => {
    const r = emptyReport(false, 0);
    tallyScene(r, '3', { classes: ['notInPlex'], queue: true });
    r.queued = 1;
    r.durationMs = 1500;
    expect(reportLines(r)).toEqual([
      'Reconcile Library: 1 scene read in 1.5 s',
      'Not in Plex: 1 (scene 3)',
      'In Plex with none of the synced fields set: 0',
      'Drifted (a field stash2plex set shows another value in Plex): 0',
      'Ready but never synced by stash2plex: 0',
      'Moved or renamed in Stash since their last sync: 0',
      'Queued 1 scene for a sync (bulk priority)',
    ]);
    tallyScene(r, '4', { classes: ['notInPlex', 'moved'], queue: true });
    expect(reportLines(r)).toContain('Moved or renamed in Stash since their last sync: 1 (scene 4)');
    expect(parseLibraryReport(JSON.stringify(r))).toEqual(r);
    expect(parseLibraryReport('{"scanned":1}')).toBeNull();
    expect(parseLibraryReport('not json')).toBeNull();
    // A report stored before `sentToInbox` existed reads as one that sent nothing to the inbox; one
    // stored before `moved` existed, as one that found none moved.
    const { sentToInbox: _, moved: __, ...older } = r;
    expect(parseLibraryReport(JSON.stringify(older))).toEqual({ ...r, moved: { count: 0, sceneIds: [] } });
    expect(parseLibraryReport(JSON.stringify({ ...r, moved: { count: 'x' } }))).toBeNull();
  });

  it('says what was really queued: scenes whose job already waited are not counted, the inbox is not the queue', () => {
    const r = { ...emptyReport(false, 0), toQueue: 2_000, queued: 0 };
    expect(reportSummary(r)).toBe('Queued 0 scenes for a sync (bulk priority); 2,000 already waiting, not queued twice');
    expect(reportSummary({ ...r, queued: 1_500 })).toBe(
      'Queued 1,500 scenes for a sync (bulk priority); 500 already waiting, not queued twice',
    );
    expect(reportSummary({ ...r, queued: 2_000 })).toBe('Queued 2,000 scenes for a sync (bulk priority)');
    expect(reportSummary({ ...r, sentToInbox: 2_000 })).toBe(
      "Sent 2,000 scenes to the workers' inbox for a sync (bulk priority; a scene already waiting is not queued twice)",
    );
    expect(reportSummary({ ...r, dryRun: true })).toBe('Dry run: 2,000 scenes would be queued for a sync; nothing queued');
  });

  it('names the lost index, what the run had done, and that it kept no report', () => {
    const done = { scanned: 3_000, queued: 120, sentToInbox: 0, dryRun: false };
    expect(indexLostMessage(done, 20_000)).toBe(
      "the index of Plex's files this run keeps in Redis was lost mid-run, and again after a rebuild (evicted or flushed? Redis needs maxmemory-policy noeviction); " +
        'stopped after 3,000 of 20,000 scenes, the 120 scenes queued before came from the complete index, none from a partial one, and no report was kept',
    );
    expect(indexLostMessage({ ...done, queued: 0, sentToInbox: 7 }, 20_000)).toContain(
      'the 7 scenes queued before came from the complete index',
    );
    expect(indexLostMessage({ ...done, queued: 0 }, 20_000)).toContain(
      'stopped after 3,000 of 20,000 scenes, nothing was queued, and no report was kept',
    );
    expect(indexLostMessage({ ...done, dryRun: true, queued: 0 }, 1)).toContain('stopped after 3,000 of 1 scene, nothing was queued');
  });
});
