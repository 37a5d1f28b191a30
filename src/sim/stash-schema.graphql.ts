// The simulator's fallback schema, used only when the reference copy of Stash's schema is absent: the
// part of Stash's schema that src/stash-api/queries.ts touches, copied (names, types, nullability, argument
// types) from Stash's graphql/schema. test/unit/stash-queries.test.ts checks every type, field and
// argument here against the real schema whenever it is present, so this cannot drift into fiction.
export const EMBEDDED_STASH_SDL = /* GraphQL */ `
  scalar Time
  scalar Int64
  scalar PluginConfigMap

  enum CriterionModifier {
    EQUALS
    NOT_EQUALS
    GREATER_THAN
    LESS_THAN
    IS_NULL
    NOT_NULL
    INCLUDES_ALL
    INCLUDES
    EXCLUDES
    MATCHES_REGEX
    NOT_MATCHES_REGEX
    BETWEEN
    NOT_BETWEEN
  }

  enum SortDirectionEnum {
    ASC
    DESC
  }

  input FindFilterType {
    q: String
    page: Int
    per_page: Int
    sort: String
    direction: SortDirectionEnum
  }

  input TimestampCriterionInput {
    value: String!
    value2: String
    modifier: CriterionModifier!
  }

  input MultiCriterionInput {
    value: [ID!]
    modifier: CriterionModifier!
    excludes: [ID!]
  }

  input HierarchicalMultiCriterionInput {
    value: [ID!]
    modifier: CriterionModifier!
    depth: Int
    excludes: [ID!]
  }

  input SceneFilterType {
    AND: SceneFilterType
    OR: SceneFilterType
    NOT: SceneFilterType
    studios: HierarchicalMultiCriterionInput
    tags: HierarchicalMultiCriterionInput
    performers: MultiCriterionInput
    groups: HierarchicalMultiCriterionInput
    movies: MultiCriterionInput @deprecated(reason: "use groups instead")
    created_at: TimestampCriterionInput
    updated_at: TimestampCriterionInput
  }

  input PerformerFilterType {
    updated_at: TimestampCriterionInput
  }

  input StudioFilterType {
    updated_at: TimestampCriterionInput
  }

  input TagFilterType {
    updated_at: TimestampCriterionInput
  }

  input GroupFilterType {
    updated_at: TimestampCriterionInput
  }

  input MovieFilterType {
    updated_at: TimestampCriterionInput
  }

  type Query {
    findScene(id: ID, checksum: String): Scene
    findScenes(scene_filter: SceneFilterType, scene_ids: [Int!], ids: [ID!], filter: FindFilterType): FindScenesResultType!
    findPerformers(performer_filter: PerformerFilterType, filter: FindFilterType, ids: [ID!]): FindPerformersResultType!
    findStudios(studio_filter: StudioFilterType, filter: FindFilterType, ids: [ID!]): FindStudiosResultType!
    findTags(tag_filter: TagFilterType, filter: FindFilterType, ids: [ID!]): FindTagsResultType!
    findGroups(group_filter: GroupFilterType, filter: FindFilterType, ids: [ID!]): FindGroupsResultType!
    findMovies(movie_filter: MovieFilterType, filter: FindFilterType, ids: [ID!]): FindMoviesResultType!
      @deprecated(reason: "Use findGroups instead")
    configuration: ConfigResult!
    version: Version!
  }

  type Version {
    version: String
    hash: String!
    build_time: String!
  }

  type FindPerformersResultType {
    count: Int!
    performers: [Performer!]!
  }

  type FindStudiosResultType {
    count: Int!
    studios: [Studio!]!
  }

  type FindTagsResultType {
    count: Int!
    tags: [Tag!]!
  }

  type FindGroupsResultType {
    count: Int!
    groups: [Group!]!
  }

  type FindMoviesResultType {
    count: Int!
    movies: [Movie!]!
  }

  type ConfigResult {
    plugins(include: [ID!]): PluginConfigMap!
  }

  type FindScenesResultType {
    count: Int!
    duration: Float!
    filesize: Float!
    scenes: [Scene!]!
  }

  type Scene {
    id: ID!
    title: String
    code: String
    details: String
    director: String
    urls: [String!]!
    date: String
    rating100: Int
    organized: Boolean!
    created_at: Time!
    updated_at: Time!
    files: [VideoFile!]!
    paths: ScenePathsType!
    studio: Studio
    tags: [Tag!]!
    performers: [Performer!]!
    groups: [SceneGroup!]!
    movies: [SceneMovie!]! @deprecated(reason: "Use groups")
    stash_ids: [StashID!]!
  }

  type StashID {
    endpoint: String!
    stash_id: String!
    updated_at: Time!
  }

  type ScenePathsType {
    screenshot: String
    preview: String
    stream: String
  }

  type VideoFile {
    id: ID!
    path: String!
    basename: String!
    size: Int64!
    format: String!
    width: Int!
    height: Int!
    duration: Float!
  }

  type Studio {
    id: ID!
    name: String!
    parent_studio: Studio
    image_path: String
    details: String
    created_at: Time!
    updated_at: Time!
  }

  type Performer {
    id: ID!
    name: String!
    created_at: Time!
    updated_at: Time!
    image_path: String
    scene_count: Int!
  }

  type Group {
    id: ID!
    name: String!
    synopsis: String
    created_at: Time!
    updated_at: Time!
    front_image_path: String
  }

  type SceneGroup {
    group: Group!
    scene_index: Int
  }

  type Movie {
    id: ID!
    name: String!
    synopsis: String
    created_at: Time!
    updated_at: Time!
    front_image_path: String
  }

  type SceneMovie {
    movie: Movie!
    scene_index: Int
  }

  type Tag {
    id: ID!
    name: String!
    description: String
    image_path: String
    parents: [Tag!]!
    created_at: Time!
    updated_at: Time!
  }
`;
