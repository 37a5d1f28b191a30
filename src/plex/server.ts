// The server as a whole: its identity (the unauthenticated probe), the token check, the library sections
// (kept in memory a minute, one request shared by concurrent callers) and a folder scan of a section.
import type { PlexTransport } from './transport.js';
import type { PlexSection } from './paths.js';
import { parseIdentity, parseSections } from './schemas.js';

export const SECTIONS_TTL_MS = 60_000;
/** `/identity` is a few hundred bytes; the probe reads no more than this, whatever the setting. */
export const IDENTITY_MAX_BYTES = 64 * 1024;

export interface PlexIdentity {
  machineIdentifier: string;
  version: string;
  latencyMs: number;
}

export class PlexServer {
  private sectionsCache: { at: number; value: Promise<PlexSection[]> } | null = null;

  constructor(
    private readonly http: PlexTransport,
    /** How long the section list is kept in memory (default 60 s). */
    private readonly sectionsTtlMs = SECTIONS_TTL_MS,
  ) {}

  /** GET /identity (no token): proves the server answers. Its own timeout, e.g. HEALTH_TIMEOUT_MS. */
  async identity(timeoutMs?: number): Promise<PlexIdentity> {
    const started = performance.now();
    const { json } = await this.http
      .json('GET', '/identity', { auth: false, timeoutMs, maxBytes: IDENTITY_MAX_BYTES })
      .catch((err: unknown) => {
        throw this.http.notFromPlex(err);
      });
    const latencyMs = Math.round(performance.now() - started);
    return { ...this.http.parsed('GET', '/identity', () => parseIdentity(json)), latencyMs };
  }

  /** GET /library/sections with the token: throws PlexAuthError when Plex rejects it. */
  async checkToken(): Promise<void> {
    const sections = await this.fetchSections();
    this.sectionsCache = { at: Date.now(), value: Promise.resolve(sections) };
  }

  private async fetchSections(): Promise<PlexSection[]> {
    const { json } = await this.http.json('GET', '/library/sections').catch((err: unknown) => {
      throw this.http.notFromPlex(err);
    });
    return this.http.parsed('GET', '/library/sections', () => parseSections(json));
  }

  /** The library sections, kept in memory for ~60 s (concurrent callers share one request). */
  async sections(force = false): Promise<PlexSection[]> {
    const c = this.sectionsCache;
    if (!force && c && Date.now() - c.at < this.sectionsTtlMs) return c.value;
    const value = this.fetchSections();
    const entry = { at: Date.now(), value };
    this.sectionsCache = entry;
    // A failed fetch is not cached: the next call tries again.
    value.catch(() => {
      if (this.sectionsCache === entry) this.sectionsCache = null;
    });
    return value;
  }

  /** GET /library/sections/{key}/refresh?path=<folder>: Plex scans that folder in the background (python-plexapi LibrarySection.update). */
  async refreshFolder(sectionKey: string, folder: string): Promise<void> {
    await this.http.send('GET', `/library/sections/${encodeURIComponent(sectionKey)}/refresh`, {
      query: new URLSearchParams({ path: folder }),
    });
  }
}
