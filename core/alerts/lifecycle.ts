import type { AlertLevel } from '../rules/rule-pack.js';
import { CHAIN_ROLE_NAMES, ChainRoleSchema } from '../escalation/policy.js';
import type { Alert, AlertStatus, Assignee, EvidenceRef, PlanChecklist } from './alert.js';
import { ALERT_ACTION_NAMES, STATUS_NAMES } from '../labels.js';

/**
 * The alert lifecycle, one pure state machine:
 * new → acknowledged (签收) → handling (处置中) → responded (已回应) → closed (办结);
 * new | acknowledged | handling → false_positive (误报, with a reason);
 * closed | false_positive → new (reopen: by a person, or by the system when the event grows again).
 * Level changes, assignment, manual escalation and plan work happen in any open status.
 */
export type AlertAction =
  | { type: 'acknowledge'; note?: string }
  | { type: 'start_handling'; note?: string }
  | { type: 'respond'; note: string; pressConference?: boolean }
  | { type: 'close'; note: string }
  | { type: 'false_positive'; reason: string }
  | { type: 'reopen'; reason: string }
  | { type: 'change_level'; level: AlertLevel; reason: string }
  | { type: 'assign'; assignee: Assignee; note?: string }
  | { type: 'escalate'; reason: string }
  | { type: 'trigger_plan'; checklist: PlanChecklist }
  | { type: 'assign_plan_step'; stepId: string; assignee: string }
  | { type: 'complete_plan_step'; stepId: string; note: string; evidence: Omit<EvidenceRef, 'addedAt' | 'addedBy'>[] }
  | { type: 'add_evidence'; evidence: Omit<EvidenceRef, 'addedAt' | 'addedBy'> };
export type AlertActionType = AlertAction['type'];

export interface ActionContext {
  /** Username or system component. */
  actor: string;
  now: Date;
}

export type TransitionResult =
  | { ok: true; alert: Alert; auditAction: string }
  | { ok: false; kind: 'conflict' | 'invalid' | 'not_found'; code: string; reason: string };

/** Where each status-changing action may start, and where it leads. */
export const TRANSITIONS: Partial<Record<AlertActionType, { from: readonly AlertStatus[]; to?: AlertStatus }>> = {
  acknowledge: { from: ['new'], to: 'acknowledged' },
  start_handling: { from: ['acknowledged'], to: 'handling' },
  respond: { from: ['acknowledged', 'handling', 'responded'], to: 'responded' },
  close: { from: ['acknowledged', 'handling', 'responded'], to: 'closed' },
  false_positive: { from: ['new', 'acknowledged', 'handling'], to: 'false_positive' },
  reopen: { from: ['closed', 'false_positive'], to: 'new' },
};

const OPEN: readonly AlertStatus[] = ['new', 'acknowledged', 'handling', 'responded'];

function refuse(kind: 'conflict' | 'invalid' | 'not_found', code: string, reason: string): TransitionResult {
  return { ok: false, kind, code, reason };
}

function statusCheck(alert: Alert, type: AlertActionType): TransitionResult | undefined {
  const allowed = TRANSITIONS[type]?.from ?? OPEN;
  if (allowed.includes(alert.status)) return undefined;
  const by = alert.status === 'acknowledged' && alert.acknowledgedBy ? `（${alert.acknowledgedBy} 已于 ${alert.acknowledgedAt} 签收）` : '';
  return refuse(
    'conflict',
    'illegal_transition',
    `预警当前状态为「${STATUS_NAMES[alert.status]}」${by}，不能${ALERT_ACTION_NAMES[type]} (cannot ${type.replace(/_/g, ' ')} an alert that is ${alert.status})`,
  );
}

/** Applies one action; never mutates `alert`. Refusals carry a reason staff can read. */
export function applyAlertAction(
  alert: Alert,
  action: AlertAction,
  ctx: ActionContext,
  rules: { requirePlanForLevels: readonly AlertLevel[] },
): TransitionResult {
  const refused = statusCheck(alert, action.type);
  if (refused) return refused;
  const at = ctx.now.toISOString();
  const next: Alert = { ...alert, timeline: [...alert.timeline], updatedAt: at };
  const to = TRANSITIONS[action.type]?.to;
  if (to) next.status = to;
  let note: string | undefined;
  let from: unknown;
  let toValue: unknown;

  switch (action.type) {
    case 'acknowledge':
      next.acknowledgedAt = at;
      next.acknowledgedBy = ctx.actor;
      next.assignee ??= { kind: 'person', id: ctx.actor };
      note = action.note;
      break;
    case 'start_handling':
      note = action.note;
      break;
    case 'respond':
      next.respondedAt ??= at;
      if (action.pressConference) next.pressConferenceAt ??= at;
      note = action.note;
      break;
    case 'close': {
      if (rules.requirePlanForLevels.includes(alert.level) && !alert.plan) {
        return refuse('conflict', 'plan_required', `${alert.level === 1 ? '一级（红色）' : '该等级'}预警须先启动应对预案才能办结 (this level requires a response plan before closing)`);
      }
      const open = alert.plan?.steps.filter((s) => !s.completedAt) ?? [];
      if (open.length > 0) {
        return refuse('conflict', 'plan_incomplete', `预案尚有未完成的步骤：${open.map((s) => s.title).join('、')} (plan steps not completed)`);
      }
      next.closedAt = at;
      note = action.note;
      break;
    }
    case 'false_positive':
      next.falsePositiveReason = action.reason;
      next.closedAt = at;
      note = action.reason;
      break;
    case 'reopen':
      startNewCycle(next, alert, at);
      note = action.reason;
      break;
    case 'change_level':
      if (action.level === alert.level) return refuse('conflict', 'level_unchanged', `预警已是该等级 (the alert is already at level ${action.level})`);
      next.level = action.level;
      next.levelExplanation = {
        ...alert.levelExplanation,
        level: action.level,
        reasons: [...alert.levelExplanation.reasons, `${ctx.actor} 调整为 ${action.level} 级：${action.reason}`],
      };
      from = alert.level;
      toValue = action.level;
      note = action.reason;
      break;
    case 'assign':
      next.assignee = action.assignee;
      from = alert.assignee;
      toValue = action.assignee;
      note = action.note;
      break;
    case 'escalate': {
      const chain = ChainRoleSchema.options;
      if (alert.escalationStep >= chain.length - 1) {
        return refuse('conflict', 'already_at_top', `已上报至${CHAIN_ROLE_NAMES[chain[chain.length - 1]!]}，无法继续升级 (already at the top of the chain)`);
      }
      next.escalationStep = alert.escalationStep + 1;
      from = chain[alert.escalationStep];
      toValue = chain[next.escalationStep];
      note = action.reason;
      break;
    }
    case 'trigger_plan':
      if (alert.plan) return refuse('conflict', 'plan_exists', `已启动预案「${alert.plan.name}」 (a plan is already running)`);
      next.plan = action.checklist;
      if (next.status === 'new') {
        next.status = 'handling';
        next.acknowledgedAt = at;
        next.acknowledgedBy = ctx.actor;
      } else if (next.status === 'acknowledged') next.status = 'handling';
      toValue = action.checklist.templateId;
      break;
    case 'assign_plan_step':
    case 'complete_plan_step': {
      if (!alert.plan) return refuse('conflict', 'no_plan', '该预警尚未启动预案 (no plan has been triggered)');
      const index = alert.plan.steps.findIndex((s) => s.id === action.stepId);
      if (index < 0) return refuse('not_found', 'not_found', `预案中没有步骤 ${action.stepId} (no such plan step)`);
      const step = alert.plan.steps[index]!;
      if (step.completedAt) return refuse('conflict', 'step_done', `步骤「${step.title}」已由 ${step.completedBy} 完成 (the step is already done)`);
      const steps = [...alert.plan.steps];
      if (action.type === 'assign_plan_step') {
        steps[index] = { ...step, assignee: action.assignee };
        from = step.assignee;
        toValue = action.assignee;
      } else {
        if (step.evidenceRequired && action.evidence.length === 0) {
          return refuse('invalid', 'evidence_required', `evidence: 步骤「${step.title}」须附证据 (this step requires evidence)`);
        }
        steps[index] = {
          ...step,
          completedAt: at,
          completedBy: ctx.actor,
          note: action.note,
          evidence: action.evidence.map((e) => ({ ...e, addedAt: at, addedBy: ctx.actor })),
        };
        note = action.note;
      }
      next.plan = { ...alert.plan, steps };
      toValue ??= action.stepId;
      break;
    }
    case 'add_evidence':
      next.evidence = [...alert.evidence, { ...action.evidence, addedAt: at, addedBy: ctx.actor }];
      toValue = action.evidence.ref;
      break;
  }
  next.timeline.push({
    at,
    kind: action.type,
    actor: ctx.actor,
    ...(note !== undefined ? { note } : {}),
    ...(to && to !== alert.status ? { from: alert.status, to } : from !== undefined || toValue !== undefined ? { from, to: toValue } : {}),
  });
  return { ok: true, alert: next, auditAction: `alert.${action.type}` };
}

/**
 * A reopened alert (by a person, or by its event growing again) starts a new cycle: its clocks run
 * from now, escalation from the first step, and what was done in the last cycle is cleared.
 */
export function startNewCycle(next: Alert, previous: Alert, at: string): void {
  next.reopenCount = previous.reopenCount + 1;
  next.cycleStartedAt = at;
  next.escalationStep = 0;
  delete next.acknowledgedAt;
  delete next.acknowledgedBy;
  delete next.respondedAt;
  delete next.pressConferenceAt;
  delete next.closedAt;
  delete next.falsePositiveReason;
}
