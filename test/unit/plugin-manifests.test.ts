// The plugin manifests, pure: the Node one and the HTTP variants (BusyBox wget, curl) come out of
// src/stash-plugin/manifest.ts and http-manifest.ts as objects the build serialises to YAML. Each must
// survive that round trip as a manifest Stash loads: Stash decodes it strictly (an unknown key fails the
// whole plugin), needs exec, interface raw and hooks with Stash's trigger names.
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import {
  CURL_MAX_TIME_S,
  HTTP_HOOK_PLACEHOLDERS,
  HTTP_HOOK_VARIANTS,
  httpHookExec,
  httpPluginManifest,
} from '../../src/stash-plugin/http-manifest.js';
import { resolveHttpHookTarget } from '../../src/stash-plugin/http-hook-target.js';
import { pluginManifest } from '../../src/stash-plugin/manifest.js';
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
];

type Manifest = Record<string, unknown> & { exec: string[]; hooks: { triggeredBy: string[] }[] };

/** The YAML text → the manifest, failing on anything Stash's strict decoder would refuse. */
function asStashManifest(text: string): Manifest {
  const m = parse(text) as Record<string, unknown> & {
    hooks: { name: unknown; triggeredBy: string[] }[];
    tasks?: { defaultArgs?: Record<string, unknown> }[];
    settings?: Record<string, Record<string, unknown>>;
  };
  expect(m && typeof m === 'object' && !Array.isArray(m)).toBe(true);
  for (const k of Object.keys(m)) expect(STASH_KEYS.top, `top-level key ${k}`).toContain(k);
  expect(typeof m.name).toBe('string');
  expect(m.interface).toBe('raw');
  expect(Array.isArray(m.exec) && m.exec.length > 0 && (m.exec as unknown[]).every((a: unknown) => typeof a === 'string')).toBe(true);
  expect(Array.isArray(m.hooks)).toBe(true);
  for (const h of m.hooks) {
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
const TARGET = { url: 'http://stash2plex:3000', token: 'a1b2c3d4e5f6' };

describe('manifests', () => {
  it('the Node manifest: node exec, two hooks covering every trigger, the tasks and the Redis settings', () => {
    const m = roundTrip(pluginManifest('1.2.3'));
    expect(m.exec).toEqual(['node', '{pluginDir}/stash2plex.cjs']);
    expect(m.hooks.flatMap((h) => h.triggeredBy)).toEqual([...HOOK_TRIGGERS]);
    expect(HOOK_TRIGGERS).toEqual([
      'Scene.Update.Post',
      'Scene.Create.Post',
      'Performer.Update.Post',
      'Studio.Update.Post',
      'Tag.Update.Post',
      'Tag.Merge.Post',
    ]);
    expect((m.tasks as unknown[]).length).toBe(PLUGIN_TASKS.length);
    expect(Object.keys(m.settings as object).sort()).toEqual(['explainSceneId', 'redisPrefix', 'redisUrl']);
  });

  it.each(HTTP_HOOK_VARIANTS)('the %s variant: same hooks, no tasks, no settings, exec posting to the hook endpoint', (variant) => {
    const m = roundTrip(httpPluginManifest('1.2.3', variant, TARGET));
    expect(m).toMatchObject({ name: `stash2plex (HTTP hook, ${variant})`, version: '1.2.3', interface: 'raw' });
    expect(m.hooks).toEqual(roundTrip(pluginManifest('1.2.3')).hooks);
    expect(m.tasks).toBeUndefined();
    expect(m.settings).toBeUndefined();
    expect(m.exec[0]).toBe(variant);
    expect(m.exec.at(-1)).toBe('http://stash2plex:3000/api/stash/hook');
    expect(m.exec).toContain('Authorization: Bearer a1b2c3d4e5f6');
    expect(m.exec).toContain('Content-Type: application/json');
    expect(String(m.description)).toMatch(/Hooks only/);
    expect(String(m.description)).not.toMatch(/NOT CONFIGURED/);
    // Stash substitutes {pluginDir} in every argument but the first: none here.
    expect(m.exec.join(' ')).not.toContain('{');
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

  it('exec lines, exactly', () => {
    expect(httpHookExec('wget', TARGET)).toEqual([
      'wget',
      '-q',
      '-O',
      '-',
      '--header',
      'Authorization: Bearer a1b2c3d4e5f6',
      '--header',
      'Content-Type: application/json',
      '--post-file',
      '/dev/stdin',
      'http://stash2plex:3000/api/stash/hook',
    ]);
    expect(httpHookExec('curl', TARGET)).toEqual([
      'curl',
      '-sS',
      '--fail-with-body',
      '--max-time',
      String(CURL_MAX_TIME_S),
      '-X',
      'POST',
      '-H',
      'Authorization: Bearer a1b2c3d4e5f6',
      '-H',
      'Content-Type: application/json',
      '--data-binary',
      '@-',
      'http://stash2plex:3000/api/stash/hook',
    ]);
  });

  it('unset pieces become visible placeholders, and the description says it is not configured', () => {
    const m = roundTrip(httpPluginManifest('1.2.3', 'wget'));
    expect(m.exec).toContain(`Authorization: Bearer ${HTTP_HOOK_PLACEHOLDERS.token}`);
    expect(m.exec.at(-1)).toBe(`${HTTP_HOOK_PLACEHOLDERS.url}/api/stash/hook`);
    expect(String(m.description)).toMatch(/^NOT CONFIGURED: rebuild with STASH2PLEX_URL and HOOK_TOKEN set/);
    const half = roundTrip(httpPluginManifest('1.2.3', 'curl', { url: TARGET.url }));
    expect(half.exec.at(-1)).toBe('http://stash2plex:3000/api/stash/hook');
    expect(half.exec).toContain('Authorization: Bearer <HOOK_TOKEN>');
    expect(String(half.description)).toMatch(/^NOT CONFIGURED: rebuild with HOOK_TOKEN set, or fill in the placeholders of exec/);
  });

  it.each(HTTP_HOOK_VARIANTS)(
    '%s: the placeholders appear in exec only (filling them in with sed puts the token nowhere else)',
    (variant) => {
      const text = stringify(httpPluginManifest('1.2.3', variant), { lineWidth: 0 });
      const m = parse(text) as Manifest;
      for (const p of Object.values(HTTP_HOOK_PLACEHOLDERS)) {
        expect(text.split(p).length - 1, p).toBe(m.exec.join('\n').split(p).length - 1);
        expect(m.exec.join('\n')).toContain(p);
      }
    },
  );
});

describe('the Stash versions each manifest loads in', () => {
  /** The keys Stash before v0.24.0 decodes (pkg/plugin/config.go at v0.22.0 and v0.23.x: no `settings`). */
  const BEFORE_V024_TOP = STASH_KEYS.top.filter((k) => k !== 'settings');

  it('the Node manifest has settings, so it needs Stash v0.24.0, and says so (Stash shows the description before install)', () => {
    const m = roundTrip(pluginManifest('1.2.3'));
    expect(Object.keys(m).filter((k) => !BEFORE_V024_TOP.includes(k))).toEqual(['settings']);
    expect(String(m.description)).toContain(`Needs Stash ${STASH_PLUGIN_MIN_VERSION} or newer`);
  });

  it.each(HTTP_HOOK_VARIANTS)('the %s variant has no key older Stash refuses, and names the workers’ minimum', (variant) => {
    const m = roundTrip(httpPluginManifest('1.2.3', variant, TARGET));
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
    expect(r).toMatchObject({ ok: false, variable, error: expect.stringMatching(error) as string });
    if (!r.ok && env.HOOK_TOKEN) expect(r.error).not.toContain(env.HOOK_TOKEN);
  });
});
