// `npm run demo`'s usage and options (workers/demo.ts), pure.
import { parseArgs } from 'node:util';

export const DEMO_USAGE = `
Usage: npm run demo [-- --no-outage] [-- --outage 60s] [-- --scenes 300] [-- --malformed]
Starts simulated Stash and Plex servers, Redis (REDIS_URL, else 127.0.0.1:6379, else an embedded
redis-server), a worker, a supervisor and the dashboard; syncs the library, then takes Plex down for
--outage (default 30s) while edits keep coming, and brings it back. Watch the dashboard URL it prints.
--malformed: Plex answers one item with a malformed field; only that scene's job fails (PlexBadResponse).`;

export interface DemoOptions {
  /** Take Plex down once the library is in sync. */
  outage: boolean;
  outageMs: number;
  scenes: number;
  /** One Plex item answered with a malformed field. */
  malformed: boolean;
}

/** The demo's options from its arguments, or what is wrong with them. */
export function parseDemoArgs(args: readonly string[]): { ok: true; options: DemoOptions } | { ok: false; error: string } {
  let values;
  try {
    values = parseArgs({
      args: [...args],
      options: { 'no-outage': { type: 'boolean' }, outage: { type: 'string' }, scenes: { type: 'string' }, malformed: { type: 'boolean' } },
      strict: true,
    }).values;
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
  const m = /^(\d+)(s|m)?$/.exec(values.outage ?? '30s');
  if (!m) return { ok: false, error: `--outage must look like 30s or 2m, not "${values.outage}"` };
  const scenes = Number(values.scenes ?? 300);
  if (!Number.isInteger(scenes) || scenes < 1 || scenes > 20_000)
    return { ok: false, error: '--scenes must be a whole number from 1 to 20000' };
  return {
    ok: true,
    options: {
      outage: !values['no-outage'],
      outageMs: Number(m[1]) * (m[2] === 'm' ? 60_000 : 1_000),
      scenes,
      malformed: values.malformed === true,
    },
  };
}
