// POST /api/queue/clean: Clear Failed Jobs, Purge Failed Jobs Older Than N Days, Clear Pending Queue
// (the Stash tasks of the same names). A dry run unless `dryRun: false` is given.
import { z } from 'zod';
import type { Logger } from '../../core/log.js';
import { SYNC_QUEUE } from '../../core/redis.js';
import { cleanSummaryText, MAX_PURGE_DAYS, type CleanRequest, type CleanSummary } from '../../sync/queue-clean.js';
import { json, jsonBody, type Handler } from '../reply.js';
import { HttpError } from '../timeout.js';

const LABELS = {
  clear_failed: 'Clear Failed Jobs',
  purge_failed: 'Purge Failed Jobs Older Than N Days',
  clear_pending: 'Clear Pending Queue',
} as const;

/** Unknown keys are refused, as for /api/requeue (a misspelt `dry_run` must not pass for a dry run). */
const cleanBodySchema = z
  .strictObject({
    action: z.enum(['clear_failed', 'purge_failed', 'clear_pending']),
    dryRun: z.boolean().optional(),
    days: z.number().int().min(0).max(MAX_PURGE_DAYS).optional(),
  })
  .refine((b) => b.action !== 'purge_failed' || b.days !== undefined, {
    message: 'purge_failed needs days (a whole number, 0 or more)',
    path: ['days'],
  });

export interface QueueCleanPorts {
  /** Cleans the sync queue; null when this dashboard serves no sync queue. */
  cleanQueue: ((req: CleanRequest) => Promise<CleanSummary>) | null;
  redisAnswers(): Promise<unknown>;
  log: Pick<Logger, 'info'>;
}

export function queueCleanHandler(ports: QueueCleanPorts): Handler {
  return async (req) => {
    const parsed = jsonBody(
      req.body,
      cleanBodySchema,
      'the body must be a JSON object: {"action": "clear_failed" | "purge_failed" | "clear_pending", "dryRun"?, "days"?}',
    );
    if ('reply' in parsed) return parsed.reply;
    if (!ports.cleanQueue) throw new HttpError(500, `no "${SYNC_QUEUE}" queue here`);
    await ports.redisAnswers();
    const request: CleanRequest = { action: parsed.data.action, dryRun: parsed.data.dryRun !== false, days: parsed.data.days };
    ports.log.info({ remote: req.remote, ...request }, `dashboard: ${request.action}${request.dryRun ? ' (dry run)' : ''} requested`);
    const summary = await ports.cleanQueue(request);
    const label = `${LABELS[request.action]}${request.dryRun ? ' (dry run)' : ''}`;
    return json(200, { ...summary, text: cleanSummaryText(summary, label) });
  };
}
