// Pure: the quality gate (SYNC_REQUIRE). A scene that is not ready costs Plex no request: its job
// completes as skipped, and its next hook or reconciliation syncs it once it is ready.
import type { SyncRequirement } from '../core/config.js';
import type { StashScene } from '../model/types.js';

const blank = (s: string | null | undefined) => !s || s.trim() === '';

const WHY: Record<SyncRequirement, string> = {
  metadata: 'no title, details, date, studio, performers or tags',
  organized: 'not organized',
  stashid: 'no StashBox id',
};

const MET: Record<SyncRequirement, string> = {
  metadata: 'has a title, details, date, studio, performers or tags',
  organized: 'organized',
  stashid: 'has a StashBox id',
};

const MEETS: Record<SyncRequirement, (scene: StashScene) => boolean> = {
  // The scene's own title: a scene Stash shows under its file name has none.
  metadata: (s) =>
    !blank(s.title) || !blank(s.details) || !blank(s.date) || s.studio !== null || s.performers.length > 0 || s.tags.length > 0,
  organized: (s) => s.organized,
  stashid: (s) => s.stash_ids.length > 0,
};

/** Each requirement of SYNC_REQUIRE, met or not, with why (what `npm run explain` shows). */
export function requirementChecks(
  scene: StashScene,
  require: readonly SyncRequirement[],
): { requirement: SyncRequirement; met: boolean; why: string }[] {
  return require.map((requirement) => {
    const met = MEETS[requirement](scene);
    return { requirement, met, why: (met ? MET : WHY)[requirement] };
  });
}

/** The requirements the scene fails (empty: ready), each with why. */
export function unmetRequirements(scene: StashScene, require: readonly SyncRequirement[]): { requirement: SyncRequirement; why: string }[] {
  return requirementChecks(scene, require)
    .filter((c) => !c.met)
    .map(({ requirement, why }) => ({ requirement, why }));
}

/** "Skipped as not ready (SYNC_REQUIRE): metadata 3, organized 1" (or none); a scene may count under several. */
export function skippedText(skipped: Record<string, number>): string {
  const parts = Object.entries(skipped)
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  return `Skipped as not ready (SYNC_REQUIRE): ${parts.length ? parts.map(([r, n]) => `${r} ${n}`).join(', ') : 'none'}`;
}
