// Pure: a restore's and a resume's summaries as text (the CLI, the Stash task and the status page show the same).
import type { CollectionRestore } from './collections.js';
import type { ResumeSummary } from './resume.js';
import type { RestoreSummary, SceneRestore } from './run.js';

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** One line: what the run did (or would do). */
export function restoreSummaryText(restoreSummary: RestoreSummary): string {
  const verb = restoreSummary.dryRun ? 'would be restored' : 'restored';
  const c = restoreSummary.collections;
  const left = [
    restoreSummary.skipped.plexChanged ? `${plural(restoreSummary.skipped.plexChanged, 'field')} changed in Plex left as they are` : '',
    restoreSummary.failed ? `${plural(restoreSummary.failed, 'scene')} failed` : '',
    c?.plexChanged ? `${plural(c.plexChanged, 'collection')} changed in Plex left as ${c.plexChanged === 1 ? 'it is' : 'they are'}` : '',
    c?.failed ? `${plural(c.failed, 'collection')} failed` : '',
  ].filter(Boolean);
  const collections = c?.examined ? `, ${plural(c.restored, 'collection')} ${verb}` : '';
  const head = `${restoreSummary.dryRun ? 'Dry run: ' : ''}${plural(restoreSummary.restored, 'scene')} ${verb} (${plural(restoreSummary.fields, 'field')}), ${plural(restoreSummary.excluded, 'scene')} ${restoreSummary.dryRun ? 'would be ' : ''}excluded from sync${collections}`;
  return `${head}${left.length ? `; ${left.join(', ')}` : ''}${restoreSummary.dryRun ? '; nothing changed' : ''}`;
}

/** One line per scene: the fields put back, those changed in Plex, those never written; notes and errors. */
export function sceneLine(sceneRestore: SceneRestore, dryRun: boolean): string {
  if (sceneRestore.error)
    return `scene ${sceneRestore.sceneId}${sceneRestore.ratingKey ? ` (item ${sceneRestore.ratingKey})` : ''}: not restored: ${sceneRestore.error}`;
  if (sceneRestore.ratingKey === null) return `scene ${sceneRestore.sceneId}: never synced: nothing to restore`;
  if (!sceneRestore.excluded)
    return `scene ${sceneRestore.sceneId} (item ${sceneRestore.ratingKey}): nothing kept: stash2plex never wrote its fields${sceneRestore.notes.length ? ` (${sceneRestore.notes.join('; ')})` : ''}`;
  const parts = [
    sceneRestore.restored.length ? `${dryRun ? 'would restore' : 'restored'} ${sceneRestore.restored.join(', ')}` : 'nothing to put back',
    sceneRestore.plexChanged.length ? `changed in Plex, left: ${sceneRestore.plexChanged.join(', ')}` : '',
    ...sceneRestore.notes,
  ].filter(Boolean);
  return `scene ${sceneRestore.sceneId} (item ${sceneRestore.ratingKey}): ${parts.join('; ')}`;
}

/** One line per collection: its fields put back, those changed in Plex; notes and errors. */
export function collectionLine(collection: CollectionRestore, dryRun: boolean): string {
  const { ratingKey, title, error, restored, plexChanged, notes } = collection;
  const name = `collection ${title === null ? ratingKey : `"${title}" (${ratingKey})`}`;
  if (error) return `${name}: not restored: ${error}`;
  if (restored.length === 0 && plexChanged.length === 0)
    return `${name}: nothing kept: stash2plex never wrote its summary or poster${notes.length ? ` (${notes.join('; ')})` : ''}`;
  const parts = [
    restored.length ? `${dryRun ? 'would restore' : 'restored'} ${restored.join(', ')}` : 'nothing to put back',
    plexChanged.length ? `changed in Plex, left: ${plexChanged.join(', ')}` : '',
    ...notes,
  ].filter(Boolean);
  return `${name}: ${parts.join('; ')}`;
}

/** The lines of the collections listed, and how many more there were. */
export function collectionLines(restoreSummary: RestoreSummary): string[] {
  const c = restoreSummary.collections;
  if (!c) return [];
  const lines = c.listed.map((one) => collectionLine(one, restoreSummary.dryRun));
  if (c.examined > c.listed.length) lines.push(`… and ${plural(c.examined - c.listed.length, 'more collection')}`);
  return lines;
}

/** The summary's lines: one per listed scene and collection, then the totals. */
export function restoreLines(restoreSummary: RestoreSummary): string[] {
  const lines = restoreSummary.scenes.map((scene) => sceneLine(scene, restoreSummary.dryRun));
  if (restoreSummary.examined > restoreSummary.scenes.length)
    lines.push(`… and ${plural(restoreSummary.examined - restoreSummary.scenes.length, 'more scene')}`);
  lines.push(...collectionLines(restoreSummary));
  lines.push(restoreSummaryText(restoreSummary));
  return lines;
}

export function resumeSummaryText(resumeSummary: ResumeSummary): string {
  const ids = resumeSummary.sceneIds.length
    ? ` (scene ${resumeSummary.sceneIds.join(', ')}${resumeSummary.resumed > resumeSummary.sceneIds.length ? ', …' : ''})`
    : '';
  const none = resumeSummary.notExcluded
    ? `; ${plural(resumeSummary.notExcluded, 'scene')} ${resumeSummary.notExcluded === 1 ? 'was' : 'were'} not excluded`
    : '';
  if (resumeSummary.dryRun)
    return `Dry run: ${plural(resumeSummary.resumed, 'scene')} would be brought back into sync${ids}${none}; nothing changed`;
  return `${plural(resumeSummary.resumed, 'scene')} brought back into sync${ids}, ${plural(resumeSummary.queued, 'sync')} queued (bulk priority)${none}`;
}
