import { Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { User } from '../../core/auth/user.js';
import type { FindingStatus } from '../../core/inspection/inspect-website.js';
import { decideInspectionNotice, NOTIFYING_NOTICES, type InspectionNotice } from '../../core/inspection/inspection-notice.js';
import type { Logger } from '../../core/logger.js';
import type { NotifyJob, Recipient } from '../../core/notify/notification.js';
import type { InspectionService, PositionInspection } from '../../reports/inspection-service.js';

export interface InspectionWatchDeps {
  inspections: Pick<InspectionService, 'inspectAll'>;
  redis: Redis;
  prefix: string;
  users: () => Promise<readonly User[]>;
  /** Puts one delivery on the `notify` queue (deterministic job id: a second enqueue is a no-op). */
  enqueue: (job: NotifyJob) => Promise<void>;
  channels: readonly string[];
  dashboardUrl: string;
  now: () => Date;
}

export interface WatchOutcome {
  sourceId: string;
  item: string;
  notice: InspectionNotice;
  status: FindingStatus;
  /** How many people were told (0 unless the notice notifies). */
  told: number;
}

const TITLES: Partial<Record<InspectionNotice, string>> = { 'became-fail': '【网站自查·不合格】', 'became-warn': '【网站自查·预警】' };

/** The section chiefs of the position's owning section; every section chief when that section has none. */
export function watchAudience(position: Pick<PositionInspection, 'owner'>, users: readonly User[]): Recipient[] {
  const chiefs = users.filter((u) => !u.disabled && u.roles.includes('section_chief'));
  const own = chiefs.filter((u) => u.section === position.owner.section);
  return (own.length > 0 ? own : chiefs).map((u) => ({ username: u.username, displayName: u.displayName, ...(u.email ? { email: u.email } : {}), ...(u.mobile ? { mobile: u.mobile } : {}) }));
}

/**
 * One pass: judges every position as the page does, compares each item's status with the last
 * pass's (Redis hash `<prefix>:inspection:last`), and tells the section chiefs of an item that now
 * fails or starts to warn — once per item, status and day (notify jobs first, then the new statuses,
 * so a crash in between re-sends under the same job id, a no-op).
 */
export async function checkInspections(deps: InspectionWatchDeps): Promise<WatchOutcome[]> {
  const key = `${deps.prefix}:inspection:last`;
  const [positions, last, users] = await Promise.all([deps.inspections.inspectAll(), deps.redis.hgetall(key), deps.users()]);
  const day = deps.now().toISOString().slice(0, 10);
  const out: WatchOutcome[] = [];
  const next: Record<string, string> = {};
  for (const p of positions) {
    for (const f of p.findings) {
      const field = `${p.sourceId}:${f.item}`;
      const notice = decideInspectionNotice(last[field] as FindingStatus | undefined, f.status);
      next[field] = f.status;
      let told = 0;
      if (NOTIFYING_NOTICES.has(notice)) {
        const recipients = watchAudience(p, users);
        for (const channelId of recipients.length > 0 ? deps.channels : []) {
          await deps.enqueue({
            id: `inspection:${p.sourceId}:${f.item}:${f.status}:${day}:${channelId}`,
            channelId,
            recipients,
            reason: `inspection-${notice}`,
            subject: { type: 'source', id: p.sourceId },
            message: {
              title: `${TITLES[notice]}${p.name}：${f.label}`,
              text: `${f.message}\n测得：${f.figure.text}\n标准：${f.threshold.text}\n责任：${p.owner.section} ${p.owner.person}`,
              link: new URL('/positions?tab=inspection', deps.dashboardUrl).toString(),
            },
          });
        }
        told = recipients.length;
      }
      out.push({ sourceId: p.sourceId, item: f.item, notice, status: f.status, told });
    }
  }
  if (Object.keys(next).length > 0) await deps.redis.hset(key, next);
  return out;
}

/** Runs `checkInspections` every `everyMs` through a BullMQ job scheduler on the `inspection` queue (one pass at a time across processes). */
export async function startInspectionWatch(deps: InspectionWatchDeps & { connection: Redis; everyMs: number; log: Logger }): Promise<{ close(): Promise<void>; reschedule(): Promise<void> }> {
  const queue = new Queue('inspection', { connection: deps.connection, prefix: deps.prefix });
  /** The watch's job scheduler (at start, and again after Redis lost it). */
  const reschedule = async () => void (await queue.upsertJobScheduler('inspection-watch', { every: deps.everyMs }, { name: 'check', opts: { removeOnComplete: 100, removeOnFail: 100 } }));
  await reschedule();
  const worker = new Worker(
    'inspection',
    async () => {
      const done = await checkInspections(deps);
      const told = done.filter((d) => d.told > 0);
      if (told.length > 0) deps.log.info({ notices: told.map((d) => `${d.sourceId}:${d.item}:${d.notice}`) }, 'self-inspection notices sent');
      return told.length;
    },
    { connection: deps.connection, prefix: deps.prefix, concurrency: 1 },
  );
  worker.on('failed', (_job, err) => deps.log.warn({ err: err.message }, 'self-inspection watch failed'));
  worker.on('error', (err) => deps.log.error({ err: err.message }, 'inspection worker error'));
  return {
    reschedule,
    async close() {
      await worker.close();
      await queue.close();
    },
  };
}
