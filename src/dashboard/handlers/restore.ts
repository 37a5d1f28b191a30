// POST /api/restore: puts back what Plex had before stash2plex wrote to the items of the scenes named (or
// of every scene with kept originals), as `npm run restore`; POST /api/restore/resume: brings restored
// scenes back into sync ("Sync again" on the status page), as `npm run restore -- --resume`. Each is a
// dry run unless `dryRun: false` is given; one restore at a time per dashboard.
import { z } from 'zod';
import type { Logger } from '../../core/log.js';
import { RestoreUnavailable } from '../../restore/from-config.js';
import { restoreLines, restoreSummaryText, resumeSummaryText } from '../../restore/report.js';
import type { ResumeSummary } from '../../restore/resume.js';
import type { RestoreProgress, RestoreScope, RestoreSummary } from '../../restore/run.js';
import { json, jsonBody, type Handler } from '../reply.js';
import { HttpError } from '../timeout.js';

/** Most scene ids one request names. */
export const MAX_SCENES_PER_REQUEST = 500;

/** Unknown keys are refused (a misspelt `dry_run` must not pass for a dry run); scenes by id or all. */
const scopeBodySchema = z
  .strictObject({
    sceneIds: z
      .array(z.string().regex(/^\d{1,18}$/, 'a Stash scene id (digits)'))
      .min(1)
      .max(MAX_SCENES_PER_REQUEST)
      .optional(),
    all: z.boolean().optional(),
    dryRun: z.boolean().optional(),
  })
  .refine((b) => (b.all === true) !== (b.sceneIds !== undefined), {
    message: 'give either sceneIds (a list of scene ids) or all: true',
    path: ['sceneIds'],
  });

const USAGE = 'the body must be a JSON object: {"sceneIds": ["12", …] | "all": true, "dryRun"?: boolean}';

/** Runs a restore (`signal` stops it between scenes); null when this dashboard cannot (no Plex settings). */
export type RestorePort =
  | ((scope: RestoreScope, dryRun: boolean, onProgress?: (p: RestoreProgress) => void, signal?: AbortSignal) => Promise<RestoreSummary>)
  | null;

export interface RestorePorts {
  restore: RestorePort;
  /** Brings scenes back into sync (their syncs queued); null without a sync queue. */
  resume: ((scope: RestoreScope, dryRun: boolean) => Promise<ResumeSummary>) | null;
  redisAnswers(): Promise<unknown>;
  log: Pick<Logger, 'info'>;
}

function scopeOf(body: { sceneIds?: string[]; all?: boolean }): RestoreScope {
  return body.all ? { all: true } : { sceneIds: body.sceneIds! };
}

export function restoreHandler(ports: RestorePorts): Handler {
  let running = false;
  return async (req) => {
    const parsed = jsonBody(req.body, scopeBodySchema, USAGE);
    if ('reply' in parsed) return parsed.reply;
    if (!ports.restore) throw new HttpError(500, 'no restore here');
    if (running) throw new HttpError(409, 'a restore is in progress here; try again when it has finished');
    // Taken before the first await: two requests arriving together must not both run.
    running = true;
    try {
      await ports.redisAnswers();
      const dryRun = parsed.data.dryRun !== false;
      const scope = scopeOf(parsed.data);
      ports.log.info({ remote: req.remote, dryRun, scope }, `dashboard: restore requested${dryRun ? ' (dry run)' : ''}`);
      const summary = await ports.restore(scope, dryRun);
      return json(200, { ...summary, text: restoreSummaryText(summary), lines: restoreLines(summary) });
    } catch (err) {
      if (err instanceof RestoreUnavailable) throw new HttpError(503, err.message);
      throw err;
    } finally {
      running = false;
    }
  };
}

export function resumeHandler(ports: RestorePorts): Handler {
  return async (req) => {
    const parsed = jsonBody(req.body, scopeBodySchema, USAGE);
    if ('reply' in parsed) return parsed.reply;
    if (!ports.resume) throw new HttpError(500, 'no sync queue here');
    await ports.redisAnswers();
    const dryRun = parsed.data.dryRun !== false;
    const scope = scopeOf(parsed.data);
    ports.log.info({ remote: req.remote, dryRun, scope }, `dashboard: resume requested${dryRun ? ' (dry run)' : ''}`);
    const summary = await ports.resume(scope, dryRun);
    return json(200, { ...summary, text: resumeSummaryText(summary) });
  };
}
