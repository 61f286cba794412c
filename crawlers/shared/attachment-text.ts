import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import * as cheerio from 'cheerio';
import ExcelJS from 'exceljs';
import mammoth from 'mammoth';
import WordExtractor from 'word-extractor';
import { CrawlError } from './crawl-error.js';
import { decodeHtml } from './decode.js';
import { cleanText } from './html.js';

/** Longest attachment text kept; the rest of a huge spreadsheet is not where a leak hides first. */
export const MAX_ATTACHMENT_CHARS = 1_000_000;

export type AttachmentType = 'pdf' | 'docx' | 'doc' | 'xlsx' | 'xls-biff' | 'html' | 'text' | 'unknown';

/** The file's real type from its first bytes, then its name and Content-Type (sites mislabel files often). */
export function attachmentType(body: Buffer, name: string, contentType = ''): AttachmentType {
  const head = body.subarray(0, 8).toString('latin1');
  const ext = path.extname(new URL(name, 'http://x/').pathname).toLowerCase();
  if (head.startsWith('%PDF')) return 'pdf';
  if (head.startsWith('PK\u0003\u0004')) {
    const names = body.subarray(0, Math.min(body.length, 64 * 1024)).toString('latin1');
    if (names.includes('word/')) return 'docx';
    if (names.includes('xl/')) return 'xlsx';
    return ext === '.docx' ? 'docx' : ext === '.xlsx' ? 'xlsx' : 'unknown';
  }
  if (head.startsWith('\u00d0\u00cf\u0011\u00e0\u00a1\u00b1\u001a\u00e1')) return ext === '.xls' || ext === '.et' || /excel/i.test(contentType) ? 'xls-biff' : 'doc';
  const start = body.subarray(0, 512).toString('latin1').trimStart().toLowerCase();
  if (start.startsWith('<') || /html/i.test(contentType)) return 'html';
  if (/^text\//i.test(contentType) || ext === '.txt' || ext === '.csv') return 'text';
  return 'unknown';
}

const pdfjsRoot = path.dirname(createRequire(import.meta.url).resolve('pdfjs-dist/package.json'));

async function pdfText(body: Buffer): Promise<string> {
  const { getDocument } = await import('pdfjs-dist/legacy/build/pdf.mjs');
  const task = getDocument({
    data: new Uint8Array(body),
    isEvalSupported: false,
    useSystemFonts: false,
    verbosity: 0,
    cMapUrl: `${pathToFileURL(path.join(pdfjsRoot, 'cmaps')).href}/`,
    cMapPacked: true,
    standardFontDataUrl: `${pathToFileURL(path.join(pdfjsRoot, 'standard_fonts')).href}/`,
  });
  const doc = await task.promise;
  try {
    const pages: string[] = [];
    let length = 0;
    for (let i = 1; i <= doc.numPages && length < MAX_ATTACHMENT_CHARS; i++) {
      const content = await (await doc.getPage(i)).getTextContent();
      const line = content.items.map((item) => ('str' in item ? item.str + (item.hasEOL ? '\n' : '') : '')).join('');
      pages.push(line);
      length += line.length;
    }
    return pages.join('\n');
  } finally {
    await task.destroy();
  }
}

async function xlsxText(body: Buffer): Promise<string> {
  const workbook = new ExcelJS.Workbook();
  await workbook.xlsx.load(body as unknown as ExcelJS.Buffer);
  const lines: string[] = [];
  workbook.eachSheet((sheet) => {
    lines.push(sheet.name);
    sheet.eachRow((row) => {
      const cells = (row.values as unknown[]).slice(1).map((v) => {
        if (v === null || v === undefined) return '';
        if (typeof v === 'object') {
          const o = v as { text?: unknown; result?: unknown; richText?: { text: string }[] };
          if (o.richText) return o.richText.map((r) => r.text).join('');
          return String(o.text ?? o.result ?? '');
        }
        return String(v);
      });
      lines.push(cells.join('\t'));
    });
  });
  return lines.join('\n');
}

function htmlText(body: Buffer, contentType: string): string {
  const { html } = decodeHtml(body, contentType);
  const $ = cheerio.load(html.slice(0, MAX_ATTACHMENT_CHARS * 2));
  $('script, style').remove();
  const rows = $('tr')
    .toArray()
    .map((tr) =>
      $(tr)
        .find('td, th')
        .toArray()
        .map((c) => cleanText($(c).text()))
        .join('\t'),
    );
  return rows.length > 0 ? rows.join('\n') : cleanText($('body').text());
}

/**
 * The text of an attachment: PDF (pdf.js), DOCX (mammoth), XLSX (exceljs), legacy DOC
 * (word-extractor), and the HTML tables many CMSs serve as `.xls`. Legacy binary `.xls` (BIFF) is
 * reported as unsupported rather than guessed.
 *
 * @throws CrawlError `parse` when the file cannot be read, `not-html` when its type is unsupported
 */
export async function extractAttachmentText(body: Buffer, name: string, contentType = ''): Promise<string> {
  const type = attachmentType(body, name, contentType);
  let text: string;
  try {
    switch (type) {
      case 'pdf':
        text = await pdfText(body);
        break;
      case 'docx':
        text = (await mammoth.extractRawText({ buffer: body })).value;
        break;
      case 'xlsx':
        text = await xlsxText(body);
        break;
      case 'doc':
        text = (await new WordExtractor().extract(body)).getBody();
        break;
      case 'html':
        text = htmlText(body, contentType);
        break;
      case 'text':
        text = decodeHtml(body, contentType).html;
        break;
      default:
        throw new CrawlError('not-html', `${name}: ${type === 'xls-biff' ? 'legacy binary .xls is not supported' : `unsupported file type (${contentType || 'unknown'})`}`);
    }
  } catch (err) {
    if (err instanceof CrawlError) throw err;
    throw new CrawlError('parse', `${name}: cannot read the ${type} file: ${(err as Error).message}`, undefined, { cause: err });
  }
  return text
    .replace(/\r\n?/g, '\n')
    .replace(/[ \t\u00a0\u3000]+\n/g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim()
    .slice(0, MAX_ATTACHMENT_CHARS);
}
