import { Router } from 'express';
import { z } from 'zod';
import { AlertStatusSchema } from '../../core/alerts/alert.js';
import type { AlertBoard } from '../../pipeline/elasticsearch/es-alert-board.js';
import { requirePermission } from '../authorize.js';
import type { RouteDoc } from '../openapi/openapi.js';
import { parseBody } from '../parse-body.js';

const listOf = <T extends z.ZodType>(item: T) =>
  z.preprocess((v) => (v === undefined ? undefined : (Array.isArray(v) ? v : String(v).split(',')).filter((x) => x !== '')), z.array(item).max(10).optional());

const WallQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(200),
  level: listOf(z.coerce.number().int().min(1).max(4)),
  status: listOf(AlertStatusSchema),
});

/** `GET /api/wall`: the alert wall's counters and most urgent open alerts in one answer. */
export function wallRoutes(deps: { board: AlertBoard; now?: () => Date }): Router {
  const router = Router();
  router.get('/wall', requirePermission('alert.read'), async (req, res) => {
    const q = parseBody(WallQuerySchema, req.query);
    const view = await deps.board.view({ limit: q.limit, levels: q.level, statuses: q.status });
    res.json({ ...view, generatedAt: (deps.now?.() ?? new Date()).toISOString() });
  });
  return router;
}

export const wallRouteDocs: RouteDoc[] = [{ method: 'get', path: '/wall', tag: 'alerts', summary: '预警大屏：计数与最紧急的未结预警', query: WallQuerySchema }];
