// A small world for integration tests: both simulators, a library in each, a config pointing at them.
import { parseConfig, type Config } from '../../src/core/config.js';
import { SIM_PLEX_TOKEN, SIM_STASH_KEY, startSimWorld, type SimWorld } from '../../src/sim/world.js';
import { testRedisUrl, uniquePrefix } from './redis.js';

export const PLEX_TOKEN = SIM_PLEX_TOKEN;
export const STASH_KEY = SIM_STASH_KEY;

export interface World extends SimWorld {
  prefix: string;
  config: Config;
}

export interface WorldOptions {
  scenes?: number;
  env?: Record<string, string>;
  prefixName?: string;
  /** The Stash server's zone, clock, version and external_host (src/sim/stash.ts options). */
  stash?: { utcOffsetMinutes?: number; clockSkewMs?: number; version?: string; externalHost?: string | null };
}

export async function startWorld(opts: WorldOptions = {}): Promise<World> {
  const sim = await startSimWorld({ scenes: opts.scenes, stash: opts.stash });
  const prefix = uniquePrefix(opts.prefixName ?? 'w');
  const env: Record<string, string> = { REDIS_URL: testRedisUrl(), REDIS_PREFIX: prefix, LOG_LEVEL: 'warn', ...sim.env, ...opts.env };
  return Object.assign(sim, { prefix, env, config: parseConfig(env) });
}
