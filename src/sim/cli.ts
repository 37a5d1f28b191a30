// `npm run sim -- [--scenes N] [--plex-port P] [--stash-port P]` (workers/sim.ts): the Plex and Stash
// simulators alone, with a matching library, to try a configuration against (PATH_MAP, PLEX_LIBRARIES,
// SYNC_REQUIRE, `npm run explain`…) before pointing stash2plex at real servers. Runs until Ctrl-C.
import { parseArgs } from 'node:util';
import { startSimWorld, type SimWorld } from './world.js';

export const SIM_USAGE = `
Usage: npm run sim -- [--scenes N] [--plex-port P] [--stash-port P]

Starts the Plex and Stash simulators alone (no Redis, no worker), with N scenes (default 20) in Stash and
the same files in Plex's library "Videos" (/plex/videos; Stash has them under /stash/videos, so
PATH_MAP=/stash/videos=/plex/videos), and prints the settings that point stash2plex at them. Then run, in
another terminal, npm start (or npm run explain -- 1) with those settings. Ctrl-C stops the simulators;
they keep nothing.

Options:
  --scenes N        scenes in the library (default 20, at most 20000)
  --plex-port P     the Plex simulator's port (default 32410; 0: any free port)
  --stash-port P    the Stash simulator's port (default 9998; 0: any free port)

Exit status: 0 stopped by Ctrl-C, 1 a port was taken, 2 bad option.`;

export interface SimOptions {
  scenes: number;
  plexPort: number;
  stashPort: number;
}

const port = (v: string | undefined, fallback: number, name: string): number | string => {
  const n = Number(v ?? fallback);
  return Number.isInteger(n) && n >= 0 && n <= 65535 ? n : `--${name} must be a port number (0 to 65535), not "${v}"`;
};

/** The options from the arguments, or what is wrong with them. */
export function parseSimArgs(args: readonly string[]): { ok: true; options: SimOptions } | { ok: false; error: string } {
  let values;
  try {
    values = parseArgs({
      args: [...args],
      options: { scenes: { type: 'string' }, 'plex-port': { type: 'string' }, 'stash-port': { type: 'string' } },
      strict: true,
    }).values;
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
  const scenes = Number(values.scenes ?? 20);
  if (!Number.isInteger(scenes) || scenes < 0 || scenes > 20_000)
    return { ok: false, error: '--scenes must be a whole number from 0 to 20000' };
  const plexPort = port(values['plex-port'], 32410, 'plex-port');
  const stashPort = port(values['stash-port'], 9998, 'stash-port');
  if (typeof plexPort === 'string') return { ok: false, error: plexPort };
  if (typeof stashPort === 'string') return { ok: false, error: stashPort };
  return { ok: true, options: { scenes, plexPort, stashPort } };
}

/** What to put in .env (or the environment) to point stash2plex at the simulators. */
export function simSettingsText(world: Pick<SimWorld, 'env'>, scenes: number): string {
  const lines = Object.entries(world.env).map(([k, v]) => `${k}=${v}`);
  return [
    `Plex and Stash simulators running, ${scenes} scenes. Point stash2plex at them with:`,
    '',
    ...lines,
    '',
    'Then, in another terminal: npm start (and open the dashboard), or npm run explain -- 1. Ctrl-C stops the simulators.',
  ].join('\n');
}

/** Starts the simulators and prints their settings; resolves with a function that stops them. */
export async function runSim(options: SimOptions): Promise<() => Promise<void>> {
  const world = await startSimWorld({ scenes: options.scenes, plexPort: options.plexPort, stashPort: options.stashPort });
  process.stdout.write(`${simSettingsText(world, options.scenes)}\n`);
  return () => world.stop();
}
