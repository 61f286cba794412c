import { Router } from 'express';
import { z } from 'zod';
import type { AuditLog } from '../../core/audit/audit-log.js';
import { DelegationSchema, LeaveSchema, RosterSchema, type Roster } from '../../core/duty/roster.js';
import { ConflictError, InvalidInputError } from '../../core/errors.js';
import type { AlertStore } from '../../pipeline/elasticsearch/es-alert-store.js';
import type { RosterStore } from '../../pipeline/elasticsearch/es-roster-store.js';
import { actorOf, requirePermission } from '../authorize.js';
import type { RouteDoc } from '../openapi/openapi.js';
import { parseBody } from '../parse-body.js';

const Version = z.string().regex(/^\d+:\d+$/);
const ReplaceRosterSchema = z.object({ roster: z.unknown(), version: Version });
const LeaveBodySchema = z.object({ leave: LeaveSchema, version: Version });
const DelegationBodySchema = z.object({ delegation: DelegationSchema, version: Version });
const HandoverBodySchema = z.object({ to: z.string().min(1).max(40), note: z.string().trim().min(1).max(4000), version: Version });

/** The duty roster: read, replace, leave, delegation and shift handover (交接班); every change audited. */
export function rosterRoutes(deps: { roster: RosterStore; audit: AuditLog; alerts: AlertStore; now(): Date }): Router {
  const router = Router();
  router.get('/roster', requirePermission('roster.read'), async (_req, res) => {
    res.json(await deps.roster.current());
  });

  const change = async (req: Parameters<Parameters<typeof router.post>[1]>[0], action: string, version: string, edit: (r: Roster) => Roster, reason?: string) => {
    const current = await deps.roster.current();
    if (current.version !== version) throw new ConflictError('值班表已被他人修改，请刷新后重试 (the roster changed since you loaded it)', 'stale_version');
    const next = RosterSchema.safeParse(edit(current.roster));
    if (!next.success) throw new InvalidInputError(next.error.issues.map((i) => `roster.${i.path.join('.')}: ${i.message}`).join('; '), 'invalid_body', next.error.issues);
    const actor = actorOf(req);
    const saved = await deps.roster.replace(next.data, version, actor.id);
    await deps.audit.record({ actor, entity: { type: 'roster', id: 'current' }, action, before: current.roster, after: next.data, ...(reason ? { reason } : {}), ...(req.requestId ? { requestId: req.requestId } : {}) });
    return saved;
  };

  router.put('/roster', requirePermission('roster.write'), async (req, res) => {
    const body = parseBody(ReplaceRosterSchema, req.body);
    res.json(await change(req, 'roster.update', body.version, () => body.roster as Roster));
  });
  router.post('/roster/leave', requirePermission('roster.write'), async (req, res) => {
    const body = parseBody(LeaveBodySchema, req.body);
    res.json(await change(req, 'roster.leave', body.version, (r) => ({ ...r, leave: [...r.leave, body.leave] }), body.leave.reason));
  });
  router.post('/roster/delegations', requirePermission('roster.write'), async (req, res) => {
    const body = parseBody(DelegationBodySchema, req.body);
    res.json(await change(req, 'roster.delegate', body.version, (r) => ({ ...r, delegations: [...r.delegations, body.delegation] }), body.delegation.reason));
  });
  // 交接班: the officer going off duty hands over to the next, with what is still open. Any duty officer may.
  router.post('/roster/handover', requirePermission('alert.acknowledge'), async (req, res) => {
    const body = parseBody(HandoverBodySchema, req.body);
    const open = await deps.alerts.list({ status: ['new', 'acknowledged', 'handling', 'responded'], limit: 500 });
    const actor = actorOf(req);
    const entry = { at: deps.now().toISOString(), from: actor.id, to: body.to, note: body.note, openAlerts: open.length };
    res.json(await change(req, 'roster.handover', body.version, (r) => ({ ...r, handovers: [...r.handovers, entry].slice(-200) }), body.note));
  });
  return router;
}

const ROSTER_ANSWERS = { '200': '新的值班表及版本', '409': '值班表已被他人修改（version 已变）' };
export const rosterRouteDocs: RouteDoc[] = [
  { method: 'get', path: '/roster', tag: 'roster', summary: '值班表（人员、班次、请假、代班、交接班）及版本' },
  { method: 'put', path: '/roster', tag: 'roster', summary: '替换值班表（version 为编辑起点；留痕）', body: ReplaceRosterSchema, responses: ROSTER_ANSWERS },
  { method: 'post', path: '/roster/leave', tag: 'roster', summary: '登记请假（留痕）', body: LeaveBodySchema, responses: ROSTER_ANSWERS },
  { method: 'post', path: '/roster/delegations', tag: 'roster', summary: '登记代班（留痕）', body: DelegationBodySchema, responses: ROSTER_ANSWERS },
  { method: 'post', path: '/roster/handover', tag: 'roster', summary: '交接班（附未结预警数；留痕）', body: HandoverBodySchema, responses: ROSTER_ANSWERS },
];
