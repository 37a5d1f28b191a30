// The build's plugin folders as files: scripts/build-plugin.mjs writes the Node plugin and the HTTP
// variants (BusyBox wget, curl) with STASH2PLEX_URL / HOOK_TOKEN from the environment or an env file
// (placeholders when unset); scripts/package-plugin.mjs zips the Node plugin and writes the index.yml
// of a Stash plugin source. Every manifest must load in Stash: strict keys, and the same document under
// a YAML 1.1 parser (Stash uses go-yaml v2; PyYAML stands in for it when present).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { HOOK_TRIGGERS } from '../../src/hook/input.js';
import { PLUGIN_TASKS } from '../../src/stash-plugin/task-list.js';

const TOKEN = 'build-test-token-9c1e7d';
const dirs: string[] = [];
const newDir = () => {
  const d = mkdtempSync(join(tmpdir(), 's2p-plugin-build-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const has = (cmd: string, args: string[]) => spawnSync(cmd, args, { stdio: 'ignore' }).status === 0;
const PYYAML = has('python3', ['-c', 'import yaml']);
const PYTHON = has('python3', ['--version']);
const ZIP = has('zip', ['-v']);
if (!PYYAML) console.warn('[plugin-build] python3 with PyYAML not found: the YAML 1.1 cross-check is SKIPPED');
if (!ZIP) console.warn('[plugin-build] no zip command: the `--zip system` packaging check is SKIPPED');

/** Runs a script with only PATH and `env` (never the developer's HOOK_TOKEN). */
function run(script: string, args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [script, ...args], {
    env: { PATH: process.env.PATH ?? '', ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
const build = (out: string, env: Record<string, string> = {}, extra: string[] = ['--no-env-file']) =>
  run(
    'scripts/build-plugin.mjs',
    ['--outdir', join(out, 'node'), '--http-outdir', join(out, 'http'), '--curl-outdir', join(out, 'curl'), ...extra],
    env,
  );

const STASH_TOP_KEYS = ['name', 'description', 'url', 'version', 'interface', 'exec', 'errLog', 'tasks', 'hooks', 'ui', 'settings'];
const STASH_HOOK_KEYS = ['name', 'description', 'execArgs', 'defaultArgs', 'triggeredBy'];

/** A Stash plugin manifest, as these tests read it (the keys are checked against STASH_TOP_KEYS). */
interface StashManifest {
  description: string;
  version: string;
  exec: string[];
  hooks: { triggeredBy: string[] }[];
  tasks?: { defaultArgs: { mode: string } }[];
  [key: string]: unknown;
}

/** A manifest file → its document, asserting Stash would load it. */
function stashManifest(file: string): StashManifest {
  const text = readFileSync(file, 'utf8');
  const m = parse(text) as StashManifest;
  for (const k of Object.keys(m)) expect(STASH_TOP_KEYS, `${file}: key ${k}`).toContain(k);
  expect(m.interface).toBe('raw');
  expect(Array.isArray(m.exec) && m.exec.every((a: unknown) => typeof a === 'string')).toBe(true);
  for (const h of m.hooks) for (const k of Object.keys(h)) expect(STASH_HOOK_KEYS).toContain(k);
  expect(m.hooks.flatMap((h) => h.triggeredBy)).toEqual([...HOOK_TRIGGERS]);
  if (PYYAML) {
    const py = spawnSync('python3', ['-c', 'import json,sys,yaml; print(json.dumps(yaml.safe_load(sys.stdin)))'], {
      input: text,
      encoding: 'utf8',
    });
    expect(py.status, py.stderr).toBe(0);
    expect(JSON.parse(py.stdout), `${file} reads the same under YAML 1.1`).toEqual(m);
  }
  return m;
}

describe('build-plugin.mjs: the three plugin folders', () => {
  let out: string;
  let r: ReturnType<typeof run>;
  beforeAll(() => {
    out = newDir();
    r = build(out);
  }, 60_000);

  it('without STASH2PLEX_URL / HOOK_TOKEN: placeholders, and how to regenerate', () => {
    expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(join(out, 'node')).sort()).toEqual([
      'stash2plex-hook.cjs',
      'stash2plex-tasks.cjs',
      'stash2plex.cjs',
      'stash2plex.yml',
    ]);
    expect(readdirSync(join(out, 'http'))).toEqual(['stash2plex.yml']);
    expect(readdirSync(join(out, 'curl'))).toEqual(['stash2plex.yml']);
    expect(r.stdout).toMatch(/STASH2PLEX_URL and HOOK_TOKEN not set: the HTTP variants hold placeholders/);
    expect(r.stdout).toMatch(/STASH2PLEX_URL=http:\/\/stash2plex:3000 HOOK_TOKEN=.* npm run build/);
    const wget = stashManifest(join(out, 'http', 'stash2plex.yml'));
    expect(wget.exec.at(-1)).toBe('<STASH2PLEX_URL>/api/stash/hook');
    expect(wget.exec).toContain('Authorization: Bearer <HOOK_TOKEN>');
    expect(wget.description).toMatch(/^NOT CONFIGURED/);
    const text = readFileSync(join(out, 'http', 'stash2plex.yml'), 'utf8');
    expect(text).toMatch(/^# Regenerate with STASH2PLEX_URL and HOOK_TOKEN set/m);
    // Each placeholder once, in exec: `sed s|<HOOK_TOKEN>|…|` puts the token nowhere else.
    expect(text.split('<HOOK_TOKEN>')).toHaveLength(2);
    expect(text.split('<STASH2PLEX_URL>')).toHaveLength(2);
  });

  it('every manifest is one Stash loads: exec, interface raw, hooks on every trigger', () => {
    const node = stashManifest(join(out, 'node', 'stash2plex.yml'));
    expect(node.exec).toEqual(['node', '{pluginDir}/stash2plex.cjs']);
    expect(node.tasks!.map((t) => t.defaultArgs.mode)).toEqual(PLUGIN_TASKS.map((t) => t.mode));
    const wget = stashManifest(join(out, 'http', 'stash2plex.yml'));
    expect(wget.exec.slice(0, 4)).toEqual(['wget', '-q', '-O', '-']);
    expect(wget.tasks).toBeUndefined();
    const curl = stashManifest(join(out, 'curl', 'stash2plex.yml'));
    expect(curl.exec.slice(0, 3)).toEqual(['curl', '-sS', '--fail-with-body']);
    expect(curl.hooks).toEqual(wget.hooks);
    expect(curl.hooks).toEqual(node.hooks);
  });

  it('with STASH2PLEX_URL and HOOK_TOKEN: filled in, files private, the token never printed', () => {
    const o = newDir();
    const b = build(o, { STASH2PLEX_URL: 'http://stash2plex:3000/', HOOK_TOKEN: TOKEN });
    expect(b.code, b.stderr).toBe(0);
    expect(b.stdout + b.stderr).not.toContain(TOKEN);
    expect(b.stdout).toMatch(/POST http:\/\/stash2plex:3000\/api\/stash\/hook with HOOK_TOKEN/);
    expect(b.stdout).not.toMatch(/placeholders/);
    for (const v of ['http', 'curl']) {
      const file = join(o, v, 'stash2plex.yml');
      const m = stashManifest(file);
      expect(m.exec.at(-1)).toBe('http://stash2plex:3000/api/stash/hook');
      expect(m.exec).toContain(`Authorization: Bearer ${TOKEN}`);
      expect(m.description).not.toMatch(/NOT CONFIGURED/);
      expect(readFileSync(file, 'utf8')).toMatch(/^# Holds HOOK_TOKEN: keep this file private\.$/m);
      if (process.platform !== 'win32') expect(statSync(file).mode & 0o777).toBe(0o600);
    }
  }, 60_000);

  it('reads the env file (the environment wins over it)', () => {
    const o = newDir();
    const envFile = join(o, 'build.env');
    writeFileSync(envFile, `STASH2PLEX_URL=http://from-file:3000\nHOOK_TOKEN=${TOKEN}\n`);
    const b = build(o, { STASH2PLEX_URL: 'https://from-env.lan/s2p' }, ['--env-file', envFile]);
    expect(b.code, b.stderr).toBe(0);
    const m = stashManifest(join(o, 'http', 'stash2plex.yml'));
    expect(m.exec.at(-1)).toBe('https://from-env.lan/s2p/api/stash/hook');
    expect(m.exec).toContain(`Authorization: Bearer ${TOKEN}`);
  }, 60_000);

  it.each([
    [{ STASH2PLEX_URL: 'stash2plex:3000' }, /^build-plugin: STASH2PLEX_URL must be an http:\/\/ or https:\/\/ URL/],
    [{ HOOK_TOKEN: `${TOKEN} x` }, /^build-plugin: HOOK_TOKEN must be a bearer token/],
  ])(
    'a set but unusable %j stops the build with exit 2, one line, nothing written',
    (env, message) => {
      const o = newDir();
      const b = build(o, env);
      expect(b.code).toBe(2);
      expect(b.stderr.trim().split('\n')).toHaveLength(1);
      expect(b.stderr).toMatch(message);
      expect(b.stdout + b.stderr).not.toContain(TOKEN);
      expect(existsSync(join(o, 'http'))).toBe(false);
      expect(existsSync(join(o, 'node', 'stash2plex.yml'))).toBe(false);
    },
    60_000,
  );
});

describe('build-plugin.mjs: the Lua scripts inlined', () => {
  it('the tasks bundle carries every .lua of src/ and loads standing alone, with no .lua beside it', () => {
    const o = newDir();
    const b = run('scripts/build-plugin.mjs', ['--outdir', o, '--quiet', '--no-env-file']);
    expect(b.code, b.stderr).toBe(0);
    expect(readdirSync(o).filter((f) => f.endsWith('.lua'))).toEqual([]);
    const bundle = readFileSync(join(o, 'stash2plex-tasks.cjs'), 'utf8');
    const lua = readdirSync('src', { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.lua'));
    expect(lua.length).toBeGreaterThan(0);
    for (const file of lua) {
      const code = readFileSync(join('src', file), 'utf8').split(']]\n')[1];
      for (const line of code.split('\n').filter((l) => l.trim())) expect(bundle.includes(line), `${file}: ${line}`).toBe(true);
    }
    // Loading the bundle reads the lease's scripts (module scope): from the table, not from disk.
    const alone = newDir();
    writeFileSync(join(alone, 'tasks.cjs'), bundle);
    const r = spawnSync(process.execPath, ['-e', "require('./tasks.cjs')"], {
      cwd: alone,
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '' },
    });
    expect(r.status, r.stderr).toBe(0);
  }, 60_000);
});

describe('package-plugin.mjs: a plugin source for Stash', () => {
  let plugin: string;
  beforeAll(() => {
    const o = newDir();
    const b = build(o);
    expect(b.code, b.stderr).toBe(0);
    plugin = join(o, 'node');
    // What a plugin run leaves in its folder is never packaged.
    writeFileSync(join(plugin, 'stash2plex.spool.jsonl'), '{"sceneId":"1"}\n');
    writeFileSync(join(plugin, 'stash2plex.settings.json'), '{"redisUrl":"redis://:secret@x"}');
    writeFileSync(join(plugin, '.env'), 'REDIS_URL=redis://:secret@x\n');
  }, 60_000);

  /** The zip's entries (name, Unix mode, sha256 of the content), read by Python's zipfile. */
  function zipEntries(zip: string): { name: string; mode: number; sha256: string }[] {
    const py = spawnSync(
      'python3',
      [
        '-c',
        'import hashlib,json,sys,zipfile\nz=zipfile.ZipFile(sys.argv[1]); assert z.testzip() is None\nprint(json.dumps([{"name":i.filename,"mode":i.external_attr>>16,"sha256":hashlib.sha256(z.read(i)).hexdigest()} for i in z.infolist()]))',
        zip,
      ],
      { encoding: 'utf8' },
    );
    expect(py.status, py.stderr).toBe(0);
    return JSON.parse(py.stdout) as { name: string; mode: number; sha256: string }[];
  }
  const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

  it.each(ZIP ? (['node', 'system'] as const) : (['node'] as const))(
    '--zip %s: stash2plex.zip of the plugin files and an index.yml with its sha256',
    (zip) => {
      const out = newDir();
      const r = run('scripts/package-plugin.mjs', ['--plugin-dir', plugin, '--outdir', out, '--zip', zip], {
        SOURCE_DATE_EPOCH: '1767225600',
      });
      expect(r.code, r.stderr).toBe(0);
      expect(readdirSync(out).sort()).toEqual(['index.yml', 'stash2plex.zip']);
      const index = parse(readFileSync(join(out, 'index.yml'), 'utf8')) as { metadata: { description: string }; sha256: string }[];
      const manifest = parse(readFileSync(join(plugin, 'stash2plex.yml'), 'utf8')) as StashManifest;
      expect(index).toEqual([
        {
          id: 'stash2plex',
          name: 'stash2plex',
          metadata: { description: manifest.description },
          version: manifest.version,
          date: '2026-01-01 00:00:00',
          path: 'stash2plex.zip',
          sha256: sha(join(out, 'stash2plex.zip')),
        },
      ]);
      // Stash's plugin manager shows it before install: the oldest Stash that can load the plugin.
      expect(index[0].metadata.description).toContain('Needs Stash v0.24.0 or newer');
      if (PYYAML) {
        const py = spawnSync('python3', ['-c', 'import json,sys,yaml; d=yaml.safe_load(sys.stdin); print(json.dumps(d, default=str))'], {
          input: readFileSync(join(out, 'index.yml'), 'utf8'),
          encoding: 'utf8',
        });
        expect(py.status, py.stderr).toBe(0);
        // YAML 1.1 reads the date as a timestamp; Stash's decoder takes it as the string it is (its own template writes it so).
        expect((JSON.parse(py.stdout) as { sha256: string }[])[0].sha256).toBe(index[0].sha256);
      }
      if (PYTHON) {
        const entries = zipEntries(join(out, 'stash2plex.zip'));
        expect(entries.map((e) => e.name).sort()).toEqual([
          'stash2plex-hook.cjs',
          'stash2plex-tasks.cjs',
          'stash2plex.cjs',
          'stash2plex.yml',
        ]);
        for (const e of entries) {
          expect(e.sha256, e.name).toBe(sha(join(plugin, e.name)));
          expect(e.mode & 0o777, e.name).toBe(0o644);
        }
      }
    },
    60_000,
  );

  it('the built-in zip is reproducible with SOURCE_DATE_EPOCH', () => {
    const [a, b] = [newDir(), newDir()];
    for (const out of [a, b]) {
      const r = run('scripts/package-plugin.mjs', ['--plugin-dir', plugin, '--outdir', out, '--zip', 'node', '--quiet'], {
        SOURCE_DATE_EPOCH: '1767225600',
      });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe('');
    }
    expect(sha(join(a, 'stash2plex.zip'))).toBe(sha(join(b, 'stash2plex.zip')));
    expect(readFileSync(join(a, 'index.yml'), 'utf8')).toBe(readFileSync(join(b, 'index.yml'), 'utf8'));
  });

  it('refuses to package a manifest holding a HOOK_TOKEN (an HTTP variant): a source is meant to be served', () => {
    const o = newDir();
    expect(build(o, { STASH2PLEX_URL: 'http://stash2plex:3000', HOOK_TOKEN: TOKEN }).code).toBe(0);
    const out = newDir();
    const r = run('scripts/package-plugin.mjs', ['--plugin-dir', join(o, 'http'), '--outdir', out]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/holds a HOOK_TOKEN/);
    expect(r.stderr).not.toContain(TOKEN);
    expect(readdirSync(out)).toEqual([]);
  }, 60_000);

  it('without a built plugin it says to build first (exit 2)', () => {
    const r = run('scripts/package-plugin.mjs', ['--plugin-dir', join(newDir(), 'missing'), '--outdir', newDir()]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/run npm run build first/);
  });
});
