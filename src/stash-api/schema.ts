// Loads Stash's GraphQL schema from its source files (schema.graphql + types/*.graphql, as in Stash's
// repository under graphql/schema/). Shared by the simulator, which executes against it, and the
// query test, which validates every document the client sends. graphql-js is needed only here and in
// the simulator: the client itself sends plain strings.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { buildSchema, type GraphQLSchema } from 'graphql';

/** Where the vendored copy of Stash's schema lives (vendor/stash-graphql-schema/README.md), or S2P_STASH_SCHEMA_DIR. */
export function defaultStashSchemaDir(cwd: string = process.cwd()): string {
  return resolve(cwd, process.env.S2P_STASH_SCHEMA_DIR ?? 'vendor/stash-graphql-schema');
}

/** The SDL of the folder (schema.graphql first, then types/ in name order), or null if absent. */
export function readStashSchemaSource(dir: string): string | null {
  const main = join(dir, 'schema.graphql');
  if (!existsSync(main)) return null;
  const typesDir = join(dir, 'types');
  const parts = [readFileSync(main, 'utf8')];
  if (existsSync(typesDir)) {
    for (const f of readdirSync(typesDir)
      .filter((n) => n.endsWith('.graphql'))
      .sort()) {
      parts.push(readFileSync(join(typesDir, f), 'utf8'));
    }
  }
  return parts.join('\n');
}

const cache = new Map<string, GraphQLSchema>();

/** The schema built from the folder, or null when the folder has no schema.graphql. Cached per path. */
export function loadStashSchema(dir: string): GraphQLSchema | null {
  const key = resolve(dir);
  const hit = cache.get(key);
  if (hit) return hit;
  const sdl = readStashSchemaSource(key);
  if (sdl === null) return null;
  const schema = buildSchema(sdl);
  cache.set(key, schema);
  return schema;
}
