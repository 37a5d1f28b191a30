// The one writer and reader of `<prefix>:settings`: the effective settings a user changes in Stash, where
// each came from, and whether Stash could be read, as the last process that reloaded them saw them
// (workers and supervisors reload them: ./reload.ts). The status page and /api/status show it.
import { z } from 'zod';
import type { RedisConnection } from '../core/redis.js';
import type { Keys } from '../core/keys.js';
import { VARIABLE_NAMES, type VariableName } from '../core/config.js';
import type { EffectiveSetting } from '../core/stash-settings.js';

export interface SettingsRecord {
  /** When the settings were last read (ms). */
  at: number;
  /** Which process: `worker` or `supervisor` and its host and pid. */
  by: string;
  /** How often they are read (STASH_SETTINGS_INTERVAL_MS). */
  intervalMs: number;
  /** Why Stash could not be read at the last attempt (null: it was read). */
  stashError: string | null;
  settings: EffectiveSetting[];
}

const settingSchema = z.object({
  key: z.string(),
  variable: z.enum(VARIABLE_NAMES as [VariableName, ...VariableName[]]),
  value: z.string().nullable(),
  source: z.enum(['stash', 'environment', 'default']),
  problem: z.string().optional(),
});
const recordSchema = z.object({
  at: z.number(),
  by: z.string(),
  intervalMs: z.number(),
  stashError: z.string().nullable(),
  settings: z.array(settingSchema),
});

export async function writeSettingsRecord(
  redis: RedisConnection,
  redisKeys: Pick<Keys, 'settings'>,
  record: SettingsRecord,
): Promise<void> {
  await redis.set(redisKeys.settings, JSON.stringify(record));
}

/** The record, or null when none was written or it does not fit (a warning says which). */
export async function readSettingsRecord(
  redis: RedisConnection,
  redisKeys: Pick<Keys, 'settings'>,
): Promise<{ record: SettingsRecord | null; warning?: string }> {
  const raw = await redis.get(redisKeys.settings);
  if (raw === null) return { record: null };
  try {
    const parsed = recordSchema.safeParse(JSON.parse(raw));
    if (parsed.success) return { record: parsed.data };
  } catch {
    /* not JSON: below */
  }
  return { record: null, warning: `${redisKeys.settings}: unreadable settings record ignored` };
}
