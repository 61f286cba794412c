import { describe, expect, it } from 'vitest';
import { applyAlertAction } from '../../../core/alerts/lifecycle.js';
import { decideClock, fireClock, plannedClocks } from '../../../core/escalation/clocks.js';
import { alertAt, ok, T0 } from './fixtures.js';

const rules = { requirePlanForLevels: [1] as (1 | 2 | 3 | 4)[] };
const after = (seconds: number) => new Date(T0.getTime() + seconds * 1000);

describe('alert clocks', () => {
  it('an unsigned red alert waits on escalation steps, warnings at 80 % and the SLA deadlines', () => {
    const ids = plannedClocks(alertAt(1)).map((c) => `${c.id}@${(Date.parse(c.dueAt) - T0.getTime()) / 1000}`);
    expect(ids).toEqual([
      'warn-acknowledge@240', // 80 % of 5 min
      'escalate-1@300', // 科室负责人
      'escalate-2@600', // 分管领导
      'escalate-3@900', // 第一责任人
      'warn-respond@14400',
      'breach-respond@18000', // 5 h, authoritative information
      'warn-press_conference@69120',
      'breach-press_conference@86400', // 24 h press conference
      'warn-close@483840',
      'breach-close@604800',
    ]);
  });

  it('signing for the alert stops the escalation steps but keeps the response and close clocks', () => {
    const r = applyAlertAction(alertAt(2), { type: 'acknowledge' }, { actor: 'duty', now: after(60) }, rules);
    const ids = plannedClocks(ok(r)).map((c: { id: string }) => c.id);
    expect(ids).not.toContain('escalate-1');
    expect(ids).not.toContain('warn-acknowledge');
    expect(ids).toEqual(['warn-respond', 'breach-respond', 'warn-close', 'breach-close']);
  });

  it.each<[string, number, string]>([
    ['a due clock fires', 300, 'fire'],
    ['a clock woken too early waits', 200, 'early'],
  ])('%s', (_name, at, expected) => {
    const alert = alertAt(1);
    const step = plannedClocks(alert).find((c) => c.id === 'escalate-1')!;
    expect(decideClock(alert, step.id, step.token, after(at)).decision).toBe(expected);
  });

  it('a clock made stale by an acknowledgement or a level change is a no-op, and none fires twice', () => {
    const alert = alertAt(2);
    const step = plannedClocks(alert).find((c) => c.id === 'escalate-1')!;
    const acked = ok(applyAlertAction(alert, { type: 'acknowledge' }, { actor: 'duty', now: after(30) }, rules));
    expect(decideClock(acked, step.id, step.token, after(600)).decision).toBe('stale');
    const raised = ok(applyAlertAction(alert, { type: 'change_level', level: 1, reason: '升级' }, { actor: 'chief', now: after(30) }, rules));
    // Red escalates after 5 min, not orange's 10: same step id, new due time, new token.
    expect(decideClock(raised, step.id, step.token, after(600)).decision).toBe('stale');
    const fired = fireClock(alert, step, after(600)).alert;
    expect(decideClock(fired, step.id, step.token, after(601)).decision).toBe('already-fired');
    expect(plannedClocks(fired).map((c) => c.id)).not.toContain('escalate-1');
  });

  it('an escalation step raises the chain position and records how late it fired', () => {
    const alert = alertAt(2);
    const step = plannedClocks(alert).find((c) => c.id === 'escalate-2')!;
    const effect = fireClock(alert, step, after(1200.25));
    expect(effect).toMatchObject({ trigger: 'escalation', roles: ['leader'], alert: { escalationStep: 2 } });
    expect(effect.fired.lateMs).toBe(250);
    expect(plannedClocks(effect.alert).map((c) => c.id)).not.toContain('escalate-1'); // a lower step no longer matters
  });

  it('a missed response deadline notifies the role above the current one', () => {
    const alert = alertAt(2, { status: 'handling', escalationStep: 1, assignee: { kind: 'person', id: 'duty' } });
    const breach = plannedClocks(alert).find((c) => c.id === 'breach-respond')!;
    expect(fireClock(alert, breach, after(18000))).toMatchObject({ trigger: 'breach', roles: ['leader'], toAssignee: true });
  });

  it('closed alerts wait on nothing; plan steps are clocks of their own', () => {
    expect(plannedClocks(alertAt(3, { status: 'closed' }))).toEqual([]);
    const plan = { templateId: 't', name: 'p', triggeredAt: after(0).toISOString(), triggeredBy: 'duty', steps: [{ id: 'verify', title: '核实情况', role: 'duty', dueAt: after(1000).toISOString(), evidenceRequired: false, evidence: [] }] };
    const ids = plannedClocks(alertAt(3, { status: 'handling', plan })).filter((c) => c.sla === 'plan_step');
    expect(ids.map((c) => [c.id, (Date.parse(c.dueAt) - T0.getTime()) / 1000])).toEqual([
      ['warn-plan-verify', 800],
      ['breach-plan-verify', 1000],
    ]);
  });
});
