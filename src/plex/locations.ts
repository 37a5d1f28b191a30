// Where a Stash file is in Plex's terms: PATH_MAP applied ('/' separators: the path cache's key), the
// allowed library section whose location is the longest prefix of it, and the folder a scan asks for.
import type { PathMapping } from '../core/config.js';
import {
  allowedSections,
  folderOf,
  inLocationStyle,
  mapPath,
  normalisePlexPath,
  pickSection,
  type PlexSection,
  type SectionMatch,
} from './paths.js';
import type { PlexServer } from './server.js';

export class PlexLocations {
  constructor(
    private readonly server: PlexServer,
    private pathMap: PathMapping[],
    /** Library section titles to search (null: all movie-type sections). */
    readonly libraries: string[] | null,
  ) {}

  /** A PATH_MAP changed in Stash's plugin settings (src/settings/reload.ts): the next lookup uses it. */
  setPathMap(pathMap: PathMapping[]): void {
    this.pathMap = pathMap;
  }

  /** A Stash file's path with PATH_MAP applied, separators as given. */
  mapped(stashPath: string): string {
    return mapPath(stashPath, this.pathMap);
  }

  /** A Stash file's path as Plex would hold it: PATH_MAP applied, '/' separators (the path cache's key). */
  plexPathOf(stashPath: string): string {
    return normalisePlexPath(this.mapped(stashPath));
  }

  /** The allowed section holding a (mapped) path, from the cached section list and, failing that, a fresh one. */
  async sectionMatch(plexPath: string): Promise<SectionMatch | null> {
    // A library added in the last minute is not in the cached list yet: look once more, fresh.
    return (
      pickSection(await this.server.sections(), plexPath, this.libraries) ??
      pickSection(await this.server.sections(true), plexPath, this.libraries)
    );
  }

  /** The allowed section holding a Plex file, from the cached section list only. */
  async sectionOf(plexFile: string): Promise<SectionMatch | null> {
    return pickSection(await this.server.sections(), plexFile, this.libraries);
  }

  /** The sections PLEX_LIBRARIES allows (all movie-type sections when it is empty). */
  async allowedSections(): Promise<PlexSection[]> {
    return allowedSections(await this.server.sections(), this.libraries);
  }

  /** Whether an allowed library's location holds the (mapped) file: a folder scan could then bring it in. Cached sections only. */
  async covers(stashPath: string): Promise<boolean> {
    return (await this.sectionOf(this.plexPathOf(stashPath))) !== null;
  }

  /**
   * Where a scan would find a Stash file Plex does not hold: the library whose location is the longest
   * prefix of the mapped path, and the folder in Plex's terms. Null when no allowed library covers it.
   */
  async scanTarget(stashPath: string): Promise<{ sectionKey: string; folder: string } | null> {
    const plexPath = this.mapped(stashPath);
    const match = await this.sectionMatch(plexPath);
    const folder = folderOf(plexPath);
    return match && folder ? { sectionKey: match.section.key, folder: inLocationStyle(folder, match.location) } : null;
  }
}
