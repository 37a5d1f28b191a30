// pino loggers with secret redaction on every line written, whatever field or message carries it: JSON
// lines (for a file, a pipe, a log collector) or, on a terminal, pino-pretty's coloured human lines
// (LOG_FORMAT; default by whether the output is a terminal).
import { isatty } from 'node:tty';
import { pino, type DestinationStream, type Logger } from 'pino';
import { build as prettyBuild } from 'pino-pretty';

export type { Logger };

/** Replaces every occurrence of each secret (and its URL-encoded form) with [REDACTED]. */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) {
    if (!s) continue;
    for (const form of new Set([s, encodeURIComponent(s), JSON.stringify(s).slice(1, -1)])) {
      if (out.includes(form)) out = out.split(form).join('[REDACTED]');
    }
  }
  // Plex tokens in URLs, even ones not known here (e.g. a token echoed back by a server).
  return out.replace(/([?&]X-Plex-Token=)[^&\s"]+/gi, '$1[REDACTED]');
}

export interface LogOptions {
  level?: string;
  secrets?: readonly string[];
  /** 'stderr' for commands whose stdout carries a result (requeue --json, the Stash plugin). */
  to?: 'stdout' | 'stderr';
  name?: string;
  /** LOG_FORMAT: 'pretty' (human lines, coloured unless NO_COLOR is set) or 'json'; null or absent: pretty on a terminal, JSON otherwise. */
  format?: LogFormat | null;
}

export type LogFormat = 'pretty' | 'json';

/** The format written to file descriptor `fd`: the one asked for, else pretty on a terminal and JSON anywhere else (a pipe, a file). */
export const logFormatFor = (asked: LogFormat | null | undefined, fd: number): LogFormat => asked ?? (isatty(fd) ? 'pretty' : 'json');

/** pino-pretty writing to `fd`, synchronously like the JSON destination (a process that exits right after a line keeps it). */
function prettyStream(fd: number): DestinationStream {
  return prettyBuild({
    destination: fd,
    sync: true,
    colorize: !process.env.NO_COLOR,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname',
    singleLine: true,
  });
}

export function createLogger(opts: LogOptions = {}): Logger {
  const secrets = opts.secrets ?? [];
  const fd = opts.to === 'stderr' ? 2 : 1;
  return pino(
    {
      level: opts.level ?? 'info',
      name: opts.name,
      base: { pid: process.pid },
      // Redacted before the stream sees the line, so pretty lines are redacted too.
      hooks: { streamWrite: (line) => redact(line, secrets) },
    },
    logFormatFor(opts.format, fd) === 'pretty' ? prettyStream(fd) : pino.destination({ fd, sync: true }),
  );
}
