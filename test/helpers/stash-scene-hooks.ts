// The hookContexts Stash sends for scene saves, written out as they arrive in `args.hookContext`
// (docs/REAL-SERVERS.md, "One hook per scene saved, with the mutation's whole input", has the upstream
// sources). The simulator must build exactly these (test/integration/stash-sim-hooks.test.ts); the
// hooks must record every one of them (unit, HTTP and process tests). `inputFields` lists the keys the
// client gave, in any order (Stash reads them off a Go map): here in the schema's order.

/** models.SceneUpdateInput as Go serialises it (no omitempty): every field, in the struct's order. */
export const NULL_SCENE_UPDATE_INPUT = {
  clientMutationId: null,
  id: null,
  title: null,
  code: null,
  details: null,
  director: null,
  url: null,
  urls: null,
  date: null,
  rating100: null,
  o_counter: null,
  organized: null,
  studio_id: null,
  gallery_ids: null,
  performer_ids: null,
  movies: null,
  groups: null,
  tag_ids: null,
  cover_image: null,
  stash_ids: null,
  resume_time: null,
  play_duration: null,
  play_count: null,
  primary_file_id: null,
} as const;

/** sceneUpdate(input: {id, title}): one hook, the scene's own input. */
export const sceneUpdateHook = (id: number, title: string) => ({
  id,
  type: 'Scene.Update.Post',
  input: { ...NULL_SCENE_UPDATE_INPUT, id: String(id), title },
  inputFields: ['id', 'title'],
});

/**
 * scenesUpdate(input: [{id: a, title, date}, {id: b, tag_ids: [tag]}]) (the Scene Filename Parser's
 * save, plugins'): a hook per scene, and each gets the inputs of BOTH scenes as `input`, with its own
 * fields as `inputFields`.
 */
export function scenesUpdateHooks(a: number, b: number, s: { title: string; date: string; tag: string }) {
  const input = [
    { ...NULL_SCENE_UPDATE_INPUT, id: String(a), title: s.title, date: s.date },
    { ...NULL_SCENE_UPDATE_INPUT, id: String(b), tag_ids: [s.tag] },
  ];
  return [
    { id: a, type: 'Scene.Update.Post', input, inputFields: ['id', 'title', 'date'] },
    { id: b, type: 'Scene.Update.Post', input, inputFields: ['id', 'tag_ids'] },
  ];
}

/**
 * bulkSceneUpdate(input: {ids, performer_ids: {ids: [performer], mode: SET}, tag_ids: {ids: [tag],
 * mode: ADD}}) (the scene list's "Edit" of several scenes): a hook per scene, each with the one
 * BulkSceneUpdateInput as `input`, only the fields given (gqlgen's omitempty).
 */
export function bulkSceneUpdateHooks(ids: number[], s: { performer: string; tag: string }) {
  const input = { ids: ids.map(String), performer_ids: { ids: [s.performer], mode: 'SET' }, tag_ids: { ids: [s.tag], mode: 'ADD' } };
  return ids.map((id) => ({ id, type: 'Scene.Update.Post', input, inputFields: ['ids', 'performer_ids', 'tag_ids'] }));
}

/**
 * A scan that found the scene's file moved, renamed or changed (pkg/file/scan.go → pkg/scene/scan.go
 * associateExisting: RegisterPostHooks(ctx, id, SceneUpdatePost, nil, nil)): `"input": null` and no
 * `inputFields` (omitempty).
 */
export const scanUpdateHook = (id: number) => ({ id, type: 'Scene.Update.Post', input: null });

/** The plugin input Stash writes to a raw plugin's stdin around a hookContext (pkg/plugin/common/msg.go). */
export function stashPluginInput(
  hookContext: unknown,
  conn: { port: number; pluginDir: string; cookie?: { name: string; value: string } },
) {
  return JSON.stringify({
    server_connection: {
      Scheme: 'http',
      Host: '0.0.0.0',
      Port: conn.port,
      SessionCookie: conn.cookie
        ? { Name: conn.cookie.name, Value: conn.cookie.value, Path: '', Domain: '', Expires: '0001-01-01T00:00:00Z' }
        : null,
      Dir: conn.pluginDir,
      PluginDir: conn.pluginDir,
    },
    args: { hookContext },
  });
}
