import type { Alert } from '../alerts/alert.js';
import { decideNotification, describeDecision, type NotificationDecision, type NotificationTrigger } from '../alerts/decide-notification.js';
import type { Calendar } from '../calendar/sensitive-periods.js';
import { channelsOf, type Roster } from '../duty/roster.js';
import type { AlertLevel } from '../rules/rule-pack.js';
import { fireClock, plannedClocks } from './clocks.js';
import type { EscalationPolicy } from './policy.js';
import { resolveRecipients, rolesAtOnce } from './recipients.js';

export interface DryRunEntry {
  at: string;
  offsetSeconds: number;
  trigger: NotificationTrigger;
  clockId?: string;
  people: { username: string; displayName: string; via: string; channels: string[] }[];
  decision: NotificationDecision['action'];
  reason: string;
  sendAt?: string;
  summary: string;
}

/**
 * "If an alert of this level arrived at `at` and nobody acted, who would be notified, through what,
 * and when?" Runs the real clock plan, roster and notification decision on a synthetic alert.
 */
export function dryRunEscalation(input: {
  level: AlertLevel;
  at: Date;
  policy: EscalationPolicy;
  roster: Roster;
  calendar: Calendar;
  timeZone: string;
  category?: string;
}): DryRunEntry[] {
  const created = input.at.toISOString();
  let alert: Alert = {
    id: 'dry-run',
    packId: 'dry-run',
    category: input.category ?? '敏感词',
    level: input.level,
    status: 'new',
    title: '演练',
    sourceId: 'dry-run',
    groupKey: 'dry-run',
    postIds: ['dry-run'],
    terms: [],
    hits: [],
    heat: 1,
    levelExplanation: { ruleLevel: input.level, level: input.level, reasons: [] },
    explanation: { terms: [], schemes: [], exclusionsChecked: [] },
    evidence: [],
    timeline: [],
    cycleStartedAt: created,
    reopenCount: 0,
    escalationStep: 0,
    policy: input.policy,
    firedClocks: [],
    notifications: [],
    createdAt: created,
    updatedAt: created,
  };
  const entries: DryRunEntry[] = [];
  const add = (trigger: NotificationTrigger, when: Date, roles: Parameters<typeof resolveRecipients>[1], toAssignee: boolean, clockId?: string) => {
    const people = resolveRecipients(alert, roles, toAssignee, input.roster, when, input.timeZone, input.calendar);
    const decision = decideNotification({ trigger, level: input.level, status: alert.status, now: when, policy: input.policy.notifications, timeZone: input.timeZone });
    entries.push({
      at: when.toISOString(),
      offsetSeconds: Math.round((when.getTime() - input.at.getTime()) / 1000),
      trigger,
      ...(clockId ? { clockId } : {}),
      people: people.map((p) => ({ username: p.person.username, displayName: p.person.displayName, via: p.via, channels: channelsOf(p.person) })),
      decision: decision.action,
      reason: decision.reason,
      ...(decision.action === 'defer' ? { sendAt: decision.sendAt.toISOString() } : {}),
      summary: describeDecision(decision, input.timeZone),
    });
  };
  add('created', input.at, rolesAtOnce(input.level, input.policy.topOfChainAtOnce), false);
  for (let guard = 0; guard < 100; guard++) {
    const next = plannedClocks(alert).find((c) => c.kind !== 'deferred-notify');
    if (!next) break;
    const when = new Date(next.dueAt);
    const effect = fireClock(alert, next, when);
    alert = effect.alert;
    add(effect.trigger as NotificationTrigger, when, effect.roles, effect.toAssignee, next.id);
    if (next.id === 'breach-close') break;
  }
  return entries;
}
