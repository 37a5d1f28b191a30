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

const MEETS: Record<SyncRequirement, (scene: StashScene) => boolean> = {
  // The scene's own title: a scene Stash shows under its file name has none.
  metadata: (s) => !blank(s.title) || !blank(s.details) || !blank(s.date) || s.studio !== null || s.performers.length > 0 || s.tags.length > 0,
  organized: (s) => s.organized,
  stashid: (s) => s.stash_ids.length > 0,
};

/** The requirements the scene fails (empty: ready), each with why. */
export function unmetRequirements(scene: StashScene, require: readonly SyncRequirement[]): { requirement: SyncRequirement; why: string }[] {
  return require.filter((r) => !MEETS[r](scene)).map((requirement) => ({ requirement, why: WHY[requirement] }));
}
