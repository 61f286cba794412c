import { Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { systemActor, type AuditLog } from '../../core/audit/audit-log.js';
import type { User } from '../../core/auth/user.js';
import type { UserStore } from '../../core/auth/user-store.js';
import { isOverdue, type LedgerItem, type ReminderStep } from '../../core/ledger/ledger-item.js';
import { LEDGER_SOURCE_NAMES } from '../../core/labels.js';
import { REMINDER_AUDIENCE, dueReminders, type LedgerReminderPolicy } from '../../core/ledger/ledger-reminders.js';
import type { LedgerStore } from '../../core/ledger/ledger-store.js';
import type { Logger } from '../../core/logger.js';
import type { NotificationMessage, NotifyJob, Recipient } from '../../core/notify/notification.js';
import { clip, oneLine } from '../../core/text/clip.js';

export interface LedgerDeadlineDeps {
  ledger: LedgerStore;
  users: UserStore;
  audit: AuditLog;
  /** Puts one delivery on the `notify` queue (deterministic job id: a second enqueue is a no-op). */
  enqueue: (job: NotifyJob) => Promise<void>;
  /** Channel ids every ledger reminder goes through. */
  channels: readonly string[];
  policy: LedgerReminderPolicy;
  dashboardUrl: string;
  now: () => Date;
}

const STEP_TITLES: Record<ReminderStep, string> = {
  due_soon: '【整改即将到期】',
  overdue: '【整改逾期】',
  overdue_escalated: '【整改逾期·升级】',
};

/**
 * A reminder about one ledger item. Its link opens the ledger page with the item first
 * (`/ledger?id=…`, the route the dashboard has; it uses history paths, not `#/` ones).
 */
export function ledgerReminderMessage(item: LedgerItem, step: ReminderStep, dashboardUrl: string): NotificationMessage {
  return {
    title: `${STEP_TITLES[step]}${clip(oneLine(item.problem), 40)}`,
    text: `整改事项 ${item.id}（${LEDGER_SOURCE_NAMES[item.source]}）\n问题：${item.problem}\n责任人：${item.responsible}${item.section ? `（${item.section}）` : ''}\n整改时限：${item.deadline}`,
    link: `${dashboardUrl.replace(/\/$/, '')}/ledger?id=${encodeURIComponent(item.id)}`,
  };
}

function recipient(user: User): Recipient {
  return { username: user.username, displayName: user.displayName, ...(user.email ? { email: user.email } : {}), ...(user.mobile ? { mobile: user.mobile } : {}) };
}

/** The responsible person, their section chief (all chiefs when their section has none) and, for the last step, the leaders. */
export function audienceOf(item: LedgerItem, step: ReminderStep, users: readonly User[]): User[] {
  const active = users.filter((u) => !u.disabled);
  const out = new Map<string, User>();
  for (const who of REMINDER_AUDIENCE[step]) {
    if (who === 'responsible') {
      const u = active.find((x) => x.username === item.responsible);
      if (u) out.set(u.username, u);
    } else if (who === 'chief') {
      const chiefs = active.filter((u) => u.roles.includes('section_chief'));
      const own = chiefs.filter((u) => item.section !== undefined && u.section === item.section);
      for (const u of own.length > 0 ? own : chiefs) out.set(u.username, u);
    } else {
      for (const u of active.filter((x) => x.roles.includes('leader'))) out.set(u.username, u);
    }
  }
  return [...out.values()];
}

/**
 * One pass over the open ledger: marks items overdue, and sends each reminder step that is due
 * once (notify jobs first, then the item records the step, so a crash in between re-sends under
 * the same job id — a no-op — rather than losing the reminder). Returns what it did.
 */
export async function checkLedgerDeadlines(deps: LedgerDeadlineDeps): Promise<{ item: string; steps: ReminderStep[] }[]> {
  const now = deps.now();
  const items = await deps.ledger.list({ status: ['open', 'in_progress', 'awaiting_verification', 'reopened'], limit: 10_000 });
  const users = await deps.users.list();
  const done: { item: string; steps: ReminderStep[] }[] = [];
  for (const item of items) {
    const steps = dueReminders(item, now, deps.policy);
    const overdue = isOverdue(item, now);
    if (steps.length === 0 && overdue === item.overdue) continue;
    for (const step of steps) {
      const audience = audienceOf(item, step, users).map(recipient);
      if (audience.length === 0) continue;
      for (const channelId of deps.channels) {
        await deps.enqueue({
          id: `ledger:${item.id}:${step}:${item.deadline}:${channelId}`,
          channelId,
          recipients: audience,
          reason: `ledger-${step}`,
          subject: { type: 'ledger', id: item.id },
          message: ledgerReminderMessage(item, step, deps.dashboardUrl),
        });
      }
    }
    const { after } = await deps.ledger.update(item.id, (current) => {
      const fresh = dueReminders(current, now, deps.policy).filter((s) => steps.includes(s));
      return { ...current, overdue: isOverdue(current, now), reminders: [...current.reminders, ...fresh], version: current.version + 1, updatedAt: now.toISOString() };
    });
    const sent = after.reminders.filter((s) => !item.reminders.includes(s));
    await deps.audit.record({
      actor: systemActor('ledger-deadlines'),
      entity: { type: 'ledger', id: item.id },
      action: after.overdue && !item.overdue ? 'ledger.overdue' : 'ledger.reminder',
      before: { overdue: item.overdue, reminders: item.reminders },
      after: { overdue: after.overdue, reminders: after.reminders },
      reason: sent.length > 0 ? `reminders sent: ${sent.join(', ')}` : 'deadline passed',
    });
    done.push({ item: item.id, steps: sent });
  }
  return done;
}

/** Runs `checkLedgerDeadlines` every `everyMs` through a BullMQ job scheduler on the `ledger` queue (one run at a time across processes). */
export async function startLedgerDeadlineChecks(
  deps: LedgerDeadlineDeps & { connection: Redis; prefix: string; everyMs: number; log: Logger },
): Promise<{ close(): Promise<void>; reschedule(): Promise<void> }> {
  const queue = new Queue('ledger', { connection: deps.connection, prefix: deps.prefix });
  /** The check's job scheduler (at start, and again after Redis lost it). */
  const reschedule = async () => void (await queue.upsertJobScheduler('ledger-deadlines', { every: deps.everyMs }, { name: 'check', opts: { removeOnComplete: 100, removeOnFail: 100 } }));
  await reschedule();
  const worker = new Worker(
    'ledger',
    async () => {
      const done = await checkLedgerDeadlines(deps);
      if (done.length > 0) deps.log.info({ items: done.length }, 'ledger deadlines checked');
      return done.length;
    },
    { connection: deps.connection, prefix: deps.prefix, concurrency: 1 },
  );
  worker.on('failed', (_job, err) => deps.log.warn({ err: err.message }, 'ledger deadline check failed'));
  worker.on('error', (err) => deps.log.error({ err: err.message }, 'ledger worker error'));
  return {
    reschedule,
    async close() {
      await worker.close();
      await queue.close();
    },
  };
}
