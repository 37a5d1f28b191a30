// Pure: the parts of Plex's JSON responses stash2plex reads (shapes from plex-api-spec.yaml), validated
// loosely (extra fields pass, absent arrays default to []) so a newer server does not break parsing.
import { z } from 'zod';
import type { PlexPoster } from '../model/types.js';
import type { PlexSection } from './paths.js';

/**
 * A Plex response that is not what the endpoint should answer: `missing` (no item), `malformed` (the
 * answer as a whole: no MediaContainer, a Metadata that is not a list) or `malformed-item` (one item).
 */
export class PlexResponseError extends Error {
  constructor(
    readonly kind: 'missing' | 'malformed' | 'malformed-item',
    message: string,
  ) {
    super(message);
    this.name = 'PlexResponseError';
  }
}

// Plex sends ids as strings in JSON but numbers in some versions (librarySectionID, Location.id).
const id = z.union([z.string(), z.number()]).transform(String);
// Plex's JSON encoder has been seen to emit numeric-looking strings (a film titled "300") as numbers.
const text = z.union([z.string(), z.number()]).transform(String);
const tag = z.looseObject({ tag: text });
const tags = z.array(tag).default([]);
/** An actor (`Role`): its name and, when it has one, the URL of its photo (`thumb`; an unreadable one reads as none). */
const roles = z.array(tag.extend({ thumb: z.string().optional().catch(undefined) })).default([]);

// Part.size: bytes (python-plexapi plexapi/media.py MediaPart.size); unreadable reads as unknown.
const part = z.looseObject({ file: z.string().optional(), size: z.number().optional().catch(undefined) });
const media = z.looseObject({ Part: z.array(part).default([]) });

const fieldList = z.array(z.looseObject({ name: z.string(), locked: z.union([z.boolean(), z.number(), z.string()]).optional() }));

export const metadataSchema = z.looseObject({
  ratingKey: id,
  title: text.default(''),
  summary: text.default(''),
  studio: text.default(''),
  originallyAvailableAt: z.string().default(''),
  // Absent when unset (python-plexapi plexapi/video.py Movie reads them with attrib.get; titleSort falls back to the title).
  contentRating: text.default(''),
  originalTitle: text.default(''),
  titleSort: text.default(''),
  tagline: text.default(''),
  userRating: z.number().nullable().optional(),
  librarySectionID: id.optional(),
  thumb: z.string().optional().catch(undefined),
  art: z.string().optional().catch(undefined),
  Genre: tags,
  Role: roles,
  Collection: tags,
  Label: tags,
  Media: z.array(media).default([]),
  Field: fieldList.optional().default([]),
});
export type PlexMetadata = z.infer<typeof metadataSchema>;

/**
 * An item of a listing (`/library/sections/{key}/all`): a listing reads only its ratingKey, section and
 * files, so any other field that does not parse reads as its default. The full read of the item
 * (metadataSchema) still judges those fields, and fails that one job if they are wrong.
 */
const listedSchema = metadataSchema.extend({
  title: text.default('').catch(''),
  summary: text.default('').catch(''),
  studio: text.default('').catch(''),
  originallyAvailableAt: z.string().default('').catch(''),
  contentRating: text.default('').catch(''),
  originalTitle: text.default('').catch(''),
  titleSort: text.default('').catch(''),
  tagline: text.default('').catch(''),
  userRating: z.number().nullable().optional().catch(undefined),
  Genre: tags.catch([]),
  Role: tags.catch([]),
  Collection: tags.catch([]),
  Label: tags.catch([]),
  Field: fieldList.optional().default([]).catch([]),
});

// The container alone: its items are judged one by one (itemsOf), so one bad item spoils only itself.
const metadataContainer = z.looseObject({
  MediaContainer: z.looseObject({
    totalSize: z.number().optional(),
    size: z.number().optional(),
    librarySectionID: id.optional(),
    Metadata: z.array(z.unknown()).default([]),
  }),
});

const sectionsContainer = z.looseObject({
  MediaContainer: z.looseObject({
    Directory: z
      .array(
        z.looseObject({
          key: id,
          title: z.string(),
          type: z.string(),
          Location: z.array(z.looseObject({ path: z.string() })).default([]),
        }),
      )
      .optional()
      .default([]),
  }),
});

const identityContainer = z.looseObject({
  MediaContainer: z.looseObject({ machineIdentifier: z.string(), version: z.string().default('') }),
});

function parse<T extends z.ZodType>(schema: T, json: unknown, what: string): z.output<T> {
  const r = schema.safeParse(json);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  throw new PlexResponseError('malformed', `unexpected ${what} response (${issue?.path.join('.') || 'body'}: ${issue?.message})`);
}

/** An item of an answer that does not parse: its ratingKey when that much is readable, and why (the field named). */
export interface BadItem {
  ratingKey: string | null;
  reason: string;
}

/** The items of a listing or item answer, judged one by one. */
export interface MetadataList {
  items: PlexMetadata[];
  bad: BadItem[];
  /** Entries in the answer, good and bad: a page is short only when this is. */
  listed: number;
  totalSize: number | null;
}

/** The first problem of an item, naming the field: `userRating: Invalid input: expected number, received string`. */
function issueText(error: z.ZodError): string {
  const issue = error.issues[0];
  return `${issue?.path.join('.') || 'item'}: ${issue?.message ?? 'invalid'}`;
}

/** A bad item's ratingKey, if it has a readable one. */
function looseKey(raw: unknown): string | null {
  const key = (raw as { ratingKey?: unknown } | null)?.ratingKey;
  return (typeof key === 'string' && key !== '') || typeof key === 'number' ? String(key) : null;
}

/**
 * `MediaContainer.Metadata[]`, each item parsed on its own: a bad one goes to `bad`, the others are
 * read. An item without librarySectionID takes the container's (python-plexapi plexapi/base.py
 * `fetchItems` does the same). A container that is not one throws PlexResponseError `malformed`.
 */
function itemsOf(json: unknown, schema: typeof metadataSchema | typeof listedSchema): MetadataList {
  const mc = parse(metadataContainer, json, 'metadata').MediaContainer;
  const items: PlexMetadata[] = [];
  const bad: BadItem[] = [];
  for (const raw of mc.Metadata) {
    const r = schema.safeParse(raw);
    if (!r.success) {
      bad.push({ ratingKey: looseKey(raw), reason: issueText(r.error) });
      continue;
    }
    // r.data is the parser's own new object: setting the field costs far less than a copy (a 1000-item page).
    if (r.data.librarySectionID === undefined && mc.librarySectionID !== undefined) r.data.librarySectionID = mc.librarySectionID;
    items.push(r.data);
  }
  return { items, bad, listed: mc.Metadata.length, totalSize: mc.totalSize ?? null };
}

/** The items of `GET /library/metadata/{k1},{k2},…` (every field read is judged). */
export const parseMetadataList = (json: unknown): MetadataList => itemsOf(json, metadataSchema);

/** The items of a page of `/library/sections/{key}/all` (only the fields a listing reads are judged). */
export const parseListingPage = (json: unknown): MetadataList => itemsOf(json, listedSchema);

export function parseSections(json: unknown): PlexSection[] {
  return parse(sectionsContainer, json, 'sections').MediaContainer.Directory.map((d) => ({
    key: d.key,
    title: d.title,
    type: d.type,
    locations: d.Location.map((l) => l.path),
  }));
}

export function parseIdentity(json: unknown): { machineIdentifier: string; version: string } {
  const mc = parse(identityContainer, json, 'identity').MediaContainer;
  return { machineIdentifier: mc.machineIdentifier, version: mc.version };
}

// `GET /library/metadata/{ratingKey}/posters`: python-plexapi reads `Photo` elements with ratingKey and
// selected (plexapi/media.py BaseResource); JSON lists them under MediaContainer.Metadata.
const flag = z.union([z.boolean(), z.number(), z.string()]).optional();
const postersContainer = z.looseObject({
  MediaContainer: z.looseObject({
    Metadata: z
      .array(z.looseObject({ ratingKey: z.string(), selected: flag, provider: z.string().optional().catch(undefined) }))
      .default([]),
  }),
});

/** The posters Plex offers for an item, the selected one marked. */
export function parsePosters(json: unknown): PlexPoster[] {
  return parse(postersContainer, json, 'posters').MediaContainer.Metadata.map((p) => ({
    ratingKey: p.ratingKey,
    selected: p.selected === true || p.selected === 1 || p.selected === '1' || p.selected === 'true',
    provider: p.provider ?? null,
  }));
}

/** Every `Media[].Part[].file` of an item (as Plex reports it). */
export const filesOf = (metadata: PlexMetadata): string[] =>
  metadata.Media.flatMap((md) => md.Part.map((p) => p.file)).filter((f): f is string => typeof f === 'string' && f !== '');
