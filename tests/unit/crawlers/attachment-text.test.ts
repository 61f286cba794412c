import { describe, expect, it } from 'vitest';
import ExcelJS from 'exceljs';
import iconv from 'iconv-lite';
import { PDFDocument, StandardFonts } from 'pdf-lib';
import { attachmentType, extractAttachmentText } from '../../../crawlers/shared/attachment-text.js';
import { CrawlError } from '../../../crawlers/shared/crawl-error.js';

// Planted numbers: where a published list leaks an ID number and a mobile number.
const ID = '511922198503124529';
const MOBILE = '13812341234';

async function pdf(): Promise<Buffer> {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  doc.addPage().drawText(`No. 1  ID ${ID}  Tel ${MOBILE}`, { x: 50, y: 700, font, size: 12 });
  doc.addPage().drawText('page two', { x: 50, y: 700, font, size: 12 });
  return Buffer.from(await doc.save());
}

async function xlsx(): Promise<Buffer> {
  const wb = new ExcelJS.Workbook();
  const sheet = wb.addWorksheet('拟聘用人员');
  sheet.addRow(['序号', '姓名', '身份证号', '联系电话']);
  sheet.addRow([1, '赵某某', ID, MOBILE]);
  return Buffer.from(await wb.xlsx.writeBuffer());
}

describe('extractAttachmentText', () => {
  it('reads the text of a PDF, every page', async () => {
    const text = await extractAttachmentText(await pdf(), '名单.pdf', 'application/pdf');
    expect(text).toContain(ID);
    expect(text).toContain(MOBILE);
    expect(text).toContain('page two');
  });

  it('reads the cells of an XLSX workbook, with the sheet name', async () => {
    const text = await extractAttachmentText(await xlsx(), '名单.xlsx');
    expect(text).toContain('拟聘用人员');
    expect(text).toContain(`赵某某\t${ID}\t${MOBILE}`);
  });

  it('reads an HTML table served as .xls (a common CMS export), in GBK', async () => {
    const html = `<html><head><meta charset="gb2312"></head><body><table><tr><td>身份证号</td><td>${ID}</td></tr></table></body></html>`;
    expect(await extractAttachmentText(iconv.encode(html, 'gbk'), '名单.xls', 'application/vnd.ms-excel')).toBe(`身份证号\t${ID}`);
  });

  it.each([
    ['%PDF-1.7', 'x.doc', '', 'pdf'],
    ['PK\u0003\u0004....word/document.xml', 'x.bin', '', 'docx'],
    ['PK\u0003\u0004....xl/workbook.xml', 'x.bin', '', 'xlsx'],
    ['\u00d0\u00cf\u0011\u00e0\u00a1\u00b1\u001a\u00e1', 'x.doc', '', 'doc'],
    ['\u00d0\u00cf\u0011\u00e0\u00a1\u00b1\u001a\u00e1', 'x.xls', '', 'xls-biff'],
    ['<table>', 'x.xls', 'application/vnd.ms-excel', 'html'],
    ['\u0000\u0001\u0002', 'x.zip', 'application/zip', 'unknown'],
  ])('the type of a file starting %j named %s is %s (content wins over the name)', (head, name, contentType, type) => {
    expect(attachmentType(Buffer.from(head, 'latin1'), name, contentType)).toBe(type);
  });

  it('refuses what it cannot read with a typed, readable error', async () => {
    await expect(extractAttachmentText(Buffer.from('%PDF-1.4 garbage'), 'broken.pdf')).rejects.toBeInstanceOf(CrawlError);
    await expect(extractAttachmentText(Buffer.from([0, 1, 2, 3]), 'archive.zip', 'application/zip')).rejects.toThrow(/unsupported/);
  });
});
