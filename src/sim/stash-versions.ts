// The Stash simulator as an older Stash: the schema changes that touch stash2plex's documents, undone on
// the vendored (current) schema, newest first. Each names the release that made it, as read in
// stashapp/stash graphql/schema (see docs/REAL-SERVERS.md, "Older Stash"). Only these differences are
// modelled, so the simulator goes no further back than SIM_OLDEST_STASH.
import { buildASTSchema, Kind, parse, parseType, type DocumentNode, type FieldDefinitionNode, type GraphQLSchema } from 'graphql';
import { parseStashVersion, STASH_PLUGIN_MIN_VERSION, stashVersionAtLeast } from '../stash-api/stash-version.js';

/** The oldest Stash the simulator can be: the oldest the Node plugin loads in. */
export const SIM_OLDEST_STASH = STASH_PLUGIN_MIN_VERSION;
/** What the simulator reports by default: a build of the commit vendor/stash-graphql-schema comes from. */
export const SIM_DEFAULT_STASH_VERSION = 'v0.30.1-19-gcf3489efd';

interface SchemaChange {
  /** The release that made the change: a simulated version before it gets the change undone. */
  since: string;
  undo(doc: DocumentNode): DocumentNode;
}

/** `doc` with one field of an object type replaced by `edit(field)`; throws when there is no such field. */
function editField(
  doc: DocumentNode,
  typeName: string,
  fieldName: string,
  edit: (f: FieldDefinitionNode) => FieldDefinitionNode,
): DocumentNode {
  let found = false;
  const definitions = doc.definitions.map((d) => {
    if (d.kind !== Kind.OBJECT_TYPE_DEFINITION || d.name.value !== typeName) return d;
    const fields = d.fields?.map((f) => {
      if (f.name.value !== fieldName) return f;
      found = true;
      return edit(f);
    });
    return { ...d, fields };
  });
  if (!found) throw new Error(`stash simulator: the schema has no ${typeName}.${fieldName} to change`);
  return { ...doc, definitions };
}

/** `doc` without one field of an object type; throws when there is no such field. */
function withoutField(doc: DocumentNode, typeName: string, fieldName: string): DocumentNode {
  editField(doc, typeName, fieldName, (f) => f);
  const definitions = doc.definitions.map((d) =>
    d.kind === Kind.OBJECT_TYPE_DEFINITION && d.name.value === typeName
      ? { ...d, fields: d.fields?.filter((f) => f.name.value !== fieldName) }
      : d,
  );
  return { ...doc, definitions };
}

const CHANGES: SchemaChange[] = [
  {
    // graphql/schema/types/scene.graphql and schema.graphql at v0.27.0: movies became groups (`Scene.groups`
    // and `findGroups` added, `movies` and `findMovies` deprecated but kept); before it only movies.
    since: 'v0.27.0',
    undo: (doc) => withoutField(withoutField(doc, 'Scene', 'groups'), 'Query', 'findGroups'),
  },
  {
    // graphql/schema/schema.graphql and types/config.graphql at v0.25.0: `findScenes(ids: [ID!])` added
    // (scene_ids deprecated), `configuration.plugins(include:)` from [String!] to [ID!].
    since: 'v0.25.0',
    undo: (doc) => {
      const noIds = editField(doc, 'Query', 'findScenes', (f) => {
        if (!f.arguments?.some((a) => a.name.value === 'ids')) throw new Error('stash simulator: findScenes has no ids argument');
        return { ...f, arguments: f.arguments.filter((a) => a.name.value !== 'ids') };
      });
      return editField(noIds, 'ConfigResult', 'plugins', (f) => ({
        ...f,
        arguments: f.arguments?.map((a) => (a.name.value === 'include' ? { ...a, type: parseType('[String!]') } : a)),
      }));
    },
  },
];

/**
 * The schema Stash `version` serves, built from the current SDL: null when it is the current one (a
 * version at or after every change, or one that is not a version number). Throws below SIM_OLDEST_STASH.
 */
export function schemaOfVersion(sdl: string, version: string): GraphQLSchema | null {
  const v = parseStashVersion(version);
  if (v === null) return null;
  if (!stashVersionAtLeast(v, SIM_OLDEST_STASH))
    throw new RangeError(`stash simulator: Stash ${version} is not simulated (the oldest is ${SIM_OLDEST_STASH})`);
  const undo = CHANGES.filter((c) => !stashVersionAtLeast(v, c.since));
  if (undo.length === 0) return null;
  return buildASTSchema(undo.reduce((doc, c) => c.undo(doc), parse(sdl)));
}
