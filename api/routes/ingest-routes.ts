import { createHash, timingSafeEqual } from 'node:crypto';
import { Router, type Request } from 'express';
import { z } from 'zod';
import type { Queue } from 'bullmq';
import type { AuditLog } from '../../core/audit/audit-log.js';
import { CollectedItemSchema, type CollectedItem } from '../../core/posts/collected-item.js';
import type { PushSource, Source } from '../../core/sources/source.js';
import { ForbiddenError, UnauthenticatedError } from '../../core/errors.js';
import { ingestJobIdOf, postIdOf } from '../../pipeline/ingest/normalize.js';
import type { IngestJob } from '../../pipeline/queues.js';
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
 * ingest queue with deterministic job ids, so a batch sent twice queues nothing new. A bad item
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
    const existing = await Promise.all(jobs.map((j) => deps.ingest.getJob(j.jobId)));
    const fresh = new Set<string>();
    const toAdd = items.flatMap((item, i) => {
      const { jobId } = jobs[i]!;
      if (existing[i] || fresh.has(jobId)) return [];
      fresh.add(jobId);
      return [{ name: 'item', data: { item }, opts: { jobId } }];
    });
    if (toAdd.length > 0) await deps.ingest.addBulk(toAdd);
    await deps.audit.record({
      actor: { kind: 'token', id: `push:${source.id}`, displayName: source.name, roles: ['push'] },
      entity: { type: 'source', id: source.id },
      action: 'source.push',
      after: { items: items.length, queued: toAdd.length, jobIds: jobs.map((j) => j.jobId) },
      ...(req.requestId ? { requestId: req.requestId } : {}),
    });
    res.status(202).json({ sourceId: source.id, received: items.length, queued: toAdd.length, duplicates: items.length - toAdd.length, jobs });
  });
  return router;
}
