// POST /api/stash/task/explain (hook-token): Explain Scene for the Stash task of that name when the plugin
// has no Plex credentials (../task-stream.ts), `{"sceneId": "12"}`. Read only. The result is the
// explanation (src/explain/explain.ts), which the plugin logs as a local run would; a scene id that is no
// number ends the stream with status 400, a scene Stash does not have with 404.
import { z } from 'zod';
import type { Logger } from '../../core/log.js';
import { ExplainInputError, type Explanation } from '../../explain/explain.js';
import { ExplainUnavailable } from '../../explain/from-config.js';
import { jsonBody } from '../reply.js';
import type { StashTaskHandler } from '../task-stream.js';
import { HttpError } from '../timeout.js';

/** The id is checked by explain itself, so the task reads the same message as a local run. */
const bodySchema = z.strictObject({ sceneId: z.string().max(64) });

export interface StashTaskExplainPorts {
  explainScene(sceneId: string): Promise<Explanation>;
  log: Pick<Logger, 'info'>;
}

export function stashTaskExplainHandler(ports: StashTaskExplainPorts): StashTaskHandler {
  return (req) => {
    const parsed = jsonBody(req.body, bodySchema, 'the body must be a JSON object: {"sceneId": "12"}');
    if ('reply' in parsed) return parsed;
    const sceneId = parsed.data.sceneId.trim();
    ports.log.info({ remote: req.remote, sceneId }, 'dashboard: explain requested by a Stash task');
    return {
      run: async () => {
        try {
          return await ports.explainScene(sceneId);
        } catch (err) {
          if (err instanceof ExplainInputError) throw new HttpError(err.kind === 'unknown scene' ? 404 : 400, err.message);
          if (err instanceof ExplainUnavailable) throw new HttpError(503, err.message);
          throw err;
        }
      },
    };
  };
}
