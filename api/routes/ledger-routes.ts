import { Router } from 'express';
import { z } from 'zod';
import type { AuditLog } from '../../core/audit/audit-log.js';
import { toPublicUser } from '../../core/auth/user.js';
import { NotFoundError } from '../../core/errors.js';
import {
  CreateLedgerItemSchema,
  EvidenceInputSchema,
  LedgerSourceSchema,
  LedgerStatusSchema,
  UpdateLedgerItemSchema,
} from '../../core/ledger/ledger-item.js';
import { addLedgerEvidence, createLedgerItem, transitionLedgerItem, updateLedgerItem, type LedgerDeps } from '../../core/ledger/ledger-actions.js';
import { availableLedgerActions, type LedgerAction } from '../../core/ledger/ledger-state.js';
import type { LedgerQuery } from '../../core/ledger/ledger-store.js';
import { ledgerToXlsx } from '../exports/ledger-xlsx.js';
import { actorOf, requirePermission } from '../authorize.js';
import { parseBody, QueryDate } from '../parse-body.js';
import type { RouteDoc } from '../openapi/openapi.js';
import { attachmentHeader } from '../attachment-header.js';

const flag = z.enum(['true', 'false']).transform((v) => v === 'true');

export const LedgerListQuerySchema = z.object({
  status: z
    .string()
    .transform((s) => s.split(','))
    .pipe(z.array(LedgerStatusSchema))
    .optional(),
  source: LedgerSourceSchema.optional(),
  responsible: z.string().min(1).max(64).optional(),
  section: z.string().min(1).max(80).optional(),
  alertId: z.string().min(1).max(200).optional(),
  overdue: flag.optional(),
  deadlineFrom: QueryDate.optional(),
  deadlineTo: QueryDate.optional(),
  limit: z.coerce.number().int().min(1).max(10_000).default(1000),
});
export const LedgerIdParamsSchema = z.object({ id: z.string().regex(/^zg-\d{8}-[a-f0-9]{8}$/, 'id: a ledger item id like zg-20260301-0a1b2c3d') });
export const AlertIdParamsSchema = z.object({ id: z.string().min(1).max(200) });
export const AddEvidenceSchema = z.object({ expectedVersion: z.number().int().min(1).optional(), evidence: EvidenceInputSchema }).strict();
export const TransitionSchema = z.object({ expectedVersion: z.number().int().min(1).optional(), note: z.string().trim().max(2000).optional() }).strict();
export const VerifySchema = TransitionSchema.extend({ result: z.enum(['pass', 'fail']) }).strict();

const TRANSITION_ROUTES: [path: string, action: LedgerAction, permission: 'ledger.write' | 'ledger.verify'][] = [
  ['start', 'start', 'ledger.write'],
  ['submit', 'submit', 'ledger.write'],
  // 销号: verification passed.
  ['close', 'approve', 'ledger.verify'],
  ['reopen', 'reopen', 'ledger.verify'],
];

/** The rectification ledger (整改台账): CRUD, evidence, the state machine, verification, export, items of an alert. */
export function ledgerRoutes(deps: LedgerDeps & { unitName: string; timeZone: string; audit: AuditLog }): Router {
  const router = Router();
  const ctx = (req: Parameters<typeof actorOf>[0]) => ({ actor: actorOf(req), requestId: req.requestId });
  const detail = async (id: string) => {
    const item = await deps.ledger.get(id);
    if (!item) throw new NotFoundError(`整改事项 ${id} 不存在 (no such ledger item)`);
    return { item, actions: availableLedgerActions(item) };
  };
  const listOf = (query: z.infer<typeof LedgerListQuerySchema>): LedgerQuery => query;

  router.get('/ledger', requirePermission('ledger.read'), async (req, res) => {
    const query = parseBody(LedgerListQuerySchema, req.query);
    res.json({ items: await deps.ledger.list(listOf(query)) });
  });

  router.get('/ledger/export.xlsx', requirePermission('ledger.read'), async (req, res) => {
    const query = parseBody(LedgerListQuerySchema, req.query);
    const [items, users] = await Promise.all([deps.ledger.list(listOf(query)), deps.users.list()]);
    const now = deps.now();
    const file = await ledgerToXlsx(items, { unitName: deps.unitName, timeZone: deps.timeZone, users: users.map(toPublicUser), generatedAt: now });
    const name = `整改台账-${now.toISOString().slice(0, 10)}.xlsx`;
    res.setHeader('Content-Type', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
    res.setHeader('Content-Disposition', attachmentHeader('ledger.xlsx', name));
    res.send(file);
  });

  router.post('/ledger', requirePermission('ledger.write'), async (req, res) => {
    const body = parseBody(CreateLedgerItemSchema, req.body);
    const item = await createLedgerItem(deps, body, ctx(req));
    res.status(201).json({ item, actions: availableLedgerActions(item) });
  });

  router.get('/ledger/:id', requirePermission('ledger.read'), async (req, res) => {
    const { id } = parseBody(LedgerIdParamsSchema, req.params);
    const found = await detail(id);
    // Linked both ways: the audit records of this item come with it.
    const audit = await deps.audit.list({ entityType: 'ledger', entityId: id, limit: 200 });
    res.json({ ...found, audit });
  });

  router.patch('/ledger/:id', requirePermission('ledger.write'), async (req, res) => {
    const { id } = parseBody(LedgerIdParamsSchema, req.params);
    const body = parseBody(UpdateLedgerItemSchema, req.body);
    await detail(id);
    const item = await updateLedgerItem(deps, id, body, ctx(req));
    res.json({ item, actions: availableLedgerActions(item) });
  });

  router.post('/ledger/:id/evidence', requirePermission('ledger.write'), async (req, res) => {
    const { id } = parseBody(LedgerIdParamsSchema, req.params);
    const body = parseBody(AddEvidenceSchema, req.body);
    const item = await addLedgerEvidence(deps, id, body.evidence, body.expectedVersion, ctx(req));
    res.status(201).json({ item, actions: availableLedgerActions(item) });
  });

  for (const [path, action, permission] of TRANSITION_ROUTES) {
    router.post(`/ledger/:id/${path}`, requirePermission(permission), async (req, res) => {
      const { id } = parseBody(LedgerIdParamsSchema, req.params);
      const body = parseBody(TransitionSchema, req.body);
      const item = await transitionLedgerItem(deps, id, action, body, ctx(req));
      res.json({ item, actions: availableLedgerActions(item) });
    });
  }

  /** 验收: pass closes the item (销号), fail sends it back to in_progress with the reason. */
  router.post('/ledger/:id/verify', requirePermission('ledger.verify'), async (req, res) => {
    const { id } = parseBody(LedgerIdParamsSchema, req.params);
    const body = parseBody(VerifySchema, req.body);
    const item = await transitionLedgerItem(deps, id, body.result === 'pass' ? 'approve' : 'reject', body, ctx(req));
    res.json({ item, actions: availableLedgerActions(item) });
  });

  router.get('/alerts/:id/ledger', requirePermission('ledger.read'), async (req, res) => {
    const { id } = parseBody(AlertIdParamsSchema, req.params);
    if (!(await deps.alerts.get(id))) throw new NotFoundError(`预警 ${id} 不存在 (no such alert)`);
    res.json({ items: await deps.ledger.list({ alertId: id }) });
  });
  return router;
}

const transitionDocs: RouteDoc[] = TRANSITION_ROUTES.map(([path, action]) => ({
  method: 'post',
  path: `/ledger/:id/${path}`,
  tag: 'ledger',
  summary: `整改事项：${{ start: '开始整改', submit: '提交验收', approve: '销号（验收通过）', reject: '验收不通过', reopen: '重新打开' }[action]}`,
  params: LedgerIdParamsSchema,
  body: TransitionSchema,
  responses: { '200': '状态已变更', '409': '状态不允许、版本冲突、缺少佐证材料或原因、验收人为责任人本人' },
}));

export const ledgerRouteDocs: RouteDoc[] = [
  { method: 'get', path: '/ledger', tag: 'ledger', summary: '整改台账（逾期在前）', query: LedgerListQuerySchema },
  { method: 'get', path: '/ledger/export.xlsx', tag: 'ledger', summary: '导出整改台账 XLSX（同列表筛选）', query: LedgerListQuerySchema, produces: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet' },
  { method: 'post', path: '/ledger', tag: 'ledger', summary: '新建整改事项', body: CreateLedgerItemSchema, responses: { '201': '已创建' } },
  { method: 'get', path: '/ledger/:id', tag: 'ledger', summary: '整改事项详情（含审计记录）', params: LedgerIdParamsSchema },
  { method: 'patch', path: '/ledger/:id', tag: 'ledger', summary: '修改整改事项', params: LedgerIdParamsSchema, body: UpdateLedgerItemSchema, responses: { '200': '已修改', '409': '版本冲突或已销号' } },
  { method: 'post', path: '/ledger/:id/evidence', tag: 'ledger', summary: '添加佐证材料', params: LedgerIdParamsSchema, body: AddEvidenceSchema, responses: { '201': '已添加', '409': '版本冲突或已销号' } },
  ...transitionDocs,
  { method: 'post', path: '/ledger/:id/verify', tag: 'ledger', summary: '验收（通过即销号；不通过退回整改）', params: LedgerIdParamsSchema, body: VerifySchema, responses: { '200': '已验收', '409': '验收人为责任人本人、状态不允许或版本冲突' } },
  { method: 'get', path: '/alerts/:id/ledger', tag: 'ledger', summary: '某条预警产生的整改事项', params: AlertIdParamsSchema },
];
