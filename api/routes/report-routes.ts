import { Router } from 'express';
import { z } from 'zod';
import { InvalidInputError, NotFoundError } from '../../core/errors.js';
import { parsePeriod } from '../../core/reports/period.js';
import { parseScope, type ReportScope } from '../../core/reports/report.js';
import type { ReportService } from '../../reports/report-service.js';
import type { BriefService } from '../../reports/brief-service.js';
import { renderBriefText } from '../../reports/brief.js';
import { renderBriefDocx } from '../../reports/render/brief-docx.js';
import { chartToSvg } from '../../reports/render/charts.js';
import { renderDocx } from '../../reports/render/docx.js';
import { renderMarkdown } from '../../reports/render/markdown.js';
import { renderXlsx } from '../../reports/render/xlsx.js';
import { actorOf, requirePermission } from '../authorize.js';
import { alertIdOf } from './alert-routes.js';
import type { RouteDoc } from '../openapi/openapi.js';
import { parseBody } from '../parse-body.js';
import { attachmentHeader } from '../attachment-header.js';

const Period = z.string().min(4).max(40).meta({ description: '年 2026、半年 2026-H1、季度 2026-Q3、月 2026-09、周 2026-W38 或日 2026-09-18', examples: ['2026-Q3'] });
const Scope = z.string().min(4).max(120).default('unit').meta({ description: 'unit、source:<阵地编号> 或 domain:<领域>' });
const ReportQuery = z.object({ period: Period, scope: Scope });
const ExportQuery = ReportQuery.extend({
  format: z.enum(['docx', 'xlsx', 'md']),
  version: z.enum(['live', 'stored']).default('live').meta({ description: 'live：按当前数据生成（不保存）；stored：研判会版本（已保存的报告）' }),
});
const ChartQuery = ReportQuery.extend({
  id: z.string().min(1).max(40).regex(/^[a-z0-9-]+$/),
  v: z.string().max(40).optional().meta({ description: '所看报告的生成时间（generatedAt）；缺省为已保存的报告' }),
});
const GenerateBody = z.object({ period: Period, scope: Scope, reason: z.string().trim().min(1).max(500).default('存为研判会版本') });
const EditableBody = z.object({ period: Period, scope: Scope, conclusions: z.string().max(20_000), nextSteps: z.string().max(20_000) });

function checked(period: string, scope: string): { period: string; scope: ReportScope } {
  parsePeriod(period);
  try {
    return { period, scope: parseScope(scope) };
  } catch (err) {
    throw new InvalidInputError((err as Error).message, 'invalid_scope');
  }
}

const TYPES = {
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  md: 'text/markdown; charset=utf-8',
} as const;

/**
 * Reports for the analysis-and-judgment meeting: `GET /api/reports` (the report as JSON, built afresh
 * from live data with the saved conclusions; stores nothing), `POST /api/reports` (builds it and keeps
 * it as the version the meeting reads, audited), `GET /api/reports/stored` (that kept version; `null`
 * before the first), `GET /api/reports/chart` (one chart of the report being read, as SVG rendered on
 * the server), `GET /api/reports/export` (DOCX in 公文 layout, XLSX, Markdown; live or the kept
 * version, storing nothing) and `PUT /api/reports/editable` (研判结论 and 下一步工作打算, audited).
 * Every GET only reads.
 */
export function reportRoutes(deps: { reports: ReportService }): Router {
  const router = Router();
  router.get('/reports', requirePermission('reports.read'), async (req, res) => {
    const q = parseBody(ReportQuery, req.query);
    const { period, scope } = checked(q.period, q.scope);
    res.json({ report: await deps.reports.generate(period, scope) });
  });
  router.post('/reports', requirePermission('reports.write'), async (req, res) => {
    const body = parseBody(GenerateBody, req.body);
    const { period, scope } = checked(body.period, body.scope);
    res.status(201).json({ report: await deps.reports.generateFor(actorOf(req), period, scope, body.reason, req.requestId) });
  });
  router.get('/reports/stored', requirePermission('reports.read'), async (req, res) => {
    const q = parseBody(ReportQuery, req.query);
    const { period, scope } = checked(q.period, q.scope);
    // None yet is an answer, not an error: the page then generates one.
    res.json({ report: await deps.reports.snapshot(period, scope).catch((err: unknown) => (err instanceof NotFoundError ? null : Promise.reject(err))) });
  });
  router.get('/reports/chart', requirePermission('reports.read'), async (req, res) => {
    const q = parseBody(ChartQuery, req.query);
    const { period, scope } = checked(q.period, q.scope);
    const chart = await deps.reports.chart(period, scope, q.id, q.v);
    if (!chart) throw new NotFoundError(`the report for ${period} has no chart "${q.id}"`);
    res.setHeader('Content-Type', 'image/svg+xml; charset=utf-8');
    // Loaded as <img>: an SVG document here may run nothing, whatever text a chart holds.
    res.setHeader('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'");
    res.setHeader('Cache-Control', 'private, no-cache');
    res.send(chartToSvg(chart));
  });
  router.get('/reports/export', requirePermission('reports.read'), async (req, res) => {
    const q = parseBody(ExportQuery, req.query);
    const { period, scope } = checked(q.period, q.scope);
    const report = q.version === 'stored' ? await deps.reports.snapshot(period, scope) : await deps.reports.generate(period, scope);
    const body = q.format === 'docx' ? await renderDocx(report) : q.format === 'xlsx' ? await renderXlsx(report) : Buffer.from(renderMarkdown(report));
    const name = `${report.scopeLabel}${report.period.label}舆情分析研判报告.${q.format}`;
    res.setHeader('Content-Type', TYPES[q.format]);
    res.setHeader('Content-Disposition', attachmentHeader(`report-${report.period.key}.${q.format}`, name));
    res.send(body);
  });
  router.put('/reports/editable', requirePermission('reports.write'), async (req, res) => {
    const body = parseBody(EditableBody, req.body);
    const { period, scope } = checked(body.period, body.scope);
    res.json({ editable: await deps.reports.saveEditable(period, scope, { conclusions: body.conclusions, nextSteps: body.nextSteps }, actorOf(req), req.requestId) });
  });
  return router;
}

const BriefBody = z.object({ nextSteps: z.string().max(5000).optional() });
const BriefParams = z.object({ id: z.string().min(1).max(200), n: z.coerce.number().int().min(1).max(1000) });
const BriefQuery = z.object({ format: z.enum(['docx', 'text']).default('docx') });

/**
 * 快报/续报 for one alert: `POST /api/alerts/:id/briefs` issues the next one (audited);
 * `GET /api/alerts/:id/briefs` lists them; `GET /api/alerts/:id/briefs/:n?format=docx|text` downloads one.
 */
export function briefRoutes(deps: { briefs: BriefService }): Router {
  const router = Router();
  router.post('/alerts/:id/briefs', requirePermission('alert.respond'), async (req, res) => {
    const body = parseBody(BriefBody, req.body);
    const brief = await deps.briefs.issue(alertIdOf(req), actorOf(req), req.requestId, body.nextSteps);
    res.status(201).json({ brief, text: renderBriefText(brief) });
  });
  router.get('/alerts/:id/briefs', requirePermission('alert.read'), async (req, res) => {
    res.json({ briefs: await deps.briefs.list(alertIdOf(req)) });
  });
  router.get('/alerts/:id/briefs/:n', requirePermission('alert.read'), async (req, res) => {
    const { n, format } = parseBody(BriefParams.omit({ id: true }).extend(BriefQuery.shape), { ...req.query, n: req.params.n });
    const brief = await deps.briefs.get(alertIdOf(req), n);
    if (format === 'text') {
      res.type('text/plain; charset=utf-8').send(renderBriefText(brief));
      return;
    }
    res.setHeader('Content-Type', TYPES.docx);
    res.setHeader('Content-Disposition', attachmentHeader(`brief-${n}.docx`, `${brief.title}.docx`));
    res.send(await renderBriefDocx(brief));
  });
  return router;
}

export const reportRouteDocs: RouteDoc[] = [
  { method: 'get', path: '/reports', tag: 'reports', summary: '分析研判报告（按当前数据即时生成，不保存）', query: ReportQuery },
  { method: 'post', path: '/reports', tag: 'reports', summary: '生成并存为研判会版本（留痕）', body: GenerateBody, responses: { '201': '已保存的报告' } },
  { method: 'get', path: '/reports/stored', tag: 'reports', summary: '研判会版本：最近一次存档的报告（尚无则为 null）', query: ReportQuery },
  { method: 'get', path: '/reports/chart', tag: 'reports', summary: '所看报告中的一幅图（SVG）', query: ChartQuery, produces: 'image/svg+xml' },
  { method: 'get', path: '/reports/export', tag: 'reports', summary: '导出报告（DOCX 公文格式、XLSX、Markdown）', query: ExportQuery, produces: 'application/octet-stream' },
  { method: 'put', path: '/reports/editable', tag: 'reports', summary: '保存研判结论与下一步工作打算（留痕）', body: EditableBody },
  { method: 'post', path: '/alerts/:id/briefs', tag: 'alerts', summary: '签发快报或续报（留痕）', params: BriefParams.pick({ id: true }), body: BriefBody, responses: { '201': '已签发（含纯文本）' } },
  { method: 'get', path: '/alerts/:id/briefs', tag: 'alerts', summary: '某条预警的快报与续报', params: BriefParams.pick({ id: true }) },
  { method: 'get', path: '/alerts/:id/briefs/:n', tag: 'alerts', summary: '下载第 n 报（DOCX 或纯文本）', params: BriefParams, query: BriefQuery, produces: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document' },
];
