// The settings a user changes in Stash (STASH_SETTINGS of ./config.ts) merged with the environment, pure:
// Stash's value when it is set and valid, else the environment's, else the default. A value Stash holds
// that does not parse keeps the last good value of that setting (the environment's or default at start)
// and is reported with the setting's name, so one typo in Stash's settings page stops nothing.
import { checkVariable, DEFAULTS, STASH_SETTINGS, type Env, type VariableName } from './config.js';

export type SettingSource = 'stash' | 'environment' | 'default';

/** One effective setting and where it came from; `problem`: what is wrong with the value Stash holds. */
export interface EffectiveSetting {
  /** The plugin setting's key in Stash (e.g. `syncFields`). */
  key: string;
  variable: VariableName;
  /** The text applied (null: unset, the setting's default is "none"). */
  value: string | null;
  source: SettingSource;
  problem?: string;
}

export interface MergedSettings {
  /** The environment with the Stash values applied over it: what parseConfig reads. */
  env: Env;
  settings: EffectiveSetting[];
}

/** A plugin setting's value as text: Stash stores STRING as a string, NUMBER as a number, BOOLEAN as a boolean. */
function textOf(value: unknown): { text: string } | { bad: string } | null {
  if (value === undefined || value === null) return null;
  if (typeof value === 'string') return value.trim() === '' ? null : { text: value.trim() };
  if (typeof value === 'number' && Number.isFinite(value)) return { text: String(value) };
  if (typeof value === 'boolean') return { text: String(value) };
  return { bad: `must be text, a number or true/false, not ${Array.isArray(value) ? 'a list' : typeof value}` };
}

/** The environment's value, else the default. */
function fromEnvironment(key: string, variable: VariableName, env: Env): EffectiveSetting {
  const given = env[variable]?.trim();
  if (given) return { key, variable, value: given, source: 'environment' };
  return { key, variable, value: DEFAULTS[variable] ?? null, source: 'default' };
}

/**
 * `stash`: the plugin's saved settings (`{}` when none, or when Stash could not be read); `env`: the
 * process's environment (already validated); `lastGood`: the previous merge's settings (of any process:
 * the stored record), whose Stash value a setting keeps while Stash holds a bad one.
 */
export function mergeStashSettings(stash: Record<string, unknown>, env: Env, lastGood: readonly EffectiveSetting[] = []): MergedSettings {
  const out: Env = { ...env };
  const settings = STASH_SETTINGS.map(([key, variable]): EffectiveSetting => {
    const given = textOf(stash[key]);
    if (given === null) return fromEnvironment(key, variable, env);
    const check = 'bad' in given ? { ok: false as const, problem: given.bad } : checkVariable(variable, given.text);
    if (check.ok && 'text' in given) {
      out[variable] = given.text;
      return { key, variable, value: given.text, source: 'stash' };
    }
    const problem = `${key} in Stash (${variable}) ${check.ok ? 'is invalid' : check.problem}`;
    // The last good value Stash gave; else (never one, or the environment's) this process's environment.
    const previous = lastGood.find((s) => s.key === key);
    const kept = previous?.source === 'stash' ? previous : fromEnvironment(key, variable, env);
    if (kept.source === 'stash' && kept.value !== null) out[variable] = kept.value;
    return { key, variable, value: kept.value, source: kept.source, problem };
  });
  return { env: out, settings };
}

/** The problems of a merge that are new since `before` (each is logged once, when it appears). */
export function newProblems(before: readonly EffectiveSetting[], after: readonly EffectiveSetting[]): EffectiveSetting[] {
  return after.filter((s) => s.problem && !before.some((b) => b.key === s.key && b.problem === s.problem));
}

/** Whether two merges apply the same values (a reload that changes nothing applies nothing). */
export function sameValues(previous: readonly EffectiveSetting[], next: readonly EffectiveSetting[]): boolean {
  return (
    previous.length === next.length &&
    previous.every((s, i) => s.key === next[i]?.key && s.value === next[i]?.value && s.source === next[i]?.source)
  );
}
