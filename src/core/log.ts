// pino loggers with secret redaction on every line written, whatever field or message carries it.
import { pino, type Logger } from 'pino';

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
}

export function createLogger(opts: LogOptions = {}): Logger {
  const secrets = opts.secrets ?? [];
  return pino(
    {
      level: opts.level ?? 'info',
      name: opts.name,
      base: { pid: process.pid },
      hooks: { streamWrite: (line) => redact(line, secrets) },
    },
    pino.destination({ fd: opts.to === 'stderr' ? 2 : 1, sync: true }),
  );
}
