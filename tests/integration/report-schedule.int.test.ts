import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Queue, type Worker } from 'bullmq';
import { Client } from '@elastic/elasticsearch';
import { createLogger } from '../../core/logger.js';
import { parseScope } from '../../core/reports/report.js';
import { ensureIndices, indexNames, monthlyPostsIndex } from '../../pipeline/elasticsearch/indices.js';
import { EsAuditLog } from '../../pipeline/elasticsearch/es-audit-log.js';
import { EsChannelStore } from '../../pipeline/notify/es-channel-store.js';
import { EsDeliveryLog } from '../../pipeline/notify/es-delivery-log.js';
import { startNotifyWorker } from '../../pipeline/notify/notify-worker.js';
import { inboxKey } from '../../pipeline/notify/senders.js';
import { createQueues, createRedis, type NotifyQueueJob, type Queues } from '../../pipeline/queues.js';
import { startReportSchedules } from '../../reports/report-schedules.js';
import { ReportService } from '../../reports/report-service.js';
import { eventually, isolation } from '../support/isolation.js';

const iso = isolation();
const redis = createRedis(iso.redisUrl);
const es = new Client({ node: iso.esUrl });
const names = indexNames(iso.indexPrefix);
// Monday 24 Nov 2026, 08:00 in Shanghai: the weekly report is for the week before (2026-W47).
const now = () => new Date('2026-11-24T00:00:00Z');
let queues: Queues;
let notifier: Worker<NotifyQueueJob>;
let schedules: { close(): Promise<void> };
let reports: ReportService;
let audit: EsAuditLog;

beforeAll(async () => {
  await ensureIndices(es, names);
  const at = '2026-11-18T03:00:00.000Z';
  const index = monthlyPostsIndex(names.posts, at);
  await es.index({ index, id: 'w47-1', document: { id: 'w47-1', sourceId: 'site', kind: 'article', url: 'http://127.0.0.1/w47-1', title: '县医院收费问题', text: '网民反映', collectedAt: at, publishedAt: at, at }, refresh: true });
  audit = new EsAuditLog({ es, redis, prefix: iso.redisPrefix, index: names.audit, checkpointIndex: names.auditCheckpoints, checkpointKey: Buffer.from('k'.repeat(32)) });
  reports = new ReportService({
    es,
    indices: { posts: names.posts, alerts: names.alerts, events: names.events, signals: names.signals, ledger: names.ledger, reports: `${iso.indexPrefix}-reports` },
    unit: '青山县人民政府',
    sources: () => [{ id: 'site', name: '县政府门户网站' }],
    gaps: async () => [],
    zombieDays: 14,
    audit,
    now,
  });
  await reports.ensure();
  const channels = new EsChannelStore(es, names.channels, 0);
  await channels.ensure([{ id: 'inapp', name: '站内通知', type: 'inapp', enabled: true }]);
  const outcomes = new EsDeliveryLog(es, names.notifications);
  await outcomes.ensure();
  queues = createQueues(redis, iso.redisPrefix);
  notifier = startNotifyWorker({ connection: redis, prefix: iso.redisPrefix, queues, channels, outcomes, dashboardUrl: 'http://127.0.0.1:8600/', env: {}, log: createLogger('silent'), now: () => new Date() });
  schedules = await startReportSchedules({
    connection: redis,
    prefix: iso.redisPrefix,
    schedules: [{ id: 'weekly', kind: 'week', cron: '0 8 * * 1', scope: 'unit', channelId: 'inapp', recipients: [] }],
    timeZone: 'Asia/Shanghai',
    reports,
    queues,
    recipients: async () => [{ username: 'chief', displayName: '刘科长' }],
    dashboardUrl: 'http://127.0.0.1:8600/',
    log: createLogger('silent'),
    now,
  });
});

afterAll(async () => {
  await schedules?.close();
  await notifier?.close();
  await queues?.close();
  await iso.cleanup();
  redis.disconnect();
  await es.close();
});

describe('scheduled report generation', () => {
  it('registers the weekly report as a BullMQ job scheduler on Monday 08:00, Shanghai time', async () => {
    const queue = new Queue('report', { connection: redis, prefix: iso.redisPrefix });
    const [scheduler] = await queue.getJobSchedulers();
    await queue.close();
    expect(scheduler).toMatchObject({ key: 'report-weekly', pattern: '0 8 * * 1', tz: 'Asia/Shanghai' });
    expect(scheduler!.next).toBeGreaterThan(Date.now());
  });

  it('when the schedule fires, the last week’s report is stored, recorded in the audit chain as a system action, and its readers are told in-app with a link to it', async () => {
    // Fire the scheduler's job now instead of waiting for Monday: the same job the scheduler would add.
    const queue = new Queue('report', { connection: redis, prefix: iso.redisPrefix });
    await queue.add('generate', { scheduleId: 'weekly' });
    await queue.close();

    const entry = await eventually(async () => (await redis.lrange(inboxKey(iso.redisPrefix, 'chief'), 0, -1))[0], 30_000, 'the in-app notification');
    const note = JSON.parse(entry) as { subject: { type: string; id: string }; message: { title: string; link: string } };
    expect(note.message.title).toBe('青山县人民政府2026年第47周（11月16日—11月22日）舆情分析研判报告已生成');
    expect(note.message.link).toBe('http://127.0.0.1:8600/reports?period=2026-W47&scope=unit');

    const stored = await reports.snapshot('2026-W47', parseScope('unit'));
    expect(stored.id).toBe(note.subject.id);
    expect(stored.sections[0]!.figures.find((f) => f.label === '采集信息总量')!.value).toBe(1);

    const [record] = await audit.list({ entityType: 'report', entityId: stored.id });
    expect(record).toMatchObject({ action: 'report.generate', actor: { kind: 'system', id: 'report-schedule' }, after: { period: '2026-W47', scope: 'unit', empty: false } });
    expect((await audit.verify()).ok).toBe(true);
  });
});
