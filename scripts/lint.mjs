// `npm run lint`: ESLint and Prettier's check at once, one per core (each is single-threaded), with their
// caches in node_modules/.cache; fails when either does. Each one's output is printed whole when it ends.
import { spawn } from 'node:child_process';

const bin = (name) => new URL(`../node_modules/.bin/${name}`, import.meta.url).pathname;
const checks = [
  ['eslint', ['--cache', '--cache-location', 'node_modules/.cache/eslint/', '--cache-strategy', 'content', '.']],
  ['prettier', ['--check', '--cache', '--log-level', 'warn', '.']],
];

function run([name, args]) {
  return new Promise((resolve) => {
    const child = spawn(bin(name), args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out = [];
    child.stdout.on('data', (d) => out.push(d));
    child.stderr.on('data', (d) => out.push(d));
    child.on('error', (err) => resolve({ name, code: 1, text: `${name}: ${err.message}\n` }));
    child.on('close', (code) => resolve({ name, code: code ?? 1, text: Buffer.concat(out).toString() }));
  });
}

const started = Date.now();
const results = await Promise.all(checks.map(run));
for (const { name, code, text } of results) {
  if (text) process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  if (code !== 0) console.error(`lint: ${name} failed (exit ${code})`);
}
const failed = results.some((r) => r.code !== 0);
console.log(`lint: ${failed ? 'failed' : 'eslint and prettier passed'} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
process.exit(failed ? 1 : 0);
