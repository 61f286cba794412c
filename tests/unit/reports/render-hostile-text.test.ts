import ExcelJS from 'exceljs';
import JSZip from 'jszip';
import { describe, expect, it } from 'vitest';
import { renderBriefDocx } from '../../../reports/render/brief-docx.js';
import { chartToPng } from '../../../reports/render/charts.js';
import { renderDocx } from '../../../reports/render/docx.js';
import { renderXlsx } from '../../../reports/render/xlsx.js';
import { reportOf, sectionOf } from '../../support/report-fixture.js';

/** What XML 1.0 forbids, or a lone surrogate. */
// eslint-disable-next-line no-control-regex -- these controls are exactly what is looked for
const NOT_XML = /[\0-\x08\x0B\x0C\x0E-\x1F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
/** A crawled title as an already indexed document may still carry it. */
const HOSTILE = '事件\uffff标题\u0001\ud800';

const barChart = (title: string) => ({ id: 'c', title, option: { title: { text: title }, xAxis: { type: 'category', data: [title] }, yAxis: { type: 'value' }, series: [{ type: 'bar', data: [1] }] } });

async function xmlFiles(buf: Buffer): Promise<Map<string, string>> {
  const zip = await JSZip.loadAsync(buf);
  const out = new Map<string, string>();
  for (const name of Object.keys(zip.files)) if (name.endsWith('.xml')) out.set(name, await zip.file(name)!.async('string'));
  return out;
}

async function sheetsOf(buf: Buffer): Promise<ExcelJS.Workbook> {
  const book = new ExcelJS.Workbook();
  await book.xlsx.load(buf as unknown as ArrayBuffer);
  return book;
}

describe('exports of crawled text an office suite would refuse', () => {
  it('renders a chart whose title holds U+FFFF or a control character to PNG', () => {
    for (const t of ['bad\uffffchar', 'ctl\u0001x']) expect(chartToPng(barChart(t)).subarray(1, 4).toString()).toBe('PNG');
  });

  it('writes a DOCX report (with its charts) without characters XML forbids', async () => {
    const buf = await renderDocx(reportOf([sectionOf({ paragraphs: [`“${HOSTILE}”`], charts: [barChart(HOSTILE)], tables: [{ title: HOSTILE, columns: ['标题'], rows: [[HOSTILE]] }] })]));
    for (const [name, xml] of await xmlFiles(buf)) expect(NOT_XML.test(xml), name).toBe(false);
  });

  it('writes a DOCX brief without characters XML forbids', async () => {
    const buf = await renderBriefDocx({ alertId: 'a', sequence: 1, title: `关于${HOSTILE}的舆情快报`, unit: '青山县', issuedAt: '2026-12-07T01:00:00.000Z', issuedBy: '值班员', sections: [{ heading: '基本情况', paragraphs: [HOSTILE] }] });
    for (const [name, xml] of await xmlFiles(buf)) expect(NOT_XML.test(xml), name).toBe(false);
  });

  it('writes an XLSX report without characters XML forbids', async () => {
    const buf = await renderXlsx(reportOf([sectionOf({ figures: [{ label: HOSTILE, value: 1 }], tables: [{ title: HOSTILE, columns: ['标题'], rows: [[HOSTILE]] }] })]));
    for (const [name, xml] of await xmlFiles(buf)) expect(NOT_XML.test(xml), name).toBe(false);
  });
});

describe('XLSX report cells and sheets', () => {
  it('stores a crawled "=…" as a string, never a formula, and as written (no stray quote)', async () => {
    const hostile = ['=HYPERLINK("http://x","签收")', '+1', '-1', '@SUM(1)'];
    const book = await sheetsOf(await renderXlsx(reportOf([sectionOf({ tables: [{ title: '代表性信息', columns: ['标题'], rows: hostile.map((h) => [h]) }] })])));
    const sheet = book.getWorksheet('代表性信息')!;
    hostile.forEach((h, i) => {
      const cell = sheet.getCell(i + 2, 1);
      expect(cell.type).toBe(ExcelJS.ValueType.String);
      expect(cell.formula).toBeUndefined();
      expect(cell.value).toBe(h);
    });
  });

  it.each([
    ['a cut that ends in a quote', ['A'.repeat(27) + "'x"], ['A'.repeat(27)]],
    ['a title that starts with a quote', ["'引号'"], ['引号']],
    ['titles differing only in case', ['Abc事件', 'aBC事件'], ['Abc事件', 'aBC事件2']],
    ['a title named like the reserved sheet', ['History'], ['History2']],
    ['a cut through an emoji', ['县'.repeat(27) + '😡尾'], ['县'.repeat(27)]],
  ])('names a sheet Excel accepts for %s', async (_, titles, expected) => {
    const book = await sheetsOf(await renderXlsx(reportOf([sectionOf({ tables: titles.map((title) => ({ title, columns: ['a'], rows: [['x']] })) })])));
    expect(book.worksheets.map((s) => s.name).slice(1, -1)).toEqual(expected);
  });
});
