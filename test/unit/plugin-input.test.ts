// The hook's input check (src/hook/input.ts) is written by hand, to keep zod off the hook's hot path.
// Here it must agree with the zod/mini schema it replaced (kept below as the reference): the same inputs
// accepted, the same first message for the rest, over the field table and thousands of generated inputs
// (a valid input with one or two of its fields replaced by values of every JSON type).
import { describe, expect, it } from 'vitest';
import * as z from 'zod/mini';
import { parsePluginInput } from '../../src/hook/input.js';
import { rng } from '../helpers/rng.js';
import { bulkSceneUpdateHooks, sceneUpdateHook, scenesUpdateHooks } from '../helpers/stash-scene-hooks.js';

// ---- the zod/mini schema of src/hook/input.ts before the hand check --------------------------------
// (`input` since widened to any JSON value: Stash's scenesUpdate passes an array.)

const want = (what: string) => ({
  error: (issue: { input?: unknown }) => (issue.input === undefined ? 'is missing' : `must be ${what}`),
});
const reference = z.looseObject(
  {
    server_connection: z.looseObject(
      {
        Scheme: z.optional(z.string(want('a string'))),
        Host: z.optional(z.string(want('a string'))),
        Port: z.optional(z.union([z.number(), z.string()], want('a number'))),
        SessionCookie: z.nullish(z.looseObject({ Name: z.string(want('a string')), Value: z.string(want('a string')) }, want('an object'))),
        Dir: z.nullish(z.string(want('a string'))),
        PluginDir: z.nullish(z.string(want('a string'))),
      },
      want('an object'),
    ),
    args: z.nullish(
      z.looseObject(
        {
          mode: z.optional(z.string(want('a string'))),
          hookContext: z.nullish(
            z.looseObject(
              {
                id: z.union([z.number(), z.string()], want('a scene id')),
                type: z.string(want('a string')),
                // Any JSON value: an object, the array of scenesUpdate, null (src/hook/input.ts).
                input: z.optional(z.unknown()),
                inputFields: z.nullish(z.array(z.string(want('a string')), want('an array of strings'))),
              },
              want('an object'),
            ),
          ),
        },
        want('an object'),
      ),
    ),
  },
  want('a JSON object'),
);

function referenceParse(value: unknown) {
  const parsed = z.safeParse(reference, value);
  if (parsed.success) return { ok: true, input: { server_connection: parsed.data.server_connection, args: parsed.data.args ?? {} } };
  const issue = parsed.error.issues[0];
  const path = issue.path.map(String).join('.');
  return { ok: false, error: `invalid plugin input: ${path ? `${path} ` : ''}${issue.message}` };
}

// ---- generated inputs ------------------------------------------------------------------------------

const VALID = {
  server_connection: {
    Scheme: 'http',
    Host: 'localhost',
    Port: 9999,
    SessionCookie: { Name: 'session', Value: 'v' },
    Dir: '/stash',
    PluginDir: '/stash/plugins/stash2plex',
  },
  args: {
    mode: 'sync_all',
    hookContext: { id: 12, type: 'Scene.Update.Post', input: { id: '12', title: 'x' }, inputFields: ['title', 'id'] },
  },
};

/** Every path to a field of VALID (and one level below, where the field is an object or an array). */
function paths(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  if (typeof value !== 'object' || value === null) return [];
  const keys: (string | number)[] = Array.isArray(value) ? value.map((_, i) => i) : Object.keys(value);
  return keys.flatMap((k) => [[...prefix, k], ...paths((value as Record<string | number, unknown>)[k], [...prefix, k])]);
}
const PATHS = [[], ...paths(VALID)];

const ODD_VALUES: unknown[] = [undefined, null, true, 0, -1, 1.5, '', '7', 'x', [], ['a'], [1], {}, { Name: 1 }, { id: 1 }, [null]];

function mutated(r: () => number): unknown {
  const root: { v: unknown } = { v: structuredClone(VALID) };
  for (let n = 1 + Math.floor(r() * 2); n > 0; n--) {
    const path = PATHS[Math.floor(r() * PATHS.length)];
    const value = structuredClone(ODD_VALUES[Math.floor(r() * ODD_VALUES.length)]);
    let parent: Record<string | number, unknown> = root;
    let key: string | number = 'v';
    for (const k of path) {
      const next = parent[key];
      if (typeof next !== 'object' || next === null) break;
      parent = next as Record<string | number, unknown>;
      key = k;
    }
    if (value === undefined && !Array.isArray(parent)) delete parent[key];
    else parent[key] = value;
  }
  return root.v;
}

describe('parsePluginInput: the hand check agrees with the zod/mini schema it replaced', () => {
  it('on every field of a valid input replaced by each odd value', () => {
    for (const path of PATHS) {
      for (const value of ODD_VALUES) {
        const input = structuredClone(VALID) as Record<string | number, unknown>;
        if (path.length === 0) {
          const text = JSON.stringify(value) ?? '';
          if (text.trim()) expect(parsePluginInput(text), text).toEqual(referenceParse(JSON.parse(text)));
          continue;
        }
        let parent = input;
        for (const k of path.slice(0, -1)) parent = parent[k] as Record<string | number, unknown>;
        if (value === undefined) delete parent[path.at(-1)!];
        else parent[path.at(-1)!] = value;
        const text = JSON.stringify(input);
        expect(parsePluginInput(text), `${path.join('.')} = ${JSON.stringify(value)}`).toEqual(referenceParse(JSON.parse(text)));
      }
    }
  });

  it('on 5000 inputs with one or two fields replaced', () => {
    const r = rng(15);
    let rejected = 0;
    for (let i = 0; i < 5000; i++) {
      const text = JSON.stringify(mutated(r)) ?? 'null';
      const ours = parsePluginInput(text);
      if (!ours.ok) rejected++;
      expect(ours, text).toEqual(referenceParse(JSON.parse(text)));
    }
    // The generator reaches both outcomes plenty of times.
    expect(rejected).toBeGreaterThan(500);
    expect(rejected).toBeLessThan(4500);
  });
});

describe('parsePluginInput: the scene saves as Stash sends them', () => {
  const conn = { server_connection: VALID.server_connection };
  it.each([
    ['sceneUpdate (an object)', sceneUpdateHook(45, 'New title')],
    ["scenesUpdate (the array of every scene's input)", scenesUpdateHooks(45, 46, { title: 'Parsed', date: '2024-05-06', tag: '7' })[1]],
    ['bulkSceneUpdate ({ids, mode} relations)', bulkSceneUpdateHooks([45, 46, 47], { performer: '3', tag: '7' })[2]],
    ['a scan (input null)', { id: 45, type: 'Scene.Update.Post', input: null }],
    ['an input of any other JSON value', { id: 45, type: 'Scene.Update.Post', input: 'x', inputFields: ['title'] }],
  ])('accepts %s and hands the hookContext on as it came', (_, hookContext) => {
    const parsed = parsePluginInput(JSON.stringify({ ...conn, args: { hookContext } }));
    expect(parsed).toEqual({ ok: true, input: { ...conn, args: { hookContext } } });
  });
});
