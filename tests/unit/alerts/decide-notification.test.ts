import { describe, expect, it } from 'vitest';
import { decideNotification, describeDecision, type NotificationInput } from '../../../core/alerts/decide-notification.js';
import { NotificationPolicySchema } from '../../../core/escalation/policy.js';
import { TZ } from './fixtures.js';

const policy = NotificationPolicySchema.parse({ quietHours: { from: '22:00', to: '07:00', levels: [3, 4] }, groupWindowSeconds: 300, repeatIntervalSeconds: 14400 });
/** Local Shanghai time on 2026-11-24 as an instant. */
const local = (hhmm: string) => new Date(`2026-11-24T${hhmm}:00+08:00`);
const base = (over: Partial<NotificationInput>): NotificationInput => ({ trigger: 'created', level: 4, status: 'new', now: local('10:00'), policy, timeZone: TZ, ...over });

describe('decideNotification', () => {
  it.each<[string, Partial<NotificationInput>, string, string]>([
    ['a new blue alert by day is sent', {}, 'send', 'first'],
    ['a new blue alert at 23:00 waits for morning', { now: local('23:00') }, 'defer', 'quiet-hours'],
    ['a new blue alert at 03:00 waits too', { now: local('03:00') }, 'defer', 'quiet-hours'],
    ['at 07:00 quiet hours are over', { now: local('07:00') }, 'send', 'first'],
    ['a red alert at 03:00 is never held back', { level: 1, now: local('03:00') }, 'send', 'first'],
    ['an orange escalation at night goes out', { level: 2, trigger: 'escalation', now: local('02:00') }, 'send', 'escalation'],
    ['a yellow escalation at night waits', { level: 3, trigger: 'escalation', now: local('02:00') }, 'defer', 'quiet-hours'],
    ['growth within the group window folds into the last message', { trigger: 'merged', lastNotifiedAt: local('09:58') }, 'suppress', 'grouped'],
    ['growth after the window but before the repeat interval is not repeated', { trigger: 'merged', lastNotifiedAt: local('09:00') }, 'suppress', 'repeat-not-due'],
    ['growth after the repeat interval notifies again', { trigger: 'merged', lastNotifiedAt: local('05:00') }, 'send', 'repeat-due'],
    ['growth of a never-notified alert is a first notification', { trigger: 'merged' }, 'send', 'first'],
    ['a higher-level alert on the same event inhibits a lower one', { inhibitedBy: { alertId: 'x', level: 2 } }, 'suppress', 'inhibited'],
    ['an equal-level alert does not inhibit', { level: 2, inhibitedBy: { alertId: 'x', level: 2 } }, 'send', 'first'],
    ['a closed alert is never notified', { status: 'closed', trigger: 'escalation' }, 'suppress', 'resolved'],
    ['a false positive is never notified', { status: 'false_positive', trigger: 'warning' }, 'suppress', 'resolved'],
    ['a level raise is sent with its reason', { trigger: 'level-raised', level: 2 }, 'send', 'level-raised'],
    ['a deferred message is sent when due', { trigger: 'deferred-due' }, 'send', 'deferred-due'],
  ])('%s', (_name, over, action, reason) => {
    const d = decideNotification(base(over));
    expect([d.action, d.reason]).toEqual([action, reason]);
  });

  it('says when a deferred message will go out, in local time', () => {
    const d = decideNotification(base({ now: local('23:30') }));
    expect(d).toMatchObject({ action: 'defer', sendAt: new Date('2026-11-25T07:00:00+08:00') });
    expect(describeDecision(d, TZ)).toBe('未发送：静默时段，将于 07:00 发送');
  });
});
