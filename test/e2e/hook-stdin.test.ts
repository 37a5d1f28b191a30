// The Node hook's stdin deadline (issue 11, point 5): a caller that never closes stdin must not hold the
// hook (and Stash, which waits for it) for ever. Runs the built bundle (npm run build).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve as resolvePath } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runNode } from '../helpers/proc.js';

const PLUGIN = resolvePath('dist/stash-plugin/stash2plex.cjs');
const slow = process.env.S2P_SLOW_TESTS === '1';
const dir = mkdtempSync(join(tmpdir(), 's2p-hook-stdin-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the hook with a stdin pipe that gets `written` and is never closed. */
function runWithOpenStdin(written: string, env: Record<string, string>, killAfterMs: number) {
  return new Promise<{ code: number | null; stdout: string; ms: number; killed: boolean }>((resolve) => {
    const started = performance.now();
    const child = spawn(process.execPath, [PLUGIN], {
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
      cwd: dir,
    });
    let stdout = '';
    let killed = false;
    child.stdout.on('data', (d) => (stdout += d));
    child.stdin.on('error', () => undefined);
    child.stdin.write(written);
    const timer = setTimeout(() => {
      killed = true;
      child.kill('SIGKILL');
    }, killAfterMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, ms: performance.now() - started, killed });
    });
  });
}

/** The plugin's one stdout line → its `error`. */
const errorOf = (stdout: string) => (JSON.parse(stdout) as { error?: string }).error;

describe('hook stdin deadline', () => {
  it('answers {"error": …} and exits when stdin is never closed', { timeout: 20_000 }, async () => {
    const r = await runWithOpenStdin('{"args": {"hookContext"', { S2P_HOOK_STDIN_TIMEOUT_MS: '500' }, 10_000);
    expect(r.killed).toBe(false);
    expect(r.code).toBe(1);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(errorOf(lines[0])).toMatch(/stdin did not end within 500 ms/);
  });

  it.skipIf(!slow)('waits 10 s by default (S2P_SLOW_TESTS=1)', { timeout: 30_000 }, async () => {
    const r = await runWithOpenStdin('', {}, 25_000);
    expect(r.killed).toBe(false);
    expect(errorOf(r.stdout)).toMatch(/within 10000 ms/);
    expect(r.ms).toBeGreaterThan(9_000);
  });

  it('still reads a closed pipe and a file at once', async () => {
    const closed = await runNode(PLUGIN, '', { S2P_HOOK_STDIN_TIMEOUT_MS: '60000' });
    expect(errorOf(closed.stdout)).toMatch(/stdin is empty/);
    const file = join(dir, 'input.json');
    writeFileSync(file, '{"args": {}}');
    const fromFile = await new Promise<string>((resolve) => {
      const child = spawn(`${JSON.stringify(process.execPath)} ${PLUGIN} < ${JSON.stringify(file)}`, {
        shell: true,
        env: { PATH: process.env.PATH ?? '' },
      });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.once('exit', () => resolve(out));
    });
    expect(errorOf(fromFile)).toMatch(/^invalid plugin input: (?!stdin)/);
  });
});
