import { Router, type Request } from 'express';
import { z } from 'zod';
import type { Alert, VersionedAlert } from '../../core/alerts/alert.js';
import { AlertStatusSchema } from '../../core/alerts/alert.js';
import type { AlertAction } from '../../core/alerts/lifecycle.js';
import { plannedClocks } from '../../core/escalation/clocks.js';
import { peopleForRole } from '../../core/duty/roster.js';
import { ChainRoleSchema } from '../../core/escalation/policy.js';
import { InvalidInputError, NotFoundError } from '../../core/errors.js';
import { instantiatePlan, plansFor, type PlanTemplate } from '../../core/plans/response-plan.js';
import type { Calendar } from '../../core/calendar/sensitive-periods.js';
import type { AlertDesk } from '../../pipeline/alert/alert-desk.js';
import type { AlertStore } from '../../pipeline/elasticsearch/es-alert-store.js';
import type { PostStore } from '../../pipeline/elasticsearch/es-post-store.js';
import type { RosterStore } from '../../pipeline/elasticsearch/es-roster-store.js';
import { alertsToXlsx } from '../exports/alerts-xlsx.js';
import { actorOf, requirePermission } from '../authorize.js';
import { parseBody } from '../parse-body.js';
import type { RouteDoc } from '../openapi/openapi.js';
import { attachmentHeader } from '../attachment-header.js';

const csv = <T extends z.ZodType>(item: T) =>
  z.preprocess((v) => (typeof v === 'string' ? v.split(',').filter(Boolean) : v), z.array(item).max(10));

const ListQuerySchema = z.object({
  status: csv(AlertStatusSchema).optional(),
  level: csv(z.coerce.number().int().min(1).max(4)).optional(),
  category: z.string().min(1).max(50).optional(),
  sourceId: z.string().min(1).max(100).optional(),
  domain: z.string().min(1).max(50).optional(),
  escalated: z.enum(['true', 'false']).transform((v) => v === 'true').optional(),
  /** 只看超时: acknowledged or responded late, or waiting past a deadline (at `overdueAt`, default now). */
  overdue: z.enum(['true', 'false']).transform((v) => v === 'true').optional(),
  overdueAt: z.string().datetime({ offset: true }).optional(),
  assignee: z.string().min(1).max(80).optional(),
  q: z.string().min(1).max(100).optional(),
  from: z.string().datetime({ offset: true }).optional(),
  to: z.string().datetime({ offset: true }).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

const Text = (max: number) => z.string().trim().min(1).max(max);
/** The version the person saw (`GET` returns it); when sent, a change since then is a 409. */
const Version = { version: z.string().regex(/^\d+:\d+$/).optional() };
const EvidenceSchema = z.object({ kind: z.enum(['post', 'snapshot', 'file', 'link']), ref: Text(500), note: z.string().max(500).optional() });

const Bodies = {
  acknowledge: z.object({ note: z.string().max(1000).optional(), ...Version }),
  handle: z.object({ note: z.string().max(1000).optional(), ...Version }),
  respond: z.object({ note: Text(4000), pressConference: z.boolean().optional(), ...Version }),
  close: z.object({ note: Text(4000), ...Version }),
  falsePositive: z.object({ reason: Text(1000), ...Version }),
  reopen: z.object({ reason: Text(1000), ...Version }),
  level: z.object({ level: z.union([z.literal(1), z.literal(2), z.literal(3), z.literal(4)]), reason: Text(1000), ...Version }),
  assign: z.object({ kind: z.enum(['person', 'section']), id: Text(80), name: z.string().max(80).optional(), note: z.string().max(1000).optional(), ...Version }),
  escalate: z.object({ reason: Text(1000), ...Version }),
  evidence: z.object({ ...EvidenceSchema.shape, ...Version }),
  plan: z.object({ templateId: Text(80), ...Version }),
  assignStep: z.object({ assignee: Text(80), ...Version }),
  completeStep: z.object({ note: Text(4000), evidence: z.array(EvidenceSchema).max(20).default([]), ...Version }),
};

/** What a list shows, and what an action answers (the page re-reads the detail); the detail carries the whole alert. */
function summary({ alert, version }: VersionedAlert): Record<string, unknown> {
  const { policy: _p, firedClocks: _f, notifications, timeline: _t, writes: _w, ...rest } = alert;
  return { ...rest, version, lastNotification: notifications.at(-1) };
}

/** The whole alert with its version, without the store's write receipts (they mean nothing outside it). */
function whole({ alert, version }: VersionedAlert): Record<string, unknown> {
  const { writes: _w, ...rest } = alert;
  return { ...rest, version };
}

/**
 * The client's key for one action request, the same when it resends it (`Idempotency-Key`): a
 * resend whose first write landed is answered 200 instead of a 409 naming the sender.
 */
const IDEMPOTENCY_KEY = /^[A-Za-z0-9._:-]{8,100}$/;
function idempotencyKeyOf(req: Request): string | undefined {
  const given = req.headers['idempotency-key'];
  if (given === undefined) return undefined;
  if (typeof given === 'string' && IDEMPOTENCY_KEY.test(given)) return given;
  throw new InvalidInputError('Idempotency-Key 格式不正确 (8–100 letters, digits, ".", "_", ":" or "-")', 'invalid_idempotency_key');
}

/** The alert id of the path; an id no alert can have (bad characters, too long) is a 404. */
export function alertIdOf(req: Request): string {
  const id = String(req.params.id ?? '');
  if (!/^[A-Za-z0-9_.-]{1,200}$/.test(id)) throw new NotFoundError(`预警不存在 (alert ${id.slice(0, 80)} does not exist)`);
  return id;
}

export interface AlertRoutesDeps {
  alerts: AlertStore;
  posts: PostStore;
  desk: AlertDesk;
  plans: readonly PlanTemplate[];
  roster: RosterStore;
  calendar: Calendar;
  timeZone: string;
  /** The unit's name, for exported lists. */
  unitName: string;
  now(): Date;
}

/** Alerts: list, detail, and every lifecycle action (thin: parse, authorize, hand to the desk). */
export function alertRoutes(deps: AlertRoutesDeps): Router {
  const router = Router();
  router.get('/alerts', requirePermission('alert.read'), async (req, res) => {
    const query = parseBody(ListQuerySchema, req.query);
    const { overdue, overdueAt, ...rest } = query;
    const found = await deps.alerts.list({ ...rest, ...(overdue ? { overdueAt: overdueAt ? new Date(overdueAt) : deps.now() } : {}) });
    res.json({ alerts: found.map(summary) });
  });
  // Before `/alerts/:id`: the list with the same filters as a workbook (预警列表 › 导出 XLSX).
  router.get('/alerts/export.xlsx', requirePermission('alert.read'), async (req, res) => {
    const query = parseBody(ListQuerySchema, req.query);
    const { overdue, overdueAt, ...rest } = query;
    const now = deps.now();
    const found = await deps.alerts.list({ ...rest, ...(overdue ? { overdueAt: overdueAt ? new Date(overdueAt) : now } : {}) });
    const filters = Object.entries(req.query)
      .filter(([, v]) => typeof v === 'string' && v !== '')
      .map(([k, v]) => `${k}=${String(v)}`)
      .join('，');
    const file = await alertsToXlsx(
      found.map((f) => f.alert),
      { unitName: deps.unitName, timeZone: deps.timeZone, generatedAt: now, filters },
    );
    const name = `预警列表-${now.toISOString().slice(0, 10)}.xlsx`;
    res.setHeader('Content-Type', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
    res.setHeader('Content-Disposition', attachmentHeader('alerts.xlsx', name));
    res.send(file);
  });
  router.get('/alerts/:id', requirePermission('alert.read'), async (req, res) => {
    const found = await deps.alerts.getVersioned(alertIdOf(req));
    if (!found) throw new NotFoundError(`预警不存在 (alert ${req.params.id} does not exist)`);
    const posts = await deps.posts.getMany(found.alert.postIds.slice(0, 50));
    res.json({ alert: whole(found), posts, clocks: plannedClocks(found.alert) });
  });
  router.get('/alerts/:id/plans', requirePermission('alert.read'), async (req, res) => {
    const alert = await deps.alerts.get(alertIdOf(req));
    if (!alert) throw new NotFoundError(`预警不存在 (alert ${req.params.id} does not exist)`);
    res.json({ plans: plansFor(deps.plans, alert.category, alert.level) });
  });

  const act = <S extends z.ZodType<{ version?: string | undefined }>>(
    path: string,
    permission: Parameters<typeof requirePermission>[0],
    schema: S,
    toAction: (body: z.infer<S>, alert: () => Promise<Alert>, req: Request) => AlertAction | Promise<AlertAction>,
  ) => {
    router.post(`/alerts/:id/${path}`, requirePermission(permission), async (req, res) => {
      const id = alertIdOf(req);
      const body = parseBody(schema, req.body);
      const load = async () => {
        const alert = await deps.alerts.get(id);
        if (!alert) throw new NotFoundError(`预警不存在 (alert ${id} does not exist)`);
        return alert;
      };
      const action = await toAction(body, load, req);
      const result = await deps.desk.act(id, action, actorOf(req), req.requestId, body.version, idempotencyKeyOf(req));
      // The summary, not the whole alert: its policy snapshot, timeline and up to 200 notification
      // records would be serialized on every action for a caller that reads the detail anyway.
      res.json({ alert: summary(result) });
    });
  };

  act('acknowledge', 'alert.acknowledge', Bodies.acknowledge, (b) => ({ type: 'acknowledge', ...(b.note ? { note: b.note } : {}) }));
  act('handle', 'alert.acknowledge', Bodies.handle, (b) => ({ type: 'start_handling', ...(b.note ? { note: b.note } : {}) }));
  act('respond', 'alert.respond', Bodies.respond, (b) => ({ type: 'respond', note: b.note, ...(b.pressConference ? { pressConference: true } : {}) }));
  act('close', 'alert.close', Bodies.close, (b) => ({ type: 'close', note: b.note }));
  act('false-positive', 'alert.false_positive', Bodies.falsePositive, (b) => ({ type: 'false_positive', reason: b.reason }));
  act('reopen', 'alert.reopen', Bodies.reopen, (b) => ({ type: 'reopen', reason: b.reason }));
  act('level', 'alert.change_level', Bodies.level, (b) => ({ type: 'change_level', level: b.level, reason: b.reason }));
  act('assign', 'alert.assign', Bodies.assign, (b) => ({
    type: 'assign',
    assignee: { kind: b.kind, id: b.id, ...(b.name ? { name: b.name } : {}) },
    ...(b.note ? { note: b.note } : {}),
  }));
  act('escalate', 'alert.escalate', Bodies.escalate, (b) => ({ type: 'escalate', reason: b.reason }));
  act('evidence', 'alert.respond', Bodies.evidence, (b) => ({ type: 'add_evidence', evidence: { kind: b.kind, ref: b.ref, ...(b.note ? { note: b.note } : {}) } }));
  act('plan', 'plan.trigger', Bodies.plan, async (b, load, req) => {
    await load(); // an unknown alert is a 404 before anything else
    const template = deps.plans.find((p) => p.id === b.templateId);
    if (!template) throw new NotFoundError(`预案不存在 (no plan template ${b.templateId})`);
    const roster = (await deps.roster.current()).roster;
    const now = deps.now();
    const checklist = instantiatePlan(template, now, actorOf(req).id, (role) => {
      const chainRole = ChainRoleSchema.safeParse(role);
      if (chainRole.success) return peopleForRole(roster, chainRole.data, now, deps.timeZone, deps.calendar)[0]?.person.username;
      return undefined;
    });
    return { type: 'trigger_plan', checklist };
  });
  act('plan/steps/:stepId/assign', 'plan.trigger', Bodies.assignStep, (b, _load, req) => ({ type: 'assign_plan_step', stepId: String(req.params.stepId), assignee: b.assignee }));
  act('plan/steps/:stepId/complete', 'plan.complete_step', Bodies.completeStep, (b, _load, req) => ({
    type: 'complete_plan_step',
    stepId: String(req.params.stepId),
    note: b.note,
    evidence: b.evidence.map((e) => ({ kind: e.kind, ref: e.ref, ...(e.note ? { note: e.note } : {}) })),
  }));

  router.get('/posts', requirePermission('alert.read'), async (req, res) => {
    const { limit } = parseBody(z.object({ limit: z.coerce.number().int().min(1).max(200).default(50) }), req.query);
    res.json({ posts: await deps.posts.latest(limit), total: await deps.posts.count() });
  });
  return router;
}

const AlertIdParams = z.object({ id: z.string().min(1).max(200) });
const ActionParams = AlertIdParams;
const StepParams = z.object({ id: z.string().min(1).max(200), stepId: z.string().min(1).max(80) });
const ACTION_HEADERS: RouteDoc['headers'] = [
  {
    name: 'Idempotency-Key',
    description: '本次操作的客户端标识，重发时不变：首次已生效但未获应答时，重发返回 200 而非 409 (the client\'s key for this action, the same on a resend)',
    schema: { type: 'string', pattern: IDEMPOTENCY_KEY.source },
  },
];
const ACTION_ANSWERS = { '200': '已处理，返回预警摘要及新版本', '409': '状态不允许（说明原因，如已被某人签收）或版本已变', '503': '存储暂不可用或写入结果未能确认（可带同一 Idempotency-Key 重发）' };
const action = (path: string, summary: string, body: z.ZodType, params: z.ZodType = ActionParams): RouteDoc => ({ method: 'post', path: `/alerts/:id/${path}`, tag: 'alerts', summary, params, body, headers: ACTION_HEADERS, responses: ACTION_ANSWERS });

export const alertRouteDocs: RouteDoc[] = [
  { method: 'get', path: '/alerts', tag: 'alerts', summary: '预警列表（筛选：状态、等级、类别、阵地、领域、是否上报、是否超时、处置人、关键词、时间）', query: ListQuerySchema },
  { method: 'get', path: '/alerts/export.xlsx', tag: 'alerts', summary: '导出预警列表 XLSX（同列表筛选）', query: ListQuerySchema, produces: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet' },
  { method: 'get', path: '/alerts/:id', tag: 'alerts', summary: '预警详情（命中说明、帖文、时间线、通知记录、时限）', params: AlertIdParams },
  { method: 'get', path: '/alerts/:id/plans', tag: 'alerts', summary: '适用于该预警的预案模板', params: AlertIdParams },
  action('acknowledge', '签收', Bodies.acknowledge),
  action('handle', '开始处置', Bodies.handle),
  action('respond', '已回应（可标记新闻发布会）', Bodies.respond),
  action('close', '办结', Bodies.close),
  action('false-positive', '误报（须说明原因，用于规则调优）', Bodies.falsePositive),
  action('reopen', '重新打开', Bodies.reopen),
  action('level', '调整等级（须说明原因）', Bodies.level),
  action('assign', '指派给人员或科室', Bodies.assign),
  action('escalate', '人工上报责任链下一级', Bodies.escalate),
  action('evidence', '添加证据', Bodies.evidence),
  action('plan', '启动预案', Bodies.plan),
  action('plan/steps/:stepId/assign', '指派预案步骤', Bodies.assignStep, StepParams),
  action('plan/steps/:stepId/complete', '完成预案步骤（附说明与证据）', Bodies.completeStep, StepParams),
  { method: 'get', path: '/posts', tag: 'alerts', summary: '最新采集的帖文' },
];
