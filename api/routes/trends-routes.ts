import { Router } from 'express';
import { z } from 'zod';
import { InvalidInputError } from '../../core/errors.js';
import type { PostTrends } from '../../pipeline/elasticsearch/es-post-trends.js';
import { requirePermission } from '../authorize.js';
import type { RouteDoc } from '../openapi/openapi.js';
import { parseBody } from '../parse-body.js';

const TrendsQuerySchema = z.object({
  from: z.string().datetime({ offset: true }).optional(),
  to: z.string().datetime({ offset: true }).optional(),
  /** Shorthand for a window ending now. */
  days: z.coerce.number().int().min(1).max(366).default(7),
  interval: z.enum(['hour', 'day']).optional(),
});

/** `GET /api/trends`: post volume over time by position, domain and sentiment, and top keywords. */
export function trendsRoutes(deps: { trends: PostTrends; timeZone: string; now?: () => Date }): Router {
  const router = Router();
  router.get('/trends', requirePermission('reports.read'), async (req, res) => {
    const q = parseBody(TrendsQuerySchema, req.query);
    const to = q.to ? new Date(q.to) : (deps.now?.() ?? new Date());
    const from = q.from ? new Date(q.from) : new Date(to.getTime() - q.days * 86_400_000);
    if (from >= to) throw new InvalidInputError('from: must be before to', 'invalid_body');
    const spanDays = (to.getTime() - from.getTime()) / 86_400_000;
    if (spanDays > 366) throw new InvalidInputError('from: the window is at most 366 days', 'invalid_body');
    // Hourly buckets for up to three days, daily beyond: at most ~370 buckets either way.
    const interval = q.interval ?? (spanDays <= 3 ? 'hour' : 'day');
    if (interval === 'hour' && spanDays > 15) throw new InvalidInputError('interval: hourly buckets for at most 15 days', 'invalid_body');
    res.json(await deps.trends.trends({ from, to, interval, timeZone: deps.timeZone }));
  });
  return router;
}

export const trendsRouteDocs: RouteDoc[] = [{ method: 'get', path: '/trends', tag: 'reports', summary: '帖文量走势（按阵地、领域、倾向）与高频词', query: TrendsQuerySchema }];
