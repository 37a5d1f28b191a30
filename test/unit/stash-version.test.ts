// What stash2plex makes of a Stash version (pure).
import { describe, expect, it } from 'vitest';
import {
  parseStashVersion,
  STASH_FIND_SCENES_IDS_SINCE,
  STASH_MIN_VERSION,
  STASH_PLUGIN_MIN_VERSION,
  stashServerInfo,
  stashVersionNote,
} from '../../src/stash-api/stash-version.js';

describe('Stash versions', () => {
  it('parses releases and development builds; anything else is not a version', () => {
    expect(parseStashVersion('v0.27.2')).toEqual([0, 27, 2]);
    expect(parseStashVersion('0.24.3')).toEqual([0, 24, 3]);
    expect(parseStashVersion('v0.30.1-19-gcf3489efd')).toEqual([0, 30, 1]);
    for (const text of ['', null, undefined, 'develop', 'v0.25', 'cf3489efd', 'v1.2.3 extra'])
      expect(parseStashVersion(text), String(text)).toBeNull();
  });

  it('the bounds, as read in Stash’s history', () => {
    expect([STASH_MIN_VERSION, STASH_PLUGIN_MIN_VERSION, STASH_FIND_SCENES_IDS_SINCE]).toEqual(['v0.22.0', 'v0.24.0', 'v0.25.0']);
  });

  it('findScenes(ids) from v0.25.0; scene_ids before it and when the version is unknown', () => {
    const arg = (v: string | null) => stashServerInfo(v).sceneIdsArgument;
    expect([arg('v0.25.0'), arg('v0.30.1-19-gcf3489efd'), arg('v1.0.0')]).toEqual(['ids', 'ids', 'ids']);
    expect([arg('v0.24.3'), arg('v0.24.3-40-gabcdef0'), arg('v0.22.0'), arg(''), arg(null), arg('weird')]).toEqual(
      Array(6).fill('scene_ids'),
    );
    expect(stashServerInfo('').version).toBeNull();
  });

  it('one line at start: info when supported, warn for the Node plugin’s bound or an unknown version, error below the minimum naming it', () => {
    const note = (v: string | null) => stashVersionNote(stashServerInfo(v));
    expect(note('v0.27.2')).toEqual({ level: 'info', message: 'Stash v0.27.2: scenes read with findScenes(ids)' });
    expect(note('v0.24.0')).toEqual({ level: 'info', message: 'Stash v0.24.0: scenes read with findScenes(scene_ids)' });
    expect(note('v0.23.1')).toEqual({
      level: 'warn',
      message: 'Stash v0.23.1: scenes read with findScenes(scene_ids); the Node plugin needs Stash v0.24.0 (the HTTP hook variants work)',
    });
    expect(note('v0.21.0')).toEqual({
      level: 'error',
      message: 'Stash v0.21.0 is too old: stash2plex needs Stash v0.22.0 or newer (v0.24.0 for the Node plugin); upgrade Stash',
    });
    expect(note('')).toMatchObject({
      level: 'warn',
      message: expect.stringMatching(/^Stash version not reported: assuming a supported one \(v0\.22\.0 or newer\)/) as string,
    });
    expect(note('x'.repeat(100)).message).toContain(`"${'x'.repeat(40)}"`);
  });
});
