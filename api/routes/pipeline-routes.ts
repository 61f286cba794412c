import { Router } from 'express';
import { z } from 'zod';
import type { AuditLog } from '../../core/audit/audit-log.js';
import { ConflictError, NotFoundError } from '../../core/errors.js';
import type { EventStore, SignalStore } from '../../pipeline/elasticsearch/es-event-store.js';
import type { PostStore } from '../../pipeline/elasticsearch/es-post-store.js';
import { eventFromPosts, type EventRecord } from '../../core/events/event.js';
import { PostSearchQuerySchema } from '../../core/posts/post-search.js';
import type { Queues } from '../../pipeline/queues.js';
import type { RedisDeadLetters } from '../../pipeline/redis/dead-letters.js';
import { actorOf, requirePermission } from '../authorize.js';
import type { RouteDoc } from '../openapi/openapi.js';
import { parseBody } from '../parse-body.js';

export interface PipelineRoutesDeps {
  deadLetters: RedisDeadLetters;
  queues: Pick<Queues, 'ingest' | 'alert'>;
  events: EventStore;
  signals: SignalStore;
  posts: Pick<PostStore, 'search'>;
  /** The event as the clusterer holds it now (Redis), for events Elasticsearch cannot show yet. */
  liveEvent(id: string): Promise<EventRecord | undefined>;
  /** Replaying a dead letter is a state change: recorded before it happens. */
  audit: AuditLog;
}

const PageSchema = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(100),
  offset: z.coerce.number().int().min(0).max(100_000).default(0),
});
const IdSchema = z.object({ id: z.string().min(1).max(200) });
const SinceSchema = z.object({
  since: z.string().datetime({ offset: true }).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});
const EventsQuerySchema = SinceSchema.extend({ minHeat: z.coerce.number().min(0).max(100).optional() });
const SignalsQuerySchema = SinceSchema.extend({ scope: z.enum(['position', 'term', 'category', 'domain']).optional() });

/**
 * Dead letters (jobs that will never succeed as they are) and their replay; events and early
 * signals for the dashboards.
 */
export function pipelineRoutes(deps: PipelineRoutesDeps): Router {
  const router = Router();

  router.get('/pipeline/dead-letters', requirePermission('pipeline.admin'), async (req, res) => {
    const { limit, offset } = parseBody(PageSchema, req.query);
    res.json(await deps.deadLetters.list(limit, offset));
  });

  router.post('/pipeline/dead-letters/:id/replay', requirePermission('pipeline.admin'), async (req, res) => {
    const { id } = parseBody(IdSchema, req.params);
    const letter = await deps.deadLetters.get(id);
    if (!letter) throw new NotFoundError(`dead letter ${id} does not exist`);
    const queue = letter.queue === 'ingest' ? deps.queues.ingest : letter.queue === 'alert' ? deps.queues.alert : undefined;
    if (!queue) throw new NotFoundError(`dead letters of queue ${letter.queue} cannot be replayed here`);
    // Off the list first: a replay that fails again at once writes a new letter, which must stay.
    if (!(await deps.deadLetters.take(letter))) throw new ConflictError(`dead letter ${id} changed meanwhile (replayed by someone else, or failed anew): reload it`, 'dead_letter_changed');
    let recorded = false;
    try {
      await deps.audit.record({
        actor: actorOf(req),
        entity: { type: 'pipeline', id: `dead-letter:${id}` },
        action: 'pipeline.dead_letter_replay',
        before: { queue: letter.queue, code: letter.code, reason: letter.reason, attempts: letter.attempts, replays: letter.replays },
        ...(req.requestId ? { requestId: req.requestId } : {}),
      });
      recorded = true;
      // The failed job still holds the id; it goes before the same id is queued afresh.
      await queue.remove(id);
      // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the letter's data is what this queue's job held
      await queue.add(letter.name as never, letter.data as any, { jobId: id });
    } catch (err) {
      await deps.deadLetters.restore(letter);
      // The trail says the replay was asked for; it must also say it did not happen.
      if (recorded)
        await deps.audit.record({
          actor: actorOf(req),
          entity: { type: 'pipeline', id: `dead-letter:${id}` },
          action: 'pipeline.dead_letter_replay_failed',
          reason: `the job could not be queued again; the dead letter is back on the list: ${(err as Error).message}`.slice(0, 500),
          ...(req.requestId ? { requestId: req.requestId } : {}),
        });
      throw err;
    }
    res.status(202).json({ replayed: id, queue: letter.queue });
  });

  router.get('/events', requirePermission('search.read'), async (req, res) => {
    const q = parseBody(EventsQuerySchema, req.query);
    res.json({ events: await deps.events.list(q) });
  });

  router.get('/events/:id', requirePermission('search.read'), async (req, res) => {
    const { id } = parseBody(IdSchema, req.params);
    const event = await deps.events.get(id);
    if (event) {
      res.json({ event });
      return;
    }
    // A one-post event has no document yet: answer from the clusterer's state (real-time: its post
    // may not be searchable yet while its alert already is on the wall), else from its posts, or
    // 404 when nothing carries the id.
    const live = await deps.liveEvent(id);
    if (live) {
      res.json({ event: live });
      return;
    }
    const found = await deps.posts.search(PostSearchQuerySchema.parse({ eventId: id, sort: 'time', limit: 50 }));
    if (found.hits.length === 0) throw new NotFoundError(`event ${id} does not exist`);
    res.json({ event: eventFromPosts(id, found.hits.map((h) => h.post), found.total) });
  });

  router.get('/signals', requirePermission('search.read'), async (req, res) => {
    const q = parseBody(SignalsQuerySchema, req.query);
    res.json({ signals: await deps.signals.list(q) });
  });
  return router;
}

export const pipelineRouteDocs: RouteDoc[] = [
  { method: 'get', path: '/pipeline/dead-letters', tag: 'pipeline', summary: '死信（不会自行成功的任务）', query: PageSchema },
  { method: 'post', path: '/pipeline/dead-letters/:id/replay', tag: 'pipeline', summary: '重放死信（留痕）', params: IdSchema, responses: { '202': '已重新入队', '409': '死信已被他人重放或再次失败，请刷新' } },
  { method: 'get', path: '/events', tag: 'events', summary: '事件（同题帖文聚类）及热度', query: EventsQuerySchema },
  { method: 'get', path: '/events/:id', tag: 'events', summary: '事件详情', params: IdSchema },
  { method: 'get', path: '/signals', tag: 'events', summary: '早期信号（突增、新词、删除异常）', query: SignalsQuerySchema },
];
