// A simulated world: both simulators with a matching library, and the environment that points
// stash2plex at them. Used by the tests, the benchmarks and the demo.
import { PlexSimulator } from './plex.js';
import { StashSimulator, type StashSimOptions } from './stash.js';
import type { ServerModel } from './sim-server.js';

export const SIM_PLEX_TOKEN = 'plex-secret-token-4f9a';
export const SIM_STASH_KEY = 'stash-secret-key-77c1';

/** Scenes live 25 to a folder, as in a real library (Plex's `file=` filter answers with the whole folder). */
const folderOf = (i: number) => `folder${Math.floor(i / 25)}`;

export interface SimWorld {
  plex: PlexSimulator;
  stash: StashSimulator;
  /** Environment for stash2plex (Redis settings excluded). */
  env: Record<string, string>;
  /** Stash scene id → Plex ratingKey. */
  ratingKeyOf: Map<string, string>;
  addScene(i: number): string;
  stop(): Promise<void>;
}

export async function startSimWorld(
  opts: {
    scenes?: number;
    plexPort?: number;
    stashPort?: number;
    stash?: Pick<StashSimOptions, 'utcOffsetMinutes' | 'clockSkewMs' | 'version' | 'externalHost'>;
    /** Server models (slots, service time) of Plex and Stash from the start: a busy home server. */
    plexModel?: ServerModel;
    stashModel?: ServerModel;
  } = {},
): Promise<SimWorld> {
  const plex = await PlexSimulator.start({ token: SIM_PLEX_TOKEN, port: opts.plexPort, model: opts.plexModel });
  const stash = await StashSimulator.start({ apiKey: SIM_STASH_KEY, port: opts.stashPort, ...opts.stash, model: opts.stashModel });
  const section = plex.addSection({ title: 'Videos', locations: ['/plex/videos'] });
  const ratingKeyOf = new Map<string, string>();
  const world: SimWorld = {
    plex,
    stash,
    ratingKeyOf,
    env: {
      PLEX_URL: plex.url,
      PLEX_TOKEN: SIM_PLEX_TOKEN,
      STASH_URL: stash.url,
      STASH_API_KEY: SIM_STASH_KEY,
      PATH_MAP: '/stash/videos=/plex/videos',
    },
    addScene(i: number) {
      const id = stash.addScene({
        title: `Scene ${i}`,
        details: `Details of scene ${i}`,
        date: `2024-01-${String((i % 28) + 1).padStart(2, '0')}`,
        rating100: (i * 7) % 101,
        studio_id: stash.addStudio(`Studio ${i % 2}`),
        performer_ids: [stash.addPerformer(`Performer ${i % 4}`)],
        tag_ids: [stash.addTag(`tag-${i % 3}`)],
        files: [`/stash/videos/${folderOf(i)}/scene-${i}.mp4`],
      });
      ratingKeyOf.set(id, plex.addItem({ sectionKey: section, title: `scene-${i}`, file: `/plex/videos/${folderOf(i)}/scene-${i}.mp4` }));
      return id;
    },
    async stop() {
      await plex.stop();
      await stash.stop();
    },
  };
  for (let i = 1; i <= (opts.scenes ?? 0); i++) world.addScene(i);
  return world;
}
