import { createHash, timingSafeEqual } from 'node:crypto';
import { Router, type Request } from 'express';
import { z } from 'zod';
import type { Queue } from 'bullmq';
import type { AuditLog } from '../../core/audit/audit-log.js';
import { CollectedItemSchema, type CollectedItem } from '../../core/posts/collected-item.js';
import type { PushSource, Source } from '../../core/sources/source.js';
import { ForbiddenError, UnauthenticatedError } from '../../core/errors.js';
import { ingestBatchJobs } from '../../pipeline/ingest/ingest-batch.js';
import { ingestJobIdOf, postIdOf } from '../../pipeline/ingest/normalize.js';
import type { IngestJob } from '../../pipeline/queues.js';
import type { RouteDoc } from '../openapi/openapi.js';
import { parseBody } from '../parse-body.js';

/** Items per batch; 500 short items fit well inside the API's 2 MB body limit. */
export const MAX_BATCH = 500;
/** Tokens shorter than this are not accepted: a push token must not be guessable. */
export const MIN_TOKEN_LENGTH = 16;

/**
 * A pushed item: the collectors' schema, with `sourceId` taken from the token when absent and
 * `collectedAt` set on receipt. Unknown fields are refused so that a misspelt field
 * (`publishAt`) is an error rather than silently lost.
 */
const PushedItemSchema = CollectedItemSchema.extend({
  sourceId: z.string().min(1).optional(),
  collectedAt: z.string().datetime({ offset: true }).optional(),
  title: z.string().max(1_000).optional(),
  text: z.string().max(200_000),
}).strict();

const BatchSchema = z.object({ items: z.array(PushedItemSchema).min(1).max(MAX_BATCH) }).strict();

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/** The enabled push source whose token is `given`; every token is compared, in constant time. */
function sourceOfToken(given: string, sources: readonly PushSource[], env: Readonly<Record<string, string | undefined>>): PushSource | undefined {
  const presented = digest(given);
  let found: PushSource | undefined;
  for (const source of sources) {
    const expected = env[source.tokenEnv];
    if (!expected || expected.length < MIN_TOKEN_LENGTH) continue;
    if (timingSafeEqual(presented, digest(expected)) && found === undefined) found = source;
  }
  return found;
}

function bearerOf(req: Request): string | undefined {
  const header = req.headers.authorization;
  const m = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  return m?.[1];
}

export interface IngestRoutesDeps {
  sources: readonly Source[];
  /** Where `tokenEnv` names are looked up. */
  env: Readonly<Record<string, string | undefined>>;
  ingest: Queue<IngestJob>;
  audit: AuditLog;
  now?: () => Date;
}

/**
 * `POST /api/ingest`: another system (a CMS, a 12345 hotline) submits a batch of items for its push
 * source, authenticated by the bearer token held in that source's `tokenEnv`. Items go to the
 * ingest queue as batch jobs (`batches`, ids derived from their items), so a batch sent twice
 * queues nothing new; each item keeps its deterministic ingest id (`jobs[].jobId`), under which a
 * poison item is dead-lettered alone. A bad item
 * refuses the whole batch with 400 naming the item's index and field (`items.3.url: …`), so a
 * client never has to work out which half of a batch was taken.
 */
export function ingestRoutes(deps: IngestRoutesDeps): Router {
  const router = Router();
  const now = deps.now ?? (() => new Date());
  const pushSources = deps.sources.filter((s): s is PushSource => s.kind === 'push' && s.enabled);

  router.post('/ingest', async (req, res) => {
    const token = bearerOf(req);
    if (!token) throw new UnauthenticatedError('missing bearer token (Authorization: Bearer <token>)');
    const source = sourceOfToken(token, pushSources, deps.env);
    if (!source) throw new UnauthenticatedError('invalid bearer token');

    const batch = parseBody(BatchSchema, req.body);
    const at = now().toISOString();
    const items: CollectedItem[] = batch.items.map((item, index) => {
      if (item.sourceId !== undefined && item.sourceId !== source.id) {
        throw new ForbiddenError(`items.${index}.sourceId: this token submits for source "${source.id}", not "${item.sourceId}"`);
      }
      return { ...item, sourceId: source.id, collectedAt: at };
    });

    const jobs = items.map((item, index) => ({ index, jobId: ingestJobIdOf(item), postId: postIdOf(item) }));
    const batches = ingestBatchJobs(items);
    const existing = await Promise.all(batches.map((b) => deps.ingest.getJob(b.opts.jobId)));
    const toAdd = batches.filter((_, i) => !existing[i]);
    if (toAdd.length > 0) await deps.ingest.addBulk(toAdd);
    const queued = toAdd.reduce((n, b) => n + b.data.items.length, 0);
    await deps.audit.record({
      actor: { kind: 'token', id: `push:${source.id}`, displayName: source.name, roles: ['push'] },
      entity: { type: 'source', id: source.id },
      action: 'source.push',
      after: { items: items.length, queued, jobIds: jobs.map((j) => j.jobId), batchJobIds: batches.map((b) => b.opts.jobId) },
      ...(req.requestId ? { requestId: req.requestId } : {}),
    });
    res.status(202).json({ sourceId: source.id, received: items.length, queued, duplicates: items.length - queued, jobs, batches: batches.map((b) => b.opts.jobId) });
  });
  return router;
}

export const ingestRouteDocs: RouteDoc[] = [
  {
    method: 'post',
    path: '/ingest',
    tag: 'ingest',
    summary: '推送源提交一批条目（Authorization: Bearer 推送令牌；同批重复提交不重复入队）',
    body: BatchSchema,
    responses: { '202': '已入队（含各条目的任务编号）', '401': '缺少或无效的推送令牌', '403': '条目的 sourceId 与令牌不符' },
  },
];
