// docs/STASH.md and deploy/Dockerfile stay true: the hook answers the walk-through quotes are the ones
// the code gives, the folders and variables it names exist, and the Stash image recipe adds Node.js to
// Stash's own image.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decideHook } from '../../src/hook/decide.js';
import { hookOutcome } from '../../src/dashboard/http-hook.js';
import { HTTP_HOOK_TOKEN_BODY_TYPE, type PluginInput } from '../../src/hook/input.js';
import { PLUGIN_TASKS } from '../../src/stash-plugin/task-list.js';

const doc = readFileSync('docs/STASH.md', 'utf8');
const hookInput = (ctx: Record<string, unknown>): PluginInput => ({ server_connection: {}, args: { hookContext: ctx as never } });
const answer = (ctx: Record<string, unknown>) => {
  const o = hookOutcome(decideHook(hookInput(ctx)));
  return 'output' in o.body ? o.body.output : o.body.error;
};

describe('docs/STASH.md', () => {
  it('quotes the hook answers the code gives', () => {
    const quoted = [
      answer({ id: 1, type: 'Scene.Update.Post', inputFields: ['organized'] }),
      answer({ id: 123, type: 'Scene.Update.Post', input: { id: '123', title: 'x' }, inputFields: ['title', 'id'] }),
      answer({ id: 123, type: 'Scene.Update.Post', input: { id: '123', organized: true }, inputFields: ['organized', 'id'] }),
      answer({ id: 45, type: 'Performer.Update.Post', input: { id: '45', name: 'x' }, inputFields: ['name', 'id'] }),
      answer({ id: 45, type: 'Performer.Update.Post', input: { id: '45', favorite: true }, inputFields: ['favorite', 'id'] }),
    ];
    expect(quoted).toEqual([
      'skipped: scene 1: no field Plex shows changed (organized)',
      'queued scene 123',
      'skipped: scene 123: no field Plex shows changed (organized, id)',
      'queued performer 45: every scene with it is re-synced',
      'skipped: performer 45: no field Plex shows changed (favorite, id)',
    ]);
    for (const q of quoted) expect(doc).toContain(q);
  });

  it('the by-hand .env takes the plugin folder out of the image (WORKDIR /app) and writes the two lines stash2plex.sh reads', () => {
    expect(doc).toContain('docker compose cp dashboard:/app/dist/stash-plugin dist/');
    expect(readFileSync('Dockerfile', 'utf8')).toMatch(/^WORKDIR \/app$/m);
    expect(doc).toContain(`printf 'STASH2PLEX_URL=http://dashboard:3000\\nHOOK_TOKEN=%s\\n'`);
    const script = readFileSync('src/stash-plugin/stash2plex.sh', 'utf8');
    expect(script).toContain('url=${STASH2PLEX_URL:-$(dotenv STASH2PLEX_URL)}');
    expect(script).toContain('token=${HOOK_TOKEN:-$(dotenv HOOK_TOKEN)}');
  });

  it("the wget check posts as the hook does: the token on stdin, in no command's arguments", () => {
    expect(doc).toContain(`docker exec -i stash wget -q -O - --header 'Content-Type: ${HTTP_HOOK_TOKEN_BODY_TYPE}' --post-file /dev/stdin`);
    expect(doc).not.toMatch(/Bearer \$TOKEN/);
  });

  it('names only folders the build writes and variables stash2plex reads', () => {
    const folders = new Set(doc.match(/dist\/stash-plugin[a-z-]*/g));
    expect([...folders].sort()).toEqual([
      'dist/stash-plugin',
      'dist/stash-plugin-curl',
      'dist/stash-plugin-http',
      'dist/stash-plugin-node',
      'dist/stash-plugin-source',
    ]);
    const example = readFileSync('.env.example', 'utf8');
    const variables = new Set(doc.match(/\b[A-Z][A-Z0-9]*_[A-Z0-9_]+\b/g));
    for (const v of variables) {
      if (['STASH2PLEX_URL', 'PUID', 'S2P_HOOK_HTTP_TIMEOUT_S'].includes(v)) continue;
      expect(example, `${v} is named in docs/STASH.md`).toMatch(new RegExp(`^#? ?${v}=`, 'm'));
    }
  });
});

describe('README.md', () => {
  it('names every Stash task', () => {
    const readme = readFileSync('README.md', 'utf8').replace(/\s+/g, ' ');
    for (const t of PLUGIN_TASKS) expect(readme, t.name).toContain(`**${t.name.replace(/ \(dry run\)$/, '')}**`);
  });
});

describe('deploy/Dockerfile', () => {
  it("is Stash's image (any tag) with Node.js from apk, checked to be >= 20", () => {
    const lines = readFileSync('deploy/Dockerfile', 'utf8')
      .split('\n')
      .filter((l) => l && !l.startsWith('#'));
    expect(lines[0]).toBe('ARG STASH_IMAGE=stashapp/stash:latest');
    expect(lines[1]).toBe('FROM ${STASH_IMAGE}');
    expect(lines.filter((l) => l.startsWith('FROM '))).toHaveLength(1);
    expect(lines.join('\n')).toMatch(/^RUN apk add --no-cache nodejs \\$/m);
    expect(lines.join('\n')).toMatch(/major < 20/);
    // Stash's own entrypoint, command and user stay.
    expect(lines.some((l) => /^(CMD|ENTRYPOINT|USER) /.test(l))).toBe(false);
  });
});
