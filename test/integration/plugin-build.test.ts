// The build's plugin folders as files: scripts/build-plugin.mjs writes the stash2plex plugin (sh: the
// Node hook, or the HTTP hook where Node is missing), the Node-only variant (Windows) and the HTTP variants
// (BusyBox wget, curl), each with its own id, and puts STASH2PLEX_URL / HOOK_TOKEN (environment or env
// file) into the plugin folders' .env, never into a manifest; scripts/package-plugin.mjs zips the
// stash2plex plugin and writes the index.yml of a Stash plugin source. Every manifest must load in Stash: strict keys, and the same document under
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
    [
      '--outdir',
      join(out, 'main'),
      '--node-outdir',
      join(out, 'node'),
      '--http-outdir',
      join(out, 'http'),
      '--curl-outdir',
      join(out, 'curl'),
      ...extra,
    ],
    env,
  );

const STASH_TOP_KEYS = ['name', 'description', 'url', 'version', 'interface', 'exec', 'errLog', 'tasks', 'hooks', 'ui', 'settings'];
const STASH_HOOK_KEYS = ['name', 'description', 'execArgs', 'defaultArgs', 'triggeredBy'];

interface BuiltManifest {
  name: string;
  description: string;
  version: string;
  interface: string;
  exec: string[];
  hooks: { triggeredBy: string[] }[];
  tasks?: { defaultArgs: { mode: string } }[];
}

/** A manifest file → its document, asserting Stash would load it. */
function stashManifest(file: string): BuiltManifest {
  const text = readFileSync(file, 'utf8');
  const m = parse(text) as BuiltManifest;
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

describe('build-plugin.mjs: the four plugin folders', () => {
  let out: string;
  let r: ReturnType<typeof run>;
  beforeAll(() => {
    out = newDir();
    r = build(out);
  }, 60_000);

  it('without STASH2PLEX_URL / HOOK_TOKEN: no .env, and the build says where they go', () => {
    expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(join(out, 'main')).sort()).toEqual([
      'stash2plex-hook.cjs',
      'stash2plex-tasks.cjs',
      'stash2plex.cjs',
      'stash2plex.sh',
      'stash2plex.yml',
    ]);
    expect(readdirSync(join(out, 'node')).sort()).toEqual([
      'stash2plex-hook.cjs',
      'stash2plex-node.yml',
      'stash2plex-tasks.cjs',
      'stash2plex.cjs',
    ]);
    expect(readdirSync(join(out, 'http')).sort()).toEqual(['stash2plex-http.yml', 'stash2plex.sh']);
    expect(readdirSync(join(out, 'curl')).sort()).toEqual(['stash2plex-curl.yml', 'stash2plex.sh']);
    expect(r.stdout).toMatch(/STASH2PLEX_URL and HOOK_TOKEN not set: put them in the plugin folder's \.env, or rebuild with them set/);
    // The Node-only variant runs the same bundles.
    for (const f of ['stash2plex.cjs', 'stash2plex-hook.cjs', 'stash2plex-tasks.cjs']) {
      expect(readFileSync(join(out, 'node', f)).equals(readFileSync(join(out, 'main', f))), f).toBe(true);
    }
    expect(readFileSync(join(out, 'http', 'stash2plex.sh'), 'utf8')).toBe(readFileSync('src/stash-plugin/stash2plex.sh', 'utf8'));
  });

  it('every manifest is one Stash loads, each under its own id: exec, interface raw, hooks on every trigger', () => {
    const main = stashManifest(join(out, 'main', 'stash2plex.yml'));
    expect(main.exec).toEqual(['sh', '{pluginDir}/stash2plex.sh']);
    expect(main.tasks?.map((t) => t.defaultArgs.mode)).toEqual(PLUGIN_TASKS.map((t) => t.mode));
    const node = stashManifest(join(out, 'node', 'stash2plex-node.yml'));
    expect(node.exec).toEqual(['node', '{pluginDir}/stash2plex.cjs']);
    const wget = stashManifest(join(out, 'http', 'stash2plex-http.yml'));
    expect(wget.exec).toEqual(['sh', '{pluginDir}/stash2plex.sh', 'wget']);
    expect(wget.tasks).toBeUndefined();
    const curl = stashManifest(join(out, 'curl', 'stash2plex-curl.yml'));
    expect(curl.exec).toEqual(['sh', '{pluginDir}/stash2plex.sh', 'curl']);
    for (const m of [node, wget, curl]) expect(m.hooks).toEqual(main.hooks);
  });

  it('with STASH2PLEX_URL and HOOK_TOKEN: in the .env of the folders that post (mode 600), in no manifest, never printed', () => {
    const o = newDir();
    const b = build(o, { STASH2PLEX_URL: 'http://stash2plex:3000/', HOOK_TOKEN: TOKEN });
    expect(b.code, b.stderr).toBe(0);
    expect(b.stdout + b.stderr).not.toContain(TOKEN);
    expect(b.stdout).toMatch(/posts to http:\/\/stash2plex:3000\/api\/stash\/hook with HOOK_TOKEN/);
    for (const v of ['main', 'http', 'curl']) {
      const env = join(o, v, '.env');
      expect(readFileSync(env, 'utf8')).toMatch(new RegExp(`^STASH2PLEX_URL=http://stash2plex:3000\nHOOK_TOKEN=${TOKEN}\n$`, 'm'));
      if (process.platform !== 'win32') expect(statSync(env).mode & 0o777).toBe(0o600);
    }
    expect(existsSync(join(o, 'node', '.env'))).toBe(false);
    for (const [dir, file] of [
      ['main', 'stash2plex.yml'],
      ['node', 'stash2plex-node.yml'],
      ['http', 'stash2plex-http.yml'],
      ['curl', 'stash2plex-curl.yml'],
    ]) {
      expect(readFileSync(join(o, dir, file), 'utf8')).not.toContain(TOKEN);
    }
    // A rebuild keeps the other lines of a .env (the Node hook's REDIS_URL, say) and replaces its own.
    writeFileSync(join(o, 'main', '.env'), `REDIS_URL=redis://redis:6379\nHOOK_TOKEN=old\n`);
    expect(build(o, { STASH2PLEX_URL: 'http://stash2plex:3000/', HOOK_TOKEN: TOKEN }).code).toBe(0);
    const again = readFileSync(join(o, 'main', '.env'), 'utf8');
    expect(again).toMatch(/^REDIS_URL=redis:\/\/redis:6379$/m);
    expect(again).not.toMatch(/HOOK_TOKEN=old/);
    expect(again).toMatch(new RegExp(`^HOOK_TOKEN=${TOKEN}$`, 'm'));
  }, 60_000);

  it('reads the env file (the environment wins over it)', () => {
    const o = newDir();
    const envFile = join(o, 'build.env');
    writeFileSync(envFile, `STASH2PLEX_URL=http://from-file:3000\nHOOK_TOKEN=${TOKEN}\n`);
    const b = build(o, { STASH2PLEX_URL: 'https://from-env.lan/s2p' }, ['--env-file', envFile]);
    expect(b.code, b.stderr).toBe(0);
    const env = readFileSync(join(o, 'http', '.env'), 'utf8');
    expect(env).toMatch(/^STASH2PLEX_URL=https:\/\/from-env\.lan\/s2p$/m);
    expect(env).toMatch(new RegExp(`^HOOK_TOKEN=${TOKEN}$`, 'm'));
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
      expect(existsSync(join(o, 'main', 'stash2plex.yml'))).toBe(false);
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
    plugin = join(o, 'main');
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
      const manifest = parse(readFileSync(join(plugin, 'stash2plex.yml'), 'utf8')) as BuiltManifest;
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
          'stash2plex.sh',
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

  it('never packages the .env holding HOOK_TOKEN; refuses an older manifest whose exec carries one', () => {
    const o = newDir();
    expect(build(o, { STASH2PLEX_URL: 'http://stash2plex:3000', HOOK_TOKEN: TOKEN }).code).toBe(0);
    const out = newDir();
    const ok = run('scripts/package-plugin.mjs', ['--plugin-dir', join(o, 'main'), '--outdir', out, '--zip', 'node']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(readFileSync(join(out, 'stash2plex.zip')).includes(Buffer.from(TOKEN))).toBe(false);
    // An HTTP variant built before tokens moved to .env held it in exec: never served.
    const old = newDir();
    writeFileSync(
      join(old, 'stash2plex.yml'),
      `name: x\ninterface: raw\nexec: [wget, --header, "Authorization: Bearer ${TOKEN}", http://x/api/stash/hook]\nhooks: []\n`,
    );
    const r = run('scripts/package-plugin.mjs', ['--plugin-dir', old, '--outdir', newDir()]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/holds a HOOK_TOKEN/);
    expect(r.stderr).not.toContain(TOKEN);
  }, 60_000);

  it('without a built plugin it says to build first (exit 2)', () => {
    const r = run('scripts/package-plugin.mjs', ['--plugin-dir', join(newDir(), 'missing'), '--outdir', newDir()]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/run npm run build first/);
  });
});
