// Reads the plugin's settings from Stash at start and every STASH_SETTINGS_INTERVAL_MS, merges them over
// the environment (src/core/stash-settings.ts, pure) and hands a process the config they make, so a
// setting saved in Stash applies without a restart. The shell around the merge: the Stash read (the
// hook's one reader, src/hook/stash-plugin-config.ts), the log lines, the record the status page shows.
//
// While Stash cannot be read the settings in force stay (at start: the environment's); one line says so
// when it starts, one every 30 s while it lasts, one when it ends. A value Stash holds that does not
// parse keeps the last good one, logged once naming the setting, and shown on the status page.
import { hostname } from 'node:os';
import { parseConfig, type Config, type Env } from '../core/config.js';
import type { Logger } from '../core/log.js';
import type { Keys } from '../core/keys.js';
import type { RedisConnection } from '../core/redis.js';
import { mergeStashSettings, newProblems, sameValues, type EffectiveSetting } from '../core/stash-settings.js';
import { PLUGIN_IDS } from '../hook/settings.js';
import { readPluginSettings } from '../hook/stash-plugin-config.js';
import { readSettingsRecord, writeSettingsRecord } from './store.js';

/** While Stash cannot be read, a line at most this often. */
const FAILURE_LOG_EVERY_MS = 30_000;

export interface StashSettingsOptions {
  /** The config the process started with, parsed from the environment (its `source` is merged over). */
  config: Config;
  role: string;
  redis: RedisConnection;
  keys: Pick<Keys, 'settings'>;
  log: Logger;
  /** Takes the config of changed settings (the process applies what it reads per job). */
  apply: (next: Config) => void;
  /** The plugin's saved settings; absent: read from config.stash (none without STASH_URL). */
  read?: () => Promise<Record<string, unknown>>;
  now?: () => number;
}

/** The reader of a config's Stash: every variant's settings, with the workers' API key. */
export function stashSettingsReader(config: Config): (() => Promise<Record<string, unknown>>) | undefined {
  if (!config.stash.url) return undefined;
  return () => readPluginSettings({ url: config.stash.url, apiKey: config.stash.apiKey, pluginId: PLUGIN_IDS });
}

export class StashSettings {
  private settings: EffectiveSetting[] = [];
  private current: Config;
  private readonly base: Env;
  private readonly read?: () => Promise<Record<string, unknown>>;
  private readonly now: () => number;
  private failing: { since: number; loggedAt: number } | null = null;
  /** Stash before v0.24.0 has no plugin settings (its schema refuses the query: 422): said once, then quiet. */
  private noPluginSettings = false;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | null = null;

  constructor(private readonly opts: StashSettingsOptions) {
    this.current = opts.config;
    this.base = opts.config.source ?? {};
    this.read = opts.read ?? stashSettingsReader(opts.config);
    this.now = opts.now ?? Date.now;
  }

  /** The config in force. */
  get config(): Config {
    return this.current;
  }

  /** The effective settings and their sources. */
  get effective(): readonly EffectiveSetting[] {
    return this.settings;
  }

  /** The first read (awaited: the first job already runs with Stash's settings), then one per interval. */
  async start(): Promise<void> {
    await this.reload();
    this.timer = setInterval(() => void this.reload(), this.opts.config.stashSettingsIntervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** One read and merge; never throws (a failure is logged and the settings in force stay). */
  reload(): Promise<void> {
    this.running ??= this.reloadOnce()
      .catch((err: Error) => this.opts.log.warn({ err: err.message }, 'settings: reload failed'))
      .finally(() => (this.running = null));
    return this.running;
  }

  private async reloadOnce(): Promise<void> {
    const { stash, error } = await this.readStash();
    if (stash === null && this.settings.length > 0) return this.record(error);
    // The last good values are the cluster's (the stored record), so that a process that missed a good
    // value before a bad one keeps the same value as the others.
    const stored = (await readSettingsRecord(this.opts.redis, this.opts.keys)).record?.settings;
    const merged = mergeStashSettings(stash ?? {}, this.base, stored?.length ? stored : this.settings);
    for (const p of newProblems(this.settings, merged.settings)) {
      this.opts.log.warn(
        { setting: p.key, variable: p.variable },
        `settings: ${p.problem}: keeping ${p.value ?? '(unset)'} from ${p.source === 'stash' ? 'Stash' : `the ${p.source}`}`,
      );
    }
    if (!sameValues(this.settings, merged.settings)) this.applyMerged(merged.env, merged.settings);
    this.settings = merged.settings;
    await this.record(error);
  }

  private applyMerged(env: Env, next: EffectiveSetting[]): void {
    // Every value was checked on its own by the merge and the rest at start: this parse cannot fail on them.
    const config = { ...parseConfig(env, { plex: false, stash: false }), source: this.base };
    const first = this.settings.length === 0;
    const changed = next.filter((s) => !this.settings.some((b) => b.key === s.key && b.value === s.value && b.source === s.source));
    this.current = config;
    this.opts.apply(config);
    const fromStash = next.filter((s) => s.source === 'stash').map((s) => s.key);
    if (first)
      this.opts.log.info({ fromStash }, `settings: ${fromStash.length ? `from Stash: ${fromStash.join(', ')}` : 'none set in Stash'}`);
    else
      this.opts.log.info({ changed: changed.map((s) => `${s.key}=${s.value ?? ''} (${s.source})`) }, 'settings: changed in Stash, applied');
  }

  private async readStash(): Promise<{ stash: Record<string, unknown> | null; error: string | null }> {
    if (!this.read) return { stash: null, error: 'STASH_URL is not set' };
    const now = this.now();
    try {
      const stash = await this.read();
      if (this.failing)
        this.opts.log.info(`settings: Stash answers again (unreadable for ${Math.round((now - this.failing.since) / 1000)} s)`);
      this.failing = null;
      return { stash, error: null };
    } catch (err) {
      const error = (err as Error).message;
      if (/: HTTP 422\b/.test(error)) {
        if (!this.noPluginSettings)
          this.opts.log.info({ err: error }, 'settings: this Stash keeps no plugin settings (before v0.24.0): the environment applies');
        this.noPluginSettings = true;
        return { stash: null, error };
      }
      if (!this.failing || now - this.failing.loggedAt >= FAILURE_LOG_EVERY_MS) {
        const what = this.settings.length ? 'the settings in force stay' : 'the environment and defaults apply';
        this.opts.log.warn({ err: error }, `settings: the plugin settings could not be read from Stash (STASH_URL): ${what}`);
        this.failing = { since: this.failing?.since ?? now, loggedAt: now };
      }
      return { stash: null, error };
    }
  }

  private async record(stashError: string | null): Promise<void> {
    await writeSettingsRecord(this.opts.redis, this.opts.keys, {
      at: this.now(),
      by: `${this.opts.role}@${hostname()}:${process.pid}`,
      intervalMs: this.opts.config.stashSettingsIntervalMs,
      stashError,
      settings: this.settings,
    });
  }
}
