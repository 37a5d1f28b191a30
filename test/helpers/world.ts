// A small world for integration tests: both simulators, a library in each, a config pointing at them.
import { parseConfig, type Config } from '../../src/config.js';
import { PlexSimulator } from '../../src/sim/plex.js';
import { StashSimulator } from '../../src/sim/stash.js';
import { testRedisUrl, uniquePrefix } from './redis.js';

export const PLEX_TOKEN = 'plex-secret-token-4f9a';
export const STASH_KEY = 'stash-secret-key-77c1';

export interface World {
  plex: PlexSimulator;
  stash: StashSimulator;
  prefix: string;
  config: Config;
  env: Record<string, string>;
  /** Stash scene id → Plex ratingKey. */
  ratingKeyOf: Map<string, string>;
  stop(): Promise<void>;
}

export interface WorldOptions {
  scenes?: number;
  env?: Record<string, string>;
  prefixName?: string;
}

export async function startWorld(opts: WorldOptions = {}): Promise<World> {
  const plex = await PlexSimulator.start({ token: PLEX_TOKEN });
  const stash = await StashSimulator.start({ apiKey: STASH_KEY });
  const section = plex.addSection({ title: 'Videos', locations: ['/plex/videos'] });
  const ratingKeyOf = new Map<string, string>();
  for (let i = 1; i <= (opts.scenes ?? 0); i++) addScene({ plex, stash, ratingKeyOf, section }, i);
  const prefix = uniquePrefix(opts.prefixName ?? 'w');
  const env: Record<string, string> = {
    REDIS_URL: testRedisUrl(),
    REDIS_PREFIX: prefix,
    PLEX_URL: plex.url,
    PLEX_TOKEN,
    STASH_URL: stash.url,
    STASH_API_KEY: STASH_KEY,
    PATH_MAP: '/stash/videos=/plex/videos',
    LOG_LEVEL: 'warn',
    ...opts.env,
  };
  return {
    plex,
    stash,
    prefix,
    env,
    config: parseConfig(env),
    ratingKeyOf,
    async stop() {
      await plex.stop();
      await stash.stop();
    },
  };
}

/** Adds scene number i to both sides: Stash sees /stash/videos/…, Plex /plex/videos/… (PATH_MAP). */
export function addScene(w: Pick<World, 'plex' | 'stash' | 'ratingKeyOf'> & { section?: string }, i: number): string {
  const tag = w.stash.addTag(`tag-${i % 3}`);
  const performer = w.stash.addPerformer(`Performer ${i % 4}`);
  const studio = w.stash.addStudio(`Studio ${i % 2}`);
  const id = w.stash.addScene({
    title: `Scene ${i}`,
    details: `Details of scene ${i}`,
    date: `2024-01-${String((i % 28) + 1).padStart(2, '0')}`,
    rating100: (i * 7) % 101,
    studio_id: studio,
    performer_ids: [performer],
    tag_ids: [tag],
    files: [`/stash/videos/folder${i % 5}/scene-${i}.mp4`],
  });
  const ratingKey = w.plex.addItem({
    sectionKey: w.section ?? w.plex.sections()[0]!.key,
    title: `scene-${i}`,
    file: `/plex/videos/folder${i % 5}/scene-${i}.mp4`,
  });
  w.ratingKeyOf.set(id, ratingKey);
  return id;
}
