// The plugin process's output: exactly one JSON line on stdout per run ({"output": …} or {"error": …}),
// then the exit; log lines with Stash's level prefixes on stderr (src/hook/log-lines.ts).
import { writeSync } from 'node:fs';
import { format } from 'node:util';
import { errorOutput } from '../hook/input.js';
import { logLine, progressLine, type PluginLog } from '../hook/log-lines.js';

const errno = (err: unknown) => (err as NodeJS.ErrnoException)?.code;

/**
 * Writes straight to the file descriptor. process.stdout/stderr would do, but on a pipe (as Stash
 * runs us) their first use loads node:net and node:stream, a few ms a skip need not spend. Falls
 * back to the stream if the descriptor is non-blocking and full (EAGAIN).
 */
let viaStream = false;
function writeFd(fd: 1 | 2, text: string): void {
  let data: Buffer | undefined;
  let off = 0;
  if (!viaStream) {
    try {
      // The string as it is, no Buffer made, in the common case of one whole write.
      off = writeSync(fd, text);
      if (off === Buffer.byteLength(text)) return;
      data = Buffer.from(text, 'utf8');
      while (off < data.length) off += writeSync(fd, data, off);
      return;
    } catch (err) {
      if (errno(err) !== 'EAGAIN') return; // stdout/stderr gone: nothing sensible left to do
      viaStream = true;
    }
  }
  data ??= Buffer.from(text, 'utf8');
  (fd === 1 ? process.stdout : process.stderr).write(data.subarray(off));
}

export const log: PluginLog = (level, msg) => writeFd(2, logLine(level, msg));

/** A task's progress bar (a fraction, 0..1). */
export const progress = (fraction: number) => writeFd(2, progressLine(fraction));

/** Nothing but the result may reach stdout: stray console output (a dependency's) goes to stderr. */
export function consoleToStderr(): void {
  console.log = console.info = console.debug = (...a: unknown[]) => log('info', format(...a));
}

let finished = false;
/** Prints the run's one stdout line and exits with `code`; a second call does nothing. */
export function finish(line: string, code: number): void {
  if (finished) return;
  finished = true;
  process.exitCode = code;
  writeFd(1, line);
  // Exit now: a lingering keep-alive socket (the settings fetch) must not keep Stash waiting.
  if (!viaStream) return process.exit(code);
  process.stdout.write('', () => process.exit(code));
}

/** Logs `message` as an error and finishes with it (exit 1). */
export function fail(message: string): void {
  log('error', message);
  finish(errorOutput(message), 1);
}
