import {
  AlignmentType,
  BorderStyle,
  Document,
  Footer,
  ImageRun,
  LineRuleType,
  Packer,
  PageNumber,
  Paragraph,
  Table as DocxTable,
  TableCell,
  TableRow,
  TextRun,
  WidthType,
  convertMillimetersToTwip,
  type IRunOptions,
} from 'docx';
import { formatChineseDate } from '../../core/reports/period.js';
import { TRACE_PAGE_NAMES, type Report, type ReportSection, type Table } from '../../core/reports/report.js';
import { xmlSafeText } from '../../core/text/xml-safe-text.js';
import { chartToPng } from './charts.js';

/**
 * The report as a DOCX in 公文 layout (GB/T 9704 conventions): A4; margins 37 mm top, 35 mm bottom,
 * 28 mm left, 26 mm right; title in 2号 小标宋; body in 3号 仿宋 on a fixed 28.95 pt line (22 lines of 28
 * characters); level-one headings 一、 in 黑体, level two （一） in 楷体, level three 1. in bold 仿宋;
 * page numbers "— 1 —" in 4号 宋体, outside edge. Where a unit's machine lacks the 方正/GB2312 fonts,
 * Word and LibreOffice substitute the nearest CJK serif/sans face.
 */

const PT = 2; // docx sizes are half-points
export const SIZE = { title: 22 * PT, body: 16 * PT, note: 14 * PT, table: 12 * PT, pageNumber: 14 * PT } as const;
export const FONT = {
  title: '方正小标宋简体',
  body: '仿宋_GB2312',
  heading1: '黑体',
  heading2: '楷体_GB2312',
  song: '宋体',
} as const;
export const LINE = { line: Math.round(28.95 * 20), lineRule: LineRuleType.EXACT };

/** A run of text; crawled text may carry characters Word refuses, so they are dropped here. */
export function run(text: string, font: string, size: number, extra: Partial<IRunOptions> = {}): TextRun {
  return new TextRun({ text: xmlSafeText(text), size, font: { ascii: 'Times New Roman', hAnsi: 'Times New Roman', eastAsia: font }, ...extra });
}

export function body(text: string): Paragraph {
  return new Paragraph({ children: [run(text, FONT.body, SIZE.body)], indent: { firstLine: 2 * SIZE.body * 10 }, spacing: LINE, alignment: AlignmentType.JUSTIFIED });
}

export function heading1(text: string): Paragraph {
  return new Paragraph({ children: [run(text, FONT.heading1, SIZE.body)], indent: { firstLine: 2 * SIZE.body * 10 }, spacing: LINE, keepNext: true });
}

export function heading2(text: string): Paragraph {
  return new Paragraph({ children: [run(text, FONT.heading2, SIZE.body)], indent: { firstLine: 2 * SIZE.body * 10 }, spacing: LINE, keepNext: true });
}

export const CN_NUM = ['一', '二', '三', '四', '五', '六', '七', '八', '九', '十', '十一', '十二'];

export function table(t: Table): (Paragraph | DocxTable)[] {
  if (t.rows.length === 0) return [body(t.empty ?? '无。')];
  const cell = (text: string | number, header: boolean) =>
    new TableCell({
      children: [new Paragraph({ children: [run(String(text), header ? FONT.heading1 : FONT.body, SIZE.table)], alignment: typeof text === 'number' ? AlignmentType.RIGHT : AlignmentType.LEFT })],
      margins: { top: 40, bottom: 40, left: 80, right: 80 },
    });
  const border = { style: BorderStyle.SINGLE, size: 4, color: '000000' };
  return [
    new DocxTable({
      width: { size: 100, type: WidthType.PERCENTAGE },
      borders: { top: border, bottom: border, left: border, right: border, insideHorizontal: border, insideVertical: border },
      rows: [new TableRow({ tableHeader: true, children: t.columns.map((c) => cell(c, true)) }), ...t.rows.slice(0, 200).map((r) => new TableRow({ children: r.map((v) => cell(v, false)) }))],
    }),
    ...(t.rows.length > 200 ? [body(`（共 ${t.rows.length} 行，此处列出前 200 行，完整明细见 XLSX 导出。）`)] : []),
    new Paragraph({ children: [], spacing: { after: 120 } }),
  ];
}

/** 数据来源: which dashboard pages re-run the section's figures, with the report's period and scope applied. */
export function sourceNote(section: ReportSection, report: Report): Paragraph | undefined {
  const traces = [...section.figures, ...section.tables, ...section.charts].flatMap((x) => (x.trace ? [x.trace] : []));
  if (traces.length === 0) return undefined;
  const pages = [...new Set(traces.map((t) => t.page))].map((p) => `“${TRACE_PAGE_NAMES[p]}”`).join('');
  const text = `数据来源：本系统采集与处置记录。本节数字可在${pages}页复核（时间：${report.period.label}；范围：${report.scopeLabel}），每项的筛选条件与查询语句见 XLSX 导出的“数据来源”表。`;
  return new Paragraph({ children: [run(text, FONT.body, SIZE.note)], indent: { firstLine: 2 * SIZE.note * 10 }, spacing: { line: 360, lineRule: LineRuleType.AUTO, after: 120 }, alignment: AlignmentType.JUSTIFIED });
}

export async function renderDocx(report: Report, options: { charts?: boolean } = {}): Promise<Buffer> {
  const children: (Paragraph | DocxTable)[] = [];
  children.push(
    new Paragraph({ children: [run(`${report.scopeLabel}${report.period.label}`, FONT.title, SIZE.title)], alignment: AlignmentType.CENTER, spacing: { line: 700, lineRule: LineRuleType.EXACT } }),
    new Paragraph({ children: [run('网络舆情分析研判报告', FONT.title, SIZE.title)], alignment: AlignmentType.CENTER, spacing: { line: 700, lineRule: LineRuleType.EXACT, after: 300 } }),
    new Paragraph({ children: [run(`（${report.unit}　${formatChineseDate(new Date(report.generatedAt))}）`, FONT.heading2, SIZE.body)], alignment: AlignmentType.CENTER, spacing: { ...LINE, after: 200 } }),
  );
  for (const note of report.dataNotes) children.push(body(`说明：${note}`));

  let n = 0;
  for (const section of report.sections) {
    children.push(heading1(`${CN_NUM[n++]}、${section.heading}`));
    for (const p of section.paragraphs) children.push(body(p));
    if (options.charts !== false) {
      for (const chart of section.charts) {
        children.push(
          new Paragraph({
            children: [new ImageRun({ type: 'png', data: chartToPng(chart, 720, 360, 2), transformation: { width: 576, height: 288 }, altText: { name: xmlSafeText(chart.title), title: xmlSafeText(chart.title), description: xmlSafeText(chart.title) } })],
            alignment: AlignmentType.CENTER,
          }),
        );
      }
    }
    let m = 0;
    for (const t of section.tables) {
      children.push(heading2(`（${CN_NUM[m++]}）${t.title}`));
      children.push(...table(t));
    }
    const note = sourceNote(section, report);
    if (note) children.push(note);
  }
  children.push(heading1(`${CN_NUM[n++]}、研判结论`));
  for (const p of (report.editable.conclusions || '（待分析研判会填写）').split(/\n+/)) children.push(body(p));
  children.push(heading1(`${CN_NUM[n]}、下一步工作打算`));
  for (const p of (report.editable.nextSteps || '（待分析研判会填写）').split(/\n+/)) children.push(body(p));

  return gongwenDocument(`${report.scopeLabel}${report.period.label}网络舆情分析研判报告`, children);
}

/** A4 公文 page: GB/T 9704 margins, 仿宋 body, "— N —" page numbers on the outside edge. */
export async function gongwenDocument(title: string, children: (Paragraph | DocxTable)[]): Promise<Buffer> {
  const pageNumber = (align: (typeof AlignmentType)[keyof typeof AlignmentType]) =>
    new Footer({
      children: [
        new Paragraph({
          alignment: align,
          children: [run('— ', FONT.song, SIZE.pageNumber), new TextRun({ children: [PageNumber.CURRENT], size: SIZE.pageNumber, font: { ascii: '宋体', eastAsia: '宋体' } }), run(' —', FONT.song, SIZE.pageNumber)],
        }),
      ],
    });

  const doc = new Document({
    creator: '前哨 Qianshao',
    title: xmlSafeText(title),
    evenAndOddHeaderAndFooters: true,
    styles: { default: { document: { run: { font: { ascii: 'Times New Roman', eastAsia: FONT.body }, size: SIZE.body } } } },
    sections: [
      {
        properties: {
          page: {
            size: { width: convertMillimetersToTwip(210), height: convertMillimetersToTwip(297) },
            margin: { top: convertMillimetersToTwip(37), bottom: convertMillimetersToTwip(35), left: convertMillimetersToTwip(28), right: convertMillimetersToTwip(26), footer: convertMillimetersToTwip(28) },
          },
        },
        footers: { default: pageNumber(AlignmentType.RIGHT), even: pageNumber(AlignmentType.LEFT) },
        children,
      },
    ],
  });
  return Packer.toBuffer(doc);
}
