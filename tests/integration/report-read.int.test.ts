import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@elastic/elasticsearch';
import { createApp } from '../../api/app.js';
import { reportRoutes } from '../../api/routes/report-routes.js';
import { RedisSessionStore } from '../../api/sessions.js';
import type { Role } from '../../core/auth/user.js';
import { createLogger } from '../../core/logger.js';
import { scopeKey, type Report, type ReportScope } from '../../core/reports/report.js';
import { ensureIndices, indexNames, monthlyPostsIndex } from '../../pipeline/elasticsearch/indices.js';
import { EsAuditLog } from '../../pipeline/elasticsearch/es-audit-log.js';
import { createRedis } from '../../pipeline/queues.js';
import { ReportService } from '../../reports/report-service.js';
import { isolation } from '../support/isolation.js';
import { listenOnLoopback } from '../support/loopback-server.js';

/**
 * Reading a report never changes what is stored: a viewer's page load or export neither replaces the
 * version the meeting read nor writes back conclusions it read before someone saved new ones.
 */
const iso = isolation();
const redis = createRedis(iso.redisUrl);
const es = new Client({ node: iso.esUrl });
const names = indexNames(iso.indexPrefix);
const reportsIndex = `${iso.indexPrefix}-reports`;
const now = () => new Date('2026-10-08T02:00:00Z');
const sources = [{ id: 'site', name: '县政府门户网站' }];
const chief = { kind: 'user' as const, id: 'u-section_chief', displayName: '刘科长', roles: ['section_chief'] };
const tokens: Partial<Record<Role, string>> = {};
let audit: EsAuditLog;
let reports: ReportService;
let api: Server;
let base: string;

/** While set, every build waits for it after it started reading (the slow part of a real build). */
let hold: Promise<void> | undefined;
/** Called once a read of a stored report has come back. */
let onStoredRead: (() => void) | undefined;

/** The real client, told when a stored report has been read: lets a test act between a build's read and its end. */
const watchedEs = new Proxy(es, {
  get(target, prop) {
    const value = Reflect.get(target, prop, target) as unknown;
    if (prop === 'get') {
      return async (params: { index: string }, ...rest: unknown[]) => {
        try {
          return await (target.get as (...args: unknown[]) => Promise<unknown>).call(target, params, ...rest);
        } finally {
          if (params.index === reportsIndex) onStoredRead?.();
        }
      };
    }
    return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
  },
});

async function call(who: Role, method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown>; bytes: number }> {
  const res = await fetch(`${base}/api${path}`, {
    method,
    headers: { Authorization: `Bearer ${tokens[who]}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  let parsed: Record<string, unknown> = {};
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // an export or an SVG
  }
  return { status: res.status, body: parsed, bytes: text.length };
}

async function storedDoc(period: string, scope: ReportScope): Promise<{ source: Record<string, unknown>; seqNo: number } | undefined> {
  try {
    const res = await es.get<Record<string, unknown>>({ index: reportsIndex, id: `${period}--${scopeKey(scope)}` });
    return { source: res._source!, seqNo: res._seq_no! };
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return undefined;
    throw err;
  }
}

beforeAll(async () => {
  await ensureIndices(es, names);
  const at = '2026-08-18T03:00:00.000Z';
  const index = monthlyPostsIndex(names.posts, at);
  await es.index({ index, id: 'q3-1', document: { id: 'q3-1', sourceId: 'site', kind: 'article', url: 'http://127.0.0.1/q3-1', title: '县医院收费问题', text: '网民反映', collectedAt: at, publishedAt: at, at }, refresh: true });
  audit = new EsAuditLog({ es, redis, prefix: iso.redisPrefix, index: names.audit, checkpointIndex: names.auditCheckpoints, checkpointKey: Buffer.from('k'.repeat(32)) });
  reports = new ReportService({
    es: watchedEs,
    indices: { posts: names.posts, alerts: names.alerts, events: names.events, signals: names.signals, ledger: names.ledger, reports: reportsIndex },
    unit: '青山县人民政府',
    sources: async () => {
      await hold;
      return sources;
    },
    gaps: async () => [],
    zombieDays: 14,
    audit,
    now,
  });
  await reports.ensure();
  const sessions = new RedisSessionStore(redis, iso.redisPrefix, 600);
  for (const r of ['viewer', 'auditor', 'section_chief'] as Role[]) tokens[r] = await sessions.create({ username: `u-${r}`, displayName: `测试${r}`, roles: [r] });
  const app = createApp({ log: createLogger('silent'), sessions, apiRouters: [reportRoutes({ reports })] });
  ({ server: api, base } = await listenOnLoopback(app));
});

afterAll(async () => {
  api?.close();
  await iso.cleanup();
  redis.disconnect();
  await es.close();
});

describe('reading a report changes nothing stored', () => {
  it('a viewer’s report page, chart and exports leave the meeting’s version, the conclusions and the audit trail as they were', async () => {
    const scope: ReportScope = { kind: 'unit' };
    const kept = await reports.generateFor(chief, '2026-Q3', scope, '研判会前存档');
    await reports.saveEditable('2026-Q3', scope, { conclusions: '本季度舆情总体平稳。', nextSteps: '加强督办。' }, chief);
    const before = await storedDoc('2026-Q3', scope);
    expect(before).toBeDefined();
    const trail = await audit.list({ entityType: 'report', entityId: kept.id });
    expect(trail.map((r) => r.action).sort()).toEqual(['report.edit', 'report.generate']);

    for (const who of ['viewer', 'auditor'] as Role[]) {
      const live = await call(who, 'GET', '/reports?period=2026-Q3&scope=unit');
      expect(live.status).toBe(200);
      // The live report: current figures with the saved conclusions.
      expect((live.body.report as Report).editable.conclusions).toBe('本季度舆情总体平稳。');
      const chart = await call(who, 'GET', `/reports/chart?period=2026-Q3&scope=unit&id=volume&v=${encodeURIComponent((live.body.report as Report).generatedAt)}`);
      expect(chart.status).toBe(200);
      for (const format of ['md', 'docx', 'xlsx']) {
        for (const version of ['live', 'stored']) expect((await call(who, 'GET', `/reports/export?period=2026-Q3&scope=unit&format=${format}&version=${version}`)).status).toBe(200);
      }
      expect((await call(who, 'GET', '/reports/export?period=2026-Q3&scope=unit&format=md')).status).toBe(200);
    }

    const after = await storedDoc('2026-Q3', scope);
    expect(after).toEqual(before); // the same document, not even rewritten with the same content (its seq_no)
    expect(await audit.list({ entityType: 'report', entityId: kept.id })).toHaveLength(trail.length);
    // The meeting's version is still the one kept, with the conclusions as saved.
    expect(await reports.snapshot('2026-Q3', scope)).toEqual({ ...kept, editable: { conclusions: '本季度舆情总体平稳。', nextSteps: '加强督办。' } });
  });

  it('reading a period nobody kept stores nothing, and a viewer may not keep one', async () => {
    expect((await call('viewer', 'GET', '/reports?period=2026-08&scope=unit')).status).toBe(200);
    expect((await call('viewer', 'GET', '/reports/export?period=2026-08&scope=unit&format=md')).status).toBe(200);
    expect(await storedDoc('2026-08', { kind: 'unit' })).toBeUndefined();
    expect((await call('viewer', 'GET', '/reports/stored?period=2026-08&scope=unit')).body).toEqual({ report: null });
    expect((await call('viewer', 'POST', '/reports', { period: '2026-08', scope: 'unit' })).status).toBe(403);
    expect(await storedDoc('2026-08', { kind: 'unit' })).toBeUndefined();
  });

  it('a section chief keeps the report for the meeting through the audited path, and the conclusions stay as saved', async () => {
    const scope: ReportScope = { kind: 'source', id: 'site' };
    await reports.saveEditable('2026-09', scope, { conclusions: '九月结论', nextSteps: '九月打算' }, chief);
    const res = await call('section_chief', 'POST', '/reports', { period: '2026-09', scope: 'source:site', reason: '九月研判会' });
    expect(res.status).toBe(201);
    const report = res.body.report as Report;
    expect(report.editable).toEqual({ conclusions: '九月结论', nextSteps: '九月打算' });
    expect(await reports.snapshot('2026-09', scope)).toEqual(report);
    const [record] = await audit.list({ entityType: 'report', entityId: report.id, action: 'report.generate' });
    expect(record).toMatchObject({ action: 'report.generate', actor: { id: 'u-section_chief' }, reason: '九月研判会', after: { period: '2026-09', scope: 'source-site' } });
  });
});

describe('conclusions saved while a report is being built', () => {
  it('survive a viewer’s page load whose build read the older ones before they were saved', async () => {
    const scope: ReportScope = { kind: 'domain', name: '民生经济和社会' };
    await reports.generateFor(chief, '2026-Q3', scope, '研判会前存档');
    await reports.saveEditable('2026-Q3', scope, { conclusions: '初稿', nextSteps: '' }, chief);

    let release!: () => void;
    hold = new Promise<void>((r) => (release = r));
    const buildRead = new Promise<void>((r) => (onStoredRead = r));
    const viewing = call('viewer', 'GET', `/reports?period=2026-Q3&scope=${encodeURIComponent('domain:民生经济和社会')}`);
    try {
      await buildRead; // the viewer's build has read 初稿 and now waits on its slow part
      onStoredRead = undefined;
      const saved = await call('section_chief', 'PUT', '/reports/editable', { period: '2026-Q3', scope: 'domain:民生经济和社会', conclusions: '会上定稿的研判结论', nextSteps: '下一步：督办' });
      expect(saved.status).toBe(200);
    } finally {
      hold = undefined;
      release();
    }
    expect((await viewing).status).toBe(200);

    const stored = await storedDoc('2026-Q3', scope);
    expect(stored!.source.editable).toEqual({ conclusions: '会上定稿的研判结论', nextSteps: '下一步：督办' });
    expect((await reports.snapshot('2026-Q3', scope)).editable.conclusions).toBe('会上定稿的研判结论');
    // What the audit trail says was saved is what is stored.
    const [last] = await audit.list({ entityType: 'report', action: 'report.edit', entityId: (await reports.snapshot('2026-Q3', scope)).id });
    expect(last).toMatchObject({ actor: { id: 'u-section_chief' }, before: { conclusions: '初稿' }, after: { conclusions: '会上定稿的研判结论' } });
  });
});
