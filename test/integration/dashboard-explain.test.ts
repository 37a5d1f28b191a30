// GET /api/explain and the status page's Explain panel over real HTTP, against a real Redis and both
// simulators: the explanation of a scene (the same object as `npm run explain -- ID --json`, with its
// lines), 404 for a scene Stash does not have, 400 for an id that is no number; nothing changes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/core/log.js';
import { connectRedis, type RedisConnection } from '../../src/core/redis.js';
import { startDashboard, type DashboardHandle } from '../../src/dashboard/server.js';
import { plexSnapshot, redisSnapshot } from '../helpers/snapshot.js';
import { waitFor } from '../helpers/wait.js';
import { PLEX_TOKEN, STASH_KEY, startWorld, type World } from '../helpers/world.js';

const PASSWORD = 'dash-explain-pw-5c1e';
const auth = { Authorization: `Basic ${Buffer.from(`admin:${PASSWORD}`).toString('base64')}` };

let world: World;
let dash: DashboardHandle;
let redis: RedisConnection;

beforeAll(async () => {
  world = await startWorld({ scenes: 2, prefixName: 'dexplain', env: { DASHBOARD_PASSWORD: PASSWORD, DASHBOARD_PORT: '0' } });
  redis = connectRedis(world.config);
  dash = await startDashboard(world.config, createLogger({ level: 'silent' }));
  // The dashboard's queue writes BullMQ's meta once, on its own: wait for it before comparing snapshots.
  await waitFor(async () => (await redis.exists(`${world.prefix}:sync:meta`)) === 1, 10_000, 'the queue meta');
});
afterAll(async () => {
  await dash?.stop();
  redis?.disconnect();
  await world?.stop();
});

describe('GET /api/explain', () => {
  it('explains a scene never synced: found by its path, every field to set; Redis and Plex unchanged', async () => {
    const before = await redisSnapshot(redis, world.prefix);
    const plexBefore = plexSnapshot(world.plex);
    const res = await fetch(`${dash.url}/api/explain?scene=1`, { headers: auth });
    const body = await res.text();
    expect(res.status).toBe(200);
    const e = JSON.parse(body) as Record<string, unknown> & { match: { how: string; ratingKey: string }; lines: string[]; next: string };
    expect(Object.keys(e).slice(0, 6)).toEqual(['scene', 'requirements', 'tried', 'candidates', 'match', 'fields']);
    expect(e.match).toMatchObject({ ratingKey: world.ratingKeyOf.get('1'), how: 'path' });
    expect(e.next).toMatch(/^send to Plex: set title, summary, studio, date, genres, actors, rating, poster/);
    expect(e.lines.at(-1)).toBe(`Next sync: ${e.next}`);
    expect(body).not.toContain(PLEX_TOKEN);
    expect(body).not.toContain(STASH_KEY);
    expect(await redisSnapshot(redis, world.prefix)).toEqual(before);
    expect(plexSnapshot(world.plex)).toBe(plexBefore);
  });

  it('404 for a scene Stash does not have, 400 for an id that is no number, 401 without credentials', async () => {
    const unknown = await fetch(`${dash.url}/api/explain?scene=4242`, { headers: auth });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({ error: 'Stash has no scene 4242' });
    const bad = await fetch(`${dash.url}/api/explain?scene=abc`, { headers: auth });
    expect(bad.status).toBe(400);
    expect((await fetch(`${dash.url}/api/explain?scene=1`)).status).toBe(401);
  });

  it('the status page carries the Explain form', async () => {
    const page = await (await fetch(`${dash.url}/`, { headers: auth })).text();
    expect(page).toContain('data-testid="explain-panel"');
    expect(page).toMatch(/<form id="explain-form"[^>]*action="api\/explain"/);
  });
});
