// Bull Board's page, as @bull-board/ui ships it, loses its only remote stylesheet (Google Fonts) and nothing else.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { withoutRemoteStylesheets } from '../../src/dashboard/bull-board-local.js';

const uiDir = dirname(createRequire(import.meta.url).resolve('@bull-board/ui/package.json'));
const page = readFileSync(join(uiDir, 'dist/index.ejs'), 'utf8');

describe('withoutRemoteStylesheets', () => {
  it("drops the Google Fonts link of Bull Board's page, keeps its own stylesheet and scripts", () => {
    expect(page).toContain('https://fonts.googleapis.com/');
    const local = withoutRemoteStylesheets(page);
    expect(local).not.toMatch(/https?:\/\//);
    expect(local).toMatch(/<link href="static\/css\/main\.[0-9a-f]+\.css" rel="stylesheet">/);
    expect(local.match(/<script/g)?.length).toBe(page.match(/<script/g)?.length);
    expect(page.length - local.length).toBeLessThan(200);
  });
});
