import ExcelJS from 'exceljs';
import { TRACE_PAGE_NAMES, type Report, type Table, type Trace } from '../../core/reports/report.js';

/** A cell that a spreadsheet must never read as a formula. */
const text = (v: string | number) => (typeof v === 'string' && /^[=+\-@]/.test(v) ? `'${v}` : v);

/**
 * Every table of the report as a sheet (Chinese headers, frozen header row, filters), plus a
 * sheet of the figures with how each can be re-run. Cells are plain values: a crawled title that
 * starts with `=` is stored as text, never as a formula.
 */
export async function renderXlsx(report: Report): Promise<Buffer> {
  const book = new ExcelJS.Workbook();
  book.creator = '前哨 Qianshao';
  book.created = new Date(report.generatedAt);
  const figures = book.addWorksheet('主要数据');
  figures.columns = [
    { header: '部分', key: 'section', width: 18 },
    { header: '指标', key: 'label', width: 24 },
    { header: '本期', key: 'value', width: 14 },
    { header: '上期', key: 'previous', width: 14 },
    { header: '单位', key: 'unit', width: 8 },
    { header: '口径', key: 'trace', width: 48 },
    { header: '复核', key: 'dashboard', width: 48 },
  ];
  for (const s of report.sections) {
    for (const f of s.figures) figures.addRow({ section: s.heading, label: text(f.label), value: text(f.value), previous: f.previous ?? '', unit: f.unit ?? '', trace: f.trace?.description ?? '', dashboard: f.trace?.dashboard ?? '' });
  }
  styleHeader(figures);
  const used = new Set<string>(['主要数据', '数据来源']);
  for (const s of report.sections) for (const t of s.tables) addTable(book, t, used);
  addSources(book, report);
  return Buffer.from(await book.xlsx.writeBuffer());
}

function sheetName(title: string, used: Set<string>): string {
  const base = title.replace(/[*?:\\/[\]]/g, '').slice(0, 28) || '表';
  let name = base;
  for (let i = 2; used.has(name); i++) name = `${base.slice(0, 26)}${i}`;
  used.add(name);
  return name;
}

function addTable(book: ExcelJS.Workbook, t: Table, used: Set<string>): void {
  const sheet = book.addWorksheet(sheetName(t.title, used));
  sheet.columns = t.columns.map((c) => ({ header: c, width: Math.max(10, Math.min(60, c.length * 3)) }));
  for (const row of t.rows) sheet.addRow(row.map(text));
  if (t.rows.length === 0) sheet.addRow([t.empty ?? '无']);
  styleHeader(sheet);
  if (t.rows.length > 0) sheet.autoFilter = { from: { row: 1, column: 1 }, to: { row: 1, column: t.columns.length } };
}

/** Every figure, table and chart with the page, filters and Elasticsearch query that re-run it. */
function addSources(book: ExcelJS.Workbook, report: Report): void {
  const sheet = book.addWorksheet('数据来源');
  sheet.columns = [
    { header: '部分', key: 'section', width: 18 },
    { header: '项目', key: 'item', width: 32 },
    { header: '口径', key: 'description', width: 48 },
    { header: '复核页面', key: 'page', width: 12 },
    { header: '筛选条件', key: 'filters', width: 48 },
    { header: '链接', key: 'dashboard', width: 48 },
    { header: '查询语句（Elasticsearch）', key: 'query', width: 80 },
  ];
  const add = (section: string, item: string, t: Trace) =>
    sheet.addRow({ section, item: text(item), description: text(t.description), page: TRACE_PAGE_NAMES[t.page], filters: text(Object.entries(t.filters).map(([k, v]) => `${k}=${v}`).join('; ')), dashboard: t.dashboard, query: t.query ? text(JSON.stringify(t.query).slice(0, 32_000)) : '' });
  for (const s of report.sections) {
    for (const f of s.figures) if (f.trace) add(s.heading, f.label, f.trace);
    for (const t of s.tables) if (t.trace) add(s.heading, t.title, t.trace);
    for (const c of s.charts) if (c.trace) add(s.heading, c.title, c.trace);
  }
  styleHeader(sheet);
}

function styleHeader(sheet: ExcelJS.Worksheet): void {
  sheet.getRow(1).font = { bold: true };
  sheet.views = [{ state: 'frozen', ySplit: 1 }];
}
