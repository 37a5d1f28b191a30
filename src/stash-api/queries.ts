// Every GraphQL document stash2plex sends to Stash. test/unit/stash-queries.test.ts validates each one
// against the real Stash schema, and the simulator executes them against it, so a field or argument
// that Stash does not have fails a test rather than a user's sync.
import { PLUGIN_IDS } from '../hook/settings.js';
import { pluginConfigurationQuery } from '../hook/stash-plugin-config.js';

/** The fields of `StashScene` (src/model/types.ts), as every scene query selects them. */
const SCENE_FIELDS = /* GraphQL */ `
      id
      title
      code
      details
      director
      urls
      date
      rating100
      organized
      updated_at
      studio { id name details image_path parent_studio { id name details image_path } }
      performers { id name image_path }
      tags { id name description image_path parents { name } }
      groups { group { id name synopsis front_image_path } }
      files { path basename size }
      stash_ids { endpoint stash_id }
      paths { screenshot }`;

/**
 * A scene document for Stash before v0.27.0, which has movies, not groups (graphql/schema/types/scene.graphql
 * then: `movies: [SceneMovie!]!`, Movie with the same id, name, synopsis and front_image_path); the
 * client reads them back as groups. Every version to date still has `movies` (deprecated since v0.27.0).
 */
export const withMovies = (doc: string): string => doc.replace('groups { group {', 'movies { movie {');

/**
 * A scene document that also reads each performer's `scene_count`, which only performer collections
 * (COLLECTION_PERFORMERS_MIN > 0) need: Stash counts it per performer and scene read
 * (internal/api/resolver_model_performer.go SceneCount), a cost every other sync is spared.
 */
export const withPerformerSceneCounts = (doc: string): string =>
  doc.replace('performers { id name image_path }', 'performers { id name image_path scene_count }');

/** One scene, with exactly the fields of `StashScene` (src/model/types.ts). */
export const FIND_SCENE = /* GraphQL */ `
  query FindScene($id: ID!) {
    findScene(id: $id) {${SCENE_FIELDS}
    }
  }
`;

/** POSTER_FROM=group: the front image of each group the scene is in (Stash v0.27.0 and later). */
export const SCENE_GROUP_COVERS = /* GraphQL */ `
  query SceneGroupCovers($id: ID!) {
    findScene(id: $id) {
      groups {
        group {
          front_image_path
        }
      }
    }
  }
`;

/** A page of every scene with all its fields, in id order (Reconcile Library reads the library so, 1000 a page). */
export const FIND_SCENES_PAGE = /* GraphQL */ `
  query FindScenesPage($page: Int!, $per_page: Int!) {
    findScenes(filter: { page: $page, per_page: $per_page, sort: "id", direction: ASC }) {
      count
      scenes {${SCENE_FIELDS}
      }
    }
  }
`;

/**
 * Scenes with a file whose path contains `$name` (the base-name fallback's check for duplicates and for
 * items Plex stacked). Stash's `path` criterion matches `folder/basename` with SQL LIKE `%value%`, any
 * case, each whitespace-separated word on its own unless the value is quoted (stashapp/stash
 * pkg/sqlite/criterion_handlers.go pathCriterionHandler, getPathSearchClauseMany): the caller quotes it
 * and compares base names and sizes itself.
 */
export const FIND_SCENES_WITH_FILE_NAMED = /* GraphQL */ `
  query FindScenesWithFileNamed($name: String!, $per_page: Int!) {
    findScenes(scene_filter: { path: { value: $name, modifier: INCLUDES } }, filter: { per_page: $per_page, sort: "id", direction: ASC }) {
      scenes {
        id
        files {
          path
          basename
          size
        }
      }
    }
  }
`;

/**
 * Several scenes by id in one request (the worker's coalesced reads). With `ids`, Stash ignores the
 * filter and paging, and fails the whole request when one id has no scene (stashapp/stash
 * internal/api/resolver_query_find_scene.go FindScenes → pkg/sqlite/scene.go FindMany: "scene with id N
 * not found"); StashClient.findScenes handles that.
 */
export const FIND_SCENES_BY_IDS = /* GraphQL */ `
  query FindScenesByIds($ids: [ID!]!) {
    findScenes(ids: $ids) {
      scenes {${SCENE_FIELDS}
      }
    }
  }
`;

/**
 * FIND_SCENES_BY_IDS for Stash before v0.25.0, which has no `ids` argument (and rejects the document:
 * 422 "Unknown argument"): `scene_ids: [Int!]`, answered the same way (same FindMany). Every Stash
 * version has it; it is deprecated since v0.25.0 (graphql/schema/schema.graphql).
 */
export const FIND_SCENES_BY_SCENE_IDS = /* GraphQL */ `
  query FindScenesBySceneIds($scene_ids: [Int!]!) {
    findScenes(scene_ids: $scene_ids) {
      scenes {${SCENE_FIELDS}
      }
    }
  }
`;

/** The Stash server's version (`v0.27.2`; a development build adds `-N-g<hash>`), read once by a worker at start. */
export const STASH_VERSION = /* GraphQL */ `
  query StashVersion {
    version {
      version
    }
  }
`;

/**
 * Scenes changed in a window, oldest change first (reconciliation). `$updated` is a
 * TimestampCriterionInput: `{value, modifier: GREATER_THAN}` or `{value, value2, modifier: BETWEEN}`.
 */
export const FIND_SCENES_UPDATED = /* GraphQL */ `
  query FindScenesUpdated($updated: TimestampCriterionInput!, $page: Int!, $per_page: Int!) {
    findScenes(scene_filter: { updated_at: $updated }, filter: { page: $page, per_page: $per_page, sort: "updated_at", direction: ASC }) {
      count
      scenes {
        id
        updated_at
      }
    }
  }
`;

/** Every scene, ids only, in id order (Sync All). */
export const FIND_SCENE_IDS_PAGE = /* GraphQL */ `
  query FindSceneIdsPage($page: Int!, $per_page: Int!) {
    findScenes(filter: { page: $page, per_page: $per_page, sort: "id", direction: ASC }) {
      count
      scenes {
        id
      }
    }
  }
`;

/** Scenes with a performer (re-sync after a performer rename, which fires no scene hook). */
export const FIND_SCENES_BY_PERFORMER = /* GraphQL */ `
  query FindScenesByPerformer($ids: [ID!]!, $page: Int!, $per_page: Int!) {
    findScenes(
      scene_filter: { performers: { value: $ids, modifier: INCLUDES } }
      filter: { page: $page, per_page: $per_page, sort: "id", direction: ASC }
    ) {
      count
      scenes {
        id
      }
    }
  }
`;

/**
 * Scenes of a studio or of any of its sub-studios (depth -1): a scene shows its studio's parent
 * name too, so renaming a parent studio concerns the scenes of its children.
 */
export const FIND_SCENES_BY_STUDIO = /* GraphQL */ `
  query FindScenesByStudio($ids: [ID!]!, $page: Int!, $per_page: Int!) {
    findScenes(
      scene_filter: { studios: { value: $ids, modifier: INCLUDES, depth: -1 } }
      filter: { page: $page, per_page: $per_page, sort: "id", direction: ASC }
    ) {
      count
      scenes {
        id
      }
    }
  }
`;

/** Scenes with a tag (the scene's own tags only: that is what the scene query reads). */
export const FIND_SCENES_BY_TAG = /* GraphQL */ `
  query FindScenesByTag($ids: [ID!]!, $page: Int!, $per_page: Int!) {
    findScenes(
      scene_filter: { tags: { value: $ids, modifier: INCLUDES, depth: 0 } }
      filter: { page: $page, per_page: $per_page, sort: "id", direction: ASC }
    ) {
      count
      scenes {
        id
      }
    }
  }
`;

/** Scenes in a group (Stash v0.27.0 on; FIND_SCENES_BY_MOVIE before): a renamed group renames its collection. */
export const FIND_SCENES_BY_GROUP = /* GraphQL */ `
  query FindScenesByGroup($ids: [ID!]!, $page: Int!, $per_page: Int!) {
    findScenes(
      scene_filter: { groups: { value: $ids, modifier: INCLUDES, depth: 0 } }
      filter: { page: $page, per_page: $per_page, sort: "id", direction: ASC }
    ) {
      count
      scenes {
        id
      }
    }
  }
`;

/** FIND_SCENES_BY_GROUP for a Stash before v0.27.0: its groups are movies (`movies` criterion, still there, deprecated). */
export const FIND_SCENES_BY_MOVIE = /* GraphQL */ `
  query FindScenesByMovie($ids: [ID!]!, $page: Int!, $per_page: Int!) {
    findScenes(
      scene_filter: { movies: { value: $ids, modifier: INCLUDES } }
      filter: { page: $page, per_page: $per_page, sort: "id", direction: ASC }
    ) {
      count
      scenes {
        id
      }
    }
  }
`;

/**
 * One relation's own records changed in a window, with the time of the change, oldest first (checkpoint
 * reconciliation of renames whose hook events were lost). `$updated` as in FIND_SCENES_UPDATED. `as`
 * names the answer of a pre-v0.27.0 Stash's `findMovies … movies` as the groups one.
 */
const relationUpdatedQuery = (
  operation: string,
  find: string,
  filter: string,
  list: string,
  as?: { find: string; list: string },
) => /* GraphQL */ `
  query ${operation}($updated: TimestampCriterionInput!, $page: Int!, $per_page: Int!) {
    ${as ? `${as.find}: ` : ''}${find}(
      ${filter}: { updated_at: $updated }
      filter: { page: $page, per_page: $per_page, sort: "updated_at", direction: ASC }
    ) {
      count
      ${as ? `${as.list}: ` : ''}${list} {
        id
        updated_at
      }
    }
  }
`;

export const FIND_PERFORMERS_UPDATED = relationUpdatedQuery('FindPerformersUpdated', 'findPerformers', 'performer_filter', 'performers');
export const FIND_STUDIOS_UPDATED = relationUpdatedQuery('FindStudiosUpdated', 'findStudios', 'studio_filter', 'studios');
export const FIND_TAGS_UPDATED = relationUpdatedQuery('FindTagsUpdated', 'findTags', 'tag_filter', 'tags');
/** Groups (Stash v0.27.0 on): a renamed group renames its collection, and its hook may be lost too. */
export const FIND_GROUPS_UPDATED = relationUpdatedQuery('FindGroupsUpdated', 'findGroups', 'group_filter', 'groups');
/** FIND_GROUPS_UPDATED for a Stash before v0.27.0 (movies), answered under the groups names. */
export const FIND_MOVIES_UPDATED = relationUpdatedQuery('FindMoviesUpdated', 'findMovies', 'movie_filter', 'movies', {
  find: 'findGroups',
  list: 'groups',
});

/**
 * Where Stash's clock stands: the newest `updated_at` of each kind (one request). Its zone suffix is the
 * zone Stash writes in; the newest of all five is the checkpoint's high-water mark. Groups are read as
 * movies from a Stash before v0.27.0 (STASH_CLOCK_MOVIES), named as groups.
 */
const stashClockQuery = (groups: string) => /* GraphQL */ `
  query StashClock {
    scenes: findScenes(filter: { per_page: 1, sort: "updated_at", direction: DESC }) {
      scenes {
        updated_at
      }
    }
    performers: findPerformers(filter: { per_page: 1, sort: "updated_at", direction: DESC }) {
      performers {
        updated_at
      }
    }
    studios: findStudios(filter: { per_page: 1, sort: "updated_at", direction: DESC }) {
      studios {
        updated_at
      }
    }
    tags: findTags(filter: { per_page: 1, sort: "updated_at", direction: DESC }) {
      tags {
        updated_at
      }
    }
    ${groups}
  }
`;
export const STASH_CLOCK = stashClockQuery(`groups: findGroups(filter: { per_page: 1, sort: "updated_at", direction: DESC }) {
      groups {
        updated_at
      }
    }`);
export const STASH_CLOCK_MOVIES = stashClockQuery(`groups: findMovies(filter: { per_page: 1, sort: "updated_at", direction: DESC }) {
      groups: movies {
        updated_at
      }
    }`);

// The plugin's own settings: the hook reads them without this module (src/hook/stash-plugin-config.ts).
export { pluginConfigurationQuery };

/** PLUGIN_CONFIGURATION of every variant's plugin id (the hook, workers and supervisor send it; the query tests check it). */
export const PLUGIN_CONFIGURATION = pluginConfigurationQuery(PLUGIN_IDS);

export const ALL_QUERIES = {
  FIND_SCENE,
  FIND_SCENES_BY_IDS,
  FIND_SCENES_BY_SCENE_IDS,
  FIND_SCENES_PAGE,
  FIND_SCENES_UPDATED,
  FIND_SCENE_IDS_PAGE,
  FIND_SCENES_BY_PERFORMER,
  FIND_SCENES_BY_STUDIO,
  FIND_SCENES_BY_TAG,
  FIND_SCENES_BY_GROUP,
  FIND_SCENES_BY_MOVIE,
  FIND_PERFORMERS_UPDATED,
  FIND_STUDIOS_UPDATED,
  FIND_TAGS_UPDATED,
  FIND_GROUPS_UPDATED,
  FIND_MOVIES_UPDATED,
  PLUGIN_CONFIGURATION,
  STASH_CLOCK,
  STASH_CLOCK_MOVIES,
  STASH_VERSION,
} as const;
