import type { NotificationPolicy } from '../escalation/policy.js';
import type { AlertLevel } from '../rules/rule-pack.js';
import { localClock, minuteOfDay, nextLocalTime, parseClockTime } from '../time/zoned-time.js';
import type { AlertStatus } from './alert.js';
import { TERMINAL_STATUSES } from './alert.js';

/** What prompted a possible notification. */
export type NotificationTrigger =
  | 'created'
  | 'merged'
  | 'reopened'
  | 'level-raised'
  | 'escalation'
  | 'manual-escalation'
  | 'warning'
  | 'breach'
  | 'plan-step'
  | 'deferred-due'
  | 'post-changed';

export interface NotificationInput {
  trigger: NotificationTrigger;
  level: AlertLevel;
  status: AlertStatus;
  now: Date;
  /** When anyone was last notified about this alert. */
  lastNotifiedAt?: Date;
  /** An open, higher-level alert on the same event (set by the caller when one exists). */
  inhibitedBy?: { alertId: string; level: AlertLevel };
  policy: NotificationPolicy;
  timeZone: string;
}

export type NotificationDecision =
  | { action: 'send'; reason: 'first' | 'repeat-due' | 'reopened' | 'level-raised' | 'escalation' | 'warning' | 'breach' | 'plan-step' | 'deferred-due' | 'post-changed' }
  | { action: 'defer'; reason: 'quiet-hours'; sendAt: Date }
  | { action: 'suppress'; reason: 'resolved' | 'inhibited' | 'grouped' | 'repeat-not-due' };

const SEND_REASON = {
  created: 'first',
  reopened: 'reopened',
  'level-raised': 'level-raised',
  escalation: 'escalation',
  'manual-escalation': 'escalation',
  warning: 'warning',
  breach: 'breach',
  'plan-step': 'plan-step',
  'deferred-due': 'deferred-due',
  merged: 'repeat-due',
  'post-changed': 'post-changed',
} as const satisfies Record<NotificationTrigger, string>;

function inQuietHours(policy: NotificationPolicy, level: AlertLevel, now: Date, timeZone: string): Date | undefined {
  const quiet = policy.quietHours;
  if (!quiet || !quiet.levels.includes(level)) return undefined;
  const from = parseClockTime(quiet.from);
  const to = parseClockTime(quiet.to);
  const m = minuteOfDay(now, timeZone);
  const inside = from <= to ? from <= m && m < to : m >= from || m < to;
  return inside ? nextLocalTime(now, to, timeZone) : undefined;
}

/**
 * Whether and when to notify, with a named reason. Order matters: an alert that is already closed
 * or is inhibited by a higher-level alert on the same event is never notified; growth within the
 * group window is folded into the last notification; quiet hours defer (never for levels outside
 * `quietHours.levels`, by default red and orange).
 */
export function decideNotification(input: NotificationInput): NotificationDecision {
  const { policy, now } = input;
  if (TERMINAL_STATUSES.includes(input.status)) return { action: 'suppress', reason: 'resolved' };
  if (input.inhibitedBy && input.inhibitedBy.level < input.level && policy.inhibitLowerLevelsOfSameEvent) return { action: 'suppress', reason: 'inhibited' };
  if (input.trigger === 'merged' && input.lastNotifiedAt) {
    const since = (now.getTime() - input.lastNotifiedAt.getTime()) / 1000;
    if (since < policy.groupWindowSeconds) return { action: 'suppress', reason: 'grouped' };
    if (since < policy.repeatIntervalSeconds) return { action: 'suppress', reason: 'repeat-not-due' };
  }
  const quietUntil = inQuietHours(policy, input.level, now, input.timeZone);
  if (quietUntil) return { action: 'defer', reason: 'quiet-hours', sendAt: quietUntil };
  if (input.trigger === 'merged' && !input.lastNotifiedAt) return { action: 'send', reason: 'first' };
  return { action: 'send', reason: SEND_REASON[input.trigger] };
}

const REASON_TEXT: Record<string, string> = {
  first: '首次通知',
  'repeat-due': '事件持续发酵，再次通知',
  reopened: '预警重新打开',
  'level-raised': '等级提升',
  escalation: '超时未签收，逐级上报',
  warning: '时限将到，提前提醒',
  breach: '已超过处置时限',
  'plan-step': '预案步骤超时',
  'deferred-due': '静默时段结束，补发',
  'post-changed': '原帖已删除或修改',
  resolved: '预警已办结或误报',
  inhibited: '同一事件已有更高等级预警',
  grouped: '已并入刚发出的通知',
  'repeat-not-due': '距上次通知不足重复间隔',
};

/** The sentence the alert shows for a decision, e.g. 未发送：静默时段，将于 07:00 发送. */
export function describeDecision(decision: NotificationDecision, timeZone: string): string {
  if (decision.action === 'defer') return `未发送：静默时段，将于 ${localClock(decision.sendAt, timeZone)} 发送`;
  if (decision.action === 'suppress') return `未发送：${REASON_TEXT[decision.reason] ?? decision.reason}`;
  return `已发送：${REASON_TEXT[decision.reason] ?? decision.reason}`;
}
