// Every body read from Plex or Stash is bounded. A hostile server answers 200 with 256 MiB (chunked,
// with an honest Content-Length, or as a gzip bomb whose small Content-Length is true but says nothing
// of the decoded size); with small limits set through the settings, each read is aborted past its
// limit with a typed error (or, for a screenshot, a skip) and a log line with the size, and this
// process's RSS stays under 1.5× what it was before the request.
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig, type Config } from '../../src/core/config.js';
import { SyncError } from '../../src/core/errors.js';
import { PlexClient } from '../../src/plex/client.js';
import { StashClient } from '../../src/stash-api/client.js';
import { HOSTILE_MODES, startHostileServer, type HostileMode, type HostileServer } from '../helpers/hostile-server.js';

const SENT = 256 * 1024 * 1024;
const LIMIT = 1024 * 1024;
const JPEG = Buffer.from([0xff, 0xd8, 0xff, 0xe0]);

const servers = new Map<HostileMode, HostileServer>();
const logLines: string[] = [];
const log = pino({ level: 'warn' }, { write: (line: string) => void logLines.push(line) });

beforeAll(async () => {
  for (const mode of HOSTILE_MODES)
    servers.set(mode, await startHostileServer({ mode, bytes: SENT, contentType: 'image/jpeg', head: JPEG }));
}, 60_000);
afterAll(async () => {
  await Promise.all([...servers.values()].map((s) => s.stop()));
});

function configFor(url: string): Config {
  return parseConfig({
    PLEX_URL: url,
    PLEX_TOKEN: 'hostile-test-token',
    STASH_URL: url,
    PLEX_MAX_RESPONSE_BYTES: String(LIMIT),
    STASH_MAX_RESPONSE_BYTES: String(LIMIT),
    POSTER_MAX_BYTES: String(LIMIT),
  });
}

function clients(config: Config) {
  const plex = new PlexClient({
    url: config.plex.url,
    token: config.plex.token,
    clientIdentifier: 'stash2plex-test',
    timeoutMs: 20_000,
    maxResponseBytes: config.plex.maxResponseBytes,
    log,
  });
  const stash = new StashClient({
    url: config.stash.url,
    timeoutMs: 20_000,
    maxResponseBytes: config.stash.maxResponseBytes,
    posterMaxBytes: config.stash.posterMaxBytes,
    log,
  });
  return { plex, stash };
}

/** Runs `work`, sampling this process's RSS meanwhile; the outcome is the value or the error thrown. */
async function measured(work: () => Promise<unknown>): Promise<{ outcome: unknown; before: number; peak: number }> {
  const before = process.memoryUsage.rss();
  let peak = before;
  const sample = () => (peak = Math.max(peak, process.memoryUsage.rss()));
  const timer = setInterval(sample, 5);
  let outcome: unknown;
  try {
    outcome = await work();
  } catch (err) {
    outcome = err;
  } finally {
    clearInterval(timer);
    sample();
  }
  return { outcome, before, peak };
}

type Target = {
  name: string;
  limit: number;
  run: (c: ReturnType<typeof clients>, url: string) => Promise<unknown>;
  expected: (o: unknown) => void;
};

const typed = (type: string, limit: number) => (o: unknown) => {
  expect(o).toBeInstanceOf(SyncError);
  expect((o as SyncError).type).toBe(type);
  expect((o as SyncError).message).toMatch(new RegExp(`too large: .*over the ${limit}-byte limit`));
};

const TARGETS: Target[] = [
  {
    name: 'a Plex listing (PLEX_MAX_RESPONSE_BYTES)',
    limit: LIMIT,
    run: (c) => c.plex.sections(),
    expected: typed('PlexTemporaryError', LIMIT),
  },
  { name: 'Plex /identity (64 KiB)', limit: 64 * 1024, run: (c) => c.plex.identity(), expected: typed('PlexTemporaryError', 64 * 1024) },
  {
    name: 'a Stash GraphQL answer (STASH_MAX_RESPONSE_BYTES)',
    limit: LIMIT,
    run: (c) => c.stash.findScene('1'),
    expected: typed('StashUnavailable', LIMIT),
  },
  {
    name: 'a screenshot (POSTER_MAX_BYTES): skipped, not failed',
    limit: LIMIT,
    run: (c, url) => c.stash.fetchScreenshot(`${url}/scene/1/screenshot`),
    expected: (o) =>
      expect(o).toEqual({
        skipped: expect.stringMatching(new RegExp(`too large: .*over the ${LIMIT}-byte limit.*POSTER_MAX_BYTES`)) as string,
      }),
  },
];

describe.each(HOSTILE_MODES)('a 256 MiB answer, %s', (mode) => {
  it.each(TARGETS)(
    '$name: aborted past the limit, logged with its size, RSS < 1.5×',
    async (target) => {
      const server = servers.get(mode)!;
      const c = clients(configFor(server.url));
      const sentBefore = server.sent();
      const linesBefore = logLines.length;
      const { outcome, before, peak } = await measured(() => target.run(c, server.url));
      expect(peak).toBeLessThan(before * 1.5);
      target.expected(outcome);
      // The request was aborted, not read to its end (a gzip bomb is small on the wire: nothing to show).
      if (mode !== 'gzip') expect(server.sent() - sentBefore).toBeLessThan(SENT / 4);
      const logged = logLines.slice(linesBefore).map((l) => JSON.parse(l) as { msg: string; bytes: number; limit: number });
      expect(logged).toContainEqual(
        expect.objectContaining({
          msg: expect.stringMatching(/too large: aborted/) as string,
          limit: target.limit,
          bytes: expect.any(Number) as number,
        }),
      );
      expect(logged.every((l) => l.bytes > l.limit)).toBe(true);
    },
    60_000,
  );
});
