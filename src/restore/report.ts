// Pure: a restore's and a resume's summaries as text (the CLI, the Stash task and the status page show the same).
import type { ResumeSummary } from './resume.js';
import type { RestoreSummary, SceneRestore } from './run.js';

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** One line: what the run did (or would do). */
export function restoreSummaryText(s: RestoreSummary): string {
  const verb = s.dryRun ? 'would be restored' : 'restored';
  const left = [
    s.skipped.plexChanged ? `${plural(s.skipped.plexChanged, 'field')} changed in Plex left as they are` : '',
    s.failed ? `${plural(s.failed, 'scene')} failed` : '',
  ].filter(Boolean);
  const head = `${s.dryRun ? 'Dry run: ' : ''}${plural(s.restored, 'scene')} ${verb} (${plural(s.fields, 'field')}), ${plural(s.excluded, 'scene')} ${s.dryRun ? 'would be ' : ''}excluded from sync`;
  return `${head}${left.length ? `; ${left.join(', ')}` : ''}${s.dryRun ? '; nothing changed' : ''}`;
}

/** One line per scene: the fields put back, those changed in Plex, those never written; notes and errors. */
export function sceneLine(s: SceneRestore, dryRun: boolean): string {
  if (s.error) return `scene ${s.sceneId}${s.ratingKey ? ` (item ${s.ratingKey})` : ''}: not restored: ${s.error}`;
  if (s.ratingKey === null) return `scene ${s.sceneId}: never synced: nothing to restore`;
  if (!s.excluded)
    return `scene ${s.sceneId} (item ${s.ratingKey}): nothing kept: stash2plex never wrote its fields${s.notes.length ? ` (${s.notes.join('; ')})` : ''}`;
  const parts = [
    s.restored.length ? `${dryRun ? 'would restore' : 'restored'} ${s.restored.join(', ')}` : 'nothing to put back',
    s.plexChanged.length ? `changed in Plex, left: ${s.plexChanged.join(', ')}` : '',
    ...s.notes,
  ].filter(Boolean);
  return `scene ${s.sceneId} (item ${s.ratingKey}): ${parts.join('; ')}`;
}

/** The summary's lines: one per listed scene, then the totals. */
export function restoreLines(s: RestoreSummary): string[] {
  const lines = s.scenes.map((scene) => sceneLine(scene, s.dryRun));
  if (s.examined > s.scenes.length) lines.push(`… and ${plural(s.examined - s.scenes.length, 'more scene')}`);
  lines.push(restoreSummaryText(s));
  return lines;
}

export function resumeSummaryText(s: ResumeSummary): string {
  const ids = s.sceneIds.length ? ` (scene ${s.sceneIds.join(', ')}${s.resumed > s.sceneIds.length ? ', …' : ''})` : '';
  const none = s.notExcluded ? `; ${plural(s.notExcluded, 'scene')} ${s.notExcluded === 1 ? 'was' : 'were'} not excluded` : '';
  if (s.dryRun) return `Dry run: ${plural(s.resumed, 'scene')} would be brought back into sync${ids}${none}; nothing changed`;
  return `${plural(s.resumed, 'scene')} brought back into sync${ids}, ${plural(s.queued, 'sync')} queued (bulk priority)${none}`;
}
