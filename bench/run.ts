// `npm run bench [-- --quick] [-- --write] [-- --only hook,library,reconcile,first-sync,…]`: every benchmark, one after the
// other on the same machine, each a table of side-by-side figures. --write saves them to BENCHMARKS.md.
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { formatHookBench, runHookBench } from './hook.js';
import { runLibraryBench } from './library.js';
import { runOutageBench } from './outage.js';
import { requeueBenchTitle, runRequeueBench } from './requeue.js';
import { runReconcileBench } from './reconcile.js';
import { runScaleBench } from './scale.js';
import { runFirstSyncBench } from './first-sync.js';
import { runThroughputBench } from './throughput.js';
import { table } from './lib.js';

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const onlyArg =
  argv.find((a) => a.startsWith('--only='))?.slice(7) ?? (argv.includes('--only') ? argv[argv.indexOf('--only') + 1] : undefined);
const only = onlyArg ? new Set(onlyArg.split(',')) : null;

const benches: [name: string, run: () => Promise<string>][] = [
  ['hook', async () => formatHookBench(await runHookBench({ quick, log: (line) => process.stderr.write(`${line}\n`) }))],
  ['throughput', () => runThroughputBench({ quick })],
  ['library', () => runLibraryBench({ quick })],
  ['outage', () => runOutageBench({ quick })],
  ['requeue', async () => table(requeueBenchTitle(quick), await runRequeueBench({ quick }))],
  ['scale', () => runScaleBench({ quick })],
  ['reconcile', () => runReconcileBench({ quick })],
  ['first-sync', () => runFirstSyncBench({ quick })],
];

const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${process.platform}`;
const sections: string[] = [];
for (const [name, run] of benches) {
  if (only && !only.has(name)) continue;
  process.stderr.write(`[bench] ${name}…\n`);
  const started = Date.now();
  const text = await run();
  const seconds = Math.round((Date.now() - started) / 1000);
  process.stdout.write(`${text}\n`);
  process.stderr.write(`[bench] ${name}: ${seconds} s\n`);
  sections.push(`${text}\n_${name}: ${seconds} s_\n`);
}
if (argv.includes('--write')) {
  const header = `# Benchmarks\n\nLatest \`npm run bench${quick ? ' -- --quick' : ''}\` on ${new Date().toISOString().slice(0, 10)}: ${machine}.\nTargets and how to read the figures: at the end.\n\n`;
  const notes = readFileSync(new URL('../../bench/NOTES.md', import.meta.url), 'utf8');
  writeFileSync('BENCHMARKS.md', `${header}${sections.join('\n')}\n${notes}`);
  process.stderr.write('[bench] BENCHMARKS.md written\n');
}
process.exit(0);
