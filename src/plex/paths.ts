// Pure path handling: Stash path → Plex path, Plex path normalisation, library section choice,
// and the title guess used by the search fallback. No I/O here.
import type { PathMapping } from '../core/config.js';

/** A Plex library section as stash2plex needs it (from `GET /library/sections`). */
export interface PlexSection {
  key: string;
  title: string;
  type: string;
  /** `Location[].path`, as Plex reports them (not normalised). */
  locations: string[];
}

/** The section chosen for a file, and the location of it that matched. */
export interface SectionMatch {
  section: PlexSection;
  location: string;
}

/** Backslashes → '/'. Nothing else changes (case, duplicate separators stay as they are). */
export const toSlashes = (filePath: string): string => filePath.replace(/\\/g, '/');

/**
 * The form two Plex paths are compared in: '/' separators and no Win32 long-path prefix
 * (`\\?\C:\x` → `C:/x`, `\\?\UNC\srv\share` → `//srv/share`). Otherwise exact: Plex stores the path
 * it scanned, so anything looser could confuse two different files.
 */
export function normalisePlexPath(filePath: string): string {
  const s = toSlashes(filePath);
  if (/^\/\/\?\/UNC\//i.test(s)) return `//${s.slice('//?/UNC/'.length)}`;
  if (s.startsWith('//?/')) return s.slice('//?/'.length);
  return s;
}

/** The path without trailing separators, except a lone root ('/' stays '/', 'C:/' stays 'C:/'). */
function trimTrailing(p: string): string {
  const t = p.replace(/\/+$/, '');
  if (t === '') return p.startsWith('/') ? '/' : '';
  return /^[A-Za-z]:$/.test(t) ? `${t}/` : t;
}

/**
 * The rest of `path` below `prefix` ('' when equal, '/…' when below), or null when `prefix` is not a
 * prefix on a path-component boundary (`/media/a` is not a prefix of `/media/ab/x`).
 */
export function relativeTo(path: string, prefix: string): string | null {
  const base = trimTrailing(prefix);
  if (base === '') return null;
  if (path === base) return '';
  if (base.endsWith('/')) return path.startsWith(base) ? `/${path.slice(base.length)}` : null;
  return path.startsWith(`${base}/`) ? path.slice(base.length) : null;
}

/** Joins a mapped prefix and a remainder from relativeTo() without doubling the separator. */
function join(prefix: string, rest: string): string {
  if (rest === '') return prefix;
  return prefix.endsWith('/') ? prefix + rest.slice(1) : prefix + rest;
}

/**
 * Stash's path of a file → the path Plex sees. The longest matching `from` prefix wins (so a specific
 * mapping beats a general one whatever their order), on a path-component boundary. Separators are
 * normalised to '/' on both sides; with no matching mapping the path is returned normalised.
 */
export function mapPath(stashPath: string, pathMap: readonly PathMapping[]): string {
  const path = normalisePlexPath(stashPath);
  let best: { from: string; to: string; rest: string } | null = null;
  for (const m of pathMap) {
    const from = trimTrailing(normalisePlexPath(m.from));
    const rest = relativeTo(path, from);
    if (rest === null) continue;
    if (!best || from.length > best.from.length) best = { from, to: trimTrailing(normalisePlexPath(m.to)), rest };
  }
  return best ? join(best.to, best.rest) : path;
}

/** The allowed section (allowedSections) whose location is the longest prefix of the (mapped) path; null when none holds it. */
export function pickSection(
  sections: readonly PlexSection[],
  mappedPath: string,
  libraries: readonly string[] | null = null,
): SectionMatch | null {
  const path = normalisePlexPath(mappedPath);
  let best: { match: SectionMatch; length: number } | null = null;
  for (const section of allowedSections(sections, libraries)) {
    for (const location of section.locations) {
      const loc = trimTrailing(normalisePlexPath(location));
      if (relativeTo(path, loc) === null) continue;
      if (!best || loc.length > best.length) best = { match: { section, location }, length: loc.length };
    }
  }
  return best?.match ?? null;
}

/**
 * The sections stash2plex searches: movie-type ones (movies and "other videos" libraries), among the
 * allowed titles (`null`/empty = all; compared case-insensitively, as users type them into PLEX_LIBRARIES).
 */
export function allowedSections(sections: readonly PlexSection[], libraries: readonly string[] | null = null): PlexSection[] {
  const allowed = libraries?.length ? new Set(libraries.map((t) => t.trim().toLowerCase())) : null;
  return sections.filter((s) => s.type === 'movie' && (!allowed || allowed.has(s.title.trim().toLowerCase())));
}

/** The path in the separator style of the Plex location (Plex on Windows filters by `C:\…` paths). */
export function inLocationStyle(path: string, location: string): string {
  return location.includes('\\') ? path.replace(/\//g, '\\') : path;
}

/**
 * Title Plex most likely derived from the file name: base name without extension, dots and
 * underscores as spaces, whitespace collapsed. Used as a substring filter, so it is only a hint.
 */
export function titleGuess(path: string): string {
  const base = toSlashes(path).split('/').pop() ?? '';
  const stem = base.replace(/\.[^.]*$/, '') || base;
  return stem.replace(/[._]+/g, ' ').replace(/\s+/g, ' ').trim();
}

/** The last component of a path (either separator), as the base-name fallback compares it. */
export function baseName(path: string): string {
  return normalisePlexPath(path).split('/').pop() ?? '';
}

/** The folder holding a file ('/' or 'C:/' for a file at a root), '' for a bare name. */
export function folderOf(path: string): string {
  const p = normalisePlexPath(path);
  const cut = p.lastIndexOf('/');
  if (cut < 0) return '';
  return trimTrailing(p.slice(0, cut + 1));
}

/**
 * The PATH_MAP pair that would have mapped `stashPath` exactly onto `plexPath`: the longest common tail of
 * whole components is dropped and the two heads remain (`/data/stash/x/y.mp4` ↔ `/media/x/y.mp4` ⇒
 * `/data/stash=/media`). Null when the paths are already equal, when no component is common (the file
 * names differ, even in case: no prefix mapping could help), or when the pair does not check out.
 * Given the Plex library location holding the file, the pair maps onto that location when the tail allows
 * (`/data/stash=/media/stash` rather than `/data=/media`): it then says nothing about other folders.
 */
export function suggestPathMap(stashPath: string, plexPath: string, plexLocation?: string): PathMapping | null {
  const a = normalisePlexPath(stashPath);
  const b = normalisePlexPath(plexPath);
  if (a === b) return null;
  const location = plexLocation === undefined ? '' : trimTrailing(normalisePlexPath(plexLocation));
  const rest = location ? relativeTo(b, location) : null;
  if (rest && a.endsWith(rest) && a.length > rest.length) {
    const pair = { from: trimTrailing(a.slice(0, a.length - rest.length)), to: location };
    if (pair.from !== '' && mapPath(a, [pair]) === b) return pair;
  }
  const as = a.split('/');
  const bs = b.split('/');
  let common = 0;
  while (common < as.length - 1 && common < bs.length - 1 && as[as.length - 1 - common] === bs[bs.length - 1 - common]) common++;
  if (common === 0) return null;
  const head = (parts: string[]) => trimTrailing(parts.slice(0, parts.length - common).join('/') || '/');
  const pair = { from: head(as), to: head(bs) };
  return pair.from !== '' && pair.to !== '' && mapPath(a, [pair]) === b ? pair : null;
}

/**
 * Why PLEX_LIBRARIES does not fit the server's sections: a title no section has, or one naming a
 * library that is not a movie library (stash2plex edits movie-type items only). Empty when it fits or
 * when no titles are given (every movie library is searched then).
 */
export function libraryProblems(sections: readonly PlexSection[], libraries: readonly string[] | null): string[] {
  const out: string[] = [];
  for (const wanted of libraries ?? []) {
    const key = wanted.trim().toLowerCase();
    const found = sections.filter((s) => s.title.trim().toLowerCase() === key);
    const titles = sections.map((s) => `"${s.title}" (${s.type})`).join(', ') || 'none';
    if (found.length === 0) out.push(`PLEX_LIBRARIES: Plex has no library "${wanted}" (its libraries: ${titles})`);
    else if (!found.some((s) => s.type === 'movie')) {
      out.push(`PLEX_LIBRARIES: "${wanted}" is a ${found[0].type} library; stash2plex needs a movie or other-videos library`);
    }
  }
  return out;
}
