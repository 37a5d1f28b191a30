// The Stash hook's input and output, pure: the triggers it registers, the JSON a raw plugin reads on
// stdin (stashapp/stash pkg/plugin/common/msg.go: PluginInput, HookContext), parsed and bounded, and the
// one JSON line it prints on stdout (`{"output": …}` / `{"error": …}`). Shared by the Node hook
// (src/stash-plugin/plugin-process.ts, and its tasks) and the HTTP hook (src/dashboard/stash-hook.ts), which
// answers in the same form.
//
// On the hook's hot path (bundled into dist/stash-plugin/stash2plex.cjs, which Stash waits for on every
// scene save): it imports only the one-line `isObject`. The input is checked by hand (a few lines below) rather than with
// zod/mini, whose schema construction alone cost the hook ~4 ms (a tenth of a `node -e 0`);
// test/unit/plugin-input.test.ts checks the messages against the zod/mini schema they replaced.

import { isObject } from '../core/is-object.js';

/**
 * The dashboard's HTTP hook endpoint (src/dashboard/stash-hook.ts), which takes this same input by POST
 * from a plugin whose exec is wget or curl (src/stash-plugin/http-manifest.ts builds those manifests).
 */
export const HTTP_HOOK_PATH = '/api/stash/hook';
/**
 * The Content-Type of the HTTP hook's token-in-body form: HOOK_TOKEN, a newline, then the plugin input.
 * stash2plex.sh posts it with wget, which reads no header from a file (so the token stays out of argv).
 */
export const HTTP_HOOK_TOKEN_BODY_TYPE = 'application/x-stash2plex-hook';

/**
 * Largest stdin accepted. A hook's input is a few KB, except for scenesUpdate, which hands every scene's
 * hook the inputs of all the scenes saved together: about 0.5 KB a scene (the Scene Filename Parser
 * saves at most a page of 1000 at once).
 */
export const MAX_INPUT_BYTES = 1024 * 1024;
/** Scene saves: the scene itself is queued (src/hook/decide.ts decides whether Plex shows what changed). */
export const SCENE_HOOK_TRIGGERS = ['Scene.Update.Post', 'Scene.Create.Post'] as const;
/**
 * Renames and merges of what scenes carry: Stash fires no scene hook for them, so one fan-out event is
 * recorded and the workers re-sync every scene carrying it. hookContext.id is the performer, studio or
 * tag (for Tag.Merge.Post the merge's destination: Stash's TagsMerge fires it with the destination's id).
 */
/**
 * Group.Update.Post from Stash v0.27.0, Movie.Update.Post before (and still, deprecated: stashapp/stash
 * internal/api/resolver_mutation_group.go runs both; pkg/plugin/hook/hooks.go).
 */
export const RENAME_HOOK_TRIGGERS = [
  'Performer.Update.Post',
  'Studio.Update.Post',
  'Tag.Update.Post',
  'Tag.Merge.Post',
  'Group.Update.Post',
  'Movie.Update.Post',
] as const;
/** Every hook the plugin registers (the manifests' triggeredBy) and acts on. */
export const HOOK_TRIGGERS = [...SCENE_HOOK_TRIGGERS, ...RENAME_HOOK_TRIGGERS] as const;
export type SceneHookTrigger = (typeof SCENE_HOOK_TRIGGERS)[number];
export type RenameHookTrigger = (typeof RENAME_HOOK_TRIGGERS)[number];
export type HookTrigger = (typeof HOOK_TRIGGERS)[number];

// ---- stdin ----------------------------------------------------------------------------------------

/** What is wrong with the input: where (`args.hookContext.id`), and what it must be. */
interface Issue {
  path: readonly (string | number)[];
  message: string;
}
/** Checks a value at `path`: null when it fits, else the first issue (in the order the fields are listed). */
type Check = (value: unknown, path: readonly (string | number)[]) => Issue | null;

/** "is missing" when absent, else "must be <what>". */
const issue = (value: unknown, path: readonly (string | number)[], what: string): Issue => ({
  path,
  message: value === undefined ? 'is missing' : `must be ${what}`,
});

const when =
  (test: (v: unknown) => boolean, what: string): Check =>
  (v, path) =>
    test(v) ? null : issue(v, path, what);
const isString = (v: unknown) => typeof v === 'string';
const aString = when(isString, 'a string');
const numberOrString = (what: string) => when((v) => typeof v === 'number' || typeof v === 'string', what);
const optional =
  (check: Check): Check =>
  (v, path) =>
    v === undefined ? null : check(v, path);
const nullish =
  (check: Check): Check =>
  (v, path) =>
    v === undefined || v === null ? null : check(v, path);
/** An object with at least these fields (others pass through). */
const objectOf =
  (fields: Record<string, Check>, what: string): Check =>
  (v, path) => {
    if (!isObject(v)) return issue(v, path, what);
    for (const [key, check] of Object.entries(fields)) {
      const found = check(v[key], [...path, key]);
      if (found) return found;
    }
    return null;
  };
const arrayOfStrings: Check = (v, path) => {
  if (!Array.isArray(v)) return issue(v, path, 'an array of strings');
  const bad = v.findIndex((e) => !isString(e));
  return bad < 0 ? null : issue(v[bad], [...path, bad], 'a string');
};

const checkSessionCookie = nullish(objectOf({ Name: aString, Value: aString }, 'an object'));

const checkServerConnection = objectOf(
  {
    // Stash always sends these; they are needed only to call Stash back (settings, tasks), so an input
    // without them is still a valid hook input (stashUrl() then says what is missing).
    Scheme: optional(aString),
    Host: optional(aString),
    Port: optional(numberOrString('a number')),
    SessionCookie: checkSessionCookie,
    Dir: nullish(aString),
    PluginDir: nullish(aString),
  },
  'an object',
);

// `input` is any JSON value: Stash passes the mutation's input as it is, an object for sceneUpdate and
// bulkSceneUpdate, the array of every scene's input for scenesUpdate (stashapp/stash
// internal/api/resolver_mutation_scene.go), null for a scan. The decision reads it only when
// `inputFields` is absent (src/hook/decide.ts).
const checkHookContext = objectOf(
  {
    id: numberOrString('a scene id'),
    type: aString,
    inputFields: nullish(arrayOfStrings),
  },
  'an object',
);

const checkArgs = objectOf({ mode: optional(aString), hookContext: nullish(checkHookContext) }, 'an object');

const checkPluginInput = objectOf({ server_connection: checkServerConnection, args: nullish(checkArgs) }, 'a JSON object');

/** Other fields Stash sends pass through (`[key: string]: unknown`). */
export interface ServerConnection {
  Scheme?: string;
  Host?: string;
  Port?: number | string;
  SessionCookie?: { Name: string; Value: string; [key: string]: unknown } | null;
  Dir?: string | null;
  PluginDir?: string | null;
  [key: string]: unknown;
}
export interface HookContext {
  id: number | string;
  type: string;
  /** The mutation's input as Stash passes it: any JSON value (see checkHookContext). */
  input?: unknown;
  inputFields?: string[] | null;
  [key: string]: unknown;
}
export interface PluginArgs {
  mode?: string;
  hookContext?: HookContext | null;
  [key: string]: unknown;
}
export interface PluginInput {
  server_connection: ServerConnection;
  /** Never null here (a null/absent `args` parses as {}). */
  args: PluginArgs;
}

export type ParseResult = { ok: true; input: PluginInput } | { ok: false; error: string };

/** stdin text → validated input, or an error message fit for `{"error": …}` (no stack, no input echo). */
export function parsePluginInput(text: string): ParseResult {
  // chars ≤ bytes: a text longer in chars than the cap is certainly over it.
  if (text.length > MAX_INPUT_BYTES || Buffer.byteLength(text, 'utf8') > MAX_INPUT_BYTES) {
    return { ok: false, error: `invalid plugin input: larger than ${MAX_INPUT_BYTES} bytes` };
  }
  if (text.trim() === '') return { ok: false, error: 'invalid plugin input: stdin is empty (Stash sends one JSON object)' };
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    // V8's message quotes the input around the fault: keep only the position (the input may hold the
    // session cookie).
    const at = /position (\d+)/.exec((err as Error).message);
    return { ok: false, error: `invalid plugin input: not JSON${at ? ` (syntax error at position ${at[1]})` : ''}` };
  }
  const bad = checkPluginInput(raw, []);
  if (bad) {
    const path = bad.path.map(String).join('.');
    return { ok: false, error: `invalid plugin input: ${path ? `${path} ` : ''}${bad.message}` };
  }
  const input = raw as { server_connection: ServerConnection; args?: PluginArgs | null };
  return { ok: true, input: { server_connection: input.server_connection, args: input.args ?? {} } };
}

// ---- stdout / stderr ------------------------------------------------------------------------------

/** The one stdout line of a successful run. */
export function output(result: unknown): string {
  return `${JSON.stringify({ output: result ?? null })}\n`;
}

/** The one stdout line of a failed run. */
export function errorOutput(message: string): string {
  return `${JSON.stringify({ error: String(message) })}\n`;
}
