// Pure: an explanation as lines for a person (the CLI's text output, the Stash task's log, the status
// page's answer). The JSON form is the Explanation itself.
import type { Explanation } from './explain.js';
import type { FieldValue } from './fields.js';

/** Refused candidates listed per path before "… and N more" (a `file=` search may answer a whole folder). */
const REFUSED_SHOWN = 5;

const clip = (s: string, max = 60) => (s.length > max ? `${s.slice(0, max - 1)}…` : s);

/** A value as shown in a line: quoted text, a list, a number, or "—" for nothing. */
export function shown(fieldValue: FieldValue): string {
  if (fieldValue === null || fieldValue === '') return '—';
  if (typeof fieldValue === 'number') return String(fieldValue);
  if (typeof fieldValue === 'string') return JSON.stringify(clip(fieldValue));
  return fieldValue.length === 0 ? '[]' : `[${clip(fieldValue.join(', '))}]`;
}

function sceneLines(e: Explanation): string[] {
  const s = e.scene;
  return [
    `Scene ${s.id}: ${s.title ? JSON.stringify(s.title) : '(no title)'}${s.organized ? ', organized' : ''}`,
    ...s.files.map((f) => `  file ${f.path}${f.size === null ? '' : ` (${f.size} bytes)`}`),
    `  studio ${s.studio ?? '—'}, date ${s.date ?? '—'}, ${s.performers.length} performers, ${s.tags.length} tags, ${s.stashIds} StashBox ids`,
  ];
}

function requirementLines(e: Explanation): string[] {
  const r = e.requirements;
  if (r.require.length === 0) return ['Requirements (SYNC_REQUIRE=none): every scene is ready'];
  return [
    `Requirements (SYNC_REQUIRE=${r.require.join(',')}): ${r.ready ? 'ready' : 'NOT ready'}`,
    ...r.checks.map((c) => `  ${c.met ? 'met    ' : 'NOT met'} ${c.requirement}: ${c.why}`),
  ];
}

function resolutionLines(e: Explanation): string[] {
  const lines = ['Paths tried (PATH_MAP applied):'];
  for (const t of e.tried) {
    const section = t.section ? `library "${t.section.title}" (section ${t.section.key}, ${t.section.location})` : 'no library holds it';
    lines.push(`  ${t.stashPath} → ${t.plexPath || '—'}: ${section}; ${t.outcome}${t.detail ? `: ${t.detail}` : ''}`);
    const mine = e.candidates.filter((c) => c.stashPath === t.stashPath);
    const refused = mine.filter((c) => !c.taken);
    for (const c of mine.filter((c) => c.taken)) lines.push(`    TAKEN   ${c.ratingKey} (${c.source}) ${c.files.join(', ')}: ${c.why}`);
    for (const c of refused.slice(0, REFUSED_SHOWN))
      lines.push(`    refused ${c.ratingKey} (${c.source}) ${clip(c.files.join(', '))}: ${c.why}`);
    if (refused.length > REFUSED_SHOWN) lines.push(`    … and ${refused.length - REFUSED_SHOWN} more refused (--json lists all)`);
  }
  const m = e.match;
  if (!m) return [...lines, 'Match: none'];
  const moved = m.lastSyncedTo && m.lastSyncedTo !== m.ratingKey ? ` (last synced to ${m.lastSyncedTo}: the file moved)` : '';
  lines.push(`Match: Plex item ${m.ratingKey} in section ${m.sectionKey}, by ${m.how}${moved}: ${m.plexFiles.join(', ')}`);
  if (m.conflict) lines.push(`  ${m.conflict}`);
  return lines;
}

function fieldLines(e: Explanation): string[] {
  const lines = ['Fields (Stash | Plex | lock | ownership → next sync):'];
  // Names in one column, as wide as the longest shown (contentrating, originaltitle).
  const width = Math.max(10, ...e.fields.map((f) => f.field.length));
  for (const f of e.fields) {
    const lock = f.locked === null ? '' : f.locked ? ' | locked' : ' | unlocked';
    lines.push(
      `  ${f.field.padEnd(width)} ${shown(f.stash)} | ${shown(f.plex)}${lock} | ${f.ownership} → ${f.action.toUpperCase()}: ${f.why}`,
    );
  }
  return lines;
}

export function explanationLines(explanation: Explanation): string[] {
  return [
    ...sceneLines(explanation),
    ...(explanation.excluded ? [`Excluded: ${explanation.excluded}`] : []),
    ...requirementLines(explanation),
    ...resolutionLines(explanation),
    ...fieldLines(explanation),
    `Next sync: ${explanation.next}`,
  ];
}
