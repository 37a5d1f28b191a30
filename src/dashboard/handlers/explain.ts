// GET /api/explain?scene=ID: what the next sync of one scene would do, and why (src/explain/, the same
// answer as `npm run explain -- ID --json`, with its text lines). Read only. A scene id that is no number
// answers 400, a scene Stash does not have 404, a missing STASH_URL 503.
import type { Logger } from '../../core/log.js';
import { ExplainInputError, SCENE_ID, type Explanation } from '../../explain/explain.js';
import { ExplainUnavailable } from '../../explain/from-config.js';
import { explanationLines } from '../../explain/report.js';
import { json, type Handler } from '../reply.js';
import { HttpError } from '../timeout.js';

export interface ExplainPorts {
  explainScene(sceneId: string): Promise<Explanation>;
  log: Pick<Logger, 'info'>;
}

export function explainHandler(ports: ExplainPorts): Handler {
  return async (req) => {
    const scene = req.query.scene;
    if (typeof scene !== 'string' || !SCENE_ID.test(scene.trim())) {
      return json(400, { error: 'scene: a Stash scene id (a number) is needed, e.g. /api/explain?scene=12' });
    }
    ports.log.info({ remote: req.remote, sceneId: scene.trim() }, 'dashboard: explain requested');
    try {
      const e = await ports.explainScene(scene.trim());
      return json(200, { ...e, lines: explanationLines(e) });
    } catch (err) {
      if (err instanceof ExplainInputError) throw new HttpError(err.kind === 'unknown scene' ? 404 : 400, err.message);
      if (err instanceof ExplainUnavailable) throw new HttpError(503, err.message);
      throw err;
    }
  };
}
