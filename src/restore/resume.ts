// Resume: a restored scene back into sync. Its exclusion is removed and a sync of it is queued (bulk
// priority). The restore forgot the item's ownership record and originals, so that sync runs as a first
// one would: it keeps what Plex shows now as the originals, fills and locks the fields Stash has a value
// for, and leaves the others as Plex has them.
import type { Keys, RedisConnection } from '../core/redis.js';
import { excludedAmong, excludedSceneIds, includeScenes } from '../sync/sync-exclusions.js';
import type { RestoreScope } from './run.js';

/** The `event` of the jobs a resume queues (reason 'manual': bulk priority). */
export const RESUME_EVENT = 'restore_resume';
/** Most resumed scene ids a summary lists. */
const IDS_LISTED = 20;

export interface ResumeDeps {
  redis: RedisConnection;
  keys: Pick<Keys, 'syncExcluded'>;
  /** Queues a sync of each scene (the sync queue, or the inbox). */
  enqueue: (sceneIds: string[]) => Promise<void>;
}

export interface ResumeSummary {
  /** Scenes brought back into sync (a dry run: would be). */
  resumed: number;
  /** Syncs queued (0 in a dry run). */
  queued: number;
  /** Scenes named that were not excluded: nothing to do. */
  notExcluded: number;
  /** The first resumed scene ids. */
  sceneIds: string[];
  dryRun: boolean;
}

async function* pagesOf(deps: ResumeDeps, scope: RestoreScope): AsyncGenerator<string[]> {
  if ('all' in scope) yield* excludedSceneIds(deps.redis, deps.keys);
  else yield [...new Set(scope.sceneIds)];
}

export async function resumeScenes(deps: ResumeDeps, opts: { scope: RestoreScope; dryRun: boolean }): Promise<ResumeSummary> {
  const out: ResumeSummary = { resumed: 0, queued: 0, notExcluded: 0, sceneIds: [], dryRun: opts.dryRun };
  for await (const ids of pagesOf(deps, opts.scope)) {
    const resumed = opts.dryRun ? await excludedAmong(deps.redis, deps.keys, ids) : await includeScenes(deps.redis, deps.keys, ids);
    if (!opts.dryRun && resumed.length > 0) {
      await deps.enqueue(resumed);
      out.queued += resumed.length;
    }
    out.resumed += resumed.length;
    out.notExcluded += ids.length - resumed.length;
    out.sceneIds.push(...resumed.slice(0, IDS_LISTED - out.sceneIds.length));
  }
  return out;
}
