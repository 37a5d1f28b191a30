// POST /api/stash/task/restore-dry-run (hook-token): Restore Plex Metadata (dry run) for the Stash task of
// that name when the plugin has no Plex credentials (../task-stream.ts): every scene with kept originals,
// nothing changed. Only the dry run: a real restore writes to Plex and holds scenes out of sync, which
// the hook token does not allow (the status page and `npm run restore` do). The result is the summary
// (src/restore/run.ts), which the plugin logs as a local run would. A task cancelled in Stash stops the run
// at its next scene (../task-stream.ts).
import { z } from 'zod';
import type { Logger } from '../../core/log.js';
import { RestoreUnavailable } from '../../restore/from-config.js';
import { json, jsonBody } from '../reply.js';
import type { StashTaskHandler } from '../task-stream.js';
import { HttpError } from '../timeout.js';
import type { RestorePort } from './restore.js';

/** Nothing to choose: a task takes no scene list, and only the dry run is served here. */
const bodySchema = z.strictObject({});

export interface StashTaskRestorePorts {
  restore: RestorePort;
  redisAnswers(): Promise<unknown>;
  log: Pick<Logger, 'info'>;
}

export function stashTaskRestoreHandler(ports: StashTaskRestorePorts): StashTaskHandler {
  let running = false;
  return (req) => {
    const parsed = jsonBody(req.body, bodySchema, 'the body must be an empty JSON object: only the dry run of every scene is served');
    if ('reply' in parsed) return parsed;
    const restore = ports.restore;
    if (!restore) return { reply: json(500, { error: 'no restore here' }) };
    if (running) return { reply: json(409, { error: 'a restore is in progress here; try again when it has finished' }) };
    running = true;
    ports.log.info({ remote: req.remote }, 'dashboard: restore (dry run) requested by a Stash task');
    return {
      run: async (progress, signal) => {
        try {
          await ports.redisAnswers();
          return await restore({ all: true }, true, progress, signal);
        } catch (err) {
          if (err instanceof RestoreUnavailable) throw new HttpError(503, err.message);
          throw err;
        } finally {
          running = false;
        }
      },
    };
  };
}
