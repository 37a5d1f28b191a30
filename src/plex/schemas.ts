// Pure: the parts of Plex's JSON responses stash2plex reads (shapes from plex-api-spec.yaml), validated
// loosely (extra fields pass, absent arrays default to []) so a newer server does not break parsing.
import { z } from 'zod';
import type { PlexPoster } from '../model/types.js';
import type { PlexSection } from './paths.js';

/** A Plex response that is not what the endpoint should answer: `missing` (no item) or `malformed`. */
export class PlexResponseError extends Error {
  constructor(
    readonly kind: 'missing' | 'malformed',
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

// Part.size: bytes (python-plexapi plexapi/media.py MediaPart.size); unreadable reads as unknown.
const part = z.looseObject({ file: z.string().optional(), size: z.number().optional().catch(undefined) });
const media = z.looseObject({ Part: z.array(part).default([]) });

export const metadataSchema = z.looseObject({
  ratingKey: id,
  title: text.default(''),
  summary: text.default(''),
  studio: text.default(''),
  originallyAvailableAt: z.string().default(''),
  userRating: z.number().nullable().optional(),
  librarySectionID: id.optional(),
  thumb: z.string().optional().catch(undefined),
  Genre: tags,
  Role: tags,
  Collection: tags,
  Label: tags,
  Media: z.array(media).default([]),
  Field: z
    .array(z.looseObject({ name: z.string(), locked: z.union([z.boolean(), z.number(), z.string()]).optional() }))
    .optional()
    .default([]),
});
export type PlexMetadata = z.infer<typeof metadataSchema>;

const metadataContainer = z.looseObject({
  MediaContainer: z.looseObject({
    totalSize: z.number().optional(),
    size: z.number().optional(),
    Metadata: z.array(metadataSchema).default([]),
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

/** `MediaContainer.Metadata[]` of a listing or item response, with the container's totalSize. */
export function parseMetadataList(json: unknown): { items: PlexMetadata[]; totalSize: number | null } {
  const mc = parse(metadataContainer, json, 'metadata').MediaContainer;
  return { items: mc.Metadata, totalSize: mc.totalSize ?? null };
}

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
    Metadata: z.array(z.looseObject({ ratingKey: z.string(), selected: flag, provider: z.string().optional().catch(undefined) })).default([]),
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
export const filesOf = (m: PlexMetadata): string[] =>
  m.Media.flatMap((md) => md.Part.map((p) => p.file)).filter((f): f is string => typeof f === 'string' && f !== '');
