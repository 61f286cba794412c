import ExcelJS from 'exceljs';
import { xmlSafeText } from '../../core/text/xml-safe-text.js';
import type { PublicUser } from '../../core/auth/user.js';
import type { LedgerItem } from '../../core/ledger/ledger-item.js';
import { LEDGER_SOURCE_NAMES, LEDGER_STATUS_NAMES } from '../../core/labels.js';

export const LEDGER_XLSX_HEADERS = ['序号', '编号', '问题来源', '来源文件/批次', '问题描述', '整改措施', '责任人', '责任科室', '整改时限', '整改状态', '是否逾期', '佐证材料', '验收人', '验收意见', '销号时间', '关联预警'] as const;

/**
 * The ledger as an XLSX workbook in the shape units hand to inspectors (整改台账): one row per item,
 * in the order given (the caller puts overdue items first), times in the unit's time zone.
 * Cell text is written as values, never formulas, without the characters XML forbids: crawled or typed text starting with `=` stays text.
 */
export async function ledgerToXlsx(items: readonly LedgerItem[], options: { unitName: string; timeZone: string; users: readonly PublicUser[]; generatedAt: Date }): Promise<Buffer> {
  const names = new Map(options.users.map((u) => [u.username, u.displayName]));
  const fmt = new Intl.DateTimeFormat('zh-CN', { timeZone: options.timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hour12: false });
  const when = (iso?: string) => (iso ? fmt.format(new Date(iso)) : '');
  const who = (username?: string) => (username ? `${names.get(username) ?? username}` : '');

  const workbook = new ExcelJS.Workbook();
  workbook.creator = '前哨 Qianshao';
  workbook.created = options.generatedAt;
  const sheet = workbook.addWorksheet('整改台账', { views: [{ state: 'frozen', ySplit: 2 }] });
  sheet.mergeCells(1, 1, 1, LEDGER_XLSX_HEADERS.length);
  sheet.getCell(1, 1).value = xmlSafeText(`${options.unitName}整改台账（导出时间：${when(options.generatedAt.toISOString())}）`);
  sheet.getCell(1, 1).font = { bold: true, size: 14 };
  const header = sheet.getRow(2);
  LEDGER_XLSX_HEADERS.forEach((h, i) => (header.getCell(i + 1).value = h));
  header.font = { bold: true };
  items.forEach((item, index) => {
    const row = sheet.addRow([
      index + 1,
      item.id,
      LEDGER_SOURCE_NAMES[item.source],
      item.sourceRef ?? '',
      item.problem,
      item.measures,
      who(item.responsible),
      item.section ?? '',
      when(item.deadline),
      LEDGER_STATUS_NAMES[item.status],
      item.overdue ? '是' : '否',
      item.evidence.map((e) => (e.kind === 'text' ? e.text : `${e.name ?? '文件'}：${e.ref}`)).join('\n'),
      who(item.verifiedBy),
      item.verificationNote ?? '',
      when(item.closedAt),
      item.alertId ?? '',
    ].map((v) => (typeof v === 'string' ? xmlSafeText(v) : v)));
    row.alignment = { wrapText: true, vertical: 'top' };
    if (item.overdue) row.getCell(11).font = { color: { argb: 'FFC00000' }, bold: true };
  });
  [6, 22, 10, 16, 40, 40, 12, 12, 17, 10, 8, 40, 12, 24, 17, 24].forEach((w, i) => (sheet.getColumn(i + 1).width = w));
  return Buffer.from(await workbook.xlsx.writeBuffer());
}
