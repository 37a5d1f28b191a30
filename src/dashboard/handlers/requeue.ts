// POST /api/requeue: dead-letter recovery, the requeue CLI's options as JSON. A dry run unless
// `dryRun: false` is given.
import { z } from 'zod';
import type { Logger } from '../../core/log.js';
import { SYNC_QUEUE } from '../../core/redis.js';
import type { RequeueOptions, RequeueSummary } from '../../dlq/requeue.js';
import { RequeueInputError } from '../../dlq/select.js';
import { json, type Handler, type Reply } from '../reply.js';
import { HttpError } from '../timeout.js';

/**
 * Body of POST /api/requeue: the requeue CLI's options. A dry run unless `dryRun: false` is given.
 * Unknown keys are refused (a misspelt `dry_run: false` must not be taken for a dry run silently, nor
 * the reverse). `errors` is a list or a comma-separated string.
 */
const requeueBodySchema = z.strictObject({
  dryRun: z.boolean().optional(),
  outage: z.string().min(1).max(200).optional(),
  since: z.union([z.string().max(100), z.number()]).optional(),
  until: z.union([z.string().max(100), z.number()]).optional(),
  errors: z.union([z.array(z.string().max(100)).max(50), z.string().max(2_000)]).optional(),
  includeOptional: z.boolean().optional(),
  limit: z.number().nullable().optional(),
  force: z.boolean().optional(),
});

/** The requeue's messages name CLI flags (`--limit`, `--include-optional`): the API's keys instead. */
export function apiWording(message: string): string {
  return message.replace(/--([a-z]+(?:-[a-z]+)*)/g, (_, flag: string) => flag.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase()));
}

/** The request body → requeue options, or RequeueInputError with the reason. */
export function requeueOptionsFrom(body: unknown): RequeueOptions {
  const parsed = requeueBodySchema.safeParse(body ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue.path.map(String).join('.');
    throw new RequeueInputError(`${path ? `${path}: ` : ''}${issue.message}`);
  }
  const b = parsed.data;
  const errors =
    typeof b.errors === 'string'
      ? b.errors
          .split(',')
          .map((e) => e.trim())
          .filter(Boolean)
      : b.errors;
  const o: RequeueOptions = { dryRun: b.dryRun !== false };
  if (b.outage !== undefined) o.outage = b.outage;
  if (b.since !== undefined) o.since = b.since;
  if (b.until !== undefined) o.until = b.until;
  if (errors !== undefined) o.errors = errors;
  if (b.includeOptional !== undefined) o.includeOptional = b.includeOptional;
  if (b.limit !== undefined) o.limit = b.limit;
  if (b.force !== undefined) o.force = b.force;
  return o;
}

/** The raw body (empty: every default) → requeue options, or RequeueInputError. */
export function requeueOptionsFromText(raw: Buffer | undefined): RequeueOptions {
  const text = raw ? raw.toString('utf8').trim() : '';
  let body: unknown = {};
  if (text !== '') {
    try {
      body = JSON.parse(text);
    } catch {
      throw new RequeueInputError('the body must be a JSON object of requeue options');
    }
  }
  return requeueOptionsFrom(body);
}

export interface RequeuePorts {
  /** Runs the requeue on the sync queue; null when this dashboard serves no sync queue. */
  requeue: ((options: RequeueOptions) => Promise<RequeueSummary>) | null;
  /** Resolves when Redis answers, else rejects (a 503 TimeoutError). */
  redisAnswers(): Promise<unknown>;
  log: Pick<Logger, 'info'>;
}

/** RequeueInputError → 400 with the API's wording; anything else goes on to the error handler. */
async function inputErrorAs400<T>(run: () => T | Promise<T>): Promise<{ ok: T } | { reply: Reply }> {
  try {
    return { ok: await run() };
  } catch (err) {
    if (err instanceof RequeueInputError) return { reply: json(400, { error: apiWording(err.message) }) };
    throw err;
  }
}

export function requeueHandler(ports: RequeuePorts): Handler {
  return async (req) => {
    const options = await inputErrorAs400(() => requeueOptionsFromText(req.body));
    if ('reply' in options) return options.reply;
    if (!ports.requeue) throw new HttpError(500, `no "${SYNC_QUEUE}" queue here`);
    await ports.redisAnswers();
    const dryRun = options.ok.dryRun ? ' (dry run)' : '';
    ports.log.info({ remote: req.remote, options: options.ok }, `dashboard: requeue requested${dryRun}`);
    const run = ports.requeue;
    const summary = await inputErrorAs400(() => run(options.ok));
    return 'reply' in summary ? summary.reply : json(200, summary.ok);
  };
}
