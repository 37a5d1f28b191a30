// The Stash tasks' routes (`POST /api/stash/task/<name>`, access `hook-token`): a plugin task that has
// no Plex credentials of its own asks the dashboard, which has them, to do the Plex part
// (src/stash-plugin/dashboard-task.ts). A run can take minutes (Reconcile Library walks every scene), so
// the answer is a stream of JSON lines (application/x-ndjson) the caller can tell alive from hung:
//   {"alive":true}        at once, then every TASK_HEARTBEAT_MS
//   {"progress":{…}}      what the run reports, at most every TASK_PROGRESS_MS
//   {"result":{…}}        the last line: the run's result (the report the plugin renders as a local run)
//   {"error":"…","status":503}  or this instead: why it failed, with the status a plain answer would have had
// A refusal before the run (bad body, one already running) is an ordinary JSON answer with its status.
// A caller that goes before the end (the task cancelled in Stash, which kills the plugin; a cut
// connection) stops the run at its next step: nobody would read the rest, and the person was told it failed.
// Every string is redacted (./respond.ts redactDeep).
import type { RequestHandler, Response } from 'express';
import { redact, type Logger } from '../core/log.js';
import type { DashboardRequest, Reply } from './reply.js';
import { redactDeep, type SendJson } from './respond.js';
import { HttpError } from './timeout.js';

/** Where the Stash tasks' routes live: `${STASH_TASK_PATH}/<name>`. */
export const STASH_TASK_PATH = '/api/stash/task';
/** How often a running task's stream says it is alive (the caller gives up after a few missed). */
export const TASK_HEARTBEAT_MS = 5_000;
/** Progress lines are written at most this often (the last one always). */
export const TASK_PROGRESS_MS = 500;

/**
 * A task's run: reports progress, resolves with its result (JSON), throws an HttpError for an expected
 * failure. `signal` fires when the caller has gone: a long run stops at its next step.
 */
export type TaskRun = (progress: (update: unknown) => void, signal?: AbortSignal) => Promise<unknown>;

/** Why a run's signal fired: the words the run's failure (and the status page) gives. */
export const CALLER_GONE = 'the Stash task that asked for it went away (cancelled in Stash, or its connection was cut)';

/** A refusal before the run, or the run. */
export type TaskStart = { reply: Reply } | { run: TaskRun };

/** A Stash task's route: a function of its ports and of the small request (./reply.ts). */
export type StashTaskHandler = (req: DashboardRequest) => TaskStart;

/** One JSON line, redacted. */
function writeLine(res: Response, value: unknown, secrets: readonly string[]): void {
  // The caller may have gone (a task that gave up): the run finishes, its lines go nowhere.
  if (!res.writableEnded && !res.destroyed) res.write(`${JSON.stringify(redactDeep(value, secrets))}\n`);
}

/** The express side of a Stash task's route: the refusal as JSON, or the run as a stream of lines. */
export function toTaskStream(handler: StashTaskHandler, sendJson: SendJson, secrets: readonly string[], log: Logger): RequestHandler {
  return async (req, res) => {
    const start = handler({
      query: req.query,
      body: Buffer.isBuffer(req.body) ? req.body : undefined,
      remote: req.socket.remoteAddress,
    });
    if ('reply' in start) {
      if ('json' in start.reply) return sendJson(res, start.reply.status, start.reply.json);
      throw new HttpError(500, 'a task route answers JSON');
    }
    res.status(200).type('application/x-ndjson').set({ 'Cache-Control': 'no-store', 'X-Accel-Buffering': 'no' });
    res.flushHeaders();
    writeLine(res, { alive: true }, secrets);
    const heartbeat = setInterval(() => writeLine(res, { alive: true }, secrets), TASK_HEARTBEAT_MS);
    const callerGone = new AbortController();
    res.once('close', () => {
      clearInterval(heartbeat);
      // Closed before our end: the caller went.
      if (!res.writableEnded) callerGone.abort(new Error(CALLER_GONE));
    });
    let shownAt = 0;
    let pending: unknown;
    const progress = (update: unknown) => {
      pending = update;
      if (Date.now() - shownAt < TASK_PROGRESS_MS) return;
      shownAt = Date.now();
      writeLine(res, { progress: update }, secrets);
      pending = undefined;
    };
    try {
      const result = await start.run(progress, callerGone.signal);
      if (pending !== undefined) writeLine(res, { progress: pending }, secrets);
      writeLine(res, { result }, secrets);
    } catch (err) {
      if (callerGone.signal.aborted) {
        log.info({ path: req.path, err: redact(String((err as Error)?.message ?? err), secrets) }, 'dashboard: Stash task stopped');
        return;
      }
      const status = err instanceof HttpError ? err.status : 500;
      const message = err instanceof HttpError ? err.message : 'internal error';
      log[status >= 500 && !(err instanceof HttpError) ? 'error' : 'warn'](
        { path: req.path, status, err: redact(String((err as Error)?.message ?? err), secrets) },
        'dashboard: Stash task failed',
      );
      writeLine(res, { error: message, status }, secrets);
    } finally {
      clearInterval(heartbeat);
      res.end();
    }
  };
}
