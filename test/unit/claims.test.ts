// The pure verdict on a match (src/sync/claims.ts): one scene's metadata never lands on another scene's item.
import { describe, expect, it } from 'vitest';
import { conflictReason, encodeClaim, judgeMatch, parseClaim, parseConflict, type MatchFacts } from '../../src/sync/claims.js';

const facts = (over: Partial<MatchFacts> = {}): MatchFacts => ({
  sceneId: '1',
  ratingKey: '100',
  via: 'path',
  cached: false,
  claim: null,
  foreignParts: [],
  sameNamed: [],
  ...over,
});

describe('judgeMatch', () => {
  it('an exact path claims the item, whoever claimed it before', () => {
    for (const claim of [null, { sceneIds: ['2'], via: 'fallback' as const }, { sceneIds: ['2', '3'], via: 'contested' as const }]) {
      expect(judgeMatch(facts({ claim }), 5)).toEqual({ conflict: null, claim: { sceneIds: ['1'], via: 'path' } });
    }
  });

  it('a fallback match onto an item another scene claims is refused; a path claim stays', () => {
    const v = judgeMatch(facts({ via: 'fallback', claim: { sceneIds: ['2'], via: 'path' } }), 5);
    expect(v.conflict).toMatchObject({ kind: 'claimed', sceneId: '1', ratingKey: '100', otherScenes: ['2'], at: 5 });
    expect(v.claim).toEqual({ sceneIds: ['2'], via: 'path' });
  });

  it('two fallback matches onto one item: the claim becomes contested, and neither scene is synced by it', () => {
    const second = judgeMatch(facts({ sceneId: '2', via: 'fallback', cached: true, claim: { sceneIds: ['1'], via: 'fallback' } }), 5);
    expect(second.conflict?.kind).toBe('claimed');
    expect(second.claim).toEqual({ sceneIds: ['1', '2'], via: 'contested' });
    const first = judgeMatch(facts({ via: 'fallback', cached: true, claim: second.claim }), 6);
    expect(first.conflict).toMatchObject({ kind: 'claimed', otherScenes: ['2'] });
  });

  it('a fresh fallback match while Stash holds another file of that name and size is refused (duplicate)', () => {
    const v = judgeMatch(facts({ via: 'fallback', sameNamed: ['7'] }), 5);
    expect(v.conflict).toMatchObject({ kind: 'duplicate', otherScenes: ['7'] });
    expect(v.claim).toEqual({ sceneIds: ['1', '7'], via: 'contested' });
    expect(judgeMatch(facts({ via: 'fallback' }), 5)).toEqual({ conflict: null, claim: { sceneIds: ['1'], via: 'fallback' } });
  });

  it("an item with a part that is another scene's file is stacked: not synced, even by exact path", () => {
    const v = judgeMatch(
      facts({
        foreignParts: [
          { file: '/m/a-pt2.mp4', scenes: ['2'] },
          { file: '/m/unknown.mp4', scenes: [] },
        ],
      }),
      5,
    );
    expect(v.conflict).toMatchObject({ kind: 'stacked', otherScenes: ['2'], files: ['/m/a-pt2.mp4'] });
    expect(v.claim.via).toBe('contested');
    // Parts Stash does not know (or that are this scene's own) are no conflict.
    expect(judgeMatch(facts({ foreignParts: [{ file: '/m/unknown.mp4', scenes: [] }] }), 5).conflict).toBeNull();
  });

  it('says what to do, naming the other scenes', () => {
    expect(conflictReason(judgeMatch(facts({ foreignParts: [{ file: '/m/a-pt2.mp4', scenes: ['2'] }] }), 5).conflict!)).toMatch(
      /stacks .*scene 2.*Split Apart/,
    );
    expect(conflictReason(judgeMatch(facts({ via: 'fallback', sameNamed: ['7'] }), 5).conflict!)).toMatch(
      /scene 7 .*same name and size.*PATH_MAP/,
    );
  });
});

describe('stored forms', () => {
  it('claims round-trip; anything unreadable is no claim', () => {
    const claim = { sceneIds: ['1', '2'], via: 'contested' as const };
    expect(parseClaim(encodeClaim(claim))).toEqual(claim);
    for (const raw of [null, '', '1', '1\tbogus', '\tpath']) expect(parseClaim(raw)).toBeNull();
  });
  it('conflicts round-trip through JSON; a damaged one reads as none', () => {
    const c = judgeMatch(facts({ via: 'fallback', sameNamed: ['7'] }), 5).conflict!;
    expect(parseConflict(JSON.stringify(c))).toEqual(c);
    for (const raw of [null, '{', '{"kind":"x"}', JSON.stringify({ ...c, otherScenes: 'x' })]) expect(parseConflict(raw)).toBeNull();
  });
});
