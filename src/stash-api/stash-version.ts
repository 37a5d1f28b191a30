// Which Stash versions stash2plex works with, and what a given version offers (pure). Each bound was read
// in stashapp/stash's own history (docs/REAL-SERVERS.md, "Older Stash"):
// - v0.22.0: the oldest schema that takes every document of queries.ts (Scene.urls came in v0.22.0).
// - v0.24.0: plugin settings (pkg/plugin/config.go `settings`, "Plugin settings #4143") and
//   `configuration { plugins }`. Stash decodes a plugin's YAML strictly, so before v0.24.0 the Node
//   plugin's manifest, which has `settings`, does not load at all; the HTTP hook variants have none.
// - v0.25.0: `findScenes(ids: [ID!])`; before it only `scene_ids: [Int!]`, which every version has
//   (deprecated since v0.25.0, still there today).

/** Below this nothing works: the workers' scene queries are rejected. */
export const STASH_MIN_VERSION = 'v0.22.0';
/** The Node plugin (dist/stash-plugin) loads from this version on; the HTTP hook variants from STASH_MIN_VERSION. */
export const STASH_PLUGIN_MIN_VERSION = 'v0.24.0';
/** Scenes are in groups (`Scene.groups`) from this version on; movies (`Scene.movies`) before. */
export const STASH_GROUPS_SINCE = 'v0.27.0';
/** `findScenes(ids: [ID!])` exists from this version on. */
export const STASH_FIND_SCENES_IDS_SINCE = 'v0.25.0';

/** A release number: [major, minor, patch]. */
export type StashVersionNumber = readonly [number, number, number];

/**
 * The number of a version as Stash reports it: `v0.27.2`, `0.27.2`, or a development build's
 * `git describe` (`v0.28.1-12-gabc1234`, counted as v0.28.1). Null for anything else (an empty string:
 * a build without version stamp, internal/build/version.go).
 */
export function parseStashVersion(text: string | null | undefined): StashVersionNumber | null {
  const m = /^v?(\d{1,6})\.(\d{1,6})\.(\d{1,6})(?:[-+][0-9A-Za-z.-]*)?$/.exec((text ?? '').trim());
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : null;
}

function compare(a: StashVersionNumber, b: StashVersionNumber): number {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
}

/** How a batch of scenes is asked for: `findScenes(ids: [ID!])` or the older `findScenes(scene_ids: [Int!])`. */
export type SceneIdsArgument = 'ids' | 'scene_ids';

/** What stash2plex knows of the Stash server it talks to, from `version { version }`. */
export interface StashServerInfo {
  /** As Stash reports it (`v0.27.2`, `v0.28.1-12-gabc1234` for a development build); null: not reported. */
  version: string | null;
  /** Null when the text is not a version (a build without version stamp). */
  parsed: StashVersionNumber | null;
  sceneIdsArgument: SceneIdsArgument;
  /** Whether a scene has `groups` (v0.27.0 on); else its groups are read as `movies`, which every version has. */
  groups: boolean;
}

/** Whether a version is `bound` (a constant above, e.g. STASH_MIN_VERSION) or newer. */
export function stashVersionAtLeast(version: StashVersionNumber, bound: string): boolean {
  const b = parseStashVersion(bound);
  if (b === null) throw new RangeError(`not a Stash version: ${bound}`);
  return compare(version, b) >= 0;
}
const atLeast = stashVersionAtLeast;

/**
 * What a Stash version offers. An unknown version reads batches with `scene_ids`: every Stash release
 * to date has it, while `ids` needs v0.25.0.
 */
export function stashServerInfo(version: string | null): StashServerInfo {
  const parsed = parseStashVersion(version);
  const ids = parsed !== null && atLeast(parsed, STASH_FIND_SCENES_IDS_SINCE);
  const groups = parsed !== null && atLeast(parsed, STASH_GROUPS_SINCE);
  return { version: version === '' ? null : version, parsed, sceneIdsArgument: ids ? 'ids' : 'scene_ids', groups };
}

/** The one line a worker logs at start about the Stash it talks to, and how loud. */
export function stashVersionNote(info: StashServerInfo): { level: 'info' | 'warn' | 'error'; message: string } {
  const batch = `findScenes(${info.sceneIdsArgument})`;
  if (info.parsed === null) {
    const shown = info.version === null ? 'not reported' : JSON.stringify(info.version.slice(0, 40));
    return {
      level: 'warn',
      message: `Stash version ${shown}: assuming a supported one (${STASH_MIN_VERSION} or newer), scenes read with ${batch}`,
    };
  }
  if (!atLeast(info.parsed, STASH_MIN_VERSION)) {
    return {
      level: 'error',
      message: `Stash ${info.version} is too old: stash2plex needs Stash ${STASH_MIN_VERSION} or newer (${STASH_PLUGIN_MIN_VERSION} for the Node plugin); upgrade Stash`,
    };
  }
  if (!atLeast(info.parsed, STASH_PLUGIN_MIN_VERSION)) {
    return {
      level: 'warn',
      message: `Stash ${info.version}: scenes read with ${batch}; the Node plugin needs Stash ${STASH_PLUGIN_MIN_VERSION} (the HTTP hook variants work)`,
    };
  }
  return { level: 'info', message: `Stash ${info.version}: scenes read with ${batch}` };
}
