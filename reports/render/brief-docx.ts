import { AlignmentType, LineRuleType, Paragraph } from 'docx';
import { formatChineseDate } from '../../core/reports/period.js';
import type { Brief } from '../brief.js';
import { CN_NUM, FONT, LINE, SIZE, body, gongwenDocument, heading1, run } from './docx.js';

/** A 快报/续报 as a one- or two-page 公文 DOCX. */
export async function renderBriefDocx(brief: Brief): Promise<Buffer> {
  const children: Paragraph[] = [
    new Paragraph({ children: [run(brief.title, FONT.title, SIZE.title)], alignment: AlignmentType.CENTER, spacing: { line: 700, lineRule: LineRuleType.EXACT, after: 300 } }),
    new Paragraph({ children: [run(`${brief.unit}　${formatChineseDate(new Date(brief.issuedAt))}`, FONT.heading2, SIZE.body)], alignment: AlignmentType.CENTER, spacing: { ...LINE, after: 200 } }),
  ];
  brief.sections.forEach((s, i) => {
    children.push(heading1(`${CN_NUM[i]}、${s.heading}`));
    for (const p of s.paragraphs) children.push(body(p));
  });
  children.push(new Paragraph({ children: [run(`（签发：${brief.issuedBy}）`, FONT.body, SIZE.body)], alignment: AlignmentType.RIGHT, spacing: LINE }));
  return gongwenDocument(brief.title, children);
}
