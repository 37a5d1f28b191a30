// The merge of the settings a user changes in Stash over the environment (src/core/stash-settings.ts):
// Stash's value, else the environment's, else the default; a bad value in Stash keeps the last good one.
import { describe, expect, it } from 'vitest';
import { DEFAULTS, parseConfig, STASH_SETTINGS, VARIABLE_NAMES } from '../../src/core/config.js';
import { mergeStashSettings, newProblems, sameValues } from '../../src/core/stash-settings.js';

const byKey = (m: ReturnType<typeof mergeStashSettings>) => Object.fromEntries(m.settings.map((s) => [s.key, s]));

describe('STASH_SETTINGS', () => {
  it('names each variable of config.ts once, under a key of its own', () => {
    const keys = STASH_SETTINGS.map((s) => s[0]);
    const variables = STASH_SETTINGS.map((s) => s[1]);
    expect(new Set(keys).size).toBe(keys.length);
    expect(new Set(variables).size).toBe(variables.length);
    for (const v of variables) expect(VARIABLE_NAMES).toContain(v);
    expect(keys).toEqual(
      expect.arrayContaining(['syncFields', 'syncRequire', 'syncMode', 'preservePlexEdits', 'maxTags', 'plexNotFound', 'pathMap']),
    );
  });
});

describe('mergeStashSettings', () => {
  it('takes Stash first, then the environment, then the default, and says which', () => {
    const m = mergeStashSettings(
      { syncMode: 'merge', maxTags: 12, preservePlexEdits: true, syncFields: '  ' },
      { SYNC_REQUIRE: 'organized' },
    );
    const s = byKey(m);
    expect(s.syncMode).toMatchObject({ value: 'merge', source: 'stash', variable: 'SYNC_MODE' });
    expect(s.maxTags).toMatchObject({ value: '12', source: 'stash' });
    expect(s.preservePlexEdits).toMatchObject({ value: 'true', source: 'stash' });
    expect(s.syncRequire).toMatchObject({ value: 'organized', source: 'environment' });
    // Blank in Stash is left empty: the default.
    expect(s.syncFields).toMatchObject({ value: DEFAULTS.SYNC_FIELDS, source: 'default' });
    expect(s.pathMap).toMatchObject({ value: null, source: 'default' });
    const c = parseConfig(m.env, { plex: false, stash: false });
    expect(c.sync).toMatchObject({ mode: 'merge', maxTags: 12, preservePlexEdits: true, require: ['organized'] });
    expect(m.settings.every((x) => !x.problem)).toBe(true);
  });

  it('a bad value in Stash keeps the last good value, with a problem naming the setting', () => {
    const first = mergeStashSettings({ syncFields: 'title,summary' }, {});
    const second = mergeStashSettings({ syncFields: 'title,sumary' }, {}, first.settings);
    const s = byKey(second);
    expect(s.syncFields).toMatchObject({ value: 'title,summary', source: 'stash' });
    expect(s.syncFields.problem).toMatch(/^syncFields in Stash \(SYNC_FIELDS\) "sumary" is unknown/);
    expect(parseConfig(second.env, { plex: false, stash: false }).sync.fields).toEqual(['title', 'summary']);
    expect(newProblems(first.settings, second.settings).map((p) => p.key)).toEqual(['syncFields']);
    // Still bad at the next read: still the last good value, and nothing new to log.
    const third = mergeStashSettings({ syncFields: 'title,sumary' }, {}, second.settings);
    expect(byKey(third).syncFields.value).toBe('title,summary');
    expect(newProblems(second.settings, third.settings)).toEqual([]);
    expect(sameValues(second.settings, third.settings)).toBe(true);
  });

  it('a bad value at start falls back to the environment; a value of the wrong type is refused', () => {
    const m = mergeStashSettings({ maxTags: 0, syncMode: ['merge'], plexNotFound: 'later' }, { MAX_TAGS: '50' });
    const s = byKey(m);
    expect(s.maxTags).toMatchObject({ value: '50', source: 'environment' });
    expect(s.maxTags.problem).toMatch(/maxTags in Stash \(MAX_TAGS\) must be a whole number of at least 1/);
    expect(s.syncMode).toMatchObject({ value: 'mirror', source: 'default' });
    expect(s.syncMode.problem).toMatch(/not a list/);
    expect(s.plexNotFound.problem).toMatch(/must be retry or skip/);
    expect(parseConfig(m.env, { plex: false, stash: false }).sync.maxTags).toBe(50);
  });

  it("the last good value is the cluster's: a process that missed it keeps the same value; another's environment is not taken", () => {
    const other = mergeStashSettings({ syncFields: 'summary' }, { SYNC_FIELDS: 'title' }).settings;
    const mine = byKey(mergeStashSettings({ syncFields: 'summary,titel' }, { SYNC_FIELDS: 'title,date' }, other));
    expect(mine.syncFields).toMatchObject({ value: 'summary', source: 'stash' });
    const othersEnv = mergeStashSettings({}, { MAX_TAGS: '10' }).settings;
    expect(byKey(mergeStashSettings({ maxTags: 'x' }, { MAX_TAGS: '20' }, othersEnv)).maxTags).toMatchObject({
      value: '20',
      source: 'environment',
    });
  });

  it('a setting emptied in Stash goes back to the environment', () => {
    const first = mergeStashSettings({ pathMap: '/data=/media' }, { PATH_MAP: '/a=/b' });
    expect(parseConfig(first.env, { plex: false, stash: false }).plex.pathMap).toEqual([{ from: '/data', to: '/media' }]);
    const second = mergeStashSettings({}, { PATH_MAP: '/a=/b' }, first.settings);
    expect(byKey(second).pathMap).toMatchObject({ value: '/a=/b', source: 'environment' });
    expect(sameValues(first.settings, second.settings)).toBe(false);
  });
});
