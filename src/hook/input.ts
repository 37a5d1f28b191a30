// The Stash hook's input and output, pure: the triggers it registers, the JSON a raw plugin reads on
// stdin (stashapp/stash pkg/plugin/common/msg.go: PluginInput, HookContext), parsed and bounded, and the
// one JSON line it prints on stdout (`{"output": …}` / `{"error": …}`). Shared by the Node hook
// (workers/stash-plugin.ts, and its tasks) and the HTTP hook (src/dashboard/stash-hook.ts), which
// answers in the same form.
//
// On the hook's hot path (bundled into dist/stash-plugin/stash2plex.cjs, which Stash waits for on every
// scene save): it imports only `zod/mini` (a few KB, ~3 ms to load), never `zod` itself (~450 KB,
// 20–30 ms) nor anything that does.
import * as z from 'zod/mini';

/** Largest stdin accepted. Stash's hook input is a few KB even for a bulk edit of many scenes. */
export const MAX_INPUT_BYTES = 1024 * 1024;
/** Scene saves: the scene itself is queued (src/hook/decide.ts decides whether Plex shows what changed). */
export const SCENE_HOOK_TRIGGERS = ['Scene.Update.Post', 'Scene.Create.Post'] as const;
/**
 * Renames and merges of what scenes carry: Stash fires no scene hook for them, so one fan-out event is
 * recorded and the workers re-sync every scene carrying it. hookContext.id is the performer, studio or
 * tag (for Tag.Merge.Post the merge's destination: Stash's TagsMerge fires it with the destination's id).
 */
export const RENAME_HOOK_TRIGGERS = ['Performer.Update.Post', 'Studio.Update.Post', 'Tag.Update.Post', 'Tag.Merge.Post'] as const;
/** Every hook the plugin registers (the manifests' triggeredBy) and acts on. */
export const HOOK_TRIGGERS = [...SCENE_HOOK_TRIGGERS, ...RENAME_HOOK_TRIGGERS] as const;
export type SceneHookTrigger = (typeof SCENE_HOOK_TRIGGERS)[number];
export type RenameHookTrigger = (typeof RENAME_HOOK_TRIGGERS)[number];
export type HookTrigger = (typeof HOOK_TRIGGERS)[number];

// ---- stdin ----------------------------------------------------------------------------------------

/** zod/mini carries no English messages: each schema says what it wants, and "is missing" when absent. */
const want = (what: string) => ({
  error: (issue: { input?: unknown }) => (issue.input === undefined ? 'is missing' : `must be ${what}`),
});

const sessionCookieSchema = z.nullish(
  z.looseObject({ Name: z.string(want('a string')), Value: z.string(want('a string')) }, want('an object')),
);

const serverConnectionSchema = z.looseObject(
  {
    // Stash always sends these; they are needed only to call Stash back (settings, tasks), so an input
    // without them is still a valid hook input (stashUrl() then says what is missing).
    Scheme: z.optional(z.string(want('a string'))),
    Host: z.optional(z.string(want('a string'))),
    Port: z.optional(z.union([z.number(), z.string()], want('a number'))),
    SessionCookie: sessionCookieSchema,
    Dir: z.nullish(z.string(want('a string'))),
    PluginDir: z.nullish(z.string(want('a string'))),
  },
  want('an object'),
);

const hookContextSchema = z.looseObject(
  {
    id: z.union([z.number(), z.string()], want('a scene id')),
    type: z.string(want('a string')),
    input: z.nullish(z.record(z.string(), z.unknown(), want('an object'))),
    inputFields: z.nullish(z.array(z.string(want('a string')), want('an array of strings'))),
  },
  want('an object'),
);

const argsSchema = z.looseObject(
  {
    mode: z.optional(z.string(want('a string'))),
    hookContext: z.nullish(hookContextSchema),
  },
  want('an object'),
);

const pluginInputSchema = z.looseObject(
  {
    server_connection: serverConnectionSchema,
    args: z.nullish(argsSchema),
  },
  want('a JSON object'),
);

export type ServerConnection = z.infer<typeof serverConnectionSchema>;
export type HookContext = z.infer<typeof hookContextSchema>;
export type PluginArgs = z.infer<typeof argsSchema>;
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
  const parsed = z.safeParse(pluginInputSchema, raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const path = issue.path.map(String).join('.');
    return { ok: false, error: `invalid plugin input: ${path ? `${path} ` : ''}${issue.message}` };
  }
  return { ok: true, input: { server_connection: parsed.data.server_connection, args: parsed.data.args ?? {} } };
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
