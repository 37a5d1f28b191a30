// POST /api/stash/task/reconcile-library (hook-token): Reconcile Library for the Stash task of that name
// when the plugin has no Plex credentials (../task-stream.ts). `{"dryRun": false}` for a real run, which
// queues the scenes a sync would fix, as POST /api/reconcile does; a dry run otherwise. The result is the
// report (src/sync/library-gaps.ts), which the plugin logs as a local run would. A task cancelled in Stash
// stops the run at its next page (../task-stream.ts); what it queued stays queued.
import { z } from 'zod';
import type { Logger } from '../../core/log.js';
import { json, jsonBody } from '../reply.js';
import type { StashTaskHandler } from '../task-stream.js';
import { reconcileFailure, type ReconcileLibraryPort } from './reconcile.js';

const bodySchema = z.strictObject({ dryRun: z.boolean().optional() });

export interface StashTaskReconcilePorts {
  reconcileLibrary: ReconcileLibraryPort;
  redisAnswers(): Promise<unknown>;
  log: Pick<Logger, 'info'>;
}

export function stashTaskReconcileHandler(ports: StashTaskReconcilePorts): StashTaskHandler {
  let running = false;
  return (req) => {
    const parsed = jsonBody(req.body, bodySchema, 'the body must be a JSON object: {"dryRun"?: boolean}');
    if ('reply' in parsed) return parsed;
    const reconcile = ports.reconcileLibrary;
    if (!reconcile) return { reply: json(500, { error: 'no sync queue here' }) };
    if (running) return { reply: json(409, { error: 'a Reconcile Library run is in progress here; try again when it has finished' }) };
    running = true;
    const dryRun = parsed.data.dryRun !== false;
    ports.log.info({ remote: req.remote, dryRun }, `dashboard: Reconcile Library requested by a Stash task${dryRun ? ' (dry run)' : ''}`);
    return {
      run: async (progress, signal) => {
        try {
          await ports.redisAnswers();
          return await reconcile(dryRun, progress, signal);
        } catch (err) {
          throw reconcileFailure(err);
        } finally {
          running = false;
        }
      },
    };
  };
}
