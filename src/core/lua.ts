// Lua scripts as named files, as BullMQ keeps them (taskforcesh/bullmq src/commands/*.lua): each in a
// `lua/` folder beside the code that runs it, named `<command>-<number of keys>.lua` (no suffix: the
// caller passes the key count), opening with a `--[[ … ]]` header of its KEYS, ARGV and return value.
//
// Scheme (one for tsc-built code, vitest and the Stash plugin bundle):
//  - `luaScript('dlq/lua/restoreDedup-2.lua')` reads the file ONCE, when the module defining it loads,
//    through src/core/lua-source.ts: from src/ under vitest, from dist/src/ after `npm run build` (the
//    build's scripts/copy-assets.mjs copies src/**/*.lua there; tsc does not);
//  - the esbuild bundles swap lua-source.ts for a table of the files' text (esbuild's `text` loader), so
//    the plugin folder needs no .lua file beside it;
//  - `runLua` registers the script on a connection the first time it runs there (ioredis `defineCommand`:
//    EVALSHA, with EVAL once when Redis does not know the script yet) and calls it.
import type { RedisConnection } from './redis.js';
import { readLuaSource } from './lua-source.js';

export interface LuaScript {
  /** The ioredis command name it is registered under (prefixed, so it cannot meet BullMQ's). */
  name: string;
  /** From the file name's `-N` suffix; undefined: the caller passes the key count first. */
  numberOfKeys: number | undefined;
  lua: string;
}

const FILE_NAME = /(?:^|\/)([A-Za-z][A-Za-z0-9]*)(?:-(\d+))?\.lua$/;

/** The script in `file` (relative to src/), read now. */
export function luaScript(file: string): LuaScript {
  const m = FILE_NAME.exec(file);
  if (!m) throw new Error(`Lua script file name must be <command>[-<keys>].lua, not ${file}`);
  return { name: `s2p:${m[1]}`, numberOfKeys: m[2] === undefined ? undefined : Number(m[2]), lua: readLuaSource(file) };
}

type ScriptCommand = (...args: (string | number)[]) => Promise<unknown>;
const defined = new WeakMap<RedisConnection, Set<string>>();

/** Runs `script` with `keys` and `args` on `redis`, registering it there on first use. */
export function runLua(
  redis: RedisConnection,
  script: LuaScript,
  keys: readonly string[],
  args: readonly (string | number)[],
): Promise<unknown> {
  if (script.numberOfKeys !== undefined && script.numberOfKeys !== keys.length) {
    throw new Error(`${script.name} takes ${script.numberOfKeys} keys, not ${keys.length}`);
  }
  let names = defined.get(redis);
  if (!names) defined.set(redis, (names = new Set()));
  if (!names.has(script.name)) {
    redis.defineCommand(script.name, { numberOfKeys: script.numberOfKeys, lua: script.lua });
    names.add(script.name);
  }
  const command = (redis as unknown as Record<string, ScriptCommand>)[script.name].bind(redis);
  return script.numberOfKeys === undefined ? command(keys.length, ...keys, ...args) : command(...keys, ...args);
}
