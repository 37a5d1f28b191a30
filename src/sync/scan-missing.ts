// When a scene's file is not in Plex: ask Plex to scan the folder holding it (PLEX_SCAN_MISSING), in
// Plex's terms (the library whose location is the longest prefix, the folder as Plex sees it), at most
// once per folder per cooldown across every worker (SET NX PX), and only while the breaker is CLOSED:
// a struggling server gets no extra work. A failed request costs only the scan; the job retries anyway.
import type { Logger } from '../core/log.js';
import type { RedisConnection } from '../core/redis.js';
import type { BreakerGate } from '../resilience/gate.js';

/** What the scan needs of the Plex client (PlexClient): locations.ts scanTarget, server.ts refreshFolder. */
export interface FolderScanPort {
  scanTarget(stashPath: string): Promise<{ sectionKey: string; folder: string } | null>;
  refreshFolder(sectionKey: string, folder: string): Promise<void>;
}

export interface FolderScanOptions {
  plex: FolderScanPort;
  redis: RedisConnection;
  /** keys(prefix).plexScanned: one string per folder asked for, `<key>:<sectionKey>:<folder>`. */
  scannedKey: string;
  /** keys(prefix).plexLastScan: when the latest scan was asked for (base-name matches cached before it are checked again). */
  lastScanKey: string;
  cooldownMs: number;
  gate?: Pick<BreakerGate, 'breakerClosed'>;
  log: Pick<Logger, 'info' | 'warn'>;
}

/** Requests the scans of the folders of these Stash files; answers the folders asked for now. */
export type FolderScanner = (stashPaths: readonly string[]) => Promise<string[]>;

export function folderScanner(opts: FolderScanOptions): FolderScanner {
  return async (stashPaths) => {
    if (opts.gate && !(await opts.gate.breakerClosed())) return [];
    const asked: string[] = [];
    for (const stashPath of stashPaths) {
      try {
        const target = await opts.plex.scanTarget(stashPath);
        if (!target) continue;
        const key = `${opts.scannedKey}:${target.sectionKey}:${target.folder}`;
        if (opts.cooldownMs > 0 && (await opts.redis.set(key, String(Date.now()), 'PX', opts.cooldownMs, 'NX')) !== 'OK') continue;
        await opts.plex.refreshFolder(target.sectionKey, target.folder);
        await opts.redis.set(opts.lastScanKey, String(Date.now()));
        opts.log.info({ sectionKey: target.sectionKey, folder: target.folder }, 'file not in Plex: asked Plex to scan its folder');
        asked.push(target.folder);
      } catch (err) {
        opts.log.warn({ stashPath, err: (err as Error).message }, 'could not ask Plex to scan a folder');
      }
    }
    return asked;
  };
}
