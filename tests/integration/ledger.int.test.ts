import ExcelJS from 'exceljs';
import { Client } from '@elastic/elasticsearch';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, isolation } from '../support/isolation.js';
import { startDemoApi, type AppProcess } from '../support/app-process.js';
import { ApiClient } from '../support/api-client.js';
import type { LedgerItem } from '../../core/ledger/ledger-item.js';
import type { AuditRecord } from '../../core/audit/audit-log.js';
import type { NotifyQueueJob } from '../../pipeline/queues.js';
import { ensureIndices, indexNames } from '../../pipeline/elasticsearch/indices.js';
import { EsLedgerStore } from '../../pipeline/elasticsearch/es-ledger-store.js';
import { EsUserStore } from '../../pipeline/elasticsearch/es-user-store.js';
import { EsAuditLog } from '../../pipeline/elasticsearch/es-audit-log.js';
import { checkLedgerDeadlines, startLedgerDeadlineChecks } from '../../pipeline/ledger/ledger-deadlines.js';
import { createLedgerItem } from '../../core/ledger/ledger-actions.js';
import { loadUsers } from '../../core/auth/user.js';
import { createLogger } from '../../core/logger.js';
import { enqueueNotification } from '../../pipeline/notify/enqueue-notification.js';

type ItemBody = { item: LedgerItem; actions: string[] };
const inDays = (d: number) => new Date(Date.now() + d * 86_400_000).toISOString();

describe('the rectification ledger over the real HTTP API', () => {
  const iso = isolation();
  let app: AppProcess;
  let base: string;
  let duty: ApiClient;
  let chief: ApiClient;
  let auditor: ApiClient;
  let alertId: string;

  beforeAll(async () => {
    ({ app, base } = await startDemoApi(iso));
    [duty, chief, auditor] = await Promise.all([ApiClient.login(base, 'duty'), ApiClient.login(base, 'chief'), ApiClient.login(base, 'auditor')]);
    const es = new Client({ node: iso.esUrl });
    alertId = 'alert-ledger-test-1';
    const at = new Date().toISOString();
    await es.index({
      index: `${iso.indexPrefix}-alerts`,
      id: alertId,
      document: { id: alertId, packId: 'demo', category: '民生', level: 2, status: 'new', title: '县医院收费问题', sourceId: 'demo', postIds: ['p1'], terms: ['乱收费'], hits: [], createdAt: at, updatedAt: at },
      refresh: true,
    });
    await es.close();
  });
  afterAll(async () => {
    await app?.stop();
    await iso.cleanup();
  });

  const create = (body: Record<string, unknown>) =>
    duty.post<ItemBody>('/api/ledger', { source: 'self_inspection', problem: '网站栏目长期未更新', measures: '明确专人每周更新', responsible: 'duty', deadline: inDays(10), ...body });

  it('walks an item from an alert through open → in_progress → awaiting_verification → closed, audited, linked both ways', async () => {
    const created = await create({ source: 'alert', alertId, problem: '县医院乱收费舆情暴露收费公示不到位' });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const { id } = created.body.item;
    expect(created.body.item).toMatchObject({ status: 'open', section: '网信办', version: 1, alertId });
    expect((await duty.post<ItemBody>(`/api/ledger/${id}/start`)).body.item.status).toBe('in_progress');
    // No evidence yet: submitting is refused with the named reason.
    const early = await duty.post<{ error: { code: string } }>(`/api/ledger/${id}/submit`);
    expect(early.status).toBe(409);
    expect(early.body.error.code).toBe('evidence_required');
    expect((await duty.post(`/api/ledger/${id}/evidence`, { evidence: { kind: 'file', ref: 'oa://docs/2026/031', name: '收费公示整改照片.pdf' } })).status).toBe(201);
    expect((await duty.post<ItemBody>(`/api/ledger/${id}/submit`)).body.item.status).toBe('awaiting_verification');
    // The duty officer cannot verify (no ledger.verify); the chief can, being someone else.
    expect((await duty.post(`/api/ledger/${id}/verify`, { result: 'pass' })).status).toBe(403);
    const closed = await chief.post<ItemBody>(`/api/ledger/${id}/verify`, { result: 'pass', note: '现场核实，公示已上墙' });
    expect(closed.status).toBe(200);
    expect(closed.body.item).toMatchObject({ status: 'closed', verifiedBy: 'chief', verificationNote: '现场核实，公示已上墙' });
    expect(closed.body.actions).toEqual(['reopen']);

    const forAlert = await duty.get<{ items: LedgerItem[] }>(`/api/alerts/${alertId}/ledger`);
    expect(forAlert.body.items.map((i) => i.id)).toEqual([id]);
    const detail = await auditor.get<{ audit: AuditRecord[] }>(`/api/ledger/${id}`);
    expect(detail.body.audit.map((r) => r.action).reverse()).toEqual(['ledger.create', 'ledger.start', 'ledger.add_evidence', 'ledger.submit', 'ledger.approve']);
    const onAlert = await auditor.get<{ records: AuditRecord[] }>(`/api/audit?entityType=alert&entityId=${alertId}`);
    expect(onAlert.body.records[0]).toMatchObject({ action: 'alert.ledger_item_created', after: { ledgerId: id } });
  });

  it('verification by the responsible person is refused with 409', async () => {
    const created = await chief.post<ItemBody>('/api/ledger', { source: 'superior_feedback', sourceRef: '督查通报〔2026〕3号', problem: '舆情台账不完整', measures: '补齐台账', responsible: 'chief', deadline: inDays(5) });
    const { id } = created.body.item;
    await chief.post(`/api/ledger/${id}/start`);
    await chief.post(`/api/ledger/${id}/evidence`, { evidence: { kind: 'text', text: '台账已补齐' } });
    await chief.post(`/api/ledger/${id}/submit`);
    const self = await chief.post<{ error: { code: string } }>(`/api/ledger/${id}/verify`, { result: 'pass' });
    expect(self.status).toBe(409);
    expect(self.body.error.code).toBe('verifier_is_responsible');
    const leader = await ApiClient.login(base, 'leader');
    const rejected = await leader.post<ItemBody>(`/api/ledger/${id}/verify`, { result: 'fail', note: '缺少第三季度记录' });
    expect(rejected.body.item.status).toBe('in_progress');
  });

  it('optimistic concurrency: a stale expectedVersion loses with 409, and of two concurrent starts one wins', async () => {
    const { id, version } = (await create({})).body.item;
    expect((await duty.patch<ItemBody>(`/api/ledger/${id}`, { expectedVersion: version, measures: '每周更新并留痕' })).status).toBe(200);
    const stale = await duty.patch<{ error: { code: string } }>(`/api/ledger/${id}`, { expectedVersion: version, measures: '另一个修改' });
    expect(stale.status).toBe(409);
    expect(stale.body.error.code).toBe('version_conflict');
    const results = await Promise.all([duty.post(`/api/ledger/${id}/start`, { expectedVersion: version + 1 }), chief.post(`/api/ledger/${id}/start`, { expectedVersion: version + 1 })]);
    expect(results.map((r) => r.status).sort()).toEqual([200, 409]);
  });

  it('refuses bad input by field, unknown ids with 404, and a responsible person who does not exist', async () => {
    const bad = await duty.post<{ error: { message: string } }>('/api/ledger', { source: 'rumour', problem: '', deadline: 'tomorrow' });
    expect(bad.status).toBe(400);
    for (const field of ['source', 'problem', 'measures', 'responsible', 'deadline']) expect(bad.body.error.message).toContain(field);
    const ghost = await create({ responsible: 'ghost' });
    expect(ghost.status).toBe(400);
    expect(JSON.stringify(ghost.body)).toContain('responsible');
    const noAlert = await create({ source: 'alert', alertId: 'no-such-alert' });
    expect(noAlert.status).toBe(400);
    expect((await duty.get('/api/ledger/zg-20260101-00000000')).status).toBe(404);
    expect((await duty.post('/api/ledger/zg-20260101-00000000/start')).status).toBe(404);
    expect((await duty.get('/api/ledger/not-an-id')).status).toBe(400);
    expect((await duty.get('/api/alerts/no-such-alert/ledger')).status).toBe(404);
  });

  it('exports the filtered ledger to XLSX with Chinese headers, overdue items first', async () => {
    const overdueItem = (await create({ problem: '逾期事项：留言超三个月未回复', deadline: inDays(-1) })).body.item;
    await create({ problem: '正常事项：错敏词检查', deadline: inDays(20), source: 'inspection_tour', sourceRef: '第二巡视组反馈' });
    const res = await fetch(`${base}/api/ledger/export.xlsx?status=open,in_progress`, { headers: duty.authHeaders() });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('spreadsheetml');
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load(Buffer.from(await res.arrayBuffer()) as unknown as ArrayBuffer);
    const sheet = workbook.getWorksheet('整改台账')!;
    const header = (sheet.getRow(2).values as unknown[]).slice(1);
    expect(header).toEqual(expect.arrayContaining(['序号', '问题来源', '问题描述', '整改措施', '责任人', '整改时限', '整改状态', '是否逾期']));
    const col = (name: string) => header.indexOf(name) + 1;
    const rows = [];
    for (let r = 3; r <= sheet.rowCount; r++) rows.push(sheet.getRow(r));
    expect(rows[0]!.getCell(col('编号')).value).toBe(overdueItem.id);
    expect(rows[0]!.getCell(col('是否逾期')).value).toBe('是');
    expect(rows[0]!.getCell(col('责任人')).value).toBe('张值班（值班员）');
    expect(rows.some((r) => r.getCell(col('问题来源')).value === '巡视反馈')).toBe(true);
    // The filter applies: the closed item of the first test is not exported.
    expect(rows.every((r) => r.getCell(col('整改状态')).value !== '已销号')).toBe(true);
    const onlyTour = await duty.get<{ items: LedgerItem[] }>('/api/ledger?source=inspection_tour');
    expect(onlyTour.body.items.every((i) => i.source === 'inspection_tour')).toBe(true);
  });
});

describe('ledger deadlines with real Redis and Elasticsearch', () => {
  const iso = isolation();
  let es: Client;
  let redis: Redis;

  beforeAll(async () => {
    es = new Client({ node: iso.esUrl });
    redis = new Redis(iso.redisUrl, { maxRetriesPerRequest: null });
  });
  afterAll(async () => {
    await es.close();
    redis.disconnect();
    await iso.cleanup();
  });

  it('an item going overdue is marked, audited, and notifies the responsible person and their chief, once', async () => {
    const names = indexNames(iso.indexPrefix);
    await ensureIndices(es, names);
    const users = new EsUserStore(es, names.users);
    await users.seed(loadUsers('config/demo/users.yaml'));
    const ledger = new EsLedgerStore(es, names.ledger);
    const audit = new EsAuditLog({ es, redis, prefix: iso.redisPrefix, index: names.audit, checkpointIndex: names.auditCheckpoints, checkpointKey: Buffer.from('k'.repeat(32)) });
    const notify = new Queue<NotifyQueueJob>('notify', { connection: redis, prefix: iso.redisPrefix });
    const deps = {
      ledger,
      users,
      audit,
      enqueue: (job: Parameters<typeof enqueueNotification>[1]) => enqueueNotification({ notify }, job),
      channels: ['inapp', 'duty-dingtalk'],
      policy: { dueSoonFraction: 0.5, escalateAfterMinutes: 60 },
      dashboardUrl: 'http://127.0.0.1:8600/',
      now: () => new Date(),
    };
    const item = await createLedgerItem(
      { ledger, users, audit, alerts: { get: async () => undefined }, now: () => new Date() },
      { source: 'self_inspection', problem: '政务新媒体两周未更新', measures: '建立更新排班', responsible: 'duty', deadline: new Date(Date.now() + 2500).toISOString(), evidence: [] },
      { actor: { kind: 'user', id: 'chief', roles: ['section_chief'] } },
    );
    const checks = await startLedgerDeadlineChecks({ ...deps, connection: redis, prefix: iso.redisPrefix, everyMs: 500, log: createLogger('silent') });
    try {
      const overdue = await eventually(async () => {
        const current = await ledger.get(item.id);
        return current?.overdue ? current : undefined;
      }, 20_000, 'the item marked overdue');
      expect(overdue.reminders).toContain('overdue');
      const jobs = await eventually(async () => {
        const all = await notify.getJobs(['waiting', 'delayed', 'active', 'completed', 'failed']);
        const mine = all.filter((j) => 'delivery' in j.data && j.data.delivery.subject.id === item.id && j.data.delivery.reason === 'ledger-overdue');
        return mine.length >= 2 ? mine : undefined;
      }, 10_000, 'overdue notify jobs');
      for (const job of jobs) {
        const delivery = (job.data as Extract<NotifyQueueJob, { delivery: unknown }>).delivery;
        expect(delivery.recipients.map((r) => r.username).sort()).toEqual(['chief', 'duty']);
        expect(delivery.message.title).toContain('整改逾期');
        expect(delivery.message.link).toBe(`http://127.0.0.1:8600/ledger?id=${encodeURIComponent(item.id)}`);
      }
      expect(new Set(jobs.map((j) => (j.data as Extract<NotifyQueueJob, { delivery: unknown }>).delivery.channelId))).toEqual(new Set(['inapp', 'duty-dingtalk']));
      // More runs of the check send nothing more for the same step.
      await new Promise((r) => setTimeout(r, 1500));
      expect(await checkLedgerDeadlines(deps)).toEqual([]);
      const records = await audit.list({ entityType: 'ledger', entityId: item.id });
      expect(records.some((r) => r.action === 'ledger.overdue' && r.actor.kind === 'system')).toBe(true);
      expect((await audit.verify()).ok).toBe(true);
    } finally {
      await checks.close();
      await notify.close();
    }
  });
});
