import { describe, expect, it } from 'vitest';
import type { AlertStatus } from '../../../core/alerts/alert.js';
import { applyAlertAction, type AlertAction } from '../../../core/alerts/lifecycle.js';
import { alertAt, ok, T0 } from './fixtures.js';

const ctx = { actor: 'duty', now: new Date(T0.getTime() + 60_000) };
const rules = { requirePlanForLevels: [1] as (1 | 2 | 3 | 4)[] };
const checklist = { templateId: 'major-incident', name: '重大舆情应对预案', triggeredAt: T0.toISOString(), triggeredBy: 'duty', steps: [] };

describe('the alert lifecycle state machine', () => {
  it.each<[AlertStatus, AlertAction, AlertStatus | string]>([
    ['new', { type: 'acknowledge' }, 'acknowledged'], // 签收
    ['acknowledged', { type: 'acknowledge' }, 'illegal_transition'], // signing twice is refused
    ['acknowledged', { type: 'start_handling' }, 'handling'], // 处置中
    ['new', { type: 'start_handling' }, 'illegal_transition'], // must be signed for first
    ['handling', { type: 'respond', note: '已发布情况通报' }, 'responded'], // 已回应
    ['acknowledged', { type: 'respond', note: '已回应' }, 'responded'], // a quick answer without a handling phase
    ['responded', { type: 'respond', note: '续报' }, 'responded'], // a follow-up (续报) keeps it responded
    ['new', { type: 'respond', note: '回应' }, 'illegal_transition'], // nobody answers an unsigned alert
    ['responded', { type: 'close', note: '已办结' }, 'closed'], // 办结
    ['handling', { type: 'close', note: '已办结' }, 'closed'],
    ['new', { type: 'close', note: '办结' }, 'illegal_transition'], // closing unsigned is refused
    ['closed', { type: 'close', note: '办结' }, 'illegal_transition'],
    ['new', { type: 'false_positive', reason: '与本单位无关' }, 'false_positive'], // 误报 with a reason
    ['handling', { type: 'false_positive', reason: '误报' }, 'false_positive'],
    ['responded', { type: 'false_positive', reason: '误报' }, 'illegal_transition'], // answered means it was real
    ['closed', { type: 'reopen', reason: '再次发酵' }, 'new'], // reopen
    ['false_positive', { type: 'reopen', reason: '判断有误' }, 'new'],
    ['handling', { type: 'reopen', reason: 'x' }, 'illegal_transition'], // only finished alerts reopen
    ['handling', { type: 'change_level', level: 2, reason: '热度上升' }, 'handling'], // level changes keep the status
    ['closed', { type: 'change_level', level: 2, reason: 'x' }, 'illegal_transition'], // not on finished alerts
    ['new', { type: 'change_level', level: 3, reason: 'same' }, 'level_unchanged'],
    ['new', { type: 'assign', assignee: { kind: 'section', id: '网信办' } }, 'new'],
    ['new', { type: 'escalate', reason: '情况复杂' }, 'new'],
    ['closed', { type: 'escalate', reason: 'x' }, 'illegal_transition'],
    ['new', { type: 'trigger_plan', checklist }, 'handling'], // starting a plan signs for the alert
    ['acknowledged', { type: 'trigger_plan', checklist }, 'handling'],
    ['closed', { type: 'trigger_plan', checklist }, 'illegal_transition'],
  ])('%s + %j → %s', (status, action, expected) => {
    const result = applyAlertAction(alertAt(3, { status }), action, ctx, rules);
    if (result.ok) expect(result.alert.status).toBe(expected);
    else expect(result.code).toBe(expected);
  });

  it('names who signed when a second person tries to sign', () => {
    const signed = applyAlertAction(alertAt(3), { type: 'acknowledge' }, ctx, rules);
    expect(signed.ok).toBe(true);
    const again = applyAlertAction(ok(signed), { type: 'acknowledge' }, { ...ctx, actor: 'chief' }, rules);
    expect(again).toMatchObject({ ok: false, kind: 'conflict', code: 'illegal_transition' });
    expect((again as { reason: string }).reason).toContain('duty');
  });

  it('a red alert cannot be closed without a response plan, and not while plan steps are open', () => {
    const red = alertAt(1, { status: 'responded' });
    expect(applyAlertAction(red, { type: 'close', note: '办结' }, ctx, rules)).toMatchObject({ ok: false, code: 'plan_required' });
    const step = { id: 'verify', title: '核实情况', role: 'duty', dueAt: T0.toISOString(), evidenceRequired: true, evidence: [] };
    const withPlan = { ...red, plan: { ...checklist, steps: [step] } };
    expect(applyAlertAction(withPlan, { type: 'close', note: '办结' }, ctx, rules)).toMatchObject({ ok: false, code: 'plan_incomplete' });
    const noEvidence = applyAlertAction(withPlan, { type: 'complete_plan_step', stepId: 'verify', note: '已核实', evidence: [] }, ctx, rules);
    expect(noEvidence).toMatchObject({ ok: false, kind: 'invalid', code: 'evidence_required' });
    const done = applyAlertAction(withPlan, { type: 'complete_plan_step', stepId: 'verify', note: '已核实', evidence: [{ kind: 'link', ref: 'http://x/1' }] }, ctx, rules);
    expect(done.ok).toBe(true);
    const closed = applyAlertAction(ok(done), { type: 'close', note: '办结' }, ctx, rules);
    expect(closed).toMatchObject({ ok: true, alert: { status: 'closed' } });
    expect(applyAlertAction(withPlan, { type: 'complete_plan_step', stepId: 'nope', note: 'x', evidence: [] }, ctx, rules)).toMatchObject({ kind: 'not_found' });
  });

  it('reopening starts a new cycle: escalation counts again from now', () => {
    const closed = alertAt(2, { status: 'closed', escalationStep: 2, acknowledgedAt: T0.toISOString(), closedAt: T0.toISOString() });
    const result = applyAlertAction(closed, { type: 'reopen', reason: '再次发酵' }, ctx, rules);
    expect(result).toMatchObject({ ok: true, alert: { status: 'new', escalationStep: 0, reopenCount: 1, cycleStartedAt: ctx.now.toISOString() } });
    expect((result as { alert: { acknowledgedAt?: string } }).alert.acknowledgedAt).toBeUndefined();
  });

  it('manual escalation climbs the chain one role at a time and stops at the top', () => {
    let alert = alertAt(3);
    for (let i = 1; i <= 3; i++) {
      const r = applyAlertAction(alert, { type: 'escalate', reason: '上报' }, ctx, rules);
      expect(r.ok).toBe(true);
      alert = ok(r);
      expect(alert.escalationStep).toBe(i);
    }
    expect(applyAlertAction(alert, { type: 'escalate', reason: '上报' }, ctx, rules)).toMatchObject({ ok: false, code: 'already_at_top' });
  });

  it('never changes the alert it was given and records each action on the timeline', () => {
    const alert = alertAt(3);
    const copy = structuredClone(alert);
    const r = applyAlertAction(alert, { type: 'acknowledge', note: '收到' }, ctx, rules);
    expect(alert).toEqual(copy);
    expect(ok(r).timeline.at(-1)).toMatchObject({ kind: 'acknowledge', actor: 'duty', note: '收到', from: 'new', to: 'acknowledged' });
  });
});
