// Pure: Stash scene → what Plex should show (every field; src/sync/ownership.ts decides what is sent).
import { DEFAULTS, type Config } from '../core/config.js';
import type { DesiredPlexState, PlexEdit, StashScene } from '../model/types.js';
import { performerImageVersion, performerPhotoUrl } from './image-links.js';

export const LIMITS = { title: 255, summary: 10_000, tag: 255, studio: 255, tagline: 255 } as const;

// C0/C1 control characters except tab and newline (kept in summaries), plus lone surrogates (in `u` mode a
// surrogate pair is one code point, so \p{Cs} matches only a lone half).
const CONTROL = /(?![\t\n])\p{Cc}|\p{Cs}/gu;

/** Removes control characters, trims, and bounds the length without splitting a surrogate pair. */
export function cleanText(value: string | null | undefined, max: number, multiline = false): string {
  let s = (value ?? '').replace(CONTROL, '');
  s = multiline ? s.replace(/\r\n?/g, '\n').replace(/\t/g, ' ') : s.replace(/\s+/g, ' ');
  s = s.trim();
  if (s.length <= max) return s;
  const cut = Array.from(s.slice(0, max + 1));
  while (cut.join('').length > max) cut.pop();
  return cut.join('').trimEnd();
}

/** Cleaned, non-empty, de-duplicated (first spelling wins, case-insensitively); MAX_TAGS bounds it later. */
export function cleanTags(names: readonly (string | null | undefined)[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const n of names) {
    const t = cleanText(n, LIMITS.tag);
    const k = t.toLowerCase();
    if (!t || seen.has(k)) continue;
    seen.add(k);
    out.push(t);
  }
  return out;
}

const basenameWithoutExtension = (path: string) => (path.split(/[\\/]/).pop() ?? '').replace(/\.[^.]+$/, '');

/** A valid YYYY-MM-DD date or ''. */
function cleanDate(date: string | null): string {
  if (!date || !/^\d{4}-\d{2}-\d{2}$/.test(date)) return '';
  const d = new Date(`${date}T00:00:00Z`);
  return Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== date ? '' : date;
}

/**
 * Pure: actor name (cleaned as the actor list is) → photo URL (src/sync/image-links.ts), for the scene's
 * performers that have an image of their own; the first performer of a name wins.
 */
export function actorPhotoUrls(performers: StashScene['performers'], baseUrl: string, secret: string): Record<string, string> {
  const out: Record<string, string> = {};
  const seen = new Set<string>();
  for (const p of performers) {
    const name = cleanText(p.name, LIMITS.tag);
    const version = performerImageVersion(p.image_path);
    if (!name || seen.has(name.toLowerCase())) continue;
    seen.add(name.toLowerCase());
    if (p.id && version !== null) out[name] = performerPhotoUrl(baseUrl, secret, p.id, version);
  }
  return out;
}

/** What actor photos need: DASHBOARD_PUBLIC_URL and the signing secret (src/sync/image-links.ts). */
export interface PhotoLinks {
  baseUrl: string;
  secret: string;
}

/** The English leading articles a sort title drops (README, "What is synced"). */
const LEADING_ARTICLE = /^(?:the|an|a)\s+(?=\S)/i;

/**
 * Pure: the title without its leading article (The, A, An, any case), or '' when it has none: a sort
 * title equal to the title is what Plex sorts by anyway (python-plexapi plexapi/video.py: titleSort
 * defaults to the title), so none is set.
 */
export function sortTitle(title: string): string {
  const stripped = title.replace(LEADING_ARTICLE, '');
  return stripped === title ? '' : stripped;
}

/** Pure: the first non-empty line of a scene's details, cleaned and bounded (a tagline is one line). */
export function firstLine(details: string | null | undefined): string {
  const line = cleanText(details, LIMITS.summary, true)
    .split('\n')
    .find((l) => l.trim() !== '');
  return cleanText(line, LIMITS.tagline);
}

/** Pure: the scene's tags named in LABEL_TAGS (compared case-insensitively), in the scene's spelling. */
export function labelsOf(tags: StashScene['tags'], labelTags: readonly string[]): string[] {
  const wanted = new Set(cleanTags(labelTags).map((t) => t.toLowerCase()));
  return cleanTags(tags.map((t) => t.name)).filter((t) => wanted.has(t.toLowerCase()));
}

/**
 * The settings the later fields come from: CONTENT_RATING (every scene's content rating; '' sets none,
 * though then config leaves `contentrating` out of SYNC_FIELDS) and LABEL_TAGS. Absent: CONTENT_RATING's
 * default and no labels.
 */
export type FieldSources = Pick<Config['sync'], 'contentRating' | 'labelTags'> & {
  /** The titles of the scene's collections (src/sync/collections.ts sceneCollections); absent: the studio's. */
  collections?: readonly string[];
};
const DEFAULT_SOURCES: FieldSources = { contentRating: DEFAULTS.CONTENT_RATING ?? '', labelTags: [] };

/** `photos`: actor photos are wanted (absent: none are decided, whatever Plex shows). */
export function desiredState(scene: StashScene, photos?: PhotoLinks, sources: FieldSources = DEFAULT_SOURCES): DesiredPlexState {
  // Stash shows the file name when a scene has no title; Plex should show the same.
  const title = cleanText(scene.title, LIMITS.title) || cleanText(basenameWithoutExtension(scene.files[0]?.path ?? ''), LIMITS.title);
  const studio = cleanText(scene.studio?.name, LIMITS.studio);
  const tags: DesiredPlexState['tags'] = {
    genre: cleanTags(scene.tags.map((t) => t.name)),
    actor: cleanTags(scene.performers.map((p) => p.name)),
    // SYNC_FIELDS `collection`: the scene's collections, or the one named after the studio.
    collection: sources.collections ? [...sources.collections] : studio ? [studio] : [],
    label: labelsOf(scene.tags, sources.labelTags),
  };
  const rating = scene.rating100;
  return {
    scalars: {
      title,
      summary: cleanText(scene.details, LIMITS.summary, true),
      studio,
      originallyAvailableAt: cleanDate(scene.date),
      contentRating: cleanText(sources.contentRating, LIMITS.tag),
      originalTitle: cleanText(scene.code, LIMITS.title),
      titleSort: sortTitle(title),
      tagline: firstLine(scene.details),
    },
    tags,
    userRating: typeof rating === 'number' && Number.isFinite(rating) ? Math.min(10, Math.max(0, rating / 10)) : null,
    posterUrl: scene.paths?.screenshot ?? null,
    ...(photos ? { actorPhotos: actorPhotoUrls(scene.performers, photos.baseUrl, photos.secret) } : {}),
  };
}

export type SyncMode = 'mirror' | 'merge';

export function isEmptyEdit(edit: PlexEdit): boolean {
  return (
    Object.keys(edit.scalars).length === 0 && Object.keys(edit.tags).length === 0 && edit.userRating === undefined && !edit.unlock?.length
  );
}
