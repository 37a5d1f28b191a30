// The status page's "Settings" panel, pure: each setting a user changes in Stash (STASH_SETTINGS of
// src/core/config.ts), its effective value and where it came from, a value Stash holds that was refused,
// and whether Stash could be read (the record of src/settings/store.ts).
import type { SettingsRecord } from '../settings/store.js';
import { formatAgo } from '../resilience/format.js';
import { escapeXml as esc } from './chart.js';

const SOURCE_TEXT = { stash: 'Stash', environment: 'environment', default: 'default' } as const;

/** The panel's body (the page wraps it in a card), or the line saying nothing was read yet. */
export function settingsPanelBody(record: SettingsRecord | null | undefined, now: number): string {
  if (!record) {
    return '<p class="muted" data-testid="settings-none">Not read yet: a worker or supervisor reads them from Stash when it starts.</p>';
  }
  const rows = record.settings
    .map(
      (s) =>
        `<tr data-testid="setting-${esc(s.key)}" data-source="${s.source}"><th scope="row"><code>${esc(s.key)}</code><br><span class="small muted">${esc(s.variable)}</span></th>` +
        `<td><code>${esc(s.value ?? '(not set)')}</code>${s.problem ? `<br><span class="err" data-testid="setting-problem">${esc(s.problem)}: the value above stays</span>` : ''}</td>` +
        `<td>${SOURCE_TEXT[s.source]}</td></tr>`,
    )
    .join('');
  const read = record.stashError
    ? `<p class="small err" data-testid="settings-stash-error">Stash could not be read (${esc(record.stashError)}): the settings in force stay.</p>`
    : '';
  return (
    `<p class="small">Change them in Stash (Settings → Plugins → stash2plex): applied within ${Math.round(record.intervalMs / 1000)} s, no restart. Empty in Stash: the environment, then the default. ` +
    `Read ${esc(formatAgo(record.at, now))} by ${esc(record.by)}.</p>${read}` +
    `<div class="table-scroll"><table class="settings" data-testid="settings-table"><thead><tr><th scope="col">setting</th><th scope="col">value</th><th scope="col">from</th></tr></thead><tbody>${rows}</tbody></table></div>`
  );
}
