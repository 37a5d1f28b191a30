// Every key name and queue name, in one place, with no dependencies (the Stash hook loads this too).

/** The BullMQ queue every Plex-talking job lives in. */
export const SYNC_QUEUE = 'sync';
/** Consumer group of the workers on the inbox stream. */
export const INBOX_GROUP = 'ingest';

/** Every key stash2plex itself writes (BullMQ's own live under `<prefix>:sync:*`). */
export function keys(prefix: string) {
  return {
    /** Stream of hook events (XADD by the hook, consumed by the workers' ingest). */
    inbox: `${prefix}:inbox`,
    /** Stream of per-attempt outcome signals from the workers, read by the supervisor. */
    signals: `${prefix}:signals`,
    /** Hash: Plex file path → ratingKey (verified on use). */
    plexPathCache: `${prefix}:plex:path`,
    /**
     * Hash: Stash scene id → ratingKey of the Plex item the scene last synced to. A hint only, so that a
     * job reads the item alongside the scene instead of after it; resolution still decides.
     */
    plexSceneItem: `${prefix}:plex:scene`,
    /** String: epoch ms of the latest folder scan stash2plex asked Plex for; base-name matches cached before it are checked again. */
    plexLastScan: `${prefix}:plex:last-scan`,
    /** Hash (bounded): suggested PATH_MAP pair `from=to` → a file the base-name fallback matched (JSON). */
    plexPathHints: `${prefix}:plex:path-hints`,
    /** Prefix of strings `<plexScanned>:<sectionKey>:<folder>` (TTL PLEX_SCAN_COOLDOWN_MS): a folder scan asked for. */
    plexScanned: `${prefix}:plex:scanned`,
    /** String: the last check of PLEX_LIBRARIES against Plex's sections (JSON; written by the supervisor). */
    plexLibraryCheck: `${prefix}:plex:library-check`,
    /** String: the X-Plex-Client-Identifier every process shares (set once, with SET NX). */
    plexClientId: `${prefix}:plex:client-id`,
    /**
     * String: the secret performer photo URLs are signed with (`DASHBOARD_PUBLIC_URL/images/performer/<id>?v=&sig=`),
     * created once (SET NX) by the first worker or dashboard that needs it; deleting it invalidates every link.
     */
    imageSecret: `${prefix}:images:secret`,
    /** Hash: ratingKey → SHA-256 of the last poster uploaded. Legacy: moved into `<own>:<ratingKey>` when a worker starts. */
    posterHashes: `${prefix}:plex:poster`,
    /**
     * Prefix of hashes `<own>:<ratingKey>`, one per Plex item: each field stash2plex has set (SYNC_FIELDS
     * names) → a 16-hex hash of the value it set. Deleted when the item is learnt to be gone.
     */
    own: `${prefix}:own`,
    /**
     * Prefix of hashes `<orig>:<ratingKey>`, one per Plex item: for each field, what Plex had before
     * stash2plex first wrote it (value and lock, as JSON), kept once; what a restore puts back. The field
     * `poster:upload` holds the SHA-1 of the last poster stash2plex uploaded (Plex names an upload by it).
     */
    orig: `${prefix}:orig`,
    /**
     * Set: ratingKey of each Plex collection something is kept of in `<orig>:<ratingKey>` (added before
     * the first entry): a collection is no scene's item, so `restore --all` finds them here.
     */
    origCollections: `${prefix}:orig-collections`,
    /** Hash: Stash scene id → why and when it is kept out of sync (JSON; a restored scene). */
    syncExcluded: `${prefix}:sync-excluded`,
    /**
     * Hash: `<sectionKey>\t<kind>:<Stash id>` (a group, studio, tag or performer) → the Plex collection made
     * of it (JSON, src/sync/collection-items.ts): its ratingKey, title, the version of what it shows, and
     * whether stash2plex created it. Its summary and poster are owned like an item's, in `<own>:<ratingKey>`.
     */
    plexCollections: `${prefix}:plex:collections`,
    /**
     * Set: `<sectionKey>\t<title, lower case>` of every collection stash2plex has put items in: the only
     * collections it takes an item out of (src/sync/collection-titles.ts); one made by hand in Plex stays.
     */
    plexCollectionTitles: `${prefix}:plex:collection-titles`,
    /** Hash: ratingKey of a collection stash2plex created → its field in `plexCollections` (COLLECTION_PRUNE deletes only these). */
    plexCollectionsCreated: `${prefix}:plex:collections-created`,
    /** Hash: ratingKey → `<sceneId>\t<path|fallback>`: the Stash scene matched to that item and how (the item's claim). */
    plexItemScene: `${prefix}:plex:item-scene`,
    /** Hash: Stash scene id → why it is not synced (JSON, src/sync/claims.ts): duplicate files, stacked parts, a claimed item. */
    plexConflicts: `${prefix}:plex:conflicts`,
    /** Hash: requirement of SYNC_REQUIRE → scenes skipped as not ready for it. */
    syncSkipped: `${prefix}:sync-skipped`,
    /** Hash: breaker state (written only by the supervisor leader). */
    breaker: `${prefix}:breaker`,
    /** Hash: recovery ramp state. */
    ramp: `${prefix}:ramp`,
    /** List: capped breaker transition log, newest first. */
    transitions: `${prefix}:transitions`,
    /** List: outage records (JSON), newest first, capped. */
    outages: `${prefix}:outages`,
    /** Set: ids of jobs held back by the ongoing outage. */
    outageJobs: `${prefix}:outage:jobs`,
    /** String: the supervisor leader's id, with a TTL (the lease). */
    leader: `${prefix}:leader`,
    /** String: the last probe's result (JSON). */
    health: `${prefix}:health`,
    /** Prefix of strings `<authHeld>:<jobId>` (with a TTL): when a job held for a 401/403 last met it. */
    authHeld: `${prefix}:auth-held`,
    /** Prefix of strings `<stashHeld>:<jobId>` (with a TTL): when a job held for a Stash fault last met one. */
    stashHeld: `${prefix}:stash-held`,
    /** Hash: queue name → who paused it ('supervisor' | 'operator'). */
    pausedBy: `${prefix}:paused-by`,
    /** String: high-water mark of Stash updated_at seen by checkpoint reconciliation. */
    reconcileCheckpoint: `${prefix}:reconcile:checkpoint`,
    /**
     * String: the checkpoint mark whose own second a checkpoint walked once that second was over on
     * Stash's clock (src/supervisor/reconciler.ts markSettled): the next walk starts after it.
     */
    reconcileSettled: `${prefix}:reconcile:checkpoint-settled`,
    /** String: the last Reconcile Library report (JSON, src/sync/library-gaps.ts), dry runs too. */
    reconcileReport: `${prefix}:reconcile:library-report`,
    /** The last Reconcile Library run that failed (JSON: when, dry run or not, why), kept beside the last report. */
    reconcileFailure: `${prefix}:reconcile:library-failure`,
    /**
     * Prefix of hashes `<reconcileIndex>:<runId>`, one per Reconcile Library run while it runs (TTL 1 h from
     * its last lookup): the allowed libraries' files, `p:<path>` → ratingKey and `n:<base name>:<size>` →
     * ratingKey + file, and a header read with every lookup, `#run` → the run id and `#files` → the count
     * listed (written last), so a hash Redis lost or that is half written is never read as complete.
     */
    reconcileIndex: `${prefix}:reconcile:index`,
    /** Hash: job id → how often requeue moved it back. */
    requeueCounts: `${prefix}:requeue:counts`,
    /**
     * Hash (PEXPIRE refreshed by each write): worker id → that worker's adaptive concurrency limiters
     * (JSON: `at` and one snapshot per target, src/resilience/limiter-record.ts); stale fields are pruned.
     */
    limiters: `${prefix}:limiters`,
    /** String: the effective settings a user changes in Stash and where each came from (JSON, src/settings/store.ts). */
    settings: `${prefix}:settings`,
  };
}
export type Keys = ReturnType<typeof keys>;

/** The ownership record of one Plex item (see `own` above). */
export const ownershipKey = (redisKeys: Pick<Keys, 'own'>, ratingKey: string) => `${redisKeys.own}:${ratingKey}`;
/** What Plex had before stash2plex first wrote to one item (see `orig` above). */
export const originalsKey = (redisKeys: Pick<Keys, 'orig'>, ratingKey: string) => `${redisKeys.orig}:${ratingKey}`;
