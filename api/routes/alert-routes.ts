import { Router } from 'express';
import { z } from 'zod';
import { AlertStatusSchema } from '../../core/alerts/alert.js';
import { NotFoundError } from '../../core/errors.js';
import type { AlertStore } from '../../pipeline/elasticsearch/es-alert-store.js';
import type { PostStore } from '../../pipeline/elasticsearch/es-post-store.js';
import { requireRole } from '../authenticate.js';
import { parseBody } from '../parse-body.js';

const ListQuerySchema = z.object({
  status: AlertStatusSchema.optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

export function alertRoutes(deps: { alerts: AlertStore; posts: PostStore }): Router {
  const router = Router();
  router.get('/alerts', requireRole(), async (req, res) => {
    const query = parseBody(ListQuerySchema, req.query);
    res.json({ alerts: await deps.alerts.list(query) });
  });
  router.get('/alerts/:id', requireRole(), async (req, res) => {
    const alert = await deps.alerts.get(String(req.params.id));
    if (!alert) throw new NotFoundError(`alert ${req.params.id} does not exist`);
    const posts = (await Promise.all(alert.postIds.slice(0, 50).map((id) => deps.posts.get(id)))).filter((p) => p !== undefined);
    res.json({ alert, posts });
  });
  router.get('/posts', requireRole(), async (req, res) => {
    const { limit } = parseBody(z.object({ limit: z.coerce.number().int().min(1).max(200).default(50) }), req.query);
    res.json({ posts: await deps.posts.latest(limit), total: await deps.posts.count() });
  });
  return router;
}
