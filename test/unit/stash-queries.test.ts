// Every document the Stash client sends must be valid against Stash's real schema, and the simulator's
// embedded fallback schema must be a faithful subset of it. The real schema is vendored in
// vendor/stash-graphql-schema, so these checks always run.
import { buildSchema, isInputObjectType, isObjectType, isEnumType, parse, validate, type GraphQLSchema } from 'graphql';
import type { GraphQLField, GraphQLInputField } from 'graphql';
import { describe, expect, it } from 'vitest';
import { EMBEDDED_STASH_SDL } from '../../src/sim/stash-schema.graphql.js';
import { schemaOfVersion } from '../../src/sim/stash-versions.js';
import { ALL_QUERIES, pluginConfigurationQuery, withMovies, withPerformerSceneCounts } from '../../src/stash-api/queries.js';
import { defaultStashSchemaDir, loadStashSchema, readStashSchemaSource } from '../../src/stash-api/schema.js';

// S2P_STASH_SCHEMA_DIR points the check at another copy (e.g. a newer Stash's graphql/schema).
const dir = defaultStashSchemaDir();
const loaded = loadStashSchema(dir);
if (!loaded) throw new Error(`Stash's schema is missing: ${dir} (schema.graphql + types/*.graphql)`);
const real: GraphQLSchema = loaded;
const embedded = buildSchema(EMBEDDED_STASH_SDL);

function errorsOf(schema: GraphQLSchema, doc: string): string[] {
  return validate(schema, parse(doc)).map((e) => e.message);
}

describe('Stash queries', () => {
  it('lists every exported document', () => {
    expect(Object.keys(ALL_QUERIES).sort()).toEqual(
      [
        'FIND_SCENE',
        'FIND_SCENES_BY_IDS',
        'FIND_SCENES_BY_SCENE_IDS',
        'FIND_SCENES_BY_PERFORMER',
        'FIND_SCENES_BY_STUDIO',
        'FIND_SCENES_BY_TAG',
        'FIND_SCENES_BY_GROUP',
        'FIND_SCENES_BY_MOVIE',
        'FIND_SCENES_PAGE',
        'FIND_SCENES_UPDATED',
        'FIND_SCENE_IDS_PAGE',
        'FIND_PERFORMERS_UPDATED',
        'FIND_STUDIOS_UPDATED',
        'FIND_TAGS_UPDATED',
        'FIND_GROUPS_UPDATED',
        'FIND_MOVIES_UPDATED',
        'PLUGIN_CONFIGURATION',
        'STASH_CLOCK',
        'STASH_CLOCK_MOVIES',
        'STASH_VERSION',
      ].sort(),
    );
  });

  it("every scene document, with performers' scene counts added, is still valid against both schemas", () => {
    const sceneDocs = Object.entries(ALL_QUERIES).filter(([, doc]) => doc.includes('performers { id name image_path }'));
    expect(sceneDocs.map(([name]) => name).sort()).toEqual([
      'FIND_SCENE',
      'FIND_SCENES_BY_IDS',
      'FIND_SCENES_BY_SCENE_IDS',
      'FIND_SCENES_PAGE',
    ]);
    for (const [name, doc] of sceneDocs) {
      const counted = withPerformerSceneCounts(doc);
      expect(counted, name).toContain('scene_count');
      expect(errorsOf(real, counted), name).toEqual([]);
      expect(errorsOf(embedded, counted), name).toEqual([]);
      expect(errorsOf(real, withMovies(counted)), name).toEqual([]);
    }
  });

  for (const [name, doc] of Object.entries(ALL_QUERIES)) {
    it(`${name} is valid against the real Stash schema`, () => {
      expect(errorsOf(real, doc)).toEqual([]);
    });
    it(`${name} is valid against the simulator's embedded schema`, () => {
      expect(errorsOf(embedded, doc)).toEqual([]);
    });
  }

  it('Stash v0.24 (as the simulator serves it) takes every document but FIND_SCENES_BY_IDS and those of groups', () => {
    const v024 = schemaOfVersion(readStashSchemaSource(dir)!, 'v0.24.0')!;
    // No findGroups before v0.27.0: the client sends the movies documents there (answering under the same names).
    const groupDocs = ['FIND_GROUPS_UPDATED', 'STASH_CLOCK'];
    for (const name of groupDocs) {
      expect(errorsOf(v024, ALL_QUERIES[name as keyof typeof ALL_QUERIES]), name).toEqual([
        expect.stringMatching(/^Cannot query field "findGroups" on type "Query"\./),
      ]);
    }
    for (const [name, doc] of [...Object.entries(ALL_QUERIES)].filter(([n]) => !groupDocs.includes(n))) {
      // A scene document goes to a Stash before v0.27.0 with movies for groups (withMovies), valid on the current one too.
      const sent = doc.includes('groups { group {') ? withMovies(doc) : doc;
      if (sent !== doc) expect(errorsOf(v024, doc), name).toContain('Cannot query field "groups" on type "Scene".');
      if (sent !== doc) expect(errorsOf(real, sent), name).toEqual([]);
      // The sim's v0.24 keeps the groups criterion (only Scene.groups is undone): the client sends FIND_SCENES_BY_MOVIE there.
      if (name === 'FIND_SCENES_BY_IDS') expect(errorsOf(v024, sent)).toEqual(['Unknown argument "ids" on field "Query.findScenes".']);
      else expect(errorsOf(v024, sent), name).toEqual([]);
    }
    // The plugin id is a literal: include is [String!] there, [ID!] now, and a variable fits only one.
    const withVariable = 'query Q($id: ID!) { configuration { plugins(include: [$id]) } }';
    expect(errorsOf(real, withVariable)).toEqual([]);
    expect(errorsOf(v024, withVariable)).toEqual(['Variable "$id" of type "ID!" used in position expecting type "String!".']);
    expect(errorsOf(real, pluginConfigurationQuery('a "quoted" \\ id'))).toEqual([]);
    expect(schemaOfVersion(readStashSchemaSource(dir)!, 'v0.27.0')).toBeNull();
  });

  it('a document with a field Stash lacks is rejected (the check has teeth)', () => {
    expect(errorsOf(real, '{ findScene(id: 1) { id plex_key } }')).not.toEqual([]);
  });

  it('the embedded schema is a faithful subset of the real one', () => {
    const problems: string[] = [];
    for (const type of Object.values(embedded.getTypeMap())) {
      if (type.name.startsWith('__')) continue;
      const other = real.getType(type.name);
      if (!other) {
        problems.push(`type ${type.name} missing`);
        continue;
      }
      if (isEnumType(type)) {
        const values = isEnumType(other) ? other.getValues().map((v) => v.name) : [];
        for (const v of type.getValues()) if (!values.includes(v.name)) problems.push(`${type.name}.${v.name} missing`);
      } else if (isObjectType(type) || isInputObjectType(type)) {
        if (!(isObjectType(other) || isInputObjectType(other)) || isObjectType(type) !== isObjectType(other)) {
          problems.push(`${type.name} has another kind`);
          continue;
        }
        const fields = other.getFields();
        for (const [name, field] of Object.entries<GraphQLField<unknown, unknown> | GraphQLInputField>(type.getFields())) {
          const theirs = fields[name];
          if (!theirs) problems.push(`${type.name}.${name} missing`);
          else if (String(theirs.type) !== String(field.type))
            problems.push(`${type.name}.${name}: ${String(field.type)} ≠ ${String(theirs.type)}`);
          else if ('args' in field && 'args' in theirs) {
            for (const arg of field.args) {
              const a = theirs.args.find((x) => x.name === arg.name);
              if (!a || String(a.type) !== String(arg.type)) problems.push(`${type.name}.${name}(${arg.name}) differs`);
            }
          }
        }
      }
    }
    expect(problems).toEqual([]);
  });
});
