import ExcelJS from 'exceljs';
import { TRACE_PAGE_NAMES, type Report, type Table, type Trace } from '../../core/reports/report.js';
import { xmlSafeText } from '../../core/text/xml-safe-text.js';

/**
 * A cell's value without the characters XML forbids. A string is written as a string, never a
 * formula (ExcelJS makes formulas only of `{ formula }` values), so no `'` guard is needed.
 */
const text = (v: string | number) => (typeof v === 'string' ? xmlSafeText(v) : v);

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
    for (const f of s.figures) figures.addRow({ section: text(s.heading), label: text(f.label), value: text(f.value), previous: f.previous ?? '', unit: text(f.unit ?? ''), trace: text(f.trace?.description ?? ''), dashboard: text(f.trace?.dashboard ?? '') });
  }
  styleHeader(figures);
  // Lower-cased: ExcelJS refuses a name differing from another only in case. "History" is reserved.
  const used = new Set<string>(['主要数据', '数据来源', 'history']);
  for (const s of report.sections) for (const t of s.tables) addTable(book, t, used);
  addSources(book, report);
  return Buffer.from(await book.xlsx.writeBuffer());
}

/** The longest start of `s` within `max` UTF-16 units that does not end in half a surrogate pair. */
function cut(s: string, max: number): string {
  let out = '';
  for (const ch of s) {
    if (out.length + ch.length > max) break;
    out += ch;
  }
  return out;
}

/**
 * A name Excel accepts for a table's sheet: none of `*?:\/[]`, no `'` first or last, at most 31
 * UTF-16 units, and unique ignoring case (`used` holds the names taken, lower-cased).
 */
function sheetName(title: string, used: Set<string>): string {
  const base = cut(xmlSafeText(title).replace(/[*?:\\/[\]]/g, ''), 28).replace(/^'+|'+$/g, '') || '表';
  let name = base;
  for (let i = 2; used.has(name.toLowerCase()); i++) name = `${cut(base, 26)}${i}`;
  used.add(name.toLowerCase());
  return name;
}

function addTable(book: ExcelJS.Workbook, t: Table, used: Set<string>): void {
  const sheet = book.addWorksheet(sheetName(t.title, used));
  sheet.columns = t.columns.map((c) => ({ header: xmlSafeText(c), width: Math.max(10, Math.min(60, c.length * 3)) }));
  for (const row of t.rows) sheet.addRow(row.map(text));
  if (t.rows.length === 0) sheet.addRow([text(t.empty ?? '无')]);
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
    sheet.addRow({ section: text(section), item: text(item), description: text(t.description), page: TRACE_PAGE_NAMES[t.page], filters: text(Object.entries(t.filters).map(([k, v]) => `${k}=${v}`).join('; ')), dashboard: text(t.dashboard), query: t.query ? text(JSON.stringify(t.query).slice(0, 32_000)) : '' });
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
