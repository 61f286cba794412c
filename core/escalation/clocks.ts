import { createHash } from 'node:crypto';
import type { Alert, FiredClock } from '../alerts/alert.js';
import { TERMINAL_STATUSES } from '../alerts/alert.js';
import { ChainRoleSchema, levelPolicy, roleAbove, type ChainRole } from './policy.js';

export type SlaName = 'acknowledge' | 'respond' | 'press_conference' | 'close' | 'plan_step';

/**
 * A timer the alert is waiting on. Its `token` hashes the clock id and its due time, so a clock
 * re-planned by an acknowledgement, a level change or a reopen gets a new token and the old
 * delayed job becomes a no-op.
 */
export interface Clock {
  id: string;
  kind: 'escalation' | 'warning' | 'breach' | 'deferred-notify';
  dueAt: string;
  token: string;
  /** Escalation: the role this step reaches. */
  role?: ChainRole;
  sla?: SlaName;
  planStepId?: string;
  /** Deferred notification: index into `alert.notifications`. */
  notification?: number;
}

export const SLA_NAMES: Record<SlaName, string> = { acknowledge: '签收', respond: '首次回应', press_conference: '新闻发布会', close: '办结', plan_step: '预案步骤' };

/** Tokens recently computed: every change of an alert re-plans its clocks, mostly to the same ones. */
const tokens = new Map<string, string>();
const TOKENS_KEPT = 10_000;

export function clockToken(id: string, dueAt: string): string {
  const key = `${id}|${dueAt}`;
  let token = tokens.get(key);
  if (token === undefined) {
    token = createHash('sha256').update(key).digest('hex').slice(0, 12);
    if (tokens.size >= TOKENS_KEPT) tokens.clear();
    tokens.set(key, token);
  }
  return token;
}

export function firedKey(id: string, token: string): string {
  return `${id}:${token}`;
}

/** `seconds` after a time (ms since epoch), as an ISO time. */
function after(baseMs: number, seconds: number): string {
  return new Date(baseMs + Math.round(seconds * 1000)).toISOString();
}

/** The clock with its token (on the object given: every caller passes a fresh literal). */
function clock(c: Omit<Clock, 'token'>): Clock {
  (c as Clock).token = clockToken(c.id, c.dueAt);
  return c as Clock;
}

/**
 * Every clock the alert is waiting on now, from its status, level, plan and the policy snapshot it
 * carries; clocks already fired are left out. Pure: the scheduler arms exactly these.
 */
export function plannedClocks(alert: Alert): Clock[] {
  if (TERMINAL_STATUSES.includes(alert.status)) return [];
  const policy = levelPolicy(alert.policy, alert.level);
  const warn = alert.policy.warnAtPercent / 100;
  const start = Date.parse(alert.cycleStartedAt);
  const out: Clock[] = [];
  const sla = (name: SlaName, seconds: number) => {
    out.push(clock({ id: `warn-${name}`, kind: 'warning', sla: name, dueAt: after(start, seconds * warn) }));
    if (name !== 'acknowledge') out.push(clock({ id: `breach-${name}`, kind: 'breach', sla: name, dueAt: after(start, seconds) }));
  };
  const chain = ChainRoleSchema.options;
  if (alert.status === 'new') {
    sla('acknowledge', policy.acknowledgeSeconds);
    policy.steps.forEach((step, i) => {
      if (chain.indexOf(step.role) <= alert.escalationStep) return;
      out.push(clock({ id: `escalate-${i + 1}`, kind: 'escalation', role: step.role, dueAt: after(start, step.afterSeconds) }));
    });
  }
  if (!alert.respondedAt) sla('respond', policy.respondSeconds);
  if (policy.pressConferenceSeconds && !alert.pressConferenceAt) sla('press_conference', policy.pressConferenceSeconds);
  sla('close', policy.closeSeconds);
  const planFrom = alert.plan ? Date.parse(alert.plan.triggeredAt) : 0;
  for (const step of alert.plan?.steps ?? []) {
    if (step.completedAt) continue;
    const span = (Date.parse(step.dueAt) - planFrom) / 1000;
    out.push(clock({ id: `warn-plan-${step.id}`, kind: 'warning', sla: 'plan_step', planStepId: step.id, dueAt: after(planFrom, span * warn) }));
    out.push(clock({ id: `breach-plan-${step.id}`, kind: 'breach', sla: 'plan_step', planStepId: step.id, dueAt: step.dueAt }));
  }
  alert.notifications.forEach((n, i) => {
    if (n.decision === 'defer' && n.sendAt && n.clockId) out.push(clock({ id: n.clockId, kind: 'deferred-notify', notification: i, dueAt: n.sendAt }));
  });
  const fired = new Set(alert.firedClocks.map((f) => f.key));
  // ISO-8601 UTC times of one format order as strings (a code-unit comparison, not a collation).
  return out.filter((c) => !fired.has(firedKey(c.id, c.token))).sort((a, b) => (a.dueAt < b.dueAt ? -1 : a.dueAt > b.dueAt ? 1 : 0));
}

export function nextDueAt(alert: Alert): string | undefined {
  return plannedClocks(alert)[0]?.dueAt;
}

export type ClockDecision = { decision: 'fire'; clock: Clock } | { decision: 'stale' | 'already-fired' } | { decision: 'early'; clock: Clock };

/** Whether a delayed job for (`clockId`, `token`) should act now. A clock fires at most once. */
export function decideClock(alert: Alert, clockId: string, token: string, now: Date, earlyToleranceMs = 50): ClockDecision {
  if (alert.firedClocks.some((f) => f.key === firedKey(clockId, token))) return { decision: 'already-fired' };
  const current = plannedClocks(alert).find((c) => c.id === clockId && c.token === token);
  if (!current) return { decision: 'stale' };
  if (Date.parse(current.dueAt) - now.getTime() > earlyToleranceMs) return { decision: 'early', clock: current };
  return { decision: 'fire', clock: current };
}

/** Who a fired clock concerns: chain roles to notify, and whether the assignee is told. */
export interface ClockEffect {
  alert: Alert;
  trigger: 'escalation' | 'warning' | 'breach' | 'plan-step' | 'deferred-due';
  roles: ChainRole[];
  toAssignee: boolean;
  fired: FiredClock;
}

/** Records the clock as fired on the alert and says whom it concerns. */
export function fireClock(alert: Alert, c: Clock, now: Date): ClockEffect {
  const fired: FiredClock = {
    key: firedKey(c.id, c.token),
    clockId: c.id,
    dueAt: c.dueAt,
    firedAt: now.toISOString(),
    lateMs: Math.max(0, now.getTime() - Date.parse(c.dueAt)),
    outcome: c.kind,
  };
  const next: Alert = { ...alert, firedClocks: [...alert.firedClocks, fired], updatedAt: now.toISOString(), timeline: [...alert.timeline] };
  const chain = ChainRoleSchema.options;
  let roles: ChainRole[] = [];
  let toAssignee = false;
  let trigger: ClockEffect['trigger'] = 'warning';
  const current = chain[Math.min(alert.escalationStep, chain.length - 1)]!;
  switch (c.kind) {
    case 'escalation':
      trigger = 'escalation';
      roles = [c.role!];
      next.escalationStep = Math.max(alert.escalationStep, chain.indexOf(c.role!));
      break;
    case 'warning':
      toAssignee = true;
      if (!alert.assignee) roles = ['duty'];
      break;
    case 'breach': {
      trigger = c.sla === 'plan_step' ? 'plan-step' : 'breach';
      const step = c.planStepId ? alert.plan?.steps.find((s) => s.id === c.planStepId) : undefined;
      const base = step && ChainRoleSchema.safeParse(step.role).success ? (step.role as ChainRole) : current;
      const up = roleAbove(base);
      roles = [up];
      toAssignee = true;
      next.escalationStep = Math.max(alert.escalationStep, chain.indexOf(up));
      break;
    }
    case 'deferred-notify':
      trigger = 'deferred-due';
      break;
  }
  next.timeline.push({ at: fired.firedAt, kind: `clock.${c.kind}`, actor: 'escalation', note: c.id, ...(fired.lateMs > 1000 ? { to: { lateMs: fired.lateMs } } : {}) });
  return { alert: next, trigger, roles, toAssignee, fired };
}
