import { Router } from 'express';
import { z } from 'zod';
import type { Calendar } from '../../core/calendar/sensitive-periods.js';
import { periodsAt } from '../../core/calendar/sensitive-periods.js';
import { onDutyAt, shiftsAt } from '../../core/duty/roster.js';
import { plannedClocks } from '../../core/escalation/clocks.js';
import { dryRunEscalation } from '../../core/escalation/dry-run.js';
import { lateFirings } from '../../core/escalation/late-firings.js';
import type { EscalationPolicy } from '../../core/escalation/policy.js';
import type { PlanTemplate } from '../../core/plans/response-plan.js';
import type { AlertStore } from '../../pipeline/elasticsearch/es-alert-store.js';
import type { RosterStore } from '../../pipeline/elasticsearch/es-roster-store.js';
import { requirePermission } from '../authorize.js';
import type { RouteDoc } from '../openapi/openapi.js';
import { parseBody } from '../parse-body.js';

const At = z.string().datetime({ offset: true }).optional();
const DryRunQuerySchema = z.object({ level: z.coerce.number().int().min(1).max(4).default(1), at: At, category: z.string().min(1).max(50).optional() });
const DutyNowQuerySchema = z.object({ at: At });
const LateQuerySchema = z.object({ toleranceMs: z.coerce.number().int().min(0).max(86_400_000).default(1000), limit: z.coerce.number().int().min(1).max(500).default(500) });

/** Policies, the dry run ("who would be told, through what, when?"), the duty now, and the escalation auditor. */
export function escalationRoutes(deps: {
  policy: EscalationPolicy;
  calendar: Calendar;
  plans: readonly PlanTemplate[];
  roster: RosterStore;
  alerts: AlertStore;
  timeZone: string;
  now(): Date;
}): Router {
  const router = Router();
  router.get('/escalation/policies', requirePermission('roster.read'), (_req, res) => {
    res.json({ policy: deps.policy, calendar: deps.calendar, plans: deps.plans, timeZone: deps.timeZone });
  });
  router.get('/escalation/dry-run', requirePermission('roster.read'), async (req, res) => {
    const q = parseBody(DryRunQuerySchema, req.query);
    const at = q.at ? new Date(q.at) : deps.now();
    const roster = (await deps.roster.current()).roster;
    const entries = dryRunEscalation({
      level: q.level as 1 | 2 | 3 | 4,
      at,
      policy: deps.policy,
      roster,
      calendar: deps.calendar,
      timeZone: deps.timeZone,
      ...(q.category ? { category: q.category } : {}),
    });
    res.json({ level: q.level, at: at.toISOString(), periods: periodsAt(deps.calendar, at, deps.timeZone), entries });
  });
  router.get('/duty/now', requirePermission('roster.read'), async (req, res) => {
    const q = parseBody(DutyNowQuerySchema, req.query);
    const at = q.at ? new Date(q.at) : deps.now();
    const roster = (await deps.roster.current()).roster;
    res.json({
      at: at.toISOString(),
      periods: periodsAt(deps.calendar, at, deps.timeZone),
      shifts: shiftsAt(roster, at, deps.timeZone, deps.calendar).map((s) => ({ id: s.id, name: s.name, from: s.from, to: s.to })),
      onDuty: onDutyAt(roster, at, deps.timeZone, deps.calendar).map((p) => ({ ...p.person, via: p.via })),
    });
  });
  router.get('/escalation/late', requirePermission('alert.read'), async (req, res) => {
    const q = parseBody(LateQuerySchema, req.query);
    const now = deps.now();
    const recent = await deps.alerts.list({ from: new Date(now.getTime() - 30 * 86_400_000).toISOString(), limit: q.limit });
    const late = lateFirings(
      recent.map((r) => r.alert),
      q.toleranceMs,
      now,
      (alert) => plannedClocks(alert).filter((c) => Date.parse(c.dueAt) < now.getTime()),
    );
    res.json({ toleranceMs: q.toleranceMs, checkedAlerts: recent.length, late });
  });
  return router;
}

export const escalationRouteDocs: RouteDoc[] = [
  { method: 'get', path: '/escalation/policies', tag: 'escalation', summary: '升级策略、敏感时期日历与预案模板' },
  { method: 'get', path: '/escalation/dry-run', tag: 'escalation', summary: '演练：某等级预警在某时刻会通知谁、经何渠道、何时', query: DryRunQuerySchema },
  { method: 'get', path: '/duty/now', tag: 'escalation', summary: '某时刻（默认现在）的班次与在岗人员', query: DutyNowQuerySchema },
  { method: 'get', path: '/escalation/late', tag: 'escalation', summary: '近 30 天迟于时限触发的升级（升级审计）', query: LateQuerySchema },
];
