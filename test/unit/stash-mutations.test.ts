// What the Stash simulator's scene saves change in a scene's groups, as Stash's resolver does
// (internal/api/resolver_mutation_scene.go, changeset_translator.go): sceneUpdate's `groups` (else the
// deprecated `movies`) replace them; bulkSceneUpdate's `group_ids` (else `movie_ids`) change them by mode.
import { describe, expect, it } from 'vitest';
import { bulkScenePatch, scenePatch } from '../../src/sim/stash-mutations.js';

const scene = { performer_ids: [], tag_ids: [], group_ids: ['1', '2'], urls: [] };

describe('scene saves: groups', () => {
  it("sceneUpdate: groups replace the scene's groups; movies only when groups is not given; absent: unchanged", () => {
    expect(scenePatch({ id: '5', groups: [{ group_id: '3', scene_index: 1 }] }).group_ids).toEqual(['3']);
    expect(scenePatch({ id: '5', groups: [{ group_id: '3' }], movies: [{ movie_id: '4' }] }).group_ids).toEqual(['3']);
    expect(scenePatch({ id: '5', movies: [{ movie_id: '4' }] }).group_ids).toEqual(['4']);
    expect(scenePatch({ id: '5', groups: null }).group_ids).toEqual([]);
    expect(scenePatch({ id: '5', title: 'x' }).group_ids).toBeUndefined();
  });

  it('bulkSceneUpdate: group_ids by mode; movie_ids only when group_ids is not given', () => {
    expect(bulkScenePatch({ ids: ['5'], group_ids: { ids: ['3'], mode: 'ADD' } }, scene).group_ids).toEqual(['1', '2', '3']);
    expect(bulkScenePatch({ ids: ['5'], group_ids: { ids: ['1'], mode: 'REMOVE' } }, scene).group_ids).toEqual(['2']);
    expect(bulkScenePatch({ ids: ['5'], movie_ids: { ids: ['4'], mode: 'SET' } }, scene).group_ids).toEqual(['4']);
    expect(bulkScenePatch({ ids: ['5'], group_ids: null, movie_ids: { ids: ['4'], mode: 'SET' } }, scene).group_ids).toBeUndefined();
    expect(bulkScenePatch({ ids: ['5'], title: 'x' }, scene).group_ids).toBeUndefined();
  });
});
