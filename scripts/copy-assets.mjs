#!/usr/bin/env node
// Copies what tsc does not into dist/: the Lua scripts (src/**/*.lua → dist/src/**/*.lua), which the
// compiled code reads beside itself (src/core/lua-source.ts). Run by `npm run build` after tsc.
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const ASSET = /\.lua$/;

let copied = 0;
for (const rel of readdirSync(join(root, 'src'), { recursive: true, encoding: 'utf8' })) {
  if (!ASSET.test(rel)) continue;
  const to = join(root, 'dist/src', rel);
  mkdirSync(dirname(to), { recursive: true });
  copyFileSync(join(root, 'src', rel), to);
  copied++;
}
if (!process.argv.includes('--quiet')) process.stdout.write(`copy-assets: ${copied} Lua script(s) into dist/src\n`);
