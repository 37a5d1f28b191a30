// POST /api/reconcile: Reconcile Library (the Stash task and `npm run reconcile` of the same name). A dry
// run unless `dryRun: false` is given; one run at a time per dashboard. The answer is the report (as
// `npm run reconcile -- --json` prints it) with its text; the report is kept for the status page too.
import { z } from 'zod';
import { ReconcileIndexLost } from '../../core/errors.js';
import type { Logger } from '../../core/log.js';
import { reportLines, reportSummary, type LibraryReport } from '../../sync/library-gaps.js';
import type { LibraryProgress } from '../../sync/library-reconcile.js';
import { LibraryReconcileUnavailable } from '../../sync/library-reconcile-run.js';
import { json, jsonBody, type Handler } from '../reply.js';
import { HttpError } from '../timeout.js';

/** Unknown keys are refused, as for /api/requeue (a misspelt `dry_run` must not pass for a dry run). */
const reconcileBodySchema = z.strictObject({ dryRun: z.boolean().optional() });

/** Runs Reconcile Library on the sync queue (`signal` stops it between pages); null without a sync queue. */
export type ReconcileLibraryPort =
  ((dryRun: boolean, onProgress?: (p: LibraryProgress) => void, signal?: AbortSignal) => Promise<LibraryReport>) | null;

export interface ReconcilePorts {
  reconcileLibrary: ReconcileLibraryPort;
  redisAnswers(): Promise<unknown>;
  log: Pick<Logger, 'info'>;
}

export function reconcileHandler(ports: ReconcilePorts): Handler {
  let running = false;
  return async (req) => {
    const parsed = jsonBody(req.body, reconcileBodySchema, 'the body must be a JSON object: {"dryRun"?: boolean}');
    if ('reply' in parsed) return parsed.reply;
    if (!ports.reconcileLibrary) throw new HttpError(500, 'no sync queue here');
    if (running) throw new HttpError(409, 'a Reconcile Library run is in progress here; try again when it has finished');
    await ports.redisAnswers();
    const dryRun = parsed.data.dryRun !== false;
    ports.log.info({ remote: req.remote, dryRun }, `dashboard: Reconcile Library requested${dryRun ? ' (dry run)' : ''}`);
    running = true;
    try {
      const report = await ports.reconcileLibrary(dryRun);
      return json(200, { ...report, text: reportSummary(report), lines: reportLines(report) });
    } catch (err) {
      throw reconcileFailure(err);
    } finally {
      running = false;
    }
  };
}

/**
 * A failed run as the answer's error: Plex or Stash unreachable, or Redis lost the run's index twice
 * (another run may well succeed), are 503 with their reason; anything else stays as it is.
 */
export function reconcileFailure(err: unknown): unknown {
  if (err instanceof LibraryReconcileUnavailable) return new HttpError(503, err.message);
  if (err instanceof ReconcileIndexLost) return new HttpError(503, `Reconcile Library stopped: ${err.message}`);
  return err;
}
