// The plugin manifests, pure: stash2plex (sh: Node or HTTP), the Node-only one and the HTTP variants (BusyBox wget, curl) come out of
// src/stash-plugin/manifest.ts and http-manifest.ts as objects the build serialises to YAML. Each must
// survive that round trip as a manifest Stash loads: Stash decodes it strictly (an unknown key fails the
// whole plugin), needs exec, interface raw and hooks with Stash's trigger names.
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { STASH_SETTINGS } from '../../src/core/config.js';
import { HTTP_HOOK_VARIANTS, HTTP_VARIANT_IDS, httpPluginManifest } from '../../src/stash-plugin/http-manifest.js';
import { httpHookDotenv, resolveHttpHookTarget } from '../../src/stash-plugin/http-hook-target.js';
import { manifestFile, nodePluginManifest, pluginManifest } from '../../src/stash-plugin/manifest.js';
import { PLUGIN_TASKS } from '../../src/stash-plugin/task-list.js';
import { HOOK_TRIGGERS } from '../../src/hook/input.js';
import { STASH_MIN_VERSION, STASH_PLUGIN_MIN_VERSION } from '../../src/stash-api/stash-version.js';

/** Keys Stash's plugin Config decodes (pkg/plugin/config.go, yaml strict mode). */
const STASH_KEYS = {
  top: ['name', 'description', 'url', 'version', 'interface', 'exec', 'errLog', 'tasks', 'hooks', 'ui', 'settings'],
  task: ['name', 'description', 'execArgs', 'defaultArgs'],
  hook: ['name', 'description', 'execArgs', 'defaultArgs', 'triggeredBy'],
  setting: ['type', 'displayName', 'description'],
};
/** Stash's hook triggers (pkg/plugin/hook/hooks.go) that stash2plex may use. */
const STASH_TRIGGERS = [
  'Scene.Create.Post',
  'Scene.Update.Post',
  'Scene.Destroy.Post',
  'Performer.Create.Post',
  'Performer.Update.Post',
  'Performer.Destroy.Post',
  'Studio.Create.Post',
  'Studio.Update.Post',
  'Studio.Destroy.Post',
  'Tag.Create.Post',
  'Tag.Update.Post',
  'Tag.Merge.Post',
  'Tag.Destroy.Post',
  'Group.Update.Post',
  'Movie.Update.Post',
];

type Manifest = Record<string, unknown> & { exec: string[]; hooks: { triggeredBy: string[] }[] };

interface RawManifest {
  name?: unknown;
  interface?: unknown;
  exec?: unknown;
  hooks?: { name?: unknown; triggeredBy: string[] }[];
  tasks?: { defaultArgs?: Record<string, unknown> }[];
  settings?: Record<string, Record<string, unknown>>;
}

/** The YAML text → the manifest, failing on anything Stash's strict decoder would refuse. */
function asStashManifest(text: string): Manifest {
  const m = parse(text) as RawManifest;
  expect(m && typeof m === 'object' && !Array.isArray(m)).toBe(true);
  for (const k of Object.keys(m)) expect(STASH_KEYS.top, `top-level key ${k}`).toContain(k);
  expect(typeof m.name).toBe('string');
  expect(m.interface).toBe('raw');
  expect(Array.isArray(m.exec) && m.exec.length > 0 && (m.exec as unknown[]).every((a: unknown) => typeof a === 'string')).toBe(true);
  expect(Array.isArray(m.hooks)).toBe(true);
  for (const h of m.hooks ?? []) {
    for (const k of Object.keys(h)) expect(STASH_KEYS.hook, `hook key ${k}`).toContain(k);
    expect(typeof h.name).toBe('string');
    for (const t of h.triggeredBy) expect(STASH_TRIGGERS).toContain(t);
  }
  for (const t of m.tasks ?? []) {
    for (const k of Object.keys(t)) expect(STASH_KEYS.task, `task key ${k}`).toContain(k);
    for (const v of Object.values(t.defaultArgs ?? {})) expect(typeof v).toBe('string'); // map[string]string
  }
  for (const s of Object.values(m.settings ?? {})) {
    for (const k of Object.keys(s)) expect(STASH_KEYS.setting, `setting key ${k}`).toContain(k);
  }
  return m as unknown as Manifest;
}

const roundTrip = (m: object) => asStashManifest(stringify(m, { lineWidth: 0 }));

describe('manifests', () => {
  it('the stash2plex manifest: exec through sh (safe without Node), two hooks covering every trigger, the tasks and the settings', () => {
    const m = roundTrip(pluginManifest('1.2.3'));
    expect(m.name).toBe('stash2plex');
    expect(m.exec).toEqual(['sh', '{pluginDir}/stash2plex.sh']);
    expect(m.hooks.flatMap((h) => h.triggeredBy)).toEqual([...HOOK_TRIGGERS]);
    expect(HOOK_TRIGGERS).toEqual([
      'Scene.Update.Post',
      'Scene.Create.Post',
      'Performer.Update.Post',
      'Studio.Update.Post',
      'Tag.Update.Post',
      'Tag.Merge.Post',
      'Group.Update.Post',
      'Movie.Update.Post',
    ]);
    expect((m.tasks as unknown[]).length).toBe(PLUGIN_TASKS.length);
    expect(Object.keys(m.settings as object).sort()).toEqual(
      ['redisPrefix', 'redisUrl', 'explainSceneId', ...STASH_SETTINGS.map((s) => s[0])].sort(),
    );
    expect(String(m.description)).toMatch(/Needs Node\.js 20 or newer on the Stash host, or the HTTP variant/);
  });

  it('every setting of STASH_SETTINGS is in the manifest with its type, and says what an empty value means', () => {
    const settings = roundTrip(pluginManifest('1.2.3')).settings as Record<
      string,
      { type: string; displayName: string; description: string }
    >;
    for (const [key, variable, type, label] of STASH_SETTINGS) {
      expect(settings[key]).toMatchObject({ type, displayName: label });
      expect(settings[key].description).toContain(`Empty: ${variable} of the stash2plex workers' environment`);
    }
    expect(settings.maxTags.type).toBe('NUMBER');
    expect(settings.preservePlexEdits.type).toBe('BOOLEAN');
  });

  it('the Node-only variant (Windows) has an id of its own, node exec, the same hooks, tasks and settings', () => {
    const m = roundTrip(nodePluginManifest('1.2.3'));
    const main = roundTrip(pluginManifest('1.2.3'));
    expect(m.name).toBe('stash2plex (Node)');
    expect(m.exec).toEqual(['node', '{pluginDir}/stash2plex.cjs']);
    expect(m.hooks).toEqual(main.hooks);
    expect(m.tasks).toEqual(main.tasks);
    expect(m.settings).toEqual(main.settings);
    expect(String(m.description)).toMatch(/Needs Node\.js 20 or newer on the Stash host, or the HTTP variant/);
    expect(manifestFile('stash2plex-node')).toBe('stash2plex-node.yml');
  });

  it.each(HTTP_HOOK_VARIANTS)('the %s variant: own id, same hooks, no tasks, no settings, no URL nor token in exec', (variant) => {
    const m = roundTrip(httpPluginManifest('1.2.3', variant));
    expect(m).toMatchObject({ name: `stash2plex (HTTP hook, ${variant})`, version: '1.2.3', interface: 'raw' });
    expect(HTTP_VARIANT_IDS[variant]).toBe(variant === 'wget' ? 'stash2plex-http' : 'stash2plex-curl');
    expect(m.hooks).toEqual(roundTrip(pluginManifest('1.2.3')).hooks);
    expect(m.tasks).toBeUndefined();
    expect(m.settings).toBeUndefined();
    expect(m.exec).toEqual(['sh', '{pluginDir}/stash2plex.sh', variant]);
    expect(m.exec.join(' ')).not.toMatch(/Bearer|http:/);
    expect(String(m.description)).toMatch(/Hooks only/);
    expect(String(m.description)).toMatch(/STASH2PLEX_URL and HOOK_TOKEN from this plugin's folder \(file \.env\)/);
  });

  it('Restore Plex Metadata: a dry run listed first, and both say they act on every scene (Stash passes no scene list)', () => {
    const m = roundTrip(pluginManifest('1.2.3'));
    const names = (m.tasks as { name: string }[]).map((t) => t.name);
    expect(names.indexOf('Restore Plex Metadata (dry run)')).toBe(names.indexOf('Restore Plex Metadata') - 1);
    const restore = PLUGIN_TASKS.filter((t) => t.mode === 'restore' || t.mode === 'restore_dry_run');
    expect(restore.map((t) => t.description)).toEqual([
      expect.stringMatching(/every scene .*Changes nothing/),
      expect.stringMatching(/every scene it wrote to .*dry run first/),
    ]);
  });

  it('the plugin folder .env the build writes for the HTTP hook: what was given, nothing else', () => {
    expect(httpHookDotenv({})).toBeNull();
    expect(httpHookDotenv({ url: 'http://stash2plex:3000', token: 'a1b2' })).toMatch(
      /\nSTASH2PLEX_URL=http:\/\/stash2plex:3000\nHOOK_TOKEN=a1b2\n$/,
    );
    expect(httpHookDotenv({ url: 'http://stash2plex:3000' })).not.toMatch(/HOOK_TOKEN=/);
  });
});

describe('the Stash versions each manifest loads in', () => {
  /** The keys Stash before v0.24.0 decodes (pkg/plugin/config.go at v0.22.0 and v0.23.x: no `settings`). */
  const BEFORE_V024_TOP = STASH_KEYS.top.filter((k) => k !== 'settings');

  it('the stash2plex manifest has settings, so it needs Stash v0.24.0, and says so (Stash shows the description before install)', () => {
    const m = roundTrip(pluginManifest('1.2.3'));
    expect(Object.keys(m).filter((k) => !BEFORE_V024_TOP.includes(k))).toEqual(['settings']);
    expect(String(m.description)).toContain(`Needs Stash ${STASH_PLUGIN_MIN_VERSION} or newer`);
  });

  it.each(HTTP_HOOK_VARIANTS)('the %s variant has no key older Stash refuses, and names the workers’ minimum', (variant) => {
    const m = roundTrip(httpPluginManifest('1.2.3', variant));
    for (const k of Object.keys(m)) expect(BEFORE_V024_TOP).toContain(k);
    expect(String(m.description)).toMatch(new RegExp(`Needs Stash ${STASH_MIN_VERSION.replace(/\./g, '\\.')} or newer\\.$`));
  });
});

describe('resolveHttpHookTarget', () => {
  it('reads STASH2PLEX_URL and HOOK_TOKEN, normalising the URL', () => {
    expect(resolveHttpHookTarget({ STASH2PLEX_URL: ' http://stash2plex:3000/ ', HOOK_TOKEN: ' tok-en_1.2~3+4/5== ' })).toEqual({
      ok: true,
      target: { url: 'http://stash2plex:3000', token: 'tok-en_1.2~3+4/5==' },
      missing: [],
    });
    expect(resolveHttpHookTarget({ STASH2PLEX_URL: 'https://proxy.lan/s2p//', HOOK_TOKEN: 'x' })).toMatchObject({
      ok: true,
      target: { url: 'https://proxy.lan/s2p' },
    });
    expect(resolveHttpHookTarget({ STASH2PLEX_URL: 'http://[::1]:3000' })).toMatchObject({
      ok: true,
      target: { url: 'http://[::1]:3000' },
    });
  });

  it('lists what is unset or blank (placeholders), which is no error', () => {
    expect(resolveHttpHookTarget({})).toEqual({ ok: true, target: {}, missing: ['STASH2PLEX_URL', 'HOOK_TOKEN'] });
    expect(resolveHttpHookTarget({ STASH2PLEX_URL: ' ', HOOK_TOKEN: 'abc' })).toEqual({
      ok: true,
      target: { token: 'abc' },
      missing: ['STASH2PLEX_URL'],
    });
  });

  it.each<[Record<string, string>, string, RegExp]>([
    [{ STASH2PLEX_URL: 'stash2plex:3000' }, 'STASH2PLEX_URL', /http:\/\/ or https:\/\//],
    [{ STASH2PLEX_URL: 'ftp://stash2plex' }, 'STASH2PLEX_URL', /http:\/\/ or https:\/\//],
    [{ STASH2PLEX_URL: 'http://admin:pw@stash2plex:3000' }, 'STASH2PLEX_URL', /credentials/],
    [{ STASH2PLEX_URL: 'http://stash2plex:3000/?a=1' }, 'STASH2PLEX_URL', /query/],
    [{ STASH2PLEX_URL: 'http://stash2plex:3000/api/stash/hook' }, 'STASH2PLEX_URL', /without \/api\/stash\/hook/],
    [{ HOOK_TOKEN: 'two words' }, 'HOOK_TOKEN', /RFC 6750/],
    [{ HOOK_TOKEN: 'quote"d' }, 'HOOK_TOKEN', /RFC 6750/],
    [{ HOOK_TOKEN: '{pluginDir}' }, 'HOOK_TOKEN', /RFC 6750/],
  ])('refuses %j, naming %s', (env, variable, error) => {
    const r = resolveHttpHookTarget(env);
    expect(r).toMatchObject({ ok: false, variable, error: expect.stringMatching(error) as unknown });
    if (!r.ok && env.HOOK_TOKEN) expect(r.error).not.toContain(env.HOOK_TOKEN);
  });
});
