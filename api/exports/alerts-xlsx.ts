import ExcelJS from 'exceljs';
import { xmlSafeText } from '../../core/text/xml-safe-text.js';
import type { Alert } from '../../core/alerts/alert.js';
import { isOverdue, slaFactsOf } from '../../core/alerts/sla-timeliness.js';
import { STATUS_NAMES, levelName } from '../../core/labels.js';

export const ALERTS_XLSX_HEADERS = ['序号', '编号', '等级', '状态', '预警', '类别', '领域', '阵地', '命中词', '责任人/科室', '签收人', '产生时间', '签收时间', '回应时间', '办结时间', '升级步数', '是否超时', '误报原因'] as const;

/**
 * An alert list (预警列表 with its filters) as an XLSX workbook: one row per alert in the list's
 * order, times in the unit's time zone, 是否超时 by the rule of the list's 只看超时 and the report.
 * Cell text is written as values, never formulas, without the characters XML forbids: crawled text starting with `=` stays text.
 */
export async function alertsToXlsx(alerts: readonly Alert[], options: { unitName: string; timeZone: string; generatedAt: Date; filters: string }): Promise<Buffer> {
  const fmt = new Intl.DateTimeFormat('zh-CN', { timeZone: options.timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hour12: false });
  const when = (iso?: string) => (iso ? fmt.format(new Date(iso)) : '');
  const workbook = new ExcelJS.Workbook();
  workbook.creator = '前哨 Qianshao';
  workbook.created = options.generatedAt;
  const sheet = workbook.addWorksheet('预警列表', { views: [{ state: 'frozen', ySplit: 2 }] });
  sheet.mergeCells(1, 1, 1, ALERTS_XLSX_HEADERS.length);
  sheet.getCell(1, 1).value = xmlSafeText(`${options.unitName}预警列表（导出时间：${when(options.generatedAt.toISOString())}；筛选：${options.filters || '全部'}）`);
  sheet.getCell(1, 1).font = { bold: true, size: 14 };
  const header = sheet.getRow(2);
  ALERTS_XLSX_HEADERS.forEach((h, i) => (header.getCell(i + 1).value = h));
  header.font = { bold: true };
  alerts.forEach((a, index) => {
    const overdue = isOverdue(slaFactsOf(a), options.generatedAt);
    const row = sheet.addRow([
      index + 1,
      a.id,
      levelName(a.level),
      STATUS_NAMES[a.status],
      a.title,
      a.category,
      a.domain ?? '',
      a.sourceId,
      a.terms.join('、'),
      a.assignee ? (a.assignee.name ?? a.assignee.id) : '',
      a.acknowledgedBy ?? '',
      when(a.createdAt),
      when(a.acknowledgedAt),
      when(a.respondedAt),
      when(a.closedAt),
      a.escalationStep,
      overdue ? '是' : '否',
      a.falsePositiveReason ?? '',
    ].map((v) => (typeof v === 'string' ? xmlSafeText(v) : v)));
    row.alignment = { wrapText: true, vertical: 'top' };
    if (overdue) row.getCell(17).font = { color: { argb: 'FFC00000' }, bold: true };
  });
  [6, 26, 10, 8, 44, 12, 14, 18, 24, 14, 12, 17, 17, 17, 17, 8, 8, 24].forEach((w, i) => (sheet.getColumn(i + 1).width = w));
  return Buffer.from(await workbook.xlsx.writeBuffer());
}
