// The Stash plugin's stderr, pure: each log line with Stash's level prefix and the progress lines of a
// task (stashapp/stash pkg/plugin/common/log/log.go). Written by the hook and the tasks alike.

export type PluginLogLevel = 'trace' | 'debug' | 'info' | 'warning' | 'error';
/** Where the plugin's log lines go (stderr, framed by logLine). */
export type PluginLog = (level: PluginLogLevel, msg: string) => void;

const LEVEL_LETTER: Record<PluginLogLevel | 'progress', string> = {
  trace: 't',
  debug: 'd',
  info: 'i',
  warning: 'w',
  error: 'e',
  progress: 'p',
};

const prefix = (letter: string) => `\x01${letter}\x02`;

/**
 * stderr log line(s) for Stash: each line of `msg` gets the level prefix (an unprefixed line would be
 * logged as an error). Control bytes that would confuse the framing are dropped.
 */
export function logLine(level: PluginLogLevel, msg: string): string {
  const p = prefix(LEVEL_LETTER[level]);
  const text = String(msg);
  // The common one-line message without control bytes takes no regular expression (the hook's skip logs
  // one, and a regular expression is compiled on its first use in a run).
  if (!text.includes('\n') && !text.includes('\r') && !text.includes('\x01') && !text.includes('\x02')) return `${p}${text}\n`;
  return text
    .replaceAll('\x01', '')
    .replaceAll('\x02', '')
    .split(/\r?\n/)
    .map((l) => `${p}${l}\n`)
    .join('');
}

/** A progress line: Stash shows `fraction` (clamped to 0..1) as the task's progress bar. */
export function progressLine(fraction: number): string {
  const f = Number.isFinite(fraction) ? Math.min(1, Math.max(0, fraction)) : 0;
  return `${prefix('p')}${Number(f.toFixed(4))}\n`;
}
