import { Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { AuditActor } from '../core/audit/audit-log.js';
import type { Logger } from '../core/logger.js';
import type { Recipient } from '../core/notify/notification.js';
import { lastCompletePeriod } from '../core/reports/period.js';
import { parseScope } from '../core/reports/report.js';
import { enqueueNotification } from '../pipeline/notify/enqueue-notification.js';
import type { Queues } from '../pipeline/queues.js';
import type { ReportService } from './report-service.js';

export interface ReportSchedule {
  id: string;
  kind: 'week' | 'month' | 'quarter' | 'year';
  /** Cron in the unit's time zone, e.g. `0 8 * * 1` (Monday 08:00). */
  cron: string;
  scope: string;
  channelId: string;
  /** Usernames told the report is ready; empty = everyone whose role may write reports. */
  recipients: string[];
}

/** The system actor scheduled generations are recorded under in the audit chain. */
const SCHEDULER = { kind: 'system', id: 'report-schedule', roles: [] } as const satisfies AuditActor;

/** The dashboard's report page for a period and scope (it shows the stored report and downloads DOCX/XLSX/MD). */
export function reportLink(dashboardUrl: string, period: string, scope: string): string {
  return `${dashboardUrl.replace(/\/$/, '')}/reports?${new URLSearchParams({ period, scope }).toString()}`;
}

/**
 * Generates the periodic reports on their schedule (BullMQ job schedulers on the `report` queue,
 * one run at a time across processes) and tells the recipients, with a link to the report.
 */
export async function startReportSchedules(deps: {
  connection: Redis;
  prefix: string;
  schedules: ReportSchedule[];
  timeZone: string;
  reports: ReportService;
  queues: Pick<Queues, 'notify'>;
  recipients: (usernames: string[]) => Promise<Recipient[]>;
  dashboardUrl: string;
  log: Logger;
  now: () => Date;
}): Promise<{ close(): Promise<void>; reschedule(): Promise<void> }> {
  const queue = new Queue<{ scheduleId: string }>('report', { connection: deps.connection, prefix: deps.prefix });
  /** The job schedulers of the configured schedules (at start, and again after Redis lost them). */
  async function reschedule(): Promise<void> {
    for (const s of deps.schedules) {
      await queue.upsertJobScheduler(`report-${s.id}`, { pattern: s.cron, tz: deps.timeZone }, { name: 'generate', data: { scheduleId: s.id }, opts: { removeOnComplete: 50, removeOnFail: 50 } });
    }
  }
  await reschedule();
  const worker = new Worker<{ scheduleId: string }>(
    'report',
    async (job) => {
      const schedule = deps.schedules.find((s) => s.id === job.data.scheduleId);
      if (!schedule) return 'schedule-removed';
      const period = lastCompletePeriod(schedule.kind, deps.now());
      const report = await deps.reports.generateFor(SCHEDULER, period.key, parseScope(schedule.scope), `scheduled-${schedule.kind}: ${schedule.id}`, job.id);
      const link = reportLink(deps.dashboardUrl, period.key, schedule.scope);
      const recipients = await deps.recipients(schedule.recipients);
      if (recipients.length > 0) {
        await enqueueNotification(deps.queues, {
          id: `report-${schedule.id}-${period.key}-${report.id}`,
          channelId: schedule.channelId,
          recipients,
          message: { title: `${report.scopeLabel}${period.label}舆情分析研判报告已生成`, text: report.empty ? '本期无数据，报告已注明。' : `${report.sections[0]!.paragraphs.join('')}`, link },
          reason: `scheduled-${schedule.kind}`,
          subject: { type: 'report', id: report.id },
        });
      }
      deps.log.info({ schedule: schedule.id, period: period.key, recipients: recipients.length }, 'scheduled report generated');
      return period.key;
    },
    { connection: deps.connection, prefix: deps.prefix, concurrency: 1 },
  );
  worker.on('failed', (_job, err) => deps.log.warn({ err: err.message }, 'scheduled report failed'));
  worker.on('error', (err) => deps.log.error({ err: err.message }, 'report worker error'));
  return {
    reschedule,
    async close() {
      await worker.close();
      await queue.close();
    },
  };
}
