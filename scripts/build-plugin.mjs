#!/usr/bin/env node
// Builds the self-contained Stash plugin folder (default dist/stash-plugin/, or --outdir DIR):
//   stash2plex.cjs        the plugin process's loader (the manifest's exec): runs stash2plex-hook.cjs
//                         from V8's code cache (src/stash-plugin/code-cache.ts)
//   stash2plex-hook.cjs   the plugin process (workers/stash-plugin.ts): hooks (kept small: Stash waits
//                         for it on every save)
//   stash2plex-tasks.cjs  the tasks and their Stash client, loaded by the hook bundle for a task only
//   stash2plex.sh         the manifest's exec (sh): the Node hook when node is on PATH, else the HTTP hook
//   stash2plex.yml        the manifest (id stash2plex), from pluginManifest() in src/stash-plugin/manifest.ts
// and the variants, each with a plugin id of its own (the manifest's file name):
//   dist/stash-plugin-node/stash2plex-node.yml   node directly (Windows: no sh), with the three .cjs files
//   dist/stash-plugin-http/stash2plex-http.yml   the HTTP hook with BusyBox wget (hooks only), and stash2plex.sh
//   dist/stash-plugin-curl/stash2plex-curl.yml   the same with curl
// Where the HTTP hook posts comes from STASH2PLEX_URL (the dashboard as Stash reaches it) and HOOK_TOKEN,
// in the environment or the .env of the repository (the environment wins): written into the .env of the
// stash2plex, http and curl folders (mode 600; other lines of an existing .env kept), never into a
// manifest. With --outdir, the variants are written only where --node-outdir / --http-outdir /
// --curl-outdir say.
// esbuild bundles the TypeScript directly (no tsc needed). Every file is written to a temporary name
// and renamed into place, so a plugin run (or a test) never sees a half-written file.
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseEnv } from 'node:util';
import { createHash } from 'node:crypto';
import { build } from 'esbuild';
import { stringify } from 'yaml';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const argOf = (name) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
if (process.argv.includes('--help')) {
  process.stdout.write(`Usage: node scripts/build-plugin.mjs [--outdir DIR] [--node-outdir DIR] [--http-outdir DIR] [--curl-outdir DIR]
                                   [--env-file FILE | --no-env-file] [--quiet]
Builds the Stash plugin folder (default dist/stash-plugin, plugin id stash2plex: the Node hook, or the
HTTP hook where Node is missing) and its variants (default dist/stash-plugin-node: node only, for
Windows; dist/stash-plugin-http: the HTTP hook with BusyBox wget; dist/stash-plugin-curl: with curl;
with --outdir only where --node-outdir / --http-outdir / --curl-outdir say). The HTTP hook posts to
STASH2PLEX_URL (the dashboard as Stash reaches it, e.g. http://stash2plex:3000) with HOOK_TOKEN, read
from the environment over FILE (default: .env of the repository) and written into the plugin folders'
.env; unset, the HTTP hook answers an error naming them until they are put there.
`);
  process.exit(0);
}
const outdir = resolve(argOf('--outdir') ?? join(root, 'dist/stash-plugin'));
const variantDir = (flag, name) => {
  const given = argOf(flag);
  if (given) return resolve(given);
  return argOf('--outdir') ? null : join(root, 'dist', name);
};
const nodeDir = variantDir('--node-outdir', 'stash-plugin-node');
const variants = [
  { variant: 'wget', dir: variantDir('--http-outdir', 'stash-plugin-http') },
  { variant: 'curl', dir: variantDir('--curl-outdir', 'stash-plugin-curl') },
].filter((v) => v.dir !== null);
const quiet = process.argv.includes('--quiet');
mkdirSync(outdir, { recursive: true });

/** STASH2PLEX_URL / HOOK_TOKEN: the environment over the .env file (as every stash2plex command reads it). */
function buildEnvironment() {
  if (process.argv.includes('--no-env-file')) return process.env;
  const file = resolve(argOf('--env-file') ?? join(root, '.env'));
  let text;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if (err.code === 'ENOENT' && !argOf('--env-file')) return process.env;
    process.stderr.write(`build-plugin: cannot read ${file}: ${err.message}\n`);
    process.exit(2);
  }
  return { ...parseEnv(text), ...process.env };
}

const LOADER_FILE = 'stash2plex.cjs';
const HOOK_FILE = 'stash2plex-hook.cjs';
const TASKS_FILE = 'stash2plex-tasks.cjs';
const tmpSuffix = `.${process.pid}.tmp`;

function writeAtomic(file, contents, mode = 0o644) {
  const tmp = `${file}${tmpSuffix}`;
  writeFileSync(tmp, contents, { mode });
  renameSync(tmp, file);
}

/**
 * The Lua scripts inlined: src/core/lua-source.ts (which reads a .lua file beside the compiled code)
 * becomes a table of every .lua file under src/, imported with esbuild's `text` loader, so the plugin
 * folder holds no .lua file. Same signature: readLuaSource('dlq/lua/restoreDedup-2.lua').
 */
const inlineLua = {
  name: 'inline-lua',
  setup(b) {
    b.onResolve({ filter: /\/lua-source(\.js|\.ts)?$/ }, () => ({ path: 'lua-source', namespace: 'inline-lua' }));
    b.onLoad({ filter: /.*/, namespace: 'inline-lua' }, () => {
      const files = readdirSync(join(root, 'src'), { recursive: true, encoding: 'utf8' })
        .filter((f) => f.endsWith('.lua'))
        .sort();
      const imports = files.map((f, i) => `import s${i} from ${JSON.stringify(join(root, 'src', f))};`);
      const table = files.map((f, i) => `${JSON.stringify(f.split(sep).join('/'))}: s${i}`);
      const contents = `${imports.join('\n')}
const LUA = { ${table.join(', ')} };
export function readLuaSource(file) {
  const text = LUA[file];
  if (text === undefined) throw new Error('Lua script not bundled: ' + file);
  return text;
}`;
      return { contents, loader: 'js', resolveDir: root };
    });
  },
};

const common = {
  bundle: true,
  loader: { '.lua': 'text' },
  plugins: [inlineLua],
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  minify: true,
  legalComments: 'none',
  logLevel: 'warning',
  absWorkingDir: root,
  write: false,
};

/**
 * The hook bundle loads the tasks module from the file beside it, on demand. Through a small CommonJS
 * shim, so that the bundle require()s it: an import() would first start Node's ESM loader (20–40 ms).
 */
const tasksBeside = {
  name: 'tasks-beside',
  setup(b) {
    // src/stash-plugin/plugin-process.ts's import('./tasks.js').
    b.onResolve({ filter: /^\.\/tasks(\.js|\.ts)?$/ }, (a) =>
      /src\/stash-plugin$/.test(a.resolveDir) ? { path: 'tasks', namespace: 'tasks-beside' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'tasks-beside' }, () => ({
      contents: `module.exports = require('./${TASKS_FILE}');`,
      loader: 'js',
    }));
    const escaped = TASKS_FILE.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    b.onResolve({ filter: new RegExp(`^\\./${escaped}$`) }, (a) => ({ path: a.path, external: true }));
  },
};

const [hook, tasks] = await Promise.all([
  build({
    ...common,
    entryPoints: ['workers/stash-plugin.ts'],
    outfile: join(outdir, HOOK_FILE),
    plugins: [tasksBeside, inlineLua],
    metafile: true,
  }),
  build({ ...common, entryPoints: ['src/stash-plugin/tasks.ts'], outfile: join(outdir, TASKS_FILE), metafile: true }),
]);
// The loader names the hook bundle's code cache by the bundle's hash: V8 checks a cache against the
// source's length only.
const hookHash = createHash('sha256').update(hook.outputFiles[0].contents).digest('hex').slice(0, 16);
const loader = await build({
  ...common,
  entryPoints: ['workers/stash-plugin-loader.ts'],
  outfile: join(outdir, LOADER_FILE),
  define: { HOOK_BUNDLE: JSON.stringify({ name: HOOK_FILE, hash: hookHash }) },
  metafile: true,
});

// The hook bundle must stay small: no package at all (zod/mini alone cost ~4 ms a run), none of our
// modules that bring one (ioredis, pino, zod), and nothing of the Stash client (src/stash-api: the hook
// reads its settings with src/hook/settings.ts), nor the tasks' modules.
const hookInputs = Object.keys(hook.metafile.inputs);
const heavy = hookInputs.filter((p) =>
  /node_modules\/|src\/(model\/job|core\/(redis|config|log)|stash-api\/.*|stash-plugin\/(tasks|task-reports))\.ts$/.test(p),
);
const hookCode = Buffer.from(hook.outputFiles[0].contents).toString('utf8');
if (hookCode.includes('import("./')) heavy.push('a dynamic import() of a file (starts the ESM loader: use require)');
if (heavy.length) {
  process.stderr.write(`build-plugin: the hook bundle must not include: ${heavy.join(', ')}\n`);
  process.exit(1);
}
// The loader runs before every hook: node:fs, node:path, node:vm and its own modules (the code cache), nothing else.
const loaderCode = Buffer.from(loader.outputFiles[0].contents).toString('utf8');
const loaderRequires = [...loaderCode.matchAll(/require\("([^"]+)"\)/g)]
  .map((m) => m[1])
  .filter((r) => !['node:fs', 'node:path', 'node:vm'].includes(r));
const loaderInputs = Object.keys(loader.metafile.inputs).filter(
  (p) => !p.startsWith('<define:') && !/(workers\/stash-plugin-loader|src\/stash-plugin\/code-cache(-request|-format)?)\.ts$/.test(p),
);
if (loaderRequires.length || loaderInputs.length) {
  process.stderr.write(`build-plugin: the loader must not include: ${[...loaderRequires, ...loaderInputs].join(', ')}\n`);
  process.exit(1);
}

// The manifest, from the same task list the plugin dispatches on.
const manifestsEntry = `export { pluginManifest, nodePluginManifest, PLUGIN_SCRIPT } from './src/stash-plugin/manifest.ts';
export { httpPluginManifest, HTTP_VARIANT_IDS } from './src/stash-plugin/http-manifest.ts';
export { resolveHttpHookTarget, httpHookDotenv } from './src/stash-plugin/http-hook-target.ts';
export { HTTP_HOOK_PATH } from './src/hook/input.ts';`;
const io = await build({
  ...common,
  format: 'esm',
  minify: false,
  stdin: { contents: manifestsEntry, resolveDir: root, loader: 'ts' },
  outfile: 'manifests.mjs',
});
const {
  pluginManifest,
  nodePluginManifest,
  PLUGIN_SCRIPT,
  httpPluginManifest,
  HTTP_VARIANT_IDS,
  resolveHttpHookTarget,
  httpHookDotenv,
  HTTP_HOOK_PATH,
} = await import(`data:text/javascript;base64,${Buffer.from(io.outputFiles[0].contents).toString('base64')}`);
const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const GENERATED = '# Generated by scripts/build-plugin.mjs';
const yamlOf = (source, object) => `${GENERATED} from ${source}: edit there.\n${stringify(object, { lineWidth: 0 })}`;
const script = readFileSync(join(root, 'src/stash-plugin', PLUGIN_SCRIPT), 'utf8');

// Where the HTTP hook posts, checked before anything is written: a set but unusable value stops the build.
const http = resolveHttpHookTarget(buildEnvironment());
if (!http.ok) {
  process.stderr.write(`build-plugin: ${http.variable} ${http.error}\n`);
  process.exit(2);
}
const dotenv = httpHookDotenv(http.target);

/** Puts STASH2PLEX_URL / HOOK_TOKEN into DIR/.env (mode 600), keeping its other lines. */
function writeDotenv(dir) {
  if (dotenv === null) return;
  const file = join(dir, '.env');
  let kept = [];
  try {
    kept = readFileSync(file, 'utf8')
      .split('\n')
      .filter(
        (l) => l && !/^\s*(export\s+)?(STASH2PLEX_URL|HOOK_TOKEN)\s*=/.test(l) && !l.startsWith('# Written by scripts/build-plugin.mjs'),
      );
  } catch {
    /* none yet */
  }
  writeAtomic(file, `${kept.length ? `${kept.join('\n')}\n` : ''}${dotenv}`, 0o600);
}

/** A manifest of an older build left beside a variant's new one would load as a second plugin: removed. */
function removeStaleManifest(dir, keep) {
  for (const name of ['stash2plex.yml', 'stash2plex-node.yml', 'stash2plex-http.yml', 'stash2plex-curl.yml']) {
    if (name === keep) continue;
    try {
      if (readFileSync(join(dir, name), 'utf8').startsWith(GENERATED)) rmSync(join(dir, name));
    } catch {
      /* absent */
    }
  }
}

const bundles = [...hook.outputFiles, ...tasks.outputFiles, ...loader.outputFiles];
for (const out of bundles) writeAtomic(out.path, out.contents);
writeAtomic(join(outdir, PLUGIN_SCRIPT), script);
writeAtomic(join(outdir, 'stash2plex.yml'), yamlOf('src/stash-plugin/manifest.ts', pluginManifest(version)));
removeStaleManifest(outdir, 'stash2plex.yml');
writeDotenv(outdir);

if (nodeDir) {
  mkdirSync(nodeDir, { recursive: true });
  for (const out of bundles) writeAtomic(join(nodeDir, out.path.slice(outdir.length + 1)), out.contents);
  writeAtomic(join(nodeDir, 'stash2plex-node.yml'), yamlOf('src/stash-plugin/manifest.ts', nodePluginManifest(version)));
  removeStaleManifest(nodeDir, 'stash2plex-node.yml');
}

for (const { variant, dir } of variants) {
  mkdirSync(dir, { recursive: true });
  const file = `${HTTP_VARIANT_IDS[variant]}.yml`;
  writeAtomic(join(dir, PLUGIN_SCRIPT), script);
  writeAtomic(join(dir, file), yamlOf('src/stash-plugin/http-manifest.ts', httpPluginManifest(version, variant)));
  removeStaleManifest(dir, file);
  writeDotenv(dir);
}

if (!quiet) {
  const size = (r) => `${(r.outputFiles[0].contents.length / 1024).toFixed(1)} KiB`;
  process.stdout.write(
    `build-plugin: ${outdir}: ${LOADER_FILE} ${size(loader)}, ${HOOK_FILE} ${size(hook)}, ${TASKS_FILE} ${size(tasks)}, ${PLUGIN_SCRIPT}, stash2plex.yml\n`,
  );
  const shown = (dir) => (relative(process.cwd(), dir).startsWith('..') ? dir : relative(process.cwd(), dir) || '.');
  if (nodeDir) process.stdout.write(`build-plugin: Node-only variant (Windows) ${shown(nodeDir)}/stash2plex-node.yml\n`);
  if (variants.length) {
    const where = variants.map(({ variant, dir }) => `${shown(dir)}/${HTTP_VARIANT_IDS[variant]}.yml (${variant})`).join(', ');
    process.stdout.write(`build-plugin: HTTP hook variants ${where}\n`);
  }
  const to = `${http.target.url ?? '<STASH2PLEX_URL>'}${HTTP_HOOK_PATH}`;
  process.stdout.write(
    `build-plugin: the HTTP hook (no node on Stash's PATH, or the HTTP variants) posts to ${to}` +
      `${http.missing.length ? `; ${http.missing.join(' and ')} not set: put ${http.missing.length > 1 ? 'them' : 'it'} in the plugin folder's .env, or rebuild with ${http.missing.length > 1 ? 'them' : 'it'} set` : " with HOOK_TOKEN (in the plugin folders' .env, mode 600)"}\n`,
  );
}
