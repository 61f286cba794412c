import type { Period } from './period.js';

/**
 * The analysis-and-judgment material for one period and scope, as renderers (DOCX 公文, XLSX,
 * Markdown, the dashboard preview) consume it. Every figure carries a `trace`: the dashboard view
 * and the query that produced it, so a meeting can re-run any number it is shown.
 */

export type ReportScope = { kind: 'unit' } | { kind: 'source'; id: string } | { kind: 'domain'; name: string };

/** Dashboard pages a figure can be re-run on; each reads its filters from the URL. */
export type TracePage = 'search' | 'alerts' | 'ledger' | 'positions' | 'trends';
export const TRACE_PAGE_NAMES: Record<TracePage, string> = { search: '全文检索', alerts: '预警列表', ledger: '整改台账', positions: '阵地健康', trends: '态势分析' };

export interface Trace {
  /** What was counted, in words. */
  description: string;
  page: TracePage;
  /** The filters the page applies (period, scope, level, status …), as its URL query. */
  filters: Record<string, string>;
  /** Dashboard route that shows the same items: `/<page>?<filters>`. */
  dashboard: string;
  /** The Elasticsearch query body (index and body), for auditors who re-run it. */
  query?: { index: string; body: unknown };
}

export interface Figure {
  label: string;
  value: number | string;
  unit?: string;
  /** The same figure for the previous period (环比), when comparable. */
  previous?: number;
  trace?: Trace;
}

export interface Table {
  title: string;
  columns: string[];
  rows: (string | number)[][];
  trace?: Trace;
  /** Said instead of an empty table. */
  empty?: string;
}

/** A figure's trace: the page and filters, and the route that opens them. */
export function traceTo(page: TracePage, filters: Record<string, string | undefined>, description: string, query?: Trace['query']): Trace {
  const kept = Object.fromEntries(Object.entries(filters).filter((e): e is [string, string] => e[1] !== undefined && e[1] !== ''));
  const qs = new URLSearchParams(kept).toString();
  return { description, page, filters: kept, dashboard: `/${page}${qs ? `?${qs}` : ''}`, ...(query ? { query } : {}) };
}

export interface Chart {
  id: string;
  title: string;
  trace?: Trace;
  /** An Apache ECharts option (plain JSON), rendered on the server to SVG and PNG. */
  option: Record<string, unknown>;
}

export interface ReportSection {
  id: 'overview' | 'timeliness' | 'events' | 'signals' | 'positions' | 'ledger';
  heading: string;
  /** Prose built from the figures (no figure appears in prose that is not also in `figures` or `tables`). */
  paragraphs: string[];
  figures: Figure[];
  tables: Table[];
  charts: Chart[];
}

/** What staff write and the system keeps with the report (audited when saved). */
export interface ReportEditable {
  /** 研判结论 */
  conclusions: string;
  /** 下一步工作打算 */
  nextSteps: string;
}

export interface Report {
  id: string;
  unit: string;
  period: Pick<Period, 'kind' | 'key' | 'label'> & { from: string; to: string };
  previousPeriod: { key: string; label: string };
  scope: ReportScope;
  scopeLabel: string;
  generatedAt: string;
  /** True when the period holds no collected items and no alerts: the report says so instead of inventing numbers. */
  empty: boolean;
  /** Caveats a reader must know, e.g. coverage gaps: a meeting must never reason over silent holes. */
  dataNotes: string[];
  sections: ReportSection[];
  editable: ReportEditable;
}

export function scopeKey(scope: ReportScope): string {
  return scope.kind === 'unit' ? 'unit' : scope.kind === 'source' ? `source-${scope.id}` : `domain-${scope.name}`;
}

export function parseScope(text: string): ReportScope {
  if (text === 'unit') return { kind: 'unit' };
  const m = /^(source|domain):(.+)$/.exec(text);
  if (m?.[1] === 'source') return { kind: 'source', id: m[2]! };
  if (m?.[1] === 'domain') return { kind: 'domain', name: m[2]! };
  throw new Error(`scope: "${text}" is not unit, source:<id> or domain:<name>`);
}
