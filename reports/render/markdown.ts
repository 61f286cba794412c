import { formatShanghai } from '../../core/reports/period.js';
import type { Report, Table, Trace } from '../../core/reports/report.js';

/** Markdown cells: crawled titles are hostile, so pipes, markup and line breaks are neutralised. */
function cell(v: string | number): string {
  return String(v).replace(/[\\|*_`[\]<>#]/g, (c) => `\\${c}`).replace(/\r?\n/g, ' ');
}

function table(t: Table): string[] {
  const source = t.trace ? [`数据来源：${cell(t.trace.description)}　${link(t.trace)}`, ''] : [];
  if (t.rows.length === 0) return [t.empty ?? '无。', '', ...source];
  return [`| ${t.columns.map(cell).join(' | ')} |`, `| ${t.columns.map(() => '---').join(' | ')} |`, ...t.rows.map((r) => `| ${r.map(cell).join(' | ')} |`), '', ...source];
}

/** A link to the dashboard view that re-runs the figure (the route is built from encoded filters). */
function link(trace: Trace): string {
  return `[复核](${trace.dashboard.replace(/[()\s]/g, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0').toUpperCase()}`)})`;
}

/** What staff wrote, paragraph by paragraph, as text. */
function written(text: string): string {
  const paragraphs = text.split(/\r?\n+/).map((p) => p.trim()).filter(Boolean);
  return paragraphs.length > 0 ? paragraphs.map(cell).join('\n\n') : '（待分析研判会填写）';
}

const CN_NUM = ['一', '二', '三', '四', '五', '六', '七', '八', '九', '十'];

/** The report as Markdown, for the dashboard's preview and for pasting into other documents. */
export function renderMarkdown(report: Report): string {
  const out = [`# ${cell(report.scopeLabel)}${report.period.label}网络舆情分析研判报告`, '', `> 生成时间：${formatShanghai(new Date(report.generatedAt))}　对比期：${report.previousPeriod.label}`, ''];
  for (const note of report.dataNotes) out.push(`> **说明**：${note}`, '');
  let n = 0;
  for (const s of report.sections) {
    out.push(`## ${CN_NUM[n++]}、${s.heading}`, '');
    for (const p of s.paragraphs) out.push(cell(p), '');
    if (s.figures.length > 0) {
      out.push(...s.figures.map((f) => `- ${cell(f.label)}：**${cell(f.value)}${f.unit ?? ''}**${f.previous !== undefined ? `（上期 ${f.previous}${f.unit ?? ''}）` : ''}${f.trace ? `　${link(f.trace)}` : ''}`), '');
    }
    let m = 0;
    for (const t of s.tables) out.push(`### （${CN_NUM[m++]}）${cell(t.title)}`, '', ...table(t));
  }
  out.push(`## ${CN_NUM[n++]}、研判结论`, '', written(report.editable.conclusions), '');
  out.push(`## ${CN_NUM[n]}、下一步工作打算`, '', written(report.editable.nextSteps), '');
  return out.join('\n');
}
