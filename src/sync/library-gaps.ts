// Pure: the gaps of Reconcile Library. A scene and its Plex item (or none) are put in classes, and
// whether a sync would fix them is decided with the very rules of a sync (decideEdit(), the quality gate),
// so a run never queues what a sync would leave as it is. The report is a tally of those classes.
import type { Config } from '../core/config.js';
import type { PlexItem, StashScene } from '../model/types.js';
import { desiredState, isEmptyEdit } from './mapping.js';
import { collectionTitles } from './collections.js';
import { decideEdit, IMAGE_FIELDS, plexField, plexValueHash, type OwnershipRecord } from './ownership.js';
import { unmetRequirements } from './readiness.js';

/**
 * - notInPlex: no item of the allowed libraries holds any of the scene's files (or several do: AmbiguousMatch);
 * - empty: the item shows none of the synced fields (no value, no lock; a title counts only when locked,
 *   as Plex always makes one up from the file name);
 * - drifted: a field stash2plex set shows another value in Plex now (by the ownership record's hashes);
 * - neverSynced: the scene is ready (SYNC_REQUIRE) and its item has no ownership record;
 * - moved: the scene was synced (it has an item it last synced to, `plex:scene`), but none of its files'
 *   paths is one a sync found in Plex (the path cache has none of them): Stash moved or renamed its file
 *   since (a scan, or moveFiles, which sends no hook at all), and Plex may hold it as a new item, or not yet.
 */
export const GAP_CLASSES = ['notInPlex', 'empty', 'drifted', 'neverSynced', 'moved'] as const;
export type GapClass = (typeof GAP_CLASSES)[number];

/** Scene ids kept per class in a report. */
export const REPORT_SAMPLE = 20;

/** What a sync does (Config['sync']: mode, SYNC_FIELDS, SYNC_REQUIRE, PRESERVE_PLEX_EDITS, MAX_TAGS) and PLEX_SCAN_MISSING. */
export type GapSettings = Config['sync'] & { scanMissing: boolean };

export interface SceneInPlex {
  scene: StashScene;
  /** The item holding one of its files; null when none does (or several: ambiguous). */
  item: PlexItem | null;
  /** The item's ownership record ({} when none). */
  record: OwnershipRecord;
  /** With collections synced: the item's collections stash2plex has put items in (lower case; src/sync/collection-titles.ts). */
  ourCollections?: ReadonlySet<string>;
  /** Without an item: whether a sync's folder scan could bring a file in (an allowed library covers it, not ambiguous). */
  scannable?: boolean;
  /** Whether the scene's file moved since its last sync (see movedSinceSync). */
  moved?: boolean;
}

/**
 * Whether a scene's file moved since its last sync: it has an item it last synced to (`plex:scene`: a
 * sync wrote it), yet the path cache, which every sync fills for the path it resolved, knows none of its
 * files' paths (`cached`: one entry or null per file). A scene never synced has no hint, and one without
 * a file has no path: neither moved.
 */
export function movedSinceSync(hint: string | null, cached: readonly unknown[]): boolean {
  return hint !== null && cached.length > 0 && cached.every((c) => c === null);
}

export interface SceneGaps {
  classes: GapClass[];
  /** Whether a sync would fix something: the scene is to be queued. */
  queue: boolean;
}

/** Whether Plex shows something for the field: a lock, or a value (a title only by its lock). */
function isSet(field: Config['sync']['fields'][number], item: PlexItem): boolean {
  const p = plexField(field, item);
  if (!p) return false;
  if (item.locked.includes(p.name)) return true;
  if (field === 'title') return false;
  return Array.isArray(p.value) ? p.value.length > 0 : p.value !== null && p.value !== '';
}

/**
 * The classes of one scene and whether to queue it. Without an item it is queued when it is ready and a
 * sync would ask Plex to scan its folder (PLEX_SCAN_MISSING, a library covers it): the scan is the fix.
 * With one, when it is ready and a sync would send an edit or record ownership (decideEdit(): e.g. with
 * PRESERVE_PLEX_EDITS a drifted field is left alone, so a drift alone is not queued then), or its file
 * moved (the sync moves it onto the item holding the new path, and records that path).
 */
export function classifyScene(sceneInPlex: SceneInPlex, gapSettings: GapSettings): SceneGaps {
  const ready = unmetRequirements(sceneInPlex.scene, gapSettings.require).length === 0;
  const moved: GapClass[] = sceneInPlex.moved ? ['moved'] : [];
  if (!sceneInPlex.item)
    return { classes: ['notInPlex', ...moved], queue: ready && gapSettings.scanMissing && sceneInPlex.scannable === true };
  const item = sceneInPlex.item;
  const fields = gapSettings.fields.filter((f) => !IMAGE_FIELDS.includes(f));
  const classes: GapClass[] = [];
  if (fields.length > 0 && !fields.some((f) => isSet(f, item))) classes.push('empty');
  if (fields.some((f) => sceneInPlex.record[f] !== undefined && plexValueHash(f, item) !== sceneInPlex.record[f])) classes.push('drifted');
  if (ready && Object.keys(sceneInPlex.record).length === 0) classes.push('neverSynced');
  classes.push(...moved);
  if (!ready || classes.length === 0) return { classes, queue: false };
  if (sceneInPlex.moved) return { classes, queue: true };
  const { edit, owned } = decideEdit(
    desiredState(sceneInPlex.scene, undefined, {
      ...gapSettings,
      collections: collectionTitles(sceneInPlex.scene, gapSettings.collections),
    }),
    item,
    sceneInPlex.record,
    { ...gapSettings, ourCollections: sceneInPlex.ourCollections },
  );
  const recordChanges = Object.entries(owned).some(([f, hash]) => sceneInPlex.record[f as keyof OwnershipRecord] !== hash);
  return { classes, queue: !isEmptyEdit(edit) || recordChanges };
}

// ---- the report -------------------------------------------------------------------------------------

export interface GapTally {
  count: number;
  /** The first REPORT_SAMPLE scene ids, in walk (id) order. */
  sceneIds: string[];
}

/** `--json`'s object, the stored report, `/api/status`'s `reconcile.last`. */
export interface LibraryReport extends Record<GapClass, GapTally> {
  scanned: number;
  /** Jobs this run added to the sync queue: a scene whose job was already waiting is not counted (0 in a dry run). */
  queued: number;
  durationMs: number;
  dryRun: boolean;
  /** Scenes a real run queues (a dry run's count of what it would queue). */
  toQueue: number;
  startedAt: number;
  finishedAt: number;
  /** Inbox entries written for the workers to queue (the Stash task, which does not queue itself; else 0). */
  sentToInbox: number;
}

export function emptyReport(dryRun: boolean, startedAt: number): LibraryReport {
  const tally = () => ({ count: 0, sceneIds: [] as string[] });
  return {
    scanned: 0,
    notInPlex: tally(),
    empty: tally(),
    drifted: tally(),
    neverSynced: tally(),
    moved: tally(),
    queued: 0,
    durationMs: 0,
    dryRun,
    toQueue: 0,
    startedAt,
    finishedAt: startedAt,
    sentToInbox: 0,
  };
}

/** Counts one scene in the report (in place: a walk tallies up to millions of scenes). */
export function tallyScene(report: LibraryReport, sceneId: string, gaps: SceneGaps): void {
  report.scanned++;
  for (const c of gaps.classes) {
    const t = report[c];
    t.count++;
    if (t.sceneIds.length < REPORT_SAMPLE) t.sceneIds.push(sceneId);
  }
  if (gaps.queue) report.toQueue++;
}

const LABELS: Record<GapClass, string> = {
  notInPlex: 'Not in Plex',
  empty: 'In Plex with none of the synced fields set',
  drifted: 'Drifted (a field stash2plex set shows another value in Plex)',
  neverSynced: 'Ready but never synced by stash2plex',
  moved: 'Moved or renamed in Stash since their last sync',
};

const scenes = (n: number) => `${n.toLocaleString('en-US')} scene${n === 1 ? '' : 's'}`;

/** The report as lines (CLI, Stash task): one per class with its first scene ids, then what was queued. */
export function reportLines(libraryReport: LibraryReport): string[] {
  const lines = [
    `Reconcile Library${libraryReport.dryRun ? ' (dry run)' : ''}: ${scenes(libraryReport.scanned)} read in ${(libraryReport.durationMs / 1000).toFixed(1)} s`,
  ];
  for (const c of GAP_CLASSES) {
    const t = libraryReport[c];
    const more = t.count > t.sceneIds.length ? ', …' : '';
    lines.push(`${LABELS[c]}: ${t.count.toLocaleString('en-US')}${t.count ? ` (scene ${t.sceneIds.join(', ')}${more})` : ''}`);
  }
  lines.push(reportSummary(libraryReport));
  return lines;
}

/** One line: what was (or would be) queued. */
export function reportSummary(libraryReport: LibraryReport): string {
  if (libraryReport.dryRun) return `Dry run: ${scenes(libraryReport.toQueue)} would be queued for a sync; nothing queued`;
  if (libraryReport.sentToInbox > 0)
    return `Sent ${scenes(libraryReport.sentToInbox)} to the workers' inbox for a sync (bulk priority; a scene already waiting is not queued twice)`;
  const waiting = libraryReport.toQueue - libraryReport.queued;
  return `Queued ${scenes(libraryReport.queued)} for a sync (bulk priority)${waiting > 0 ? `; ${waiting.toLocaleString('en-US')} already waiting, not queued twice` : ''}`;
}

/** Why a run stopped when its index was lost again after a rebuild: one line, with what it had done. */
export function indexLostMessage(done: Pick<LibraryReport, 'scanned' | 'queued' | 'sentToInbox' | 'dryRun'>, total: number): string {
  const handed = done.queued + done.sentToInbox;
  const before =
    done.dryRun || handed === 0
      ? 'nothing was queued'
      : `the ${scenes(handed)} queued before came from the complete index, none from a partial one`;
  return (
    `the index of Plex's files this run keeps in Redis was lost mid-run, and again after a rebuild (evicted or flushed? ` +
    `Redis needs maxmemory-policy noeviction); stopped after ${done.scanned.toLocaleString('en-US')} of ${scenes(total)}, ${before}, and no report was kept`
  );
}

/** The stored report (JSON), or null when there is none or it is unreadable. */
export function parseLibraryReport(raw: string | null): LibraryReport | null {
  if (!raw) return null;
  try {
    const v = JSON.parse(raw) as Partial<LibraryReport>;
    // Reports stored before `moved` and `sentToInbox` existed have neither: none moved, none sent.
    const withNew = { ...v, moved: v.moved ?? { count: 0, sceneIds: [] }, sentToInbox: v.sentToInbox ?? 0 };
    const tallies = GAP_CLASSES.every((c) => typeof withNew[c]?.count === 'number' && Array.isArray(withNew[c]?.sceneIds));
    return tallies && typeof v.scanned === 'number' && typeof v.finishedAt === 'number' ? (withNew as LibraryReport) : null;
  } catch {
    return null;
  }
}
