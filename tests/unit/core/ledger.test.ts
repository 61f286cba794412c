import { describe, expect, it } from 'vitest';
import type { LedgerItem, LedgerStatus, ReminderStep } from '../../../core/ledger/ledger-item.js';
import { CreateLedgerItemSchema } from '../../../core/ledger/ledger-item.js';
import { availableLedgerActions, decideLedgerTransition, type LedgerAction } from '../../../core/ledger/ledger-state.js';
import { DEFAULT_LEDGER_REMINDERS, dueReminders } from '../../../core/ledger/ledger-reminders.js';
import { audienceOf } from '../../../pipeline/ledger/ledger-deadlines.js';
import type { User } from '../../../core/auth/user.js';

const evidence = [{ kind: 'text' as const, text: '已整改', addedBy: 'duty', addedAt: '2026-03-01T00:00:00Z' }];
const item = (status: LedgerStatus, withEvidence = true) => ({ status, responsible: 'duty', evidence: withEvidence ? evidence : [] });

describe('the ledger state machine', () => {
  it.each<[LedgerStatus, LedgerAction, string, string | undefined, string]>([
    // status, action, actor, note, expected (new status or refusal)
    ['open', 'start', 'duty', undefined, 'in_progress'], // the responsible person starts work
    ['reopened', 'start', 'duty', undefined, 'in_progress'], // and again after a reopen
    ['in_progress', 'start', 'duty', undefined, 'illegal_transition'],
    ['in_progress', 'submit', 'duty', undefined, 'awaiting_verification'], // with evidence
    ['open', 'submit', 'duty', undefined, 'illegal_transition'], // work must have started
    ['awaiting_verification', 'approve', 'chief', undefined, 'closed'], // 销号 by someone else
    ['awaiting_verification', 'approve', 'duty', undefined, 'verifier_is_responsible'], // never by the responsible person
    ['awaiting_verification', 'reject', 'duty', '不合格', 'verifier_is_responsible'],
    ['awaiting_verification', 'reject', 'chief', '材料不全', 'in_progress'], // sent back with a reason
    ['awaiting_verification', 'reject', 'chief', '  ', 'reason_required'], // but not without one
    ['in_progress', 'approve', 'chief', undefined, 'illegal_transition'], // nothing to verify yet
    ['closed', 'approve', 'chief', undefined, 'illegal_transition'], // closed once
    ['closed', 'reopen', 'chief', '问题反弹', 'reopened'],
    ['closed', 'reopen', 'chief', undefined, 'reason_required'],
    ['open', 'reopen', 'chief', '为何', 'illegal_transition'], // only a closed item reopens
  ])('%s --%s by %s--> %s', (status, action, actor, note, expected) => {
    const d = decideLedgerTransition(item(status), action, { username: actor }, note);
    expect(d.ok ? d.to : d.reason).toBe(expected);
  });

  it('refuses to submit for verification without evidence', () => {
    const d = decideLedgerTransition(item('in_progress', false), 'submit', { username: 'duty' });
    expect(d).toMatchObject({ ok: false, reason: 'evidence_required' });
  });

  it('lists the actions each status allows', () => {
    expect(availableLedgerActions({ status: 'open' })).toEqual(['start']);
    expect(availableLedgerActions({ status: 'awaiting_verification' })).toEqual(['approve', 'reject']);
    expect(availableLedgerActions({ status: 'closed' })).toEqual(['reopen']);
  });

  it('an item from an alert must name the alert', () => {
    const r = CreateLedgerItemSchema.safeParse({ source: 'alert', problem: 'p', measures: 'm', responsible: 'duty', deadline: '2026-03-01T00:00:00Z' });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.path).toEqual(['alertId']);
  });
});

describe('ledger reminders', () => {
  const created = '2026-03-01T00:00:00Z';
  const deadline = '2026-03-11T00:00:00Z'; // ten days allowed
  const at = (iso: string, reminders: ReminderStep[] = [], status: LedgerStatus = 'in_progress') =>
    dueReminders({ status, createdAt: created, deadline, reminders }, new Date(iso), DEFAULT_LEDGER_REMINDERS);

  it.each<[string, ReminderStep[], LedgerStatus, ReminderStep[]]>([
    ['2026-03-05T00:00:00Z', [], 'in_progress', []], // 40 % of the time: nothing
    ['2026-03-09T00:00:00Z', [], 'in_progress', ['due_soon']], // 80 %: warn the responsible person
    ['2026-03-09T06:00:00Z', ['due_soon'], 'in_progress', []], // once
    ['2026-03-11T00:00:00Z', ['due_soon'], 'in_progress', ['overdue']], // deadline: responsible + chief
    ['2026-03-11T01:00:00Z', [], 'open', ['overdue']], // overdue without the warning: no late warning
    ['2026-03-12T00:00:00Z', ['due_soon', 'overdue'], 'in_progress', ['overdue_escalated']], // a day later: the leaders
    ['2026-03-13T00:00:00Z', [], 'awaiting_verification', ['overdue', 'overdue_escalated']], // both, in order
    ['2026-03-13T00:00:00Z', [], 'closed', []], // a closed item is never chased
  ])('at %s with %j sent (%s) → %j', (now, sent, status, expected) => {
    expect(at(now, sent, status)).toEqual(expected);
  });

  const user = (username: string, roles: User['roles'], section?: string, disabled?: boolean): User => ({
    username,
    displayName: username,
    roles,
    passwordHash: 'scrypt$00$00',
    ...(section ? { section } : {}),
    ...(disabled ? { disabled } : {}),
  });
  const users = [user('duty', ['duty'], '网信办'), user('chief', ['section_chief'], '网信办'), user('chief2', ['section_chief'], '办公室'), user('leader', ['leader']), user('old', ['section_chief'], '网信办', true)];
  const ledgerItem = { responsible: 'duty', section: '网信办' } as LedgerItem;

  it.each<[ReminderStep, string[]]>([
    ['due_soon', ['duty']],
    ['overdue', ['duty', 'chief']], // their own section's chief, not a disabled one
    ['overdue_escalated', ['duty', 'chief', 'leader']],
  ])('%s goes to %j', (step, expected) => {
    expect(audienceOf(ledgerItem, step, users).map((u) => u.username)).toEqual(expected);
  });

  it('falls back to every section chief when the item has no section chief of its own', () => {
    expect(audienceOf({ responsible: 'duty' } as LedgerItem, 'overdue', users).map((u) => u.username)).toEqual(['duty', 'chief', 'chief2']);
  });
});
