// The status page's "Settings from Stash" panel (src/dashboard/settings-panel.ts), pure: each setting with
// its value and source, a refused value named with the one that stays, Stash unreadable said once.
import { describe, expect, it } from 'vitest';
import { settingsPanelBody } from '../../src/dashboard/settings-panel.js';
import { mergeStashSettings } from '../../src/core/stash-settings.js';
import type { SettingsRecord } from '../../src/settings/store.js';

const NOW = Date.UTC(2026, 11, 6, 12);

function record(over: Partial<SettingsRecord> = {}): SettingsRecord {
  const first = mergeStashSettings({ syncFields: 'title,summary' }, { MAX_TAGS: '40' });
  const { settings } = mergeStashSettings({ syncFields: 'title,<b>x</b>', syncMode: 'merge' }, { MAX_TAGS: '40' }, first.settings);
  return { at: NOW - 12_000, by: 'worker@host:12', intervalMs: 30_000, stashError: null, settings, ...over };
}

describe('settingsPanelBody', () => {
  it('lists every setting with its value and where it came from', () => {
    const html = settingsPanelBody(record(), NOW);
    expect(html).toMatch(/<tr data-testid="setting-syncMode" data-source="stash">.*<code>merge<\/code>.*<td>Stash<\/td><\/tr>/);
    expect(html).toMatch(/<tr data-testid="setting-maxTags" data-source="environment">.*<code>40<\/code>.*<td>environment<\/td>/);
    expect(html).toMatch(/<tr data-testid="setting-pathMap" data-source="default">.*<code>\(not set\)<\/code>.*<td>default<\/td>/);
    expect(html).toContain('applied within 30 s, no restart');
    expect(html).toContain('by worker@host:12');
    expect(html).not.toContain('data-testid="settings-stash-error"');
  });

  it('names a refused value (escaped) beside the value that stays', () => {
    const html = settingsPanelBody(record(), NOW);
    expect(html).toMatch(/data-testid="setting-syncFields" data-source="stash">.*<code>title,summary<\/code>/);
    expect(html).toContain('syncFields in Stash (SYNC_FIELDS) &quot;&lt;b&gt;x&lt;/b&gt;&quot; is unknown');
    expect(html).not.toContain('<b>x</b>');
  });

  it('says when Stash could not be read, and when nothing was read yet', () => {
    expect(settingsPanelBody(record({ stashError: 'POST /graphql PluginConfiguration: HTTP 503' }), NOW)).toMatch(
      /data-testid="settings-stash-error">Stash could not be read \(POST \/graphql PluginConfiguration: HTTP 503\): the settings in force stay/,
    );
    expect(settingsPanelBody(null, NOW)).toMatch(/data-testid="settings-none"/);
  });
});
