// The shell around claims.ts: reads the item's claim, asks Stash who else holds the files that matter
// (only for a fresh base-name match and for an item with parts that are not the scene's own), stores the
// verdict. An unchanged, exactly matched scene costs one pipelined Redis read and nothing more.
import type { Keys, RedisConnection } from '../core/redis.js';
import type { PlexItem, StashScene } from '../model/types.js';
import type { ResolvedItem } from '../plex/resolver.js';
import { baseName, normalisePlexPath } from '../plex/paths.js';
import type { StashSceneFiles } from '../stash-api/client.js';
import { encodeClaim, judgeMatch, parseClaim, parseConflict, type MatchConflict, type MatchFacts } from './claims.js';

export interface MatchCheckDeps {
  redis: RedisConnection;
  keys: Pick<Keys, 'plexItemScene' | 'plexConflicts'>;
  /** A Stash file's path as Plex would hold it (PATH_MAP applied). */
  plexPathOf(stashPath: string): string;
  /** Stash's scenes holding a file of this base name (src/stash-api/client.ts scenesWithFileNamed). */
  scenesWithFileNamed(basename: string): Promise<StashSceneFiles[]>;
}

/** The file of the scene that matched, as Stash has it. */
type MatchedFile = StashScene['files'][number];

/** For each part of the item that is none of the scene's files: the other Stash scenes holding it. */
async function foreignParts(deps: MatchCheckDeps, scene: StashScene, item: PlexItem) {
  const own = new Set(scene.files.map((f) => deps.plexPathOf(f.path)));
  const parts = [...new Set(item.files.map(normalisePlexPath))].filter((p) => !own.has(p));
  return Promise.all(
    parts.map(async (file) => {
      const holders = await deps.scenesWithFileNamed(baseName(file));
      return {
        file,
        scenes: holders.filter((s) => s.id !== scene.id && s.files.some((f) => deps.plexPathOf(f.path) === file)).map((s) => s.id),
      };
    }),
  );
}

/** Other Stash scenes with a file of the matched file's base name (any case) and size: the fallback could not tell them apart. */
async function sameNamed(deps: MatchCheckDeps, scene: StashScene, file: MatchedFile): Promise<string[]> {
  const name = file.basename.toLowerCase();
  const holders = await deps.scenesWithFileNamed(file.basename);
  return holders
    .filter((s) => s.id !== scene.id && s.files.some((f) => f.basename.toLowerCase() === name && f.size === file.size))
    .map((s) => s.id);
}

/** What claims.ts judges a match on, read from Redis and Stash (nothing written), with the stored claim and conflict as they are. */
export async function matchFacts(
  deps: MatchCheckDeps,
  scene: StashScene,
  target: Pick<ResolvedItem, 'ratingKey' | 'via' | 'cached'>,
  file: MatchedFile,
  item: PlexItem,
): Promise<{ facts: MatchFacts; rawClaim: string | null; hadConflict: boolean }> {
  const [[, rawClaim], [, hadConflict]] = ((await deps.redis
    .pipeline()
    .hget(deps.keys.plexItemScene, target.ratingKey)
    .hexists(deps.keys.plexConflicts, scene.id)
    .exec()) ?? []) as [unknown, string | null][];
  const fresh = target.via === 'fallback' && !target.cached;
  const facts: MatchFacts = {
    sceneId: scene.id,
    ratingKey: target.ratingKey,
    via: target.via,
    cached: target.cached,
    claim: parseClaim(rawClaim),
    foreignParts: item.files.length > 1 ? await foreignParts(deps, scene, item) : [],
    sameNamed: fresh ? await sameNamed(deps, scene, file) : [],
  };
  return { facts, rawClaim, hadConflict: Number(hadConflict) === 1 };
}

/**
 * Judges the match of a scene to an item (claims.ts), stores the item's claim and the scene's conflict
 * (or clears it), and answers the conflict that keeps the scene from syncing, if any.
 */
export async function checkMatch(
  deps: MatchCheckDeps,
  scene: StashScene,
  target: Pick<ResolvedItem, 'ratingKey' | 'via' | 'cached'>,
  file: MatchedFile,
  item: PlexItem,
  now: number,
): Promise<MatchConflict | null> {
  const { facts, rawClaim, hadConflict } = await matchFacts(deps, scene, target, file, item);
  const { conflict, claim } = judgeMatch(facts, now);
  const write = deps.redis.pipeline();
  if (encodeClaim(claim) !== rawClaim) write.hset(deps.keys.plexItemScene, target.ratingKey, encodeClaim(claim));
  if (conflict) write.hset(deps.keys.plexConflicts, scene.id, JSON.stringify(conflict));
  else if (hadConflict) write.hdel(deps.keys.plexConflicts, scene.id);
  if (write.length > 0) await write.exec();
  return conflict;
}

/** A scene Stash no longer has: its conflict goes, and so does its claim on the item it last synced to. */
export async function releaseScene(deps: Pick<MatchCheckDeps, 'redis' | 'keys'>, sceneId: string, ratingKey: string | null): Promise<void> {
  const claim = ratingKey ? parseClaim(await deps.redis.hget(deps.keys.plexItemScene, ratingKey)) : null;
  const write = deps.redis.pipeline().hdel(deps.keys.plexConflicts, sceneId);
  if (ratingKey && claim?.sceneIds.length === 1 && claim.sceneIds[0] === sceneId) write.hdel(deps.keys.plexItemScene, ratingKey);
  await write.exec();
}

/** An item proven gone: its claim goes (a successor is claimed afresh by the scene that matches it). */
export async function forgetClaim(deps: Pick<MatchCheckDeps, 'redis' | 'keys'>, ratingKey: string): Promise<void> {
  await deps.redis.hdel(deps.keys.plexItemScene, ratingKey);
}

/** Conflicts shown by the status page and Health Check: how many scenes, and up to `limit` of the newest (one HSCAN page read). */
export interface ConflictSummary {
  count: number;
  recent: MatchConflict[];
}

/** The stored conflicts, bounded: their count and the newest of one HSCAN page (damaged entries left out). */
export async function readConflicts(redis: RedisConnection, key: string, limit = 10): Promise<ConflictSummary> {
  const [count, [, flat]] = await Promise.all([redis.hlen(key), redis.hscan(key, '0', 'COUNT', 100)]);
  const recent = flat
    .filter((_, i) => i % 2 === 1)
    .map((raw) => parseConflict(raw))
    .filter((c): c is MatchConflict => c !== null)
    .sort((a, b) => b.at - a.at)
    .slice(0, limit);
  return { count, recent };
}
