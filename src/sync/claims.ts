// Pure: which Stash scene a Plex item belongs to, so that one scene's metadata never lands on another
// scene's item (docs/ARCHITECTURE.md, "Ownership"; docs/MATCHING.md). Every item a sync matched carries
// a claim (`plex:item-scene`: the scene and how it matched). A base-name-and-size match (the fallback) is
// refused when another scene claims the item or Stash holds another file of that name and size; an item
// Plex stacked from files of several scenes (`-pt1`/`-pt2`) is synced for none of them. What is refused
// is recorded per scene (`plex:conflicts`) and shown on the status page and by Health Check.
import type { MatchVia } from '../plex/path-cache.js';

/** How a claim is stored: the scene and how it matched, or `contested` (fallback matches of several scenes: none is synced by it). */
export type ClaimVia = MatchVia | 'contested';

export interface Claim {
  sceneIds: string[];
  via: ClaimVia;
}

export type ConflictKind = 'claimed' | 'duplicate' | 'stacked';

/** Why a scene is not synced onto the item its file matched (stored per scene, shown to the user). */
export interface MatchConflict {
  kind: ConflictKind;
  sceneId: string;
  ratingKey: string;
  /** The other Stash scenes involved. */
  otherScenes: string[];
  /** The Plex files involved (the parts of a stacked item that are other scenes' files). */
  files: string[];
  at: number;
}

export interface MatchFacts {
  sceneId: string;
  ratingKey: string;
  via: MatchVia;
  /** Whether the match came from the path cache (a fallback match was checked for duplicates when first made). */
  cached: boolean;
  claim: Claim | null;
  /** Parts of the item that are none of the scene's files, each with the other Stash scenes holding that file. */
  foreignParts: { file: string; scenes: string[] }[];
  /** Other Stash scenes with a file of the matched file's base name and size (asked for a fresh fallback match only). */
  sameNamed: string[];
}

export const encodeClaim = (claim: Claim): string => `${claim.sceneIds.join(',')}\t${claim.via}`;

/** A stored claim; null for none or anything unreadable (an unreadable claim is replaced by the next match). */
export function parseClaim(raw: string | null | undefined): Claim | null {
  const [ids = '', via] = (raw ?? '').split('\t');
  const sceneIds = ids.split(',').filter((id) => id !== '');
  return sceneIds.length > 0 && (via === 'path' || via === 'fallback' || via === 'contested') ? { sceneIds, via } : null;
}

const unique = (ids: readonly string[]) => [...new Set(ids)];

/**
 * The verdict on one match: the conflict that keeps the scene from syncing (null: none) and the claim
 * the item carries from now on. An exact path always wins the claim; a fallback match wins it only
 * uncontested.
 */
export function judgeMatch(matchFacts: MatchFacts, now: number): { conflict: MatchConflict | null; claim: Claim } {
  const conflict = (kind: ConflictKind, otherScenes: string[], files: string[] = []): MatchConflict => ({
    kind,
    sceneId: matchFacts.sceneId,
    ratingKey: matchFacts.ratingKey,
    otherScenes: unique(otherScenes.filter((id) => id !== matchFacts.sceneId)),
    files,
    at: now,
  });
  const stacked = matchFacts.foreignParts.filter((p) => p.scenes.some((id) => id !== matchFacts.sceneId));
  const mine: Claim = { sceneIds: [matchFacts.sceneId], via: matchFacts.via };
  if (stacked.length > 0) {
    const others = stacked.flatMap((p) => p.scenes);
    return {
      conflict: conflict(
        'stacked',
        others,
        stacked.map((p) => p.file),
      ),
      claim: { sceneIds: unique([matchFacts.sceneId, ...others]), via: 'contested' },
    };
  }
  if (matchFacts.via === 'path') return { conflict: null, claim: mine };
  const claimedByOther =
    matchFacts.claim !== null &&
    (matchFacts.claim.via === 'contested' || matchFacts.claim.sceneIds.some((id) => id !== matchFacts.sceneId));
  if (claimedByOther) {
    const claim =
      matchFacts.claim!.via === 'path'
        ? matchFacts.claim!
        : { sceneIds: unique([...matchFacts.claim!.sceneIds, matchFacts.sceneId]), via: 'contested' as const };
    return { conflict: conflict('claimed', matchFacts.claim!.sceneIds), claim };
  }
  if (matchFacts.sameNamed.some((id) => id !== matchFacts.sceneId)) {
    return {
      conflict: conflict('duplicate', matchFacts.sameNamed),
      claim: { sceneIds: unique([matchFacts.sceneId, ...matchFacts.sameNamed]), via: 'contested' },
    };
  }
  return { conflict: null, claim: mine };
}

/** The skipped reason a conflict gives its job, in words a user can act on. */
export function conflictReason(matchConflict: MatchConflict): string {
  const others = matchConflict.otherScenes.length > 0 ? matchConflict.otherScenes.map((id) => `scene ${id}`).join(', ') : 'another scene';
  switch (matchConflict.kind) {
    case 'stacked':
      return `not synced: Plex item ${matchConflict.ratingKey} stacks this scene's file with ${others}'s (${matchConflict.files.join(', ')}); split it in Plex ("Split Apart")`;
    case 'claimed':
      return `not synced: its file is not in Plex under its own path, and the item with the same name and size (${matchConflict.ratingKey}) belongs to ${others}; check PATH_MAP or scan the file into Plex`;
    case 'duplicate':
      return `not synced: its file is not in Plex under its own path, and ${others} in Stash has a file of the same name and size, so Plex item ${matchConflict.ratingKey} cannot be told apart; check PATH_MAP or scan the file into Plex`;
  }
}

/** The conflicts as lines for a person: how many scenes, then one line per shown conflict. */
export function conflictLines(conflicts: { count: number; recent: readonly MatchConflict[] }): string[] {
  if (conflicts.count === 0) return [];
  const head = `${conflicts.count} ${conflicts.count === 1 ? 'scene is' : 'scenes are'} not synced: ${conflicts.count === 1 ? 'its Plex item is' : 'their Plex items are'} another scene's, or Plex stacked several scenes' files into one item`;
  return [head, ...conflicts.recent.map((x) => `scene ${x.sceneId}: ${conflictReason(x)}`)];
}

/** A stored conflict (JSON); null when unreadable. */
export function parseConflict(raw: string | null | undefined): MatchConflict | null {
  try {
    const c = JSON.parse(raw ?? '') as Partial<MatchConflict>;
    const strings = (v: unknown) => Array.isArray(v) && v.every((x) => typeof x === 'string');
    const kinds: readonly unknown[] = ['claimed', 'duplicate', 'stacked'];
    if (!kinds.includes(c.kind) || typeof c.sceneId !== 'string' || typeof c.ratingKey !== 'string' || typeof c.at !== 'number')
      return null;
    if (!strings(c.otherScenes) || !strings(c.files)) return null;
    return c as MatchConflict;
  } catch {
    return null;
  }
}
