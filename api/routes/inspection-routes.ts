import { Router } from 'express';
import { z } from 'zod';
import type { InspectionPolicy } from '../../core/inspection/inspection-policy.js';
import type { InspectionService } from '../../reports/inspection-service.js';
import { requirePermission } from '../authorize.js';
import type { RouteDoc } from '../openapi/openapi.js';
import { parseBody } from '../parse-body.js';

export interface InspectionRoutesDeps {
  inspections: Pick<InspectionService, 'inspectAll' | 'inspectOne'>;
  policy: InspectionPolicy;
  now?: () => Date;
}

const SourceIdParamsSchema = z.object({ sourceId: z.string().regex(/^[a-z0-9-]+$/, 'a position id') });

/** Where the numbers come from, shown with every answer. */
export const INSPECTION_BASIS = '国办秘函〔2019〕19号《政府网站与政务新媒体检查指标》单项否决指标';

/**
 * Self-inspection (网站自查) through the API, for whoever may read the positions' health
 * (`sources.read`): every website and new-media position, or one, each item with its figure,
 * threshold, reason and trace. A failing or warning item becomes a 整改台账 item through
 * `POST /api/ledger` with `source: self_inspection`.
 */
export function inspectionRoutes(deps: InspectionRoutesDeps): Router {
  const router = Router();
  const now = deps.now ?? (() => new Date());

  router.get('/inspection', requirePermission('sources.read'), async (_req, res) => {
    const positions = await deps.inspections.inspectAll();
    res.json({ at: now().toISOString(), basis: INSPECTION_BASIS, policy: deps.policy, positions });
  });

  router.get('/inspection/:sourceId', requirePermission('sources.read'), async (req, res) => {
    const { sourceId } = parseBody(SourceIdParamsSchema, req.params);
    res.json({ at: now().toISOString(), basis: INSPECTION_BASIS, policy: deps.policy, position: await deps.inspections.inspectOne(sourceId) });
  });

  return router;
}

export const inspectionRouteDocs: RouteDoc[] = [
  { method: 'get', path: '/inspection', tag: 'inspection', summary: '网站自查：各网站及政务新媒体阵地的单项否决指标（状态、测得值、标准、原因、计数明细）' },
  { method: 'get', path: '/inspection/:sourceId', tag: 'inspection', summary: '网站自查：单个阵地', params: SourceIdParamsSchema },
];
