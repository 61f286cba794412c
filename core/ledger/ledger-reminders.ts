import type { LedgerItem, ReminderStep } from './ledger-item.js';

/**
 * Overdue items escalate like alerts: a warning to the responsible person at `dueSoonFraction` of
 * the time allowed, the responsible person and their section chief once the deadline passes, and
 * the leaders in charge when it stays overdue for `escalateAfterMinutes`. Each step is sent once.
 */
export interface LedgerReminderPolicy {
  dueSoonFraction: number;
  escalateAfterMinutes: number;
}

export const DEFAULT_LEDGER_REMINDERS: LedgerReminderPolicy = { dueSoonFraction: 0.8, escalateAfterMinutes: 24 * 60 };

export const REMINDER_AUDIENCE: Record<ReminderStep, readonly ('responsible' | 'chief' | 'leader')[]> = {
  due_soon: ['responsible'],
  overdue: ['responsible', 'chief'],
  overdue_escalated: ['responsible', 'chief', 'leader'],
};

/** The reminder steps due now and not yet sent, in order. A closed item gets none. */
export function dueReminders(item: Pick<LedgerItem, 'status' | 'deadline' | 'createdAt' | 'reminders'>, now: Date, policy: LedgerReminderPolicy): ReminderStep[] {
  if (item.status === 'closed') return [];
  const created = new Date(item.createdAt).getTime();
  const deadline = new Date(item.deadline).getTime();
  const t = now.getTime();
  const due: ReminderStep[] = [];
  if (t >= deadline + policy.escalateAfterMinutes * 60_000) due.push('overdue_escalated');
  if (t >= deadline) due.push('overdue');
  else if (t >= created + Math.max(0, deadline - created) * policy.dueSoonFraction) due.push('due_soon');
  // An item that is already overdue does not also get the due-soon warning.
  return due.filter((s) => !item.reminders.includes(s)).filter((s) => !(s === 'due_soon' && item.reminders.some((r) => r !== 'due_soon'))).reverse();
}
