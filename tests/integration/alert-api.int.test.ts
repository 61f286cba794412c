import path from 'node:path';
import ExcelJS from 'exceljs';
import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isolation } from '../support/isolation.js';
import { createHarness, shortPolicy, signalFor, TEST_ROSTER, type Harness } from '../support/alerting-harness.js';
import { createApp } from '../../api/app.js';
import { RedisSessionStore } from '../../api/sessions.js';
import { authRoutes } from '../../api/routes/auth-routes.js';
import { alertRoutes } from '../../api/routes/alert-routes.js';
import { escalationRoutes } from '../../api/routes/escalation-routes.js';
import { rosterRoutes } from '../../api/routes/roster-routes.js';
import { liveRoutes } from '../../api/routes/live-routes.js';
import { principalResolver } from '../../api/authenticate.js';
import { hashPassword } from '../../core/auth/password.js';
import { loadUsers } from '../../core/auth/user.js';
import { createLogger } from '../../core/logger.js';
import { EsPostStore } from '../../pipeline/elasticsearch/es-post-store.js';
import { BulkIndexer } from '../../pipeline/elasticsearch/bulk-indexer.js';
import { EsUserStore } from '../../pipeline/elasticsearch/es-user-store.js';
import { RedisLoginAttempts } from '../../pipeline/redis/redis-login-attempts.js';
import { RedisLoginRate } from '../../pipeline/redis/redis-login-rate.js';
import { ConfigSchema } from '../../core/config/config-schema.js';
import { ensureIndices, indexNames } from '../../pipeline/elasticsearch/indices.js';
import type { PlanTemplate } from '../../core/plans/response-plan.js';

const repo = path.resolve(import.meta.dirname, '../..');
const PLANS: PlanTemplate[] = [
  {
    id: 'major-incident',
    name: '重大舆情应对预案',
    categories: [],
    levels: [1, 2],
    steps: [
      { id: 'verify', title: '核实情况', role: 'duty', deadlineSeconds: 600, evidenceRequired: true },
      { id: 'report', title: '报告领导', role: 'section_chief', deadlineSeconds: 1200, evidenceRequired: false },
    ],
  },
];

describe('the alert API', () => {
  const iso = isolation();
  let h: Harness;
  let server: Server;
  let base: string;
  let live: ReturnType<typeof liveRoutes>;
  let sessions: RedisSessionStore;
  let users: EsUserStore;
  const cookies: Record<string, string> = {};

  async function call(user: string, method: string, url: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> & { error?: { code: string; message: string } } }> {
    const res = await fetch(`${base}${url}`, {
      method,
      headers: { cookie: cookies[user] ?? '', ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
    });
    return { status: res.status, body: (await res.json().catch(() => ({}))) as never };
  }

  beforeAll(async () => {
    h = await createHarness({ ...iso, policy: shortPolicy() });
    const log = createLogger('silent');
    sessions = new RedisSessionStore(h.redis, iso.redisPrefix, 3600);
    const ctx = { policy: shortPolicy(), calendar: { periods: [] }, plans: PLANS, roster: h.roster, alerts: h.alerts, timeZone: 'Asia/Shanghai', unitName: '青山县人民政府', now: () => new Date() };
    const names = indexNames(iso.indexPrefix);
    users = new EsUserStore(h.es, names.users);
    await users.seed(loadUsers(path.join(repo, 'config/demo/users.yaml')));
    // As the api role composes it (bin/roles/api.ts), with a short keep-alive so the re-check is seen quickly.
    live = liveRoutes({ subscriber: h.redis.duplicate(), channel: `${iso.redisPrefix}:live:alerts`, keepAliveMs: 200, resolvePrincipal: principalResolver({ sessions, users }) });
    const lockout = ConfigSchema.parse({}).auth;
    const app = createApp({
      log,
      sessions,
      users,
      apiRouters: [
        authRoutes({ users, sessions, attempts: new RedisLoginAttempts(h.redis, iso.redisPrefix, lockout), loginRate: new RedisLoginRate(h.redis, iso.redisPrefix, 1000), audit: h.audit, lockout, timeZone: 'Asia/Shanghai', secureCookie: false, ttlSeconds: 3600 }),
        alertRoutes({ ...ctx, posts: new EsPostStore(h.es, names.posts, new BulkIndexer(h.es, { flushMs: 10 })), desk: h.desk }),
        escalationRoutes(ctx),
        rosterRoutes({ roster: h.roster, audit: h.audit, alerts: h.alerts, now: () => new Date() }),
        live.router,
      ],
    });
    server = await new Promise((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    const address = server.address();
    base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    for (const user of ['duty', 'chief', 'auditor', 'secretary']) {
      const res = await fetch(`${base}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: user, password: 'qianshao-demo' }) });
      cookies[user] = (res.headers.get('set-cookie') ?? '').split(';')[0]!;
    }
  });
  afterAll(async () => {
    await live?.close();
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    await h?.close();
    await iso.cleanup();
  });

  it('lists, filters and shows alerts with their version, clocks and explanation', async () => {
    await h.desk.raise(signalFor('api-1', 3));
    await h.desk.raise(signalFor('api-2', 2));
    const list = await call('duty', 'GET', '/api/alerts?status=new&level=2,3');
    expect(list.status).toBe(200);
    const ids = (list.body.alerts as { id: string; version: string }[]).map((a) => a.id);
    expect(ids).toEqual(expect.arrayContaining(['api-1', 'api-2']));
    expect((await call('duty', 'GET', '/api/alerts?level=2')).body.alerts).toHaveLength(1);
    const detail = await call('duty', 'GET', '/api/alerts/api-1');
    expect(detail.status).toBe(200);
    expect(detail.body.alert).toMatchObject({ id: 'api-1', status: 'new', version: expect.stringMatching(/^\d+:\d+$/), explanation: { terms: [{ term: '暴力执法' }] } });
    expect((detail.body.clocks as { id: string }[]).map((c) => c.id)).toContain('escalate-1');
  });

  it.each<[string, string, string, unknown, number, string]>([
    ['a body field of the wrong type names the field', 'duty', '/api/alerts/api-1/acknowledge', { note: 42 }, 400, 'note'],
    ['a missing reason names the field', 'duty', '/api/alerts/api-1/false-positive', {}, 400, 'reason'],
    ['a level outside 1–4 names the field', 'chief', '/api/alerts/api-1/level', { level: 7, reason: 'x' }, 400, 'level'],
    ['a body that is not JSON is a 400', 'duty', '/api/alerts/api-1/acknowledge', '{not json', 400, 'JSON'],
    ['an array body is a 400', 'duty', '/api/alerts/api-1/respond', [1, 2], 400, '(body)'],
    ['an unknown alert is a 404', 'duty', '/api/alerts/does-not-exist/acknowledge', {}, 404, 'does-not-exist'],
    ['an id with odd characters is a 404, not a 500', 'duty', `/api/alerts/${encodeURIComponent('../../_search?q=*')}/acknowledge`, {}, 404, ''],
    ['the auditor cannot sign', 'auditor', '/api/alerts/api-1/acknowledge', {}, 403, 'alert.acknowledge'],
    ['a duty officer cannot change the level', 'duty', '/api/alerts/api-1/level', { level: 1, reason: 'x' }, 403, 'alert.change_level'],
    ['a version that is not ours is a 400', 'duty', '/api/alerts/api-1/acknowledge', { version: 'abc' }, 400, 'version'],
    ['an unknown plan template is a 404', 'duty', '/api/alerts/api-1/plan', { templateId: 'nope' }, 404, 'nope'],
  ])('%s', async (_name, user, url, body, status, mentions) => {
    const res = await call(user, 'POST', url, body);
    expect(res.status).toBe(status);
    expect(res.body.error?.message).toContain(mentions);
  });

  it('signing, then signing again: 200, then 409 naming who signed', async () => {
    const first = await call('duty', 'POST', '/api/alerts/api-1/acknowledge', { note: '收到' });
    expect(first.status).toBe(200);
    expect(first.body.alert).toMatchObject({ status: 'acknowledged', acknowledgedBy: 'duty', assignee: { kind: 'person', id: 'duty' } });
    // An action answers the alert's summary with its new version; the detail has the rest.
    expect(first.body.alert).toMatchObject({ version: expect.stringMatching(/^\d+:\d+$/) });
    expect(first.body.alert).not.toHaveProperty('policy');
    expect(first.body.alert).not.toHaveProperty('timeline');
    const second = await call('chief', 'POST', '/api/alerts/api-1/acknowledge', {});
    expect(second.status).toBe(409);
    expect(second.body.error).toMatchObject({ code: 'illegal_transition' });
    expect(second.body.error!.message).toContain('duty');
  });

  it('只看超时: signed late, or still unsigned past the deadline at the moment asked about', async () => {
    const t0 = new Date();
    await h.desk.raise(signalFor('od-late', 3));
    await h.desk.raise(signalFor('od-waiting', 3));
    await new Promise((r) => setTimeout(r, 2_500)); // past the 2 s acknowledgement clock
    expect((await call('duty', 'POST', '/api/alerts/od-late/acknowledge', {})).status).toBe(200);
    const overdueAt = async (at: Date) => {
      const res = await call('duty', 'GET', `/api/alerts?overdue=true&overdueAt=${encodeURIComponent(at.toISOString())}&limit=500`);
      expect(res.status).toBe(200);
      return (res.body.alerts as { id: string }[]).map((a) => a.id).filter((id) => id.startsWith('od-')).sort();
    };
    // Signed after its deadline: overdue whenever asked. Unsigned: overdue only once its deadline has passed.
    expect(await overdueAt(t0)).toEqual(['od-late']);
    expect(await overdueAt(new Date(t0.getTime() + 10_000))).toEqual(['od-late', 'od-waiting']);
    expect((await call('duty', 'GET', '/api/alerts?overdue=maybe')).status).toBe(400);

    // An alert stored before deadlines were kept beside alerts gets them at the next start.
    const names = indexNames(iso.indexPrefix);
    const { sla: _sla, ...old } = (await h.es.get<Record<string, unknown>>({ index: names.alerts, id: 'od-waiting' }))._source!;
    await h.es.index({ index: names.alerts, id: 'od-waiting', document: old, refresh: true });
    expect(await overdueAt(new Date(t0.getTime() + 10_000))).toEqual(['od-late']);
    await ensureIndices(h.es, names);
    await h.es.indices.refresh({ index: names.alerts });
    expect(await overdueAt(new Date(t0.getTime() + 10_000))).toEqual(['od-late', 'od-waiting']);
  });

  it('exports the alert list with the list\'s filters as XLSX: the same alerts, overdue marked, crawled text as text', async () => {
    const hostile = { ...signalFor('xl-hostile', 3), title: '=HYPERLINK("http://evil","点我")' };
    await h.desk.raise(hostile);
    const at = new Date(Date.now() + 10_000).toISOString();
    const res = await fetch(`${base}/api/alerts/export.xlsx?overdue=true&overdueAt=${encodeURIComponent(at)}&limit=500`, { headers: { cookie: cookies.duty ?? '' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('spreadsheetml');
    const book = new ExcelJS.Workbook();
    await book.xlsx.load((await res.arrayBuffer()) as ArrayBuffer);
    const sheet = book.getWorksheet('预警列表')!;
    expect(sheet.getRow(2).getCell(2).value).toBe('编号');
    const rows = new Map<string, ExcelJS.Row>();
    sheet.eachRow((row, n) => void (n > 2 && rows.set(String(row.getCell(2).value), row)));
    const listed = ((await call('duty', 'GET', `/api/alerts?overdue=true&overdueAt=${encodeURIComponent(at)}&limit=500`)).body.alerts as { id: string }[]).map((a) => a.id);
    expect([...rows.keys()].sort()).toEqual([...listed].sort());
    expect(rows.get('od-waiting')!.getCell(17).value).toBe('是');
    expect(rows.get('od-waiting')!.getCell(4).value).toBe('待签收');
    // An alert's title comes from crawled text: a formula stays a string.
    const title = rows.get('xl-hostile')?.getCell(5).value;
    expect(typeof title).toBe('string');
    expect(String(title)).toContain('=HYPERLINK');
    expect((await fetch(`${base}/api/alerts/export.xlsx?level=9`, { headers: { cookie: cookies.duty ?? '' } })).status).toBe(400);
    expect((await fetch(`${base}/api/alerts/export.xlsx`)).status).toBe(401);
  });

  it('50 simultaneous sign requests on one alert: exactly one 200, the rest 409', async () => {
    await h.desk.raise(signalFor('api-race', 3));
    const users = ['duty', 'chief', 'secretary'];
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => call(users[i % 3]!, 'POST', '/api/alerts/api-race/acknowledge', {})));
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    expect(results.filter((r) => r.status === 409)).toHaveLength(49);
    expect((await h.audit.list({ entityId: 'api-race' })).filter((r) => r.action === 'alert.acknowledge')).toHaveLength(1);
  });

  it('an orange alert: level change, plan, steps with evidence, response and close', async () => {
    expect((await call('chief', 'POST', '/api/alerts/api-2/level', { level: 1, reason: '涉及人员伤亡' })).body.alert).toMatchObject({ level: 1 });
    const early = await call('duty', 'POST', '/api/alerts/api-2/close', { note: '办结' });
    expect(early.status).toBe(409); // not signed yet
    const plans = await call('duty', 'GET', '/api/alerts/api-2/plans');
    expect((plans.body.plans as { id: string }[]).map((p) => p.id)).toEqual(['major-incident']);
    const triggered = await call('duty', 'POST', '/api/alerts/api-2/plan', { templateId: 'major-incident' });
    expect(triggered.status).toBe(200);
    expect(triggered.body.alert).toMatchObject({ status: 'handling', plan: { steps: [{ id: 'verify', assignee: 'duty' }, { id: 'report', assignee: 'chief' }] } });
    await call('duty', 'POST', '/api/alerts/api-2/respond', { note: '已发布权威信息' });
    const blocked = await call('chief', 'POST', '/api/alerts/api-2/close', { note: '办结' });
    expect([blocked.status, blocked.body.error?.code]).toEqual([409, 'plan_incomplete']);
    const noEvidence = await call('duty', 'POST', '/api/alerts/api-2/plan/steps/verify/complete', { note: '已核实' });
    expect([noEvidence.status, noEvidence.body.error?.code]).toEqual([400, 'evidence_required']);
    expect((await call('duty', 'POST', '/api/alerts/api-2/plan/steps/verify/complete', { note: '已核实', evidence: [{ kind: 'link', ref: 'http://127.0.0.1/report/1' }] })).status).toBe(200);
    expect((await call('duty', 'POST', '/api/alerts/api-2/plan/steps/nope/complete', { note: 'x' })).status).toBe(404);
    expect((await call('chief', 'POST', '/api/alerts/api-2/plan/steps/report/complete', { note: '已报告' })).status).toBe(200);
    const closed = await call('chief', 'POST', '/api/alerts/api-2/close', { note: '办结' });
    expect(closed.status).toBe(200);
    expect(closed.body.alert).toMatchObject({ status: 'closed' });
    const actions = (await h.audit.list({ entityId: 'api-2' })).map((r) => r.action);
    expect(actions).toEqual(expect.arrayContaining(['alert.change_level', 'alert.trigger_plan', 'alert.complete_plan_step', 'alert.respond', 'alert.close']));
  });

  it('closing a red alert without a plan is refused with the reason', async () => {
    await h.desk.raise(signalFor('api-red', 1));
    await call('duty', 'POST', '/api/alerts/api-red/acknowledge', {});
    const res = await call('chief', 'POST', '/api/alerts/api-red/close', { note: '办结' });
    expect([res.status, res.body.error?.code]).toEqual([409, 'plan_required']);
    expect(res.body.error!.message).toContain('预案');
  });

  it('false positive with a reason, then reopen', async () => {
    await h.desk.raise(signalFor('api-fp', 4));
    expect((await call('duty', 'POST', '/api/alerts/api-fp/false-positive', { reason: '与本单位无关' })).body.alert).toMatchObject({ status: 'false_positive', falsePositiveReason: '与本单位无关' });
    expect((await call('duty', 'POST', '/api/alerts/api-fp/reopen', { reason: '判断有误' })).body.alert).toMatchObject({ status: 'new', reopenCount: 1 });
    expect((await call('duty', 'POST', '/api/alerts/api-fp/assign', { kind: 'section', id: '网信办' })).body.alert).toMatchObject({ assignee: { kind: 'section', id: '网信办' } });
    expect((await call('duty', 'POST', '/api/alerts/api-fp/escalate', { reason: '需科长决定' })).body.alert).toMatchObject({ escalationStep: 1 });
  });

  it('the dry run says who would be told of a red alert at 03:00 on a holiday, through what and when', async () => {
    const res = await call('chief', 'GET', `/api/escalation/dry-run?level=1&at=${encodeURIComponent('2026-10-02T03:00:00+08:00')}`);
    expect(res.status).toBe(200);
    const entries = res.body.entries as { offsetSeconds: number; trigger: string; decision: string; people: { username: string; channels: string[] }[] }[];
    expect(entries[0]).toMatchObject({ offsetSeconds: 0, trigger: 'created', decision: 'send' });
    expect(entries[0]!.people.map((p) => p.username)).toEqual(['duty', 'chief', 'leader', 'secretary']);
    expect(entries.filter((e) => e.trigger === 'escalation').map((e) => e.offsetSeconds)).toEqual([2, 4, 6]);
    expect((await call('chief', 'GET', '/api/escalation/dry-run?level=9')).status).toBe(400);
    expect((await call('chief', 'GET', '/api/escalation/dry-run?at=yesterday')).status).toBe(400);
  });

  it('duty now, roster edits with optimistic concurrency, leave and handover are audited', async () => {
    const now = await call('duty', 'GET', '/api/duty/now');
    expect((now.body.onDuty as { username: string }[]).map((p) => p.username)).toEqual(['duty']);
    const roster = await call('chief', 'GET', '/api/roster');
    const version = roster.body.version as string;
    const bad = await call('chief', 'PUT', '/api/roster', { version, roster: { ...TEST_ROSTER, shifts: [{ id: 'x', name: 'x', from: '25:00', to: '08:00', people: ['duty'] }] } });
    expect(bad.status).toBe(400);
    expect(bad.body.error!.message).toContain('roster.shifts.0.from');
    expect((await call('duty', 'PUT', '/api/roster', { version, roster: TEST_ROSTER })).status).toBe(403);
    const leave = await call('chief', 'POST', '/api/roster/leave', { version, leave: { username: 'leader', start: '2026-12-01T00:00:00+08:00', end: '2026-12-03T00:00:00+08:00', reason: '出差' } });
    expect(leave.status).toBe(200);
    const stale = await call('chief', 'POST', '/api/roster/leave', { version, leave: { username: 'leader', start: '2026-12-05T00:00:00+08:00', end: '2026-12-06T00:00:00+08:00' } });
    expect(stale.status).toBe(409);
    const handover = await call('duty', 'POST', '/api/roster/handover', { version: leave.body.version, to: 'chief', note: '两条预警待回应' });
    expect(handover.status).toBe(200);
    expect((handover.body.roster as { handovers: { from: string; openAlerts: number }[] }).handovers[0]).toMatchObject({ from: 'duty' });
    expect((await h.audit.list({ entityType: 'roster' })).map((r) => r.action)).toEqual(expect.arrayContaining(['roster.leave', 'roster.handover']));
  });

  it('a new alert reaches a connected SSE client as an alert event', async () => {
    const controller = new AbortController();
    const res = await fetch(`${base}/api/live`, { headers: { cookie: cookies.duty! }, signal: controller.signal });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    void h.desk.raise(signalFor('api-live', 2));
    while (!text.includes('"alertId":"api-live"')) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value);
    }
    controller.abort();
    expect(text).toMatch(/event: alert\ndata: \{.*"alertId":"api-live".*"change":"created"/);
    expect((await fetch(`${base}/api/live`)).status).toBe(401);
  });

  it('an open live stream ends once its account is disabled or loses the read permission (re-checked at each keep-alive)', async () => {
    const passwordHash = await hashPassword('stream-pass-1');
    const open = async (username: string) => {
      await users.create({ username, displayName: '值班员乙', roles: ['duty'], passwordHash });
      const token = await sessions.create({ username, displayName: '值班员乙', roles: ['duty'] });
      const res = await fetch(`${base}/api/live`, { headers: { authorization: `Bearer ${token}` } });
      expect(res.status).toBe(200);
      return res.body!.getReader();
    };
    const endsWithin = async (reader: ReadableStreamDefaultReader<Uint8Array>, ms: number) => {
      const deadline = Date.now() + ms;
      for (;;) {
        const timer = new Promise<'waiting'>((r) => setTimeout(() => r('waiting'), Math.max(0, deadline - Date.now())));
        const next = await Promise.race([reader.read(), timer]);
        if (next === 'waiting') return false;
        if (next.done) return true;
      }
    };
    const disabled = await open('streamer1');
    const demoted = await open('streamer2');
    // Still allowed: keep-alives arrive, the streams stay open.
    expect(await endsWithin(disabled, 700)).toBe(false);
    await users.update('streamer1', (u) => ({ ...u, disabled: true }));
    await users.update('streamer2', (u) => ({ ...u, roles: [] }));
    await sessions.accountsChanged();
    expect(await endsWithin(disabled, 3_000)).toBe(true);
    expect(await endsWithin(demoted, 3_000)).toBe(true);
  });
});
