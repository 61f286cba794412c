import { createHash } from 'node:crypto';
import { formatShanghai, type Period } from '../core/reports/period.js';
import { scopeKey, traceTo, type Chart, type Figure, type Report, type ReportEditable, type ReportScope, type ReportSection, type Table, type Trace } from '../core/reports/report.js';
import { comparedWithPrevious, humanDuration, percent, quantile } from '../core/reports/stats.js';
import { isOverdue, slaTimeliness } from '../core/alerts/sla-timeliness.js';
import { overdueClause } from '../pipeline/elasticsearch/es-alert-store.js';
import type { AlertRow, ReportData } from './report-data.js';
import type { LedgerStatus } from '../core/ledger/ledger-item.js';
import { LEDGER_STATUS_NAMES, LEVEL_INFO, LEVELS, POST_KIND_NAMES, STATUS_NAMES, levelName, nameOf } from '../core/labels.js';
import { clip } from '../core/text/clip.js';

export interface ReportContext {
  unit: string;
  period: Period;
  previous: Period;
  scope: ReportScope;
  /** Positions by id, for names. */
  sources: { id: string; name: string }[];
  /** Coverage gaps per position (from–to ranges not collected because the source failed). */
  gaps: { sourceId: string; from: string; to: string; cause?: string }[];
  /** A position with no new item for this many days at the period's end is a zombie position. */
  zombieDays: number;
  generatedAt: Date;
  editable?: ReportEditable;
  /**
   * Website self-inspection (网站自查) as measured when the report is generated. Shown only when
   * the period is the current one or ended within {@link INSPECTION_SHOWN_DAYS} days: it is a
   * reading of today's data, not of the period's.
   */
  inspection?: ReportInspection[];
}

/** A position's self-inspection as the report shows it. */
export interface ReportInspection {
  sourceId: string;
  name: string;
  verdict: 'pass' | 'warn' | 'fail' | 'unknown';
  findings: { label: string; status: 'pass' | 'warn' | 'fail' | 'unknown'; figure: string }[];
}

/** A report of a period that ended longer ago than this does not show today's self-inspection. */
export const INSPECTION_SHOWN_DAYS = 31;
const INSPECTION_STATUS: Record<ReportInspection['verdict'], string> = { pass: '通过', warn: '预警', fail: '不合格', unknown: '数据不足' };

const SENTIMENT_NAME: Record<string, string> = { negative: '负面', neutral: '中性', positive: '正面', unknown: '未判定' };
const SENTIMENT_COLOR: Record<string, string> = { negative: '#d93026', neutral: '#868e96', positive: '#2f9e44' };

function seconds(from: string, to: string | undefined): number | undefined {
  if (!to) return undefined;
  const s = (Date.parse(to) - Date.parse(from)) / 1000;
  return Number.isFinite(s) && s >= 0 ? s : undefined;
}

type Filters = Record<string, string | undefined>;
type Query = NonNullable<Trace['query']>;

/** The alerts query of the report narrowed by more filter clauses, for a figure that counts a subset. */
function narrowed(base: Query | undefined, ...clauses: unknown[]): Query | undefined {
  if (!base) return undefined;
  const filter = ((base.body as { query?: { bool?: { filter?: unknown[] } } }).query?.bool?.filter ?? []) as unknown[];
  return { index: base.index, body: { query: { bool: { filter: [...filter, ...clauses] } } } };
}

/**
 * Where each figure can be re-run: the search, alerts and ledger pages with the period and scope
 * applied. The search counts by collection time, like the report.
 */
function tracers(data: ReportData, period: Period, scope: ReportScope) {
  const range = { from: period.from.toISOString(), to: period.to.toISOString() };
  const postScope: Filters = scope.kind === 'source' ? { sourceIds: scope.id } : scope.kind === 'domain' ? { domains: scope.name } : {};
  const alertScope: Filters = scope.kind === 'source' ? { sourceId: scope.id } : scope.kind === 'domain' ? { domain: scope.name } : {};
  return {
    posts: (description: string, extra: Filters = {}, query: Query | undefined = data.queries.posts) => traceTo('search', { ...range, timeField: 'collectedAt', ...postScope, ...extra }, description, query),
    alerts: (description: string, extra: Filters = {}, ...clauses: unknown[]) => traceTo('alerts', { ...range, ...alertScope, ...extra }, description, narrowed(data.queries.alerts, ...clauses)),
    event: (description: string, eventId: string) => traceTo('search', { eventId, sort: 'time' }, description, data.queries.eventTimelines),
  };
}

function timeliness(alerts: AlertRow[], now: Date) {
  const rows = LEVELS.map((level) => {
    const of = alerts.filter((a) => a.level === level && a.status !== 'false_positive');
    const ack = of.flatMap((a) => seconds(a.createdAt, a.acknowledgedAt) ?? []);
    const resp = of.flatMap((a) => seconds(a.createdAt, a.respondedAt) ?? []);
    const ackInTime = of.filter((a) => a.acknowledgedAt && !slaTimeliness(a).ackLate).length;
    const respInTime = of.filter((a) => a.respondedAt && !slaTimeliness(a).respondLate).length;
    return { level, count: of.length, ack, resp, ackInTime, respInTime };
  });
  const overdue = alerts.filter((a) => isOverdue(a, now));
  return { rows, overdue };
}

function lineChart(id: string, title: string, data: ReportData['posts']['perDay']): Chart {
  return {
    id,
    title,
    option: {
      animation: false,
      title: { text: title, left: 'center', textStyle: { fontSize: 14 } },
      legend: { bottom: 0, data: ['信息量', '负面信息'] },
      grid: { left: 48, right: 24, top: 40, bottom: 48 },
      xAxis: { type: 'category', data: data.map((d) => d.date.slice(5)) },
      yAxis: { type: 'value', minInterval: 1 },
      series: [
        { name: '信息量', type: 'line', data: data.map((d) => d.count), itemStyle: { color: '#1c7ed6' } },
        { name: '负面信息', type: 'line', data: data.map((d) => d.negative), itemStyle: { color: '#d93026' } },
      ],
    },
  };
}

/** An event's timeline: posts per hour or day, stacked by sentiment, so volume and mood read together. */
function eventChart(id: string, e: ReportData['events'][number]): Chart {
  const title = `事件走势与情感倾向：${clip(e.title, 24, '…')}`;
  const hourly = (e.timeline[0]?.at.length ?? 0) > 10;
  const series = (['negative', 'neutral', 'positive'] as const).map((k) => ({
    name: SENTIMENT_NAME[k],
    type: 'bar',
    stack: 'sentiment',
    data: e.timeline.map((b) => b[k]),
    itemStyle: { color: SENTIMENT_COLOR[k] },
  }));
  const unknown = e.timeline.map((b) => b.count - b.negative - b.neutral - b.positive);
  return {
    id,
    title,
    option: {
      animation: false,
      title: { text: title, left: 'center', textStyle: { fontSize: 14 } },
      legend: { bottom: 0 },
      grid: { left: 48, right: 24, top: 40, bottom: 56 },
      xAxis: { type: 'category', data: e.timeline.map((b) => (hourly ? b.at.slice(5) : b.at.slice(5, 10))) },
      yAxis: { type: 'value', minInterval: 1, name: hourly ? '条/小时' : '条/日' },
      series: [...series, ...(unknown.some((n) => n > 0) ? [{ name: '未判定', type: 'bar', stack: 'sentiment', data: unknown, itemStyle: { color: '#adb5bd' } }] : [])],
    },
  };
}

function levelPie(alerts: AlertRow[]): Chart {
  return {
    id: 'alerts-by-level',
    title: '预警等级分布',
    option: {
      animation: false,
      title: { text: '预警等级分布', left: 'center', textStyle: { fontSize: 14 } },
      legend: { bottom: 0 },
      series: [
        {
          type: 'pie',
          radius: ['35%', '62%'],
          label: { formatter: '{b}\n{c}条' },
          data: LEVELS.map((l) => ({ name: levelName(l), value: alerts.filter((a) => a.level === l).length, itemStyle: { color: LEVEL_INFO[l].hex } })).filter((d) => d.value > 0),
        },
      ],
    },
  };
}

function barChart(id: string, title: string, rows: { name: string; value: number }[]): Chart {
  return {
    id,
    title,
    option: {
      animation: false,
      title: { text: title, left: 'center', textStyle: { fontSize: 14 } },
      grid: { left: 120, right: 32, top: 40, bottom: 24 },
      xAxis: { type: 'value', minInterval: 1 },
      yAxis: { type: 'category', data: rows.map((r) => r.name).reverse() },
      series: [{ type: 'bar', data: rows.map((r) => r.value).reverse(), itemStyle: { color: '#1c7ed6' }, label: { show: true, position: 'right' } }],
    },
  };
}

/** Turns the period's data into the report's sections. Pure: same data, same report. */
/** A report's id: one per period and scope, whoever builds it and whenever. */
export function reportId(periodKey: string, scope: ReportScope): string {
  return createHash('sha256').update(`${periodKey}\u0000${scopeKey(scope)}`).digest('hex').slice(0, 24);
}

export function buildReport(data: ReportData, ctx: ReportContext): Report {
  const { period, previous } = ctx;
  const name = (id: string) => ctx.sources.find((s) => s.id === id)?.name ?? id;
  const trace = tracers(data, period, ctx.scope);
  const alerts = data.alerts;
  const real = alerts.filter((a) => a.status !== 'false_positive');
  const falsePositives = alerts.length - real.length;
  const escalated = alerts.filter((a) => a.escalationStep > 0).length;
  const empty = data.posts.total === 0 && alerts.length === 0;
  const dataNotes: string[] = [];
  const periodGaps = ctx.gaps.filter((g) => Date.parse(g.from) < period.to.getTime() && Date.parse(g.to) > period.from.getTime());
  if (periodGaps.length > 0) dataNotes.push(`本期有 ${periodGaps.length} 段采集中断（见“阵地运行情况”），相关时段的数据不完整，研判时请勿将其视为“无舆情”。`);
  if (empty) dataNotes.push(`本期（${period.label}）内未采集到任何信息，也未产生预警。请先核实各阵地采集是否正常，再作“平稳”结论。`);

  const overview: ReportSection = {
    id: 'overview',
    heading: '总体情况',
    paragraphs: empty
      ? [`本期（${period.label}）内未采集到信息、未产生预警。`]
      : [
          `本期共采集各阵地信息 ${data.posts.total} 条，${comparedWithPrevious(data.posts.total, data.posts.previousTotal)}。` +
            `触发预警 ${alerts.length} 条，${comparedWithPrevious(alerts.length, data.previousAlerts.length)}；其中${LEVELS.map((l) => `${levelName(l)} ${alerts.filter((a) => a.level === l).length} 条`).join('、')}。`,
          `按责任链升级 ${escalated} 条；经核实为误报 ${falsePositives} 条，误报率 ${percent(falsePositives, alerts.length) ?? 0}%。`,
        ],
    figures: [
      { label: '采集信息总量', value: data.posts.total, unit: '条', previous: data.posts.previousTotal, trace: trace.posts('本期采集时间落在期内的帖文、评论、留言') },
      { label: '预警总数', value: alerts.length, unit: '条', previous: data.previousAlerts.length, trace: trace.alerts('本期创建的预警') },
      ...LEVELS.map((l): Figure => ({ label: `${levelName(l)}预警`, value: alerts.filter((a) => a.level === l).length, unit: '条', trace: trace.alerts(`本期创建的${levelName(l)}预警`, { level: String(l) }, { term: { level: l } }) })),
      { label: '升级次数', value: escalated, unit: '条', trace: trace.alerts('本期预警中因未及时签收或处置而沿责任链升级的', { escalated: 'true' }, { range: { escalationStep: { gte: 1 } } }) },
      { label: '误报率', value: percent(falsePositives, alerts.length) ?? 0, unit: '%', trace: trace.alerts('标记为误报的预警 ÷ 本期预警总数（列表为误报的预警）', { status: 'false_positive' }, { term: { status: 'false_positive' } }) },
    ],
    tables: [
      {
        title: '各阵地采集情况',
        columns: ['阵地', '信息量（条）'],
        rows: data.posts.bySource.map((b) => [name(b.key), b.count]),
        trace: trace.posts('按阵地统计本期采集量（在检索页按阵地筛选可得每行）'),
        empty: '本期无采集数据',
      },
      { title: '按信息类型', columns: ['类型', '信息量（条）'], rows: data.posts.byKind.map((b) => [nameOf(POST_KIND_NAMES, b.key), b.count]), trace: trace.posts('按信息类型统计本期采集量（在检索页按类型筛选可得每行）'), empty: '本期无采集数据' },
      { title: '按领域', columns: ['领域', '信息量（条）'], rows: data.posts.byDomain.map((b) => [b.key, b.count]), trace: trace.posts('按领域统计本期采集量（在检索页按领域筛选可得每行）'), empty: '本期无采集数据' },
      { title: '按情感倾向', columns: ['倾向', '信息量（条）'], rows: data.posts.bySentiment.map((b) => [SENTIMENT_NAME[b.key] ?? b.key, b.count]), trace: trace.posts('按情感倾向统计本期采集量（在检索页按倾向筛选可得每行）'), empty: '本期无采集数据' },
      {
        title: '预警按类别',
        columns: ['类别', ...LEVELS.map((l) => levelName(l)), '合计'],
        rows: [...new Set(alerts.map((a) => a.category))].map((c) => [c, ...LEVELS.map((l) => alerts.filter((a) => a.category === c && a.level === l).length), alerts.filter((a) => a.category === c).length]),
        trace: trace.alerts('本期创建的预警，按类别与等级计数'),
        empty: '本期无预警',
      },
    ],
    charts: empty
      ? []
      : [
          { ...lineChart('volume', '信息量走势', data.posts.perDay), trace: trace.posts('本期采集的信息，按日（长时段按周、月）计数，负面为情感判定为负面的') },
          ...(alerts.length > 0 ? [{ ...levelPie(alerts), trace: trace.alerts('本期创建的预警，按等级计数') }] : []),
          { ...barChart('by-source', '各阵地信息量', data.posts.bySource.slice(0, 12).map((b) => ({ name: name(b.key), value: b.count }))), trace: trace.posts('本期采集量居前的阵地') },
        ],
  };

  const judgedAt = period.to < ctx.generatedAt ? period.to : ctx.generatedAt;
  const t = timeliness(alerts, judgedAt);
  const overdueTrace = (description: string) => trace.alerts(description, { overdue: 'true', overdueAt: judgedAt.toISOString() }, overdueClause(judgedAt));
  const prevT = timeliness(data.previousAlerts, previous.to);
  const ackAll = t.rows.flatMap((r) => r.ack);
  const prevAckAll = prevT.rows.flatMap((r) => r.ack);
  const ackMedian = quantile(ackAll, 0.5);
  const prevAckMedian = quantile(prevAckAll, 0.5);
  const timelinessSection: ReportSection = {
    id: 'timeliness',
    heading: '处置时效（处早、处小、处快）',
    paragraphs:
      real.length === 0
        ? ['本期无需处置的预警。']
        : [
            `本期预警签收时长中位数 ${humanDuration(ackMedian)}（上期 ${humanDuration(prevAckMedian)}），按时签收率 ${percent(t.rows.reduce((s, r) => s + r.ackInTime, 0), real.length) ?? 0}%；` +
              `按时回应率 ${percent(t.rows.reduce((s, r) => s + r.respInTime, 0), real.length) ?? 0}%。超时未签收或未回应的预警 ${t.overdue.length} 条${t.overdue.length > 0 ? '，明细见下表' : ''}。`,
          ],
    figures: [
      { label: '签收时长中位数', value: humanDuration(ackMedian), ...(prevAckMedian !== undefined ? { previous: Math.round(prevAckMedian) } : {}), trace: trace.alerts('从预警创建到签收的时长（误报除外），逐条见预警详情的时间线') },
      { label: '超时预警', value: t.overdue.length, unit: '条', trace: overdueTrace('签收或回应超过该等级时限的预警，或到期末仍未签收、未回应的（明细见下表）') },
    ],
    tables: [
      {
        title: '各等级处置时效',
        columns: ['等级', '预警数', '签收中位数', '签收P90', '按时签收率', '回应中位数', '回应P90', '按时回应率'],
        rows: t.rows.map((r) => [
          levelName(r.level),
          r.count,
          humanDuration(quantile(r.ack, 0.5)),
          humanDuration(quantile(r.ack, 0.9)),
          r.count ? `${percent(r.ackInTime, r.count)}%` : '—',
          humanDuration(quantile(r.resp, 0.5)),
          humanDuration(quantile(r.resp, 0.9)),
          r.count ? `${percent(r.respInTime, r.count)}%` : '—',
        ]),
        trace: trace.alerts('本期创建的预警（误报除外），按等级计算签收、回应时长'),
      },
      {
        title: '超时预警明细',
        columns: ['预警', '等级', '创建时间', '状态', '责任人'],
        rows: t.overdue.map((a) => [a.title, levelName(a.level), formatShanghai(new Date(a.createdAt)), nameOf(STATUS_NAMES, a.status), a.assignee || a.acknowledgedBy || '值班员（未签收）']),
        trace: overdueTrace('本期预警中签收或回应超过该等级时限的'),
        empty: '本期无超时预警',
      },
    ],
    charts: [],
  };

  const drawn = data.events.filter((e) => e.timeline.length > 0);
  const eventsSection: ReportSection = {
    id: 'events',
    heading: '重点事件',
    paragraphs:
      data.events.length === 0
        ? ['本期未形成热度较高的舆情事件。']
        : [
            `本期热度居前的事件 ${data.events.length} 个，热度最高的是“${data.events[0]!.title}”。`,
            ...drawn.map((e) => {
              const peak = e.timeline.reduce((a, b) => (b.count > a.count ? b : a));
              const total = e.timeline.reduce((n, b) => n + b.count, 0);
              const negative = e.timeline.reduce((n, b) => n + b.negative, 0);
              return `“${e.title}”：热度 ${Math.round(e.heat)}，本期相关信息 ${total} 条，其中负面 ${negative} 条（${percent(negative, total) ?? 0}%），${peak.at}${peak.at.length > 10 ? '时' : ''}最为集中（${peak.count} 条）。`;
            }),
          ],
    figures: drawn.map((e): Figure => ({ label: `“${e.title}”相关信息`, value: e.timeline.reduce((n, b) => n + b.count, 0), unit: '条', trace: trace.event(`本期归入该事件的信息，按时间排列`, e.id) })),
    tables: [
      {
        title: '热度居前的事件',
        columns: ['事件', '热度', '信息量', '首次发现', '最近发现', '涉及阵地'],
        rows: data.events.map((e) => [e.title, Math.round(e.heat), e.posts, e.firstSeen ? formatShanghai(new Date(e.firstSeen)) : '—', e.lastSeen ? formatShanghai(new Date(e.lastSeen)) : '—', e.sourceIds.map(name).join('、')]),
        trace: traceTo('trends', {}, '与本期有交集的事件，按热度排序（态势分析页的事件列表）', data.queries.events),
        empty: '本期无事件',
      },
      ...drawn.map(
        (e): Table => ({
          title: `“${e.title}”代表性信息`,
          columns: ['时间', '阵地', '标题', '倾向'],
          rows: e.representative.map((p) => [p.at ? formatShanghai(new Date(p.at)) : '—', name(p.sourceId), p.title, SENTIMENT_NAME[p.sentiment ?? 'unknown'] ?? '未判定']),
          trace: trace.event('该事件最早出现的信息', e.id),
          empty: '无',
        }),
      ),
    ],
    charts: drawn.map((e, i) => ({ ...eventChart(`event-${i + 1}`, e), trace: trace.event('该事件各时段的信息量及情感倾向', e.id) })),
  };

  const signalsSection: ReportSection = {
    id: 'signals',
    heading: '苗头性、倾向性问题',
    paragraphs: data.signals.length === 0 ? ['本期未发现苗头性、倾向性问题信号。'] : [`本期发现苗头性、倾向性问题信号 ${data.signals.length} 次。`],
    figures: [],
    tables: [{ title: '信号', columns: ['时间', '对象', '依据'], rows: data.signals.map((s) => [formatShanghai(new Date(s.at)), s.subject, s.reason]), trace: traceTo('trends', {}, '本期检测到的苗头信号（态势分析页的信号列表）', data.queries.signals), empty: '本期无信号' }],
    charts: [],
  };

  const end = Math.min(period.to.getTime(), ctx.generatedAt.getTime());
  const positionRows = ctx.sources.map((s) => {
    const last = data.posts.lastItemBySource[s.id];
    const idleDays = last ? Math.floor((end - Date.parse(last)) / 86_400_000) : undefined;
    const zombie = idleDays === undefined || idleDays >= ctx.zombieDays;
    const deleted = data.posts.deletedBySource.find((b) => b.key === s.id)?.count ?? 0;
    const edited = data.posts.editedBySource.find((b) => b.key === s.id)?.count ?? 0;
    return { s, count: data.posts.bySource.find((b) => b.key === s.id)?.count ?? 0, deleted, edited, last, idleDays, zombie, gaps: periodGaps.filter((g) => g.sourceId === s.id) };
  });
  const zombies = positionRows.filter((r) => r.zombie);
  const u = data.posts.unansweredByAge;
  const deletedTotal = data.posts.deletedBySource.reduce((n, b) => n + b.count, 0);
  const editedTotal = data.posts.editedBySource.reduce((n, b) => n + b.count, 0);
  const scopeFilter = ctx.scope.kind === 'source' ? { sourceIds: ctx.scope.id } : ctx.scope.kind === 'domain' ? { domains: ctx.scope.name } : {};
  const positions: ReportSection = {
    id: 'positions',
    heading: '阵地运行情况',
    paragraphs: [
      `纳入监测的阵地 ${ctx.sources.length} 个；${zombies.length > 0 ? `超过 ${ctx.zombieDays} 天无更新的“僵尸”阵地 ${zombies.length} 个（${zombies.map((z) => z.s.name).join('、')}）` : `无超过 ${ctx.zombieDays} 天未更新的阵地`}；` +
        `${periodGaps.length > 0 ? `采集中断 ${periodGaps.length} 段` : '本期采集无中断'}。`,
      `本期阵地上被删除的帖文和评论 ${deletedTotal} 条，发布后被修改的 ${editedTotal} 条（原文均已留存）。`,
      `截至期末未答复的网民留言 ${u.under1Month + u.months1to3 + u.over3Months} 条，其中超过 3 个月未答复 ${u.over3Months} 条${u.over3Months > 0 ? '（不符合政府网站“留言 3 个月内答复”要求，须立即整改）' : ''}。`,
    ],
    figures: [
      { label: '僵尸阵地', value: zombies.length, unit: '个', trace: traceTo('positions', {}, `期末前 ${ctx.zombieDays} 天内无新信息的阵地（阵地健康页的最近采集时间）`) },
      { label: '删除数', value: deletedTotal, unit: '条', trace: traceTo('search', { changes: 'deleted', ...scopeFilter, sort: 'time' }, '本期采集时发现已从阵地删除的帖文和评论（全文检索的“已删除”）', data.queries.changes) },
      { label: '修改数', value: editedTotal, unit: '条', trace: traceTo('search', { changes: 'edited', ...scopeFilter, sort: 'time' }, '本期采集时发现发布后被修改的帖文（全文检索的“已修改”，可对照原文）', data.queries.changes) },
      {
        label: '超3个月未答复留言',
        value: u.over3Months,
        unit: '条',
        trace: traceTo('search', { kinds: 'message', unanswered: 'true', timeField: 'publishedAt', to: new Date(period.to.getTime() - 90 * 86_400_000).toISOString(), ...(ctx.scope.kind === 'source' ? { sourceIds: ctx.scope.id } : ctx.scope.kind === 'domain' ? { domains: ctx.scope.name } : {}), sort: 'time' }, '期末时仍无答复、发布超过 90 天的留言', data.queries.unanswered),
      },
    ],
    tables: [
      {
        title: '各阵地运行情况',
        columns: ['阵地', '本期信息量', '删除数', '修改数', '最新信息时间', '连续无更新天数', '状态', '采集中断'],
        rows: positionRows.map((r) => [r.s.name, r.count, r.deleted, r.edited, r.last ? formatShanghai(new Date(r.last)) : '无', r.idleDays ?? '—', r.zombie ? '僵尸阵地' : '正常', r.gaps.map((g) => `${formatShanghai(new Date(g.from))}至${formatShanghai(new Date(g.to))}${g.cause ? `（${g.cause}）` : ''}`).join('；') || '无']),
        empty: '未配置阵地',
      },
      { title: '未答复留言（按时长）', columns: ['1个月内', '1至3个月', '超过3个月'], rows: [[u.under1Month, u.months1to3, u.over3Months]] },
    ],
    charts: [],
  };
  const inspected = ctx.inspection && ctx.generatedAt.getTime() - period.to.getTime() <= INSPECTION_SHOWN_DAYS * 86_400_000 ? ctx.inspection : undefined;
  if (inspected && inspected.length > 0) {
    const at = formatShanghai(ctx.generatedAt);
    const failing = inspected.flatMap((i) => i.findings.filter((f) => f.status === 'fail').map((f) => `${i.name}“${f.label}”`));
    const warning = inspected.flatMap((i) => i.findings.filter((f) => f.status === 'warn').map((f) => `${i.name}“${f.label}”`));
    positions.paragraphs.push(
      `按国办秘函〔2019〕19号单项否决指标自查（截至 ${at}）：${failing.length > 0 ? `不合格 ${failing.length} 项（${failing.join('、')}），须立即整改` : '无不合格项'}；${warning.length > 0 ? `临近不合格 ${warning.length} 项（${warning.join('、')}）` : '无预警项'}。`,
    );
    positions.figures.push({ label: '网站自查不合格项', value: failing.length, unit: '项', trace: traceTo('positions', { tab: 'inspection' }, `生成报告时按单项否决指标测算的网站自查结果（阵地健康页的“网站自查”，截至 ${at}）`) });
    positions.tables.push({
      title: `网站自查（截至 ${at}）`,
      columns: ['阵地', '检查项', '结果', '测得值'],
      rows: inspected.flatMap((i) => i.findings.map((f) => [i.name, f.label, INSPECTION_STATUS[f.status], f.figure])),
      trace: traceTo('positions', { tab: 'inspection' }, `生成报告时按单项否决指标测算的网站自查结果（阵地健康页的“网站自查”）`),
      empty: '无网站类阵地',
    });
  }

  const inPeriod = (iso: string | undefined) => !!iso && Date.parse(iso) >= period.from.getTime() && Date.parse(iso) < period.to.getTime();
  const created = data.ledger.filter((l) => inPeriod(l.createdAt));
  const closed = data.ledger.filter((l) => inPeriod(l.closedAt));
  const overdueItems = data.ledger.filter((l) => l.status !== 'closed' && l.deadline && Date.parse(l.deadline) < end);
  const ledgerTable: Table = {
    title: '整改台账',
    columns: ['问题', '来源', '责任人', '责任科室', '整改时限', '状态'],
    rows: [...overdueItems, ...data.ledger.filter((l) => !overdueItems.includes(l))].map((l) => [l.problem, l.origin, l.responsible, l.section, l.deadline ? formatShanghai(new Date(l.deadline)).slice(0, 10) : '—', overdueItems.includes(l) ? `${LEDGER_STATUS_NAMES[l.status as LedgerStatus] ?? l.status}（已逾期）` : (LEDGER_STATUS_NAMES[l.status as LedgerStatus] ?? l.status)]),
    trace: traceTo('ledger', {}, '本期新增、本期销号及期末仍未销号的台账事项', data.queries.ledger),
    empty: '本期无台账事项',
  };
  const ledger: ReportSection = {
    id: 'ledger',
    heading: '整改落实情况',
    paragraphs: [`本期新增整改事项 ${created.length} 项，销号 ${closed.length} 项，逾期未销号 ${overdueItems.length} 项${overdueItems.length > 0 ? '，须督促责任人限期整改' : ''}。`],
    figures: [
      { label: '新增事项', value: created.length, unit: '项', trace: traceTo('ledger', {}, '登记时间在本期内的台账事项', data.queries.ledger) },
      { label: '销号事项', value: closed.length, unit: '项', trace: traceTo('ledger', { status: 'closed' }, '销号时间在本期内的台账事项（台账页的已销号事项）', data.queries.ledger) },
      { label: '逾期事项', value: overdueItems.length, unit: '项', trace: traceTo('ledger', { overdue: 'true' }, '期末时超过整改时限仍未销号', data.queries.ledger) },
    ],
    tables: [ledgerTable],
    charts: [],
  };

  const scopeLabel = ctx.scope.kind === 'unit' ? ctx.unit : ctx.scope.kind === 'source' ? name(ctx.scope.id) : `${ctx.scope.name}领域`;
  return {
    id: reportId(period.key, ctx.scope),
    unit: ctx.unit,
    period: { kind: period.kind, key: period.key, label: period.label, from: period.from.toISOString(), to: period.to.toISOString() },
    previousPeriod: { key: previous.key, label: previous.label },
    scope: ctx.scope,
    scopeLabel,
    generatedAt: ctx.generatedAt.toISOString(),
    empty,
    dataNotes,
    sections: [overview, timelinessSection, eventsSection, signalsSection, positions, ledger],
    editable: ctx.editable ?? { conclusions: '', nextSteps: '' },
  };
}
