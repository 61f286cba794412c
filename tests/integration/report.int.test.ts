import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@elastic/elasticsearch';
import { Redis } from 'ioredis';
import ExcelJS from 'exceljs';
import { slaTimeliness, type SlaFacts } from '../../core/alerts/sla-timeliness.js';
import { parseScope } from '../../core/reports/report.js';
import { indexNames, ensureIndices } from '../../pipeline/elasticsearch/indices.js';
import { EsAuditLog } from '../../pipeline/elasticsearch/es-audit-log.js';
import { ReportService } from '../../reports/report-service.js';
import { renderDocx } from '../../reports/render/docx.js';
import { renderMarkdown } from '../../reports/render/markdown.js';
import { renderXlsx } from '../../reports/render/xlsx.js';
import { isolation } from '../support/isolation.js';

const iso = isolation();
let es: Client;
let redis: Redis;
let service: ReportService;
let audit: EsAuditLog;
const idx = { posts: `${iso.indexPrefix}-rposts`, alerts: `${iso.indexPrefix}-ralerts`, reports: `${iso.indexPrefix}-reports`, ledger: `${iso.indexPrefix}-rledger`, events: `${iso.indexPrefix}-revents` };
const sources = [
  { id: 'site', name: '县政府门户网站' },
  { id: 'board', name: '县长信箱' },
  { id: 'weibo', name: '青山发布微博' },
];
const policy = { levels: { red: { acknowledgeSeconds: 900, respondSeconds: 18_000 }, orange: { acknowledgeSeconds: 900, respondSeconds: 18_000 }, yellow: { acknowledgeSeconds: 1800, respondSeconds: 172_800 }, blue: { acknowledgeSeconds: 3600, respondSeconds: 172_800 } } };

function post(id: string, sourceId: string, kind: string, collectedAt: string, extra: Record<string, unknown> = {}) {
  return { id, sourceId, kind, url: `http://127.0.0.1/${id}`, title: `帖文${id}`, text: '内容', collectedAt, publishedAt: collectedAt, keywords: ['收费', '医院'], ...extra };
}

const LEVEL_KEY = ['', 'red', 'orange', 'yellow', 'blue'] as const;

/** An alert as EsAlertStore stores it: with the derived `sla` fields the overdue filter reads. */
function alert(id: string, level: 1 | 2 | 3 | 4, status: string, createdAt: string, extra: Record<string, unknown> = {}) {
  const doc = { id, title: `预警${id}`, level, status, category: '负面', sourceId: 'site', createdAt, cycleStartedAt: createdAt, escalationStep: 0, policy, postIds: ['p1'], ...extra };
  const deadlines = policy.levels[LEVEL_KEY[level] as 'red'];
  return { ...doc, sla: slaTimeliness({ ...(doc as unknown as SlaFacts), ackDeadlineSeconds: deadlines.acknowledgeSeconds, respondDeadlineSeconds: deadlines.respondSeconds }) };
}

const at = (iso8601: string, plusSeconds: number) => new Date(Date.parse(iso8601) + plusSeconds * 1000).toISOString();

beforeAll(async () => {
  es = new Client({ node: iso.esUrl });
  redis = new Redis(iso.redisUrl);
  await es.indices.create({
    index: idx.posts,
    mappings: {
      properties: {
        sourceId: { type: 'keyword' },
        kind: { type: 'keyword' },
        domain: { type: 'keyword' },
        keywords: { type: 'keyword' },
        eventId: { type: 'keyword' },
        sentiment: { properties: { label: { type: 'keyword' } } },
        collectedAt: { type: 'date' },
        publishedAt: { type: 'date' },
        reply: { properties: { text: { type: 'text' } } },
        deleted: { properties: { at: { type: 'date' } } },
        editedAt: { type: 'date' },
      },
    },
  });
  await es.indices.create({ index: idx.alerts, mappings: { properties: { id: { type: 'keyword' }, sourceId: { type: 'keyword' }, domain: { type: 'keyword' }, createdAt: { type: 'date' }, policy: { type: 'object', enabled: false } } } });
  await es.indices.create({ index: idx.events, mappings: { properties: { id: { type: 'keyword' }, heat: { type: 'float' }, firstSeen: { type: 'date' }, lastSeen: { type: 'date' }, sourceIds: { type: 'keyword' } } } });
  await es.index({ index: idx.events, id: 'ev1', document: { id: 'ev1', title: '县医院收费<script>事件', heat: 12, postCount: 3, firstSeen: '2026-07-01T02:00:00Z', lastSeen: '2026-07-03T02:00:00Z', sourceIds: ['site'] } });
  // An event of another domain's talk on Weibo (none of its posts is of 民生经济和社会).
  await es.index({ index: idx.events, id: 'ev2', document: { id: 'ev2', title: '外地交通管制讨论', heat: 5, postCount: 2, firstSeen: '2026-07-05T02:00:00Z', lastSeen: '2026-07-06T02:00:00Z', sourceIds: ['weibo'] } });
  const docs = [
    ...[1, 2, 3, 4, 5].map((i) => post(`a${i}`, 'site', 'article', `2026-07-0${i}T02:00:00Z`, { domain: '民生经济和社会', sentiment: { label: i < 3 ? 'negative' : 'neutral' }, ...(i <= 3 ? { eventId: 'ev1' } : {}), ...(i === 4 ? { deleted: { at: '2026-08-05T00:00:00Z', crawl: { sourceId: 'site', at: '2026-08-05T00:00:00Z' } } } : {}), ...(i === 5 ? { editedAt: '2026-10-02T00:00:00Z' } : {}) })),
    post('m-old', 'board', 'message', '2026-05-01T02:00:00Z'),
    post('m-new', 'board', 'message', '2026-09-20T02:00:00Z'),
    post('m-answered', 'board', 'message', '2026-08-10T02:00:00Z', { reply: { text: '已转交相关部门办理。' } }),
    post('q2-1', 'site', 'article', '2026-04-10T02:00:00Z'),
  ];
  for (const d of docs) await es.index({ index: idx.posts, id: d.id, document: d });
  const t0 = '2026-08-01T01:00:00Z';
  const alerts = [
    alert('red', 1, 'closed', t0, { domain: '民生经济和社会', acknowledgedAt: at(t0, 600), acknowledgedBy: 'duty', respondedAt: at(t0, 4 * 3600), closedAt: at(t0, 8 * 3600) }),
    alert('orange', 2, 'responded', t0, { acknowledgedAt: at(t0, 1800), acknowledgedBy: 'chief', respondedAt: at(t0, 3 * 3600), escalationStep: 1 }),
    // Crawled: a formula, markup, and characters XML forbids (a page's &#xFFFF; and &#1;, indexed before normalisation dropped them).
    alert('yellow', 3, 'new', t0, { title: '=HYPERLINK("http://evil")|<b>县医院</b>\uffff\u0001' }),
    alert('blue', 4, 'false_positive', t0),
    alert('q2', 3, 'closed', '2026-05-01T01:00:00Z', { acknowledgedAt: '2026-05-01T01:20:00Z' }),
  ];
  for (const a of alerts) await es.index({ index: idx.alerts, id: a.id, document: a });
  await es.index({ index: idx.ledger, id: 'l1', document: { id: 'l1', problem: '县长信箱留言超期未答复', source: 'self_inspection', responsible: 'chief', section: '办公室', deadline: '2026-09-15T00:00:00Z', status: 'in_progress', createdAt: '2026-08-20T00:00:00Z' } });
  await es.indices.refresh({ index: `${iso.indexPrefix}-r*` });
  const names = indexNames(iso.indexPrefix);
  await ensureIndices(es, names);
  audit = new EsAuditLog({ es, redis, prefix: iso.redisPrefix, index: names.audit, checkpointIndex: names.auditCheckpoints, checkpointKey: Buffer.from('k'.repeat(32)) });
  service = new ReportService({
    es,
    indices: idx,
    unit: '青山县人民政府',
    sources: () => sources,
    gaps: async () => [{ sourceId: 'site', from: '2026-08-03T00:00:00Z', to: '2026-08-04T06:00:00Z', cause: '网站返回 503' }],
    zombieDays: 14,
    audit,
    now: () => new Date('2026-10-08T02:00:00Z'),
  });
  await service.ensure();
});

afterAll(async () => {
  await iso.cleanup();
  redis.disconnect();
  await es.close();
});

describe('the quarterly analysis-and-judgment report', () => {
  it('counts what was collected and alerted, with the previous quarter beside it', async () => {
    const r = await service.generate('2026-Q3', { kind: 'unit' });
    const overview = r.sections.find((s) => s.id === 'overview')!;
    const fig = (label: string) => overview.figures.find((f) => f.label === label)!;
    expect(fig('采集信息总量')).toMatchObject({ value: 7, previous: 2 }); // m-old and q2-1 were collected in Q2
    expect(fig('预警总数')).toMatchObject({ value: 4, previous: 1 });
    expect(fig('一级（红）预警').value).toBe(1);
    expect(fig('升级次数').value).toBe(1);
    expect(fig('误报率').value).toBe(25);
    expect(overview.tables[0]!.rows).toEqual([
      ['县政府门户网站', 5],
      ['县长信箱', 2],
    ]);
    expect(overview.paragraphs.join()).toContain('较上期增加 5');
    // Every figure says how to re-run it.
    expect(fig('采集信息总量').trace?.query?.index).toBe(idx.posts);
  });

  it('measures timeliness per level and names who held the overdue alerts', async () => {
    const r = await service.generate('2026-Q3', { kind: 'unit' });
    const t = r.sections.find((s) => s.id === 'timeliness')!;
    expect(t.figures[0]).toMatchObject({ label: '签收时长中位数', value: '20分钟' }); // 10 and 30 minutes
    const perLevel = t.tables[0]!.rows;
    expect(perLevel[0]).toEqual(['一级（红）', 1, '10分钟', '10分钟', '100%', '4.0小时', '4.0小时', '100%']);
    expect(perLevel[1]![4]).toBe('0%'); // orange signed for after 30 min against a 15 min clock
    const overdue = t.tables[1]!.rows.map((row) => [row[1], row[4]]);
    expect(overdue).toEqual([
      ['二级（橙）', 'chief'],
      ['三级（黄）', '值班员（未签收）'],
    ]);
    // The 复核 link opens the alert list filtered to the same overdue alerts, judged at the period's end.
    const figure = t.figures.find((f) => f.label === '超时预警')!;
    expect(figure.value).toBe(2);
    expect(figure.trace!.filters).toMatchObject({ overdue: 'true', overdueAt: '2026-09-30T16:00:00.000Z' });
    const counted = await es.count({ index: figure.trace!.query!.index, query: (figure.trace!.query!.body as { query: object }).query });
    expect(counted.count).toBe(2);
  });

  it('never lets a meeting reason over silent holes: gaps, zombie positions and old unanswered messages are stated', async () => {
    const r = await service.generate('2026-Q3', { kind: 'unit' });
    expect(r.dataNotes.join()).toContain('1 段采集中断');
    const p = r.sections.find((s) => s.id === 'positions')!;
    expect(p.figures.find((f) => f.label === '僵尸阵地')!.value).toBe(2); // board's last item is 20 Sep, weibo has none
    expect(p.figures.find((f) => f.label === '超3个月未答复留言')!.value).toBe(1);
    expect(p.tables[0]!.rows[0]![7]).toContain('网站返回 503');
    // 删除数 and 修改数: a4 was found deleted in the quarter; a5 was reworded after it (not counted).
    expect(p.figures.find((f) => f.label === '删除数')!.value).toBe(1);
    expect(p.figures.find((f) => f.label === '删除数')!.trace).toMatchObject({ page: 'search', filters: { changes: 'deleted' } });
    expect(p.figures.find((f) => f.label === '修改数')!.value).toBe(0);
    expect(p.tables[0]!.rows[0]!.slice(0, 4)).toEqual(['县政府门户网站', 5, 1, 0]);
    const ledger = r.sections.find((s) => s.id === 'ledger')!;
    expect(ledger.figures.map((f) => f.value)).toEqual([1, 0, 1]);
    expect(ledger.tables[0]!.rows[0]!.slice(1)).toEqual(['自查', 'chief', '办公室', '2026-09-15', '整改中（已逾期）']);
  });

  it('draws each top event: posts per hour by sentiment, its representative posts, each linked to a search for its posts', async () => {
    const r = await service.generate('2026-Q3', { kind: 'unit' });
    const events = r.sections.find((s) => s.id === 'events')!;
    const chart = events.charts[0]!;
    expect(chart.id).toBe('event-1');
    const series = (chart.option as { series: { name: string; data: number[] }[] }).series;
    const sum = (name: string) => series.find((x) => x.name === name)!.data.reduce((a, b) => a + b, 0);
    expect([sum('负面'), sum('中性'), sum('正面')]).toEqual([2, 1, 0]);
    expect((chart.option as { xAxis: { data: string[] } }).xAxis.data).toHaveLength(49); // 1 Jul 10:00 to 3 Jul 10:00 (+08:00), hourly
    const representative = events.tables[1]!;
    expect(representative.rows.map((row) => row[2])).toEqual(['帖文a1', '帖文a2', '帖文a3']);
    expect(representative.trace).toMatchObject({ page: 'search', filters: { eventId: 'ev1', sort: 'time' } });
    expect(events.paragraphs[1]).toContain('负面 2 条（66.7%）');
    // Hostile text stays text in Markdown.
    expect(renderMarkdown(r)).toContain('县医院收费\\<script\\>事件');
  });

  it('links every figure to the dashboard view with the period, scope and subset applied', async () => {
    const r = await service.generate('2026-Q3', { kind: 'source', id: 'site' });
    const overview = r.sections.find((s) => s.id === 'overview')!;
    const red = overview.figures.find((f) => f.label === '一级（红）预警')!;
    expect(red.trace).toMatchObject({ page: 'alerts', filters: { level: '1', sourceId: 'site', from: '2026-06-30T16:00:00.000Z', to: '2026-09-30T16:00:00.000Z' } });
    expect(red.trace!.dashboard).toBe('/alerts?from=2026-06-30T16%3A00%3A00.000Z&to=2026-09-30T16%3A00%3A00.000Z&sourceId=site&level=1');
    // The query carried with the figure counts what the figure says.
    const counted = await es.count({ index: red.trace!.query!.index, query: (red.trace!.query!.body as { query: object }).query });
    expect(counted.count).toBe(red.value);
    const total = overview.figures.find((f) => f.label === '采集信息总量')!;
    expect(total.trace!.filters).toMatchObject({ timeField: 'collectedAt', sourceIds: 'site' });
    for (const section of r.sections) for (const f of section.figures) expect(f.trace, `${section.heading}: ${f.label}`).toBeDefined();
  });

  it('counts a domain’s own alerts in a domain-scoped report', async () => {
    const r = await service.generate('2026-Q3', { kind: 'domain', name: '民生经济和社会' });
    const fig = r.sections[0]!.figures.find((f) => f.label === '预警总数')!;
    expect(fig.value).toBe(1);
    expect(fig.trace!.filters.domain).toBe('民生经济和社会');
    // Its events are those with posts of the domain; the unit's report lists every event.
    const eventTitles = async (scope: Parameters<ReportService['generate']>[1]) => JSON.stringify((await service.generate('2026-Q3', scope)).sections.find((s) => s.id === 'events')!.tables[0]!.rows);
    const unit = await eventTitles({ kind: 'unit' });
    expect(unit).toContain('外地交通管制讨论');
    expect(unit).toContain('县医院收费<script>事件');
    const domain = await eventTitles({ kind: 'domain', name: '民生经济和社会' });
    expect(domain).not.toContain('外地交通管制讨论');
    expect(domain).toContain('县医院收费<script>事件');
  });

  it('says so when a period holds no data, instead of inventing numbers', async () => {
    const r = await service.generate('2025-Q1', { kind: 'unit' });
    expect(r.empty).toBe(true);
    expect(r.dataNotes.join()).toContain('未采集到任何信息');
    expect(r.sections[0]!.charts).toHaveLength(0);
    expect(renderMarkdown(r)).toContain('本期（2025年第一季度）内未采集到信息、未产生预警。');
  });

  it('keeps 研判结论 and 下一步工作打算 with the report, audited', async () => {
    const actor = { kind: 'user' as const, id: 'chief', displayName: '刘科长', roles: ['section_chief'] };
    await service.saveEditable('2026-Q3', parseScope('unit'), { conclusions: '本季度舆情总体平稳。', nextSteps: '加强县长信箱留言办理督办。' }, actor, 'req-12345678');
    const r = await service.generate('2026-Q3', { kind: 'unit' });
    expect(r.editable.conclusions).toBe('本季度舆情总体平稳。');
    const [record] = await audit.list({ entityType: 'report', entityId: r.id });
    expect(record).toMatchObject({ action: 'report.edit', actor: { id: 'chief' }, after: { nextSteps: '加强县长信箱留言办理督办。' } });
  });

  it('exports XLSX whose hostile cells stay text, as written, without characters XML forbids', async () => {
    const r = await service.generate('2026-Q3', { kind: 'unit' });
    const book = new ExcelJS.Workbook();
    await book.xlsx.load((await renderXlsx(r)) as unknown as ArrayBuffer);
    expect(book.worksheets.map((w) => w.name)).toContain('各等级处置时效');
    const overdue = book.getWorksheet('超时预警明细')!;
    const cell = overdue.getRow(3).getCell(1);
    expect(cell.type).toBe(ExcelJS.ValueType.String);
    expect(cell.formula).toBeUndefined();
    expect(cell.value).toBe('=HYPERLINK("http://evil")|<b>县医院</b>');
  });

  it('renders a DOCX in 公文 layout that LibreOffice opens and prints (an alert title holds U+FFFF)', async () => {
    const r = await service.generate('2026-Q3', { kind: 'unit' });
    const dir = mkdtempSync(path.join(tmpdir(), 'qs-report-'));
    const docx = path.join(dir, 'report.docx');
    writeFileSync(docx, await renderDocx(r));
    execFileSync('soffice', ['--headless', '--norestore', `-env:UserInstallation=file://${dir}/lo`, '--convert-to', 'pdf', '--outdir', dir, docx], { stdio: 'ignore', timeout: 120_000 });
    const pdf = path.join(dir, 'report.pdf');
    const info = execFileSync('pdfinfo', [pdf]).toString();
    expect(info).toMatch(/Page size:\s+595\.\d+ x 841\.\d+ pts \(A4\)/);
    expect(Number(/Pages:\s+(\d+)/.exec(info)![1])).toBeGreaterThanOrEqual(3);
    const text = execFileSync('pdftotext', ['-layout', pdf, '-']).toString();
    expect(text).toContain('网络舆情分析研判报告');
    expect(text).toContain('一、总体情况');
    expect(text).toContain('本季度舆情总体平稳。');
    expect(text).toMatch(/—\s*1\s*—/); // page numbers
    execFileSync('pdftoppm', ['-png', '-r', '60', '-f', '1', '-l', '2', pdf, path.join(dir, 'page')]);
    const pages = readdirSync(dir).filter((f) => f.startsWith('page') && f.endsWith('.png'));
    expect(pages.length).toBe(2);
    expect(readFileSync(path.join(dir, pages.sort()[0]!)).subarray(1, 4).toString()).toBe('PNG');
    if (process.env.REPORT_PAGE_OUT) execFileSync('cp', [path.join(dir, pages.sort()[0]!), path.join(dir, pages.sort()[1]!), process.env.REPORT_PAGE_OUT]);
  }, 180_000);
});
