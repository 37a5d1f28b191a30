// A task's arguments, pure: Stash passes a task's defaultArgs as strings.
import type { PluginArgs } from '../hook/input.js';

/** `args.hours` etc. arrive as strings (task defaultArgs) or numbers (API callers). */
export function numberArg(args: PluginArgs, name: string): number | undefined {
  const v = (args as Record<string, unknown>)[name];
  if (v === undefined || v === null || v === '') return undefined;
  const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v.trim()) : NaN;
  return Number.isFinite(n) ? n : NaN;
}
