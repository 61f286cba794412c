import { Router } from 'express';
import { z } from 'zod';
import { AuditEntityTypeSchema, type AuditLog } from '../../core/audit/audit-log.js';
import { requirePermission } from '../authorize.js';
import { parseBody, QueryDate } from '../parse-body.js';
import type { RouteDoc } from '../openapi/openapi.js';

export const AuditListQuerySchema = z.object({
  entityType: AuditEntityTypeSchema.optional(),
  entityId: z.string().min(1).max(200).optional(),
  actorId: z.string().min(1).max(200).optional(),
  from: QueryDate.optional(),
  to: QueryDate.optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

/** `GET /api/audit` (filters) and `GET /api/audit/verify` (recompute the chain, name the first broken record). */
export function auditRoutes(deps: { audit: AuditLog }): Router {
  const router = Router();
  router.get('/audit', requirePermission('audit.read'), async (req, res) => {
    const query = parseBody(AuditListQuerySchema, req.query);
    res.json({ records: await deps.audit.list(query) });
  });
  router.get('/audit/verify', requirePermission('audit.read'), async (_req, res) => {
    res.json(await deps.audit.verify());
  });
  return router;
}

export const auditRouteDocs: RouteDoc[] = [
  { method: 'get', path: '/audit', tag: 'audit', summary: '审计记录列表（按实体、操作人、时间筛选）', query: AuditListQuerySchema },
  { method: 'get', path: '/audit/verify', tag: 'audit', summary: '重新计算审计哈希链并指出第一条损坏的记录' },
];
