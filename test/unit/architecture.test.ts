// The folder layout is the architecture (docs/ARCHITECTURE.md): every import in src/ goes to its own
// folder or to a lower layer, and no chain of imports comes back to where it started.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const SRC = join(ROOT, 'src');

/** Lowest first; a folder may import its own files and any folder of a lower layer. Keep in step with docs/ARCHITECTURE.md. */
export const LAYERS: readonly (readonly string[])[] = [
  ['core'],
  ['model'],
  ['hook'],
  ['resilience', 'settings'],
  ['plex', 'stash-api'],
  ['sync'],
  ['supervisor'],
  ['dlq', 'restore', 'explain'],
  ['dashboard', 'stash-plugin'],
  ['sim', 'roles'],
  ['demo'],
];
const rank = new Map(LAYERS.flatMap((folders, i) => folders.map((f) => [f, i] as const)));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? sourceFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s*['"](\.{1,2}\/[^'"]+)['"]|import\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g;

export function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(IMPORT)].map((m) => resolve(dirname(file), (m[1] ?? m[2]).replace(/\.js$/, '.ts')));
}

const folderOf = (file: string) => relative(SRC, file).split('/')[0];
const files = sourceFiles(SRC);
const graph = new Map(files.map((f) => [f, importsOf(f)]));

describe('architecture', () => {
  it('puts every source file in a folder of a known layer', () => {
    const unknown = files.map((f) => relative(SRC, f)).filter((f) => !f.includes('/') || !rank.has(f.split('/')[0]));
    expect(unknown).toEqual([]);
  });

  it('matches the layer table of docs/ARCHITECTURE.md', () => {
    const doc = readFileSync(join(ROOT, 'docs/ARCHITECTURE.md'), 'utf8');
    const rows = [...doc.matchAll(/^\| (\d+) \| ((?:`[a-z-]+`(?:, )?)+) \|/gm)].map((m) =>
      [...m[2].matchAll(/`([a-z-]+)`/g)].map((x) => x[1]),
    );
    expect(rows).toEqual(LAYERS.map((l) => [...l]));
    expect(
      readdirSync(SRC)
        .filter((d) => statSync(join(SRC, d)).isDirectory())
        .sort(),
    ).toEqual([...rank.keys()].sort());
  });

  it('imports only downward or within a folder', () => {
    const upward: string[] = [];
    for (const [file, targets] of graph) {
      const from = folderOf(file);
      for (const target of targets) {
        const to = folderOf(target);
        if (to !== from && !(rank.get(to)! < rank.get(from)!)) upward.push(`${relative(ROOT, file)} → ${relative(ROOT, target)}`);
      }
    }
    expect(upward).toEqual([]);
  });

  it('has no import cycle', () => {
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const stack: string[] = [];
    const visit = (f: string) => {
      state.set(f, 'open');
      stack.push(f);
      for (const t of graph.get(f) ?? []) {
        if (state.get(t) === 'open')
          cycles.push(
            stack
              .slice(stack.indexOf(t))
              .concat(t)
              .map((p) => relative(SRC, p))
              .join(' → '),
          );
        else if (!state.has(t)) visit(t);
      }
      stack.pop();
      state.set(f, 'done');
    };
    for (const f of files) if (!state.has(f)) visit(f);
    expect(cycles).toEqual([]);
  });

  it('keeps workers/ to entry points: no file there over 60 lines (the logic lives in src/)', () => {
    const WORKERS = join(ROOT, 'workers');
    const long = readdirSync(WORKERS)
      .filter((f) => f.endsWith('.ts'))
      .map((f) => [f, readFileSync(join(WORKERS, f), 'utf8').trimEnd().split('\n').length] as const)
      .filter(([, lines]) => lines > 60)
      .map(([f, lines]) => `workers/${f}: ${lines} lines`);
    expect(long).toEqual([]);
  });

  it("uses none of Node's private internals: no process.binding, no internalBinding, no *_wrap binding", () => {
    const dirs = ['src', 'workers', 'bench', 'scripts'].map((d) => join(ROOT, d));
    const code = (dir: string): string[] =>
      readdirSync(dir).flatMap((name) => {
        const p = join(dir, name);
        return statSync(p).isDirectory() ? code(p) : /\.(ts|mjs|cjs|js)$/.test(name) ? [p] : [];
      });
    const PRIVATE = /process\.binding\b|\binternalBinding\b|\b[a-z]+_wrap\b/;
    const offenders = dirs.flatMap(code).filter((f) => PRIVATE.test(readFileSync(f, 'utf8')));
    expect(offenders.map((f) => relative(ROOT, f))).toEqual([]);
  });

  it('names every parameter of an exported function or public method (no one-letter names; simulators aside)', () => {
    const exported = (n: ts.Node) => (ts.getCombinedModifierFlags(n as ts.Declaration) & ts.ModifierFlags.Export) !== 0;
    const hidden = (n: ts.Node) =>
      (ts.getCombinedModifierFlags(n as ts.Declaration) & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)) !== 0;
    const offenders = files
      .filter((f) => folderOf(f) !== 'sim')
      .flatMap((file) => {
        const sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
        const fns: ts.SignatureDeclaration[] = [];
        ts.forEachChild(sf, (node) => {
          if (ts.isFunctionDeclaration(node) && exported(node)) fns.push(node);
          if (ts.isVariableStatement(node) && exported(node))
            for (const d of node.declarationList.declarations)
              if (d.initializer && (ts.isArrowFunction(d.initializer) || ts.isFunctionExpression(d.initializer))) fns.push(d.initializer);
          if (ts.isClassDeclaration(node) && exported(node))
            for (const m of node.members) if ((ts.isMethodDeclaration(m) || ts.isConstructorDeclaration(m)) && !hidden(m)) fns.push(m);
        });
        return fns.flatMap((fn) =>
          fn.parameters
            .filter((p) => ts.isIdentifier(p.name) && p.name.text.length === 1)
            .map((p) => `${relative(ROOT, file)}:${sf.getLineAndCharacterOfPosition(p.getStart(sf)).line + 1} ${p.name.getText(sf)}`),
        );
      });
    expect(offenders).toEqual([]);
  });

  it('cites no path outside the repository', () => {
    const skip = new Set(['node_modules', 'dist', '.git', 'data', 'test-output']);
    const walk = (dir: string): string[] =>
      readdirSync(dir).flatMap((name) => {
        const p = join(dir, name);
        if (skip.has(name)) return [];
        return statSync(p).isDirectory() ? walk(p) : /\.(ts|mjs|cjs|js|md|json|ya?ml|sh)$|Dockerfile$|^run$/.test(name) ? [p] : [];
      });
    const self = resolve(import.meta.filename);
    const outside = walk(ROOT).filter((f) => f !== self && /\.\.\/shared\/|\/work\/shared|shared\/reference/.test(readFileSync(f, 'utf8')));
    expect(outside.map((f) => relative(ROOT, f))).toEqual([]);
  });
});
