#!/usr/bin/env node
// Packages the built Stash plugin (dist/stash-plugin, from scripts/build-plugin.mjs) as a source for
// Stash's plugin manager (Settings → Plugins → Available Plugins → Add Source, pointing at index.yml):
//   <outdir>/stash2plex.zip   the plugin folder's files at the zip's root (Stash unzips it into
//                             <plugins>/stash2plex/)
//   <outdir>/index.yml        a list of packages: id, name, metadata.description, version, date
//                             ("YYYY-MM-DD HH:MM:SS", UTC: Stash offers an upgrade when it is newer),
//                             path (the zip, relative to index.yml) and sha256 (of the zip, checked by
//                             Stash before installing)
// Only the stash2plex plugin is packaged (its .env, which may hold HOOK_TOKEN, never is).
// Zips with `zip` when it is on PATH, else with the small writer below (deflate, no dependencies).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as zlib from 'node:zlib';
import { parse, stringify } from 'yaml';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const argOf = (name) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
if (process.argv.includes('--help')) {
  process.stdout.write(`Usage: node scripts/package-plugin.mjs [--plugin-dir DIR] [--outdir DIR] [--zip auto|system|node] [--quiet]
Packages the built Stash plugin (default dist/stash-plugin: run npm run build first) as a plugin source
for Stash's plugin manager: DIR/stash2plex.zip and DIR/index.yml (default dist/stash-plugin-source).
--zip: the zip command when present (auto, default), always it (system), or the built-in writer (node).
SOURCE_DATE_EPOCH, if set, is the package date (else the newest file's time).
`);
  process.exit(0);
}
const die = (msg) => {
  process.stderr.write(`package-plugin: ${msg}\n`);
  process.exit(2);
};
const pluginDir = resolve(argOf('--plugin-dir') ?? join(root, 'dist/stash-plugin'));
const outdir = resolve(argOf('--outdir') ?? join(root, 'dist/stash-plugin-source'));
const zipMode = argOf('--zip') ?? 'auto';
if (!['auto', 'system', 'node'].includes(zipMode)) die('--zip must be auto, system or node');
const quiet = process.argv.includes('--quiet');

// The manifest names the plugin: <id>.yml. Only what the build writes is packaged (manifest and
// bundles), never what a plugin run leaves in the folder (spool, settings cache, code cache, .env).
let names;
try {
  names = readdirSync(pluginDir)
    .filter((n) => /\.(yml|cjs|sh)$/.test(n) && statSync(join(pluginDir, n)).isFile())
    .sort();
} catch {
  die(`${pluginDir} does not exist: run npm run build first`);
}
const manifests = names.filter((n) => n.endsWith('.yml'));
if (manifests.length !== 1) die(`${pluginDir} must hold exactly one plugin manifest (*.yml), found ${manifests.length}: run npm run build`);
const id = manifests[0].slice(0, -'.yml'.length);
const manifest = parse(readFileSync(join(pluginDir, manifests[0]), 'utf8'));
if (!manifest || typeof manifest !== 'object' || !Array.isArray(manifest.exec)) die(`${manifests[0]} is not a plugin manifest`);
// A source is meant to be served: never one whose exec carries a real bearer token (an HTTP variant).
if (manifest.exec.some((a) => /^Authorization: Bearer (?!<HOOK_TOKEN>$)/.test(String(a)))) {
  die(`${manifests[0]} holds a HOOK_TOKEN: HTTP hook variants are made per install, not packaged`);
}

const epoch = process.env.SOURCE_DATE_EPOCH?.trim();
if (epoch && !/^\d+$/.test(epoch)) die('SOURCE_DATE_EPOCH must be seconds since the epoch');
const date = new Date(epoch ? Number(epoch) * 1000 : Math.max(...names.map((n) => statSync(join(pluginDir, n)).mtimeMs)));
date.setUTCMilliseconds(0);
const files = names.map((name) => ({ name, data: readFileSync(join(pluginDir, name)) }));

// ---- zip ----------------------------------------------------------------------------------------------

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
/** zlib.crc32 from Node 20.15; the table otherwise. */
const crc32 = zlib.crc32 ?? ((buf) => buf.reduce((c, b) => CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8), 0xffffffff) ^ 0xffffffff);

/**
 * A zip of flat files (no folders): deflated (stored when that is no smaller), UTF-8 names, Unix
 * mode 0644 (Stash creates each file with the mode the zip gives), DOS time from `when` (UTC fields:
 * a zip's time has no zone). No zip64: the plugin is a few hundred KiB.
 */
function zipFiles(entries, when) {
  const dosTime = (when.getUTCHours() << 11) | (when.getUTCMinutes() << 5) | (when.getUTCSeconds() >> 1);
  const dosDate = ((Math.max(1980, when.getUTCFullYear()) - 1980) << 9) | ((when.getUTCMonth() + 1) << 5) | when.getUTCDate();
  const locals = [];
  const centrals = [];
  let offset = 0;
  for (const { name, data } of entries) {
    const deflated = zlib.deflateRawSync(data, { level: 9 });
    const stored = deflated.length >= data.length;
    const body = stored ? data : deflated;
    const fname = Buffer.from(name, 'utf8');
    const common = Buffer.alloc(26);
    common.writeUInt16LE(20, 0); // version needed: 2.0 (deflate)
    common.writeUInt16LE(0x0800, 2); // flags: UTF-8 name
    common.writeUInt16LE(stored ? 0 : 8, 4);
    common.writeUInt16LE(dosTime, 6);
    common.writeUInt16LE(dosDate, 8);
    common.writeUInt32LE(crc32(data) >>> 0, 10);
    common.writeUInt32LE(body.length, 14);
    common.writeUInt32LE(data.length, 18);
    common.writeUInt16LE(fname.length, 22);
    common.writeUInt16LE(0, 24); // extra length
    const local = Buffer.concat([u32(0x04034b50), common, fname, body]);
    const tail = Buffer.alloc(14); // comment length, disk, internal attributes: 0
    tail.writeUInt32LE((0o100644 << 16) >>> 0, 6); // external attributes: a regular file, rw-r--r--
    tail.writeUInt32LE(offset, 10);
    centrals.push(Buffer.concat([u32(0x02014b50), u16((3 << 8) | 20) /* made by: Unix, 2.0 */, common, tail, fname]));
    locals.push(local);
    offset += local.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}
function u32(n) {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0);
  return b;
}
function u16(n) {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(n);
  return b;
}

const hasZip = spawnSync('zip', ['-v'], { stdio: 'ignore' }).status === 0;
if (zipMode === 'system' && !hasZip) die('--zip system: no zip command on PATH');
const useSystemZip = zipMode === 'system' || (zipMode === 'auto' && hasZip);

mkdirSync(outdir, { recursive: true });
const zipName = `${id}.zip`;
const zipPath = join(outdir, zipName);
const tmp = `${zipPath}.${process.pid}.tmp`;
rmSync(tmp, { force: true });
if (useSystemZip) {
  // -X: no extra attributes (uid/gid, extended times); -D: no folder entries; -q quiet. In the plugin
  // folder, so the names have no path.
  const r = spawnSync('zip', ['-X', '-D', '-q', tmp, ...names], { cwd: pluginDir, encoding: 'utf8' });
  if (r.status !== 0) die(`zip failed: ${(r.stderr || r.stdout || `exit ${r.status}`).trim()}`);
  // zip adds ".zip" to a name without it.
  if (!existsSync(tmp) && existsSync(`${tmp}.zip`)) renameSync(`${tmp}.zip`, tmp);
} else {
  writeFileSync(tmp, zipFiles(files, date));
}
const zipData = readFileSync(tmp);
renameSync(tmp, zipPath);

// ---- index.yml ------------------------------------------------------------------------------------------

const pad = (n) => String(n).padStart(2, '0');
const stamp = `${date.getUTCFullYear()}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())} ${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())}`;
const index = [
  {
    id,
    name: String(manifest.name ?? id),
    metadata: { description: String(manifest.description ?? '') },
    version: String(manifest.version ?? ''),
    date: stamp,
    path: zipName,
    sha256: createHash('sha256').update(zipData).digest('hex'),
  },
];
const indexPath = join(outdir, 'index.yml');
writeFileSync(
  `${indexPath}.${process.pid}.tmp`,
  `# Stash plugin source: generated by scripts/package-plugin.mjs.\n${stringify(index, { lineWidth: 0 })}`,
);
renameSync(`${indexPath}.${process.pid}.tmp`, indexPath);

if (!quiet) {
  const shown = (p) => (relative(process.cwd(), p).startsWith('..') ? p : relative(process.cwd(), p));
  process.stdout.write(
    `package-plugin: ${shown(zipPath)} (${files.length} files, ${(zipData.length / 1024).toFixed(1)} KiB, ${useSystemZip ? 'zip' : 'built-in zip'}), ${shown(indexPath)}\n` +
      `package-plugin: serve ${shown(outdir)}/ over HTTP and add <its URL>/index.yml as a plugin source in Stash (Settings → Plugins).\n`,
  );
}
